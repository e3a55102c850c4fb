# Ben K. -- homework 2, backprop on MNIST
# python 3.11, numpy 1.26

import numpy as np
import MNISTtools

DATA = "../data/mnist"


def normalize_MNIST_images(x):
    x = x / 255.          # 0..1
    return 2 * x - 1      # -1..1


def label2onehot(lbl):
    d = np.zeros((10, len(lbl)))
    for n in range(len(lbl)):
        d[lbl[n], n] = 1
    return d


def onehot2label(d):
    return np.argmax(d, axis=0)


def softmax(a):
    a = a - np.max(a, axis=0, keepdims=True)   # stability
    ea = np.exp(a)
    return ea / np.sum(ea, axis=0, keepdims=True)


def softmaxp(a, e):
    g = softmax(a)
    return g * e - g * np.sum(g * e, axis=0, keepdims=True)


def relu(a):
    return np.maximum(a, 0)


def relup(a, e):
    return (a > 0) * e


def init_shallow(Ni, Nh, No):
    b1 = np.random.randn(Nh, 1) / np.sqrt((Ni + 1) / 2)
    W1 = np.random.randn(Nh, Ni) / np.sqrt((Ni + 1) / 2)
    b2 = np.random.randn(No, 1) / np.sqrt(Nh + 1)
    W2 = np.random.randn(No, Nh) / np.sqrt(Nh + 1)
    return W1, b1, W2, b2


def forwardprop_shallow(x, net):
    W1, b1, W2, b2 = net
    a1 = W1 @ x + b1
    h = relu(a1)
    a2 = W2 @ h + b2
    y = softmax(a2)
    return y


def eval_loss(y, d):
    return -np.sum(d * np.log(y)) / y.size


def eval_perfs(y, lbl):
    return 100 * np.sum(onehot2label(y) != lbl) / len(lbl)


def update_shallow(x, d, net, gamma=0.05):
    W1, b1, W2, b2 = net
    N = x.shape[1]
    # forward
    a1 = W1 @ x + b1
    h = relu(a1)
    a2 = W2 @ h + b2
    y = softmax(a2)
    # backward (softmax + cross entropy together: y - d)
    delta2 = y - d
    delta1 = relup(a1, W2.T @ delta2)
    W2 = W2 - gamma / N * (delta2 @ h.T)
    b2 = b2 - gamma / N * delta2.sum(axis=1, keepdims=True)
    W1 = W1 - gamma / N * (delta1 @ x.T)
    b1 = b1 - gamma / N * delta1.sum(axis=1, keepdims=True)
    return W1, b1, W2, b2


def backprop_shallow(x, d, net, T, gamma=0.05):
    lbl = onehot2label(d)
    for t in range(T):
        net = update_shallow(x, d, net, gamma)
        y = forwardprop_shallow(x, net)
        print("epoch %d  loss %.4f  err %.2f%%" % (t, eval_loss(y, d), eval_perfs(y, lbl)))
    return net


def backprop_minibatch_shallow(x, d, net, T, B=100, gamma=0.05):
    N = x.shape[1]
    for t in range(T):
        idx = np.random.permutation(N)
        for i in range(0, N, B):
            b = idx[i:i + B]
            net = update_shallow(x[:, b], d[:, b], net, gamma)
    return net


xtrain, ltrain = MNISTtools.load(dataset="training", path=DATA)
xtrain = normalize_MNIST_images(xtrain)
dtrain = label2onehot(ltrain)
net = init_shallow(784, 64, 10)
net = backprop_minibatch_shallow(xtrain, dtrain, net, 5, 100)
