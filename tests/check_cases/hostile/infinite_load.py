# Never finishes loading: a decorator that loops (decorators run when the file is loaded).
def forever(f):
    while True:
        pass


@forever
def softmax(a):
    return a
