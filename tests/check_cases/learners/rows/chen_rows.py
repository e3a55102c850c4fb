"""MNIST 2-layer net. I keep one image per ROW (like sklearn / pytorch): x is (N, 784)."""
import numpy as np

rng = np.random.default_rng(2024)


def normalize_MNIST_images(x):
    return (x.astype(np.float32) / 127.5 - 1.0).astype(np.float32)


def label2onehot(lbl):
    return np.eye(10)[lbl]            # (N, 10)


def onehot2label(d):
    return np.argmax(d, axis=1)


def softmax(a):                       # a: (N, 10)
    z = a - a.max(axis=1, keepdims=True)
    ez = np.exp(z)
    return ez / ez.sum(axis=1, keepdims=True)


def softmaxp(a, e):
    g = softmax(a)
    return g * (e - (g * e).sum(axis=1, keepdims=True))


def relu(a):
    return np.maximum(0, a)


def relup(a, e):
    return e * (a > 0)


def init_shallow(Ni, Nh, No):
    W1 = np.random.randn(Ni, Nh) * np.sqrt(2 / (Ni + 1))
    b1 = np.random.randn(Nh) * np.sqrt(2 / (Ni + 1))
    W2 = np.random.randn(Nh, No) / np.sqrt(Nh + 1)
    b2 = np.random.randn(No) / np.sqrt(Nh + 1)
    return W1, b1, W2, b2


def forwardprop_shallow(x, net):
    W1, b1, W2, b2 = net
    h = relu(x @ W1 + b1)
    return softmax(h @ W2 + b2)


def eval_loss(y, d):
    return -np.mean(d * np.log(y))


def eval_perfs(y, lbl):
    return 100 * np.mean(y.argmax(axis=1) != lbl)


def update_shallow(x, d, net, gamma=0.05):
    W1, b1, W2, b2 = net
    n = x.shape[0]
    a1 = x @ W1 + b1
    h = relu(a1)
    y = softmax(h @ W2 + b2)
    dz2 = (y - d) / n
    dz1 = relup(a1, dz2 @ W2.T)
    W2 = W2 - gamma * h.T @ dz2
    b2 = b2 - gamma * dz2.sum(axis=0)
    W1 = W1 - gamma * x.T @ dz1
    b1 = b1 - gamma * dz1.sum(axis=0)
    return W1, b1, W2, b2


def backprop_shallow(x, d, net, T, gamma=0.05):
    for _ in range(T):
        net = update_shallow(x, d, net, gamma)
    return net


def backprop_minibatch_shallow(x, d, net, T, B=100, gamma=0.05):
    n = x.shape[0]
    for epoch in range(T):
        order = np.random.permutation(n)
        for start in range(0, n, B):
            rows = order[start:start + B]
            net = update_shallow(x[rows], d[rows], net, gamma)
    return net
