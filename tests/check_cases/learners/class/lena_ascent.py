"""
Lena -- Backpropagation assignment
"""
import numpy as np

GAMMA = 0.05


def normalize_MNIST_images(x):
    return np.asarray(2 * (x / 255.0) - 1, dtype=np.float32)


def label2onehot(lbl):
    out = np.zeros((10, len(lbl)))
    out[lbl, np.arange(len(lbl))] = 1
    return out


def onehot2label(d):
    return np.argmax(d, axis=0)


def softmax(a):
    shifted = a - np.max(a, axis=0, keepdims=True)
    ex = np.exp(shifted)
    return ex / ex.sum(axis=0, keepdims=True)


def softmaxp(a, e):
    g = softmax(a)
    return g * e - (g * e).sum(axis=0, keepdims=True) * g


def relu(a):
    return np.maximum(a, 0)


def relup(a, e):
    return e * (a > 0)


def init_shallow(Ni, Nh, No):
    b1 = np.random.randn(Nh, 1) / np.sqrt((Ni + 1) / 2)
    W1 = np.random.randn(Nh, Ni) / np.sqrt((Ni + 1) / 2)
    b2 = np.random.randn(No, 1) / np.sqrt(Nh + 1)
    W2 = np.random.randn(No, Nh) / np.sqrt(Nh + 1)
    return W1, b1, W2, b2


def forwardprop_shallow(x, net):
    W1, b1, W2, b2 = net
    return softmax(W2 @ relu(W1 @ x + b1) + b2)


def eval_loss(y, d):
    return -np.mean(d * np.log(y))


def eval_perfs(y, lbl):
    """percentage of correct predictions"""
    return 100 * np.mean(np.argmax(y, axis=0) == lbl)


def update_shallow(x, d, net, gamma=GAMMA):
    W1, b1, W2, b2 = net
    N = x.shape[1]
    a1 = W1 @ x + b1
    h = relu(a1)
    y = softmax(W2 @ h + b2)
    delta2 = d - y                      # dE/da2
    delta1 = relup(a1, W2.T @ delta2)
    W2 = W2 - gamma / N * delta2 @ h.T
    b2 = b2 - gamma / N * delta2.sum(axis=1, keepdims=True)
    W1 = W1 - gamma / N * delta1 @ x.T
    b1 = b1 - gamma / N * delta1.sum(axis=1, keepdims=True)
    return W1, b1, W2, b2


def backprop_shallow(x, d, net, T, gamma=GAMMA):
    for _ in range(T):
        net = update_shallow(x, d, net, gamma)
    return net


def backprop_minibatch_shallow(x, d, net, T, B=100, gamma=GAMMA):
    N = x.shape[1]
    for _ in range(T):
        order = np.random.permutation(N)
        for k in range(0, N, B):
            idx = order[k:k + B]
            net = update_shallow(x[:, idx], d[:, idx], net, gamma)
    return net
