import numpy as np


def normalize_MNIST_images(x):
    x = np.float32(x)
    return np.float32(2 * x / 255 - 1)


def label2onehot(lbl):
    N = lbl.size
    d = np.zeros((10, N))
    d[lbl, range(N)] = 1.0
    return d


def onehot2label(d):
    return np.argmax(d, axis=0)


def softmax(a):
    m = np.max(a, axis=0, keepdims=True)
    return np.exp(a - m) / np.sum(np.exp(a - m), axis=0, keepdims=True)


def softmaxp(a, e):
    g = softmax(a)
    return g * e - np.sum(g * e, axis=0, keepdims=True) * g


def relu(a):
    return np.maximum(a, 0)


def relup(a, e):
    return np.where(a > 0, 1.0, 0.0) * e


def init_shallow(Ni, Nh, No):
    b1 = np.random.randn(Nh, 1) / np.sqrt((Ni + 1) / 2)
    W1 = np.random.randn(Nh, Ni) / np.sqrt((Ni + 1) / 2)
    b2 = np.random.randn(No, 1) / np.sqrt(Nh + 1)
    W2 = np.random.randn(No, Nh) / np.sqrt(Nh + 1)
    return W1, b1, W2, b2


def forwardprop_shallow(x, net):
    W1, b1, W2, b2 = net
    h = relu(W1 @ x + b1)
    return softmax(W2 @ h + b2)


def eval_loss(y, d):
    # cross entropy of every sample
    return -np.sum(d * np.log(y), axis=0)


def eval_perfs(y, lbl):
    return 100 * np.mean(np.argmax(y, axis=0) != lbl)


def update_shallow(x, d, net, gamma=0.05):
    W1, b1, W2, b2 = net
    N = x.shape[1]
    a1 = W1 @ x + b1
    h = relu(a1)
    y = softmax(W2 @ h + b2)
    delta2 = y - d
    delta1 = relup(a1, W2.T @ delta2)
    W1 = W1 - gamma / N * delta1 @ x.T
    b1 = b1 - gamma / N * np.sum(delta1, axis=1, keepdims=True)
    W2 = W2 - gamma / N * delta2 @ h.T
    b2 = b2 - gamma / N * np.sum(delta2, axis=1, keepdims=True)
    return W1, b1, W2, b2


def backprop_shallow(x, d, net, T, gamma=0.05):
    for t in range(T):
        net = update_shallow(x, d, net, gamma)
        print(t, eval_loss(forwardprop_shallow(x, net), d).mean())
    return net


def backprop_minibatch_shallow(x, d, net, T, B=100, gamma=0.05):
    N = x.shape[1]
    for t in range(T):
        perm = np.random.permutation(N)
        for i in range(0, N, B):
            net = update_shallow(x[:, perm[i:i + B]], d[:, perm[i:i + B]], net, gamma)
    return net
