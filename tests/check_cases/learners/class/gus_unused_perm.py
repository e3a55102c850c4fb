import numpy as np
from numpy.random import permutation
#from tqdm import tqdm


def normalize_MNIST_images(x):
    return (x.astype(np.float32) * 2 / 255 - 1).astype(np.float32)

def label2onehot(lbl):
    one_hot = np.zeros((10, lbl.shape[0]))
    one_hot[lbl, np.arange(lbl.shape[0])] = 1
    return one_hot

def onehot2label(d):
    return d.argmax(0)

def softmax(a):
    a_max = a.max(axis = 0)
    exp_a = np.exp(a - a_max)
    return exp_a / exp_a.sum(axis = 0)

def softmaxp(a, e):
    s = softmax(a)
    return s*e - s*(s*e).sum(axis = 0)

def relu(a):
    return np.where(a > 0, a, 0)

def relup(a, e):
    return np.where(a > 0, e, 0)

def init_shallow(Ni, Nh, No):
    b1 = np.random.randn(Nh, 1) / np.sqrt((Ni+1.)/2.)
    W1 = np.random.randn(Nh, Ni) / np.sqrt((Ni+1.)/2.)
    b2 = np.random.randn(No, 1) / np.sqrt((Nh+1.))
    W2 = np.random.randn(No, Nh) / np.sqrt((Nh+1.))
    return W1, b1, W2, b2

def forwardprop_shallow(x, net):
    W1, b1, W2, b2 = net
    a1 = W1.dot(x) + b1
    h = relu(a1)
    a2 = W2.dot(h) + b2
    return softmax(a2)

def eval_loss(y, d):
    return - (d*np.log(y)).sum() / y.size

def eval_perfs(y, lbl):
    return 100.0 * (onehot2label(y) != lbl).mean()

def update_shallow(x, d, net, gamma=.05):
    W1, b1, W2, b2 = net
    a1 = W1.dot(x) + b1
    h = relu(a1)
    a2 = W2.dot(h) + b2
    y = softmax(a2)
    delta2 = softmaxp(a2, -d/y)
    delta1 = relup(a1, W2.T.dot(delta2))
    n = x.shape[1]
    W2 = W2 - gamma/n * delta2.dot(h.T)
    W1 = W1 - gamma/n * delta1.dot(x.T)
    b2 = b2 - gamma/n * delta2.sum(axis=1, keepdims=True)
    b1 = b1 - gamma/n * delta1.sum(axis=1, keepdims=True)
    return W1, b1, W2, b2

def backprop_shallow(x, d, net, T, gamma=.05):
    for t in range(T):
        net = update_shallow(x, d, net, gamma)
    return net

def backprop_minibatch_shallow(x, d, net, T, B=100, gamma=.05):
    N = x.shape[1]
    NB = int(np.ceil(N / B))
    for t in range(T):
        perm = permutation(N)   # shuffle every epoch
        for k in range(NB):
            xb = x[:, k*B:(k+1)*B]
            db = d[:, k*B:(k+1)*B]
            net = update_shallow(xb, db, net, gamma)
        #print(t, eval_loss(forwardprop_shallow(x, net), d))
    return net
