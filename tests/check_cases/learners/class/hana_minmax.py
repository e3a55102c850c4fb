import numpy as np

np.random.seed(0)

# ---------- data ----------
def normalize_MNIST_images(x):
    x = x.astype(np.float32)
    mn, mx = x.min(axis=0), x.max(axis=0)      # per image
    return (2 * (x - mn) / (mx - mn) - 1).astype(np.float32)

def label2onehot(lbl):
    return (np.arange(10).reshape(10, 1) == lbl).astype(float)

def onehot2label(d):
    return np.argmax(d, 0)

# ---------- activations ----------
def softmax(a):
    ea = np.exp(a - np.max(a, 0))
    return ea / np.sum(ea, 0)

def softmaxp(a, e):
    g = softmax(a)
    return g * e - np.sum(g * e, 0) * g

def relu(a):
    return np.maximum(a, 0)

def relup(a, e):
    return np.heaviside(a, 0) * e

# ---------- net ----------
def init_shallow(Ni, Nh, No):
    b1 = np.random.randn(Nh, 1) / np.sqrt((Ni + 1.0) / 2.0)
    W1 = np.random.randn(Nh, Ni) / np.sqrt((Ni + 1.0) / 2.0)
    b2 = np.random.randn(No, 1) / np.sqrt(Nh + 1.0)
    W2 = np.random.randn(No, Nh) / np.sqrt(Nh + 1.0)
    return W1, b1, W2, b2

def forwardprop_shallow(x, net):
    W1, b1, W2, b2 = net
    return softmax(W2 @ relu(W1 @ x + b1) + b2)

def eval_loss(y, d):
    return -np.sum(d * np.log(y)) / (y.shape[0] * y.shape[1])

def eval_perfs(y, lbl):
    return np.mean(np.argmax(y, 0) != lbl) * 100

def update_shallow(x, d, net, gamma=.05):
    W1, b1, W2, b2 = net
    a1 = W1 @ x + b1; h = relu(a1)
    a2 = W2 @ h + b2; y = softmax(a2)
    delta2 = y - d
    delta1 = relup(a1, W2.T @ delta2)
    g = gamma / x.shape[1]
    return (W1 - g * delta1 @ x.T, b1 - g * delta1.sum(1, keepdims=True),
            W2 - g * delta2 @ h.T, b2 - g * delta2.sum(1, keepdims=True))

def backprop_shallow(x, d, net, T, gamma=.05):
    for t in range(T):
        net = update_shallow(x, d, net, gamma)
    return net

def backprop_minibatch_shallow(x, d, net, T, B=100, gamma=.05):
    N = x.shape[1]
    for t in range(T):
        p = np.random.permutation(N)
        x, d = x[:, p], d[:, p]
        for k in range(0, N, B):
            net = update_shallow(x[:, k:k+B], d[:, k:k+B], net, gamma)
    return net
