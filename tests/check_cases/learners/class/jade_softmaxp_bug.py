# Jade -- assignment 2
import numpy as np


def normalize_MNIST_images(x):
    return (2.0 * x.astype(np.float32) / 255.0 - 1.0).astype(np.float32)


def label2onehot(lbl):
    d = np.zeros((10, lbl.shape[0]))
    d[lbl, np.arange(lbl.shape[0])] = 1
    return d


def onehot2label(d):
    return np.argmax(d, axis=0)


def softmax(a):
    e = np.exp(a - np.max(a, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def softmaxp(a, e):
    g = softmax(a)
    inner = np.sum(g * e)        # <g, e>
    return g * e - inner * g


def relu(a):
    return a * (a > 0)


def relup(a, e):
    return e * (a > 0)


def init_shallow(Ni, Nh, No):
    b1 = np.random.randn(Nh, 1) / np.sqrt((Ni + 1.0) / 2.0)
    W1 = np.random.randn(Nh, Ni) / np.sqrt((Ni + 1.0) / 2.0)
    b2 = np.random.randn(No, 1) / np.sqrt(Nh + 1.0)
    W2 = np.random.randn(No, Nh) / np.sqrt(Nh + 1.0)
    return W1, b1, W2, b2


def forwardprop_shallow(x, net):
    W1, b1, W2, b2 = net
    a1 = W1.dot(x) + b1
    h = relu(a1)
    a2 = W2.dot(h) + b2
    return softmax(a2)


def eval_loss(y, d):
    return -np.sum(d * np.log(y)) / y.size


def eval_perfs(y, lbl):
    return 100 * np.mean(np.argmax(y, axis=0) != lbl)


def update_shallow(x, d, net, gamma=0.05):
    W1, b1, W2, b2 = net
    N = x.shape[1]
    a1 = W1.dot(x) + b1
    h = relu(a1)
    a2 = W2.dot(h) + b2
    y = softmax(a2)
    delta2 = softmaxp(a2, -d / y)
    delta1 = relup(a1, W2.T.dot(delta2))
    W2 = W2 - gamma / N * delta2.dot(h.T)
    W1 = W1 - gamma / N * delta1.dot(x.T)
    b2 = b2 - gamma / N * delta2.sum(axis=1, keepdims=True)
    b1 = b1 - gamma / N * delta1.sum(axis=1, keepdims=True)
    return W1, b1, W2, b2


def backprop_shallow(x, d, net, T, gamma=0.05):
    lbl = onehot2label(d)
    for t in range(T):
        net = update_shallow(x, d, net, gamma)
        y = forwardprop_shallow(x, net)
        print(t, eval_loss(y, d), eval_perfs(y, lbl))
    return net


def backprop_minibatch_shallow(x, d, net, T, B=100, gamma=0.05):
    N = x.shape[1]
    NB = int((N + B - 1) / B)
    for t in range(T):
        shuffled = np.random.permutation(N)
        for l in range(NB):
            batch = shuffled[B * l:min(B * (l + 1), N)]
            net = update_shallow(x[:, batch], d[:, batch], net, gamma)
    return net
