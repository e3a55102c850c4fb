import numpy as np
# Nina  (backprop HW)

def normalize_MNIST_images(x):
    x = x.astype(np.float32)
    x = x * (2. / 255.) - 1.
    return x

def label2onehot(lbl):
    return np.eye(10)[lbl].T

def onehot2label(d):
    return np.argmax(d, axis=0)

def softmax(a):
    a = a - a.max(axis=0, keepdims=True)
    return np.exp(a) / np.exp(a).sum(axis=0, keepdims=True)

def softmaxp(a, e):
    g = softmax(a)
    return g * e - g * (g * e).sum(axis=0, keepdims=True)

def relu(a):
    return np.maximum(0, a)

def relup(a, e):
    return e * (a > 0).astype(float)

def init_shallow(Ni, Nh, No):
    b1 = np.random.randn(Nh, 1) / np.sqrt((Ni + 1.) / 2.)
    W1 = np.random.randn(Nh, Ni) / np.sqrt((Ni + 1.) / 2.)
    b2 = np.random.randn(No, 1) / np.sqrt(Nh + 1.)
    W2 = np.random.randn(No, Nh) / np.sqrt(Nh + 1.)
    return W1, b1, W2, b2

def forwardprop_shallow(x, net):
    W1, b1, W2, b2 = net
    a1 = W1 @ x + b1
    a2 = W2 @ relu(a1) + b2
    return softmax(a2)

def eval_loss(y, d):
    return -np.sum(d * np.log(y)) / np.prod(y.shape)

def eval_perfs(y, lbl):
    return 100. * np.mean(onehot2label(y) != lbl)

def update_shallow(x, d, net, gamma=.05):
    W1, b1, W2, b2 = net
    N = x.shape[1]
    a1 = W1 @ x + b1
    h = relu(a1)
    a2 = W2 @ h + b2
    y = softmax(a2)
    delta2 = softmaxp(a2, -d / y)
    delta1 = relup(a1, W2.T @ delta2)
    W2 = W2 - gamma / N * (delta2 @ h.T)
    W1 = W1 - gamma / N * (delta1 @ x.T)
    b2 = b2 - gamma / N * delta2.sum(axis=1, keepdims=True)
    b1 = b1 - gamma / N * delta1.sum(axis=1, keepdims=True)
    return W1, b1, W2, b2

def backprop_shallow(x, d, net, T, gamma=.05):
    for t in range(T):
        net = update_shallow(x, d, net, gamma)
    return net

def backprop_minibatch_shallow(x, d, net, T, B=100, gamma=.05):
    N = x.shape[1]
    for t in range(T):
        idx = np.random.permutation(N)
        for k in range(N // B + 1):        # +1 for the last incomplete batch
            b = idx[k * B:(k + 1) * B]
            net = update_shallow(x[:, b], d[:, b], net, gamma)
    return net
