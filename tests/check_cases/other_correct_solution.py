# A correct solution written differently from course_solution.py: every function must pass.
# float32 throughout, the fused delta2 = y - d, an explicit Jacobian, tuples of extras returned,
# an unseeded generator, in-place updates, the loss averaged over samples (10 x the course's).
import numpy as np

rng = np.random.default_rng()


def normalize_MNIST_images(x):
    return ((x.astype(np.float32) - 127.5) / 127.5).astype(np.float32)


def label2onehot(lbl):
    return (np.arange(10)[:, None] == lbl[None, :]).astype(np.int64)


def onehot2label(d):
    return list(np.argmax(d, 0))


def softmax(a):
    a = np.asarray(a, dtype=np.float32)
    z = np.exp(a - np.max(a, 0))
    return z / z.sum(0)


def softmaxp(a, e):
    out = np.empty(np.shape(a), dtype=np.float32)
    g = softmax(a)
    for n in range(g.shape[1]):
        J = np.diag(g[:, n]) - np.outer(g[:, n], g[:, n])
        out[:, n] = J.T @ e[:, n]
    return out


def relu(a):
    return np.maximum(a, 0)


def relup(h, e):  # called with h = relu(a): the same step, since relu(a) > 0 exactly where a > 0
    return np.where(h > 0, e, 0.0)


def init_shallow(Ni, Nh, No):
    s1, s2 = np.sqrt(2.0 / (Ni + 1)), 1 / np.sqrt(Nh + 1)
    return [
        rng.normal(0, s1, (Nh, Ni)).astype(np.float32),
        rng.normal(0, s1, (Nh, 1)).astype(np.float32),
        rng.normal(0, s2, (No, Nh)).astype(np.float32),
        rng.normal(0, s2, (No, 1)).astype(np.float32),
    ]


def forwardprop_shallow(x, net):
    W1, b1, W2, b2 = net
    a1 = W1 @ x + b1
    h = relu(a1)
    a2 = W2 @ h + b2
    return a1, h, a2, softmax(a2)


def eval_loss(y, d):
    return float(np.mean(-np.sum(d * np.log(y), axis=0)))


def eval_perfs(y, lbl):
    return float((np.argmax(y, axis=0) != np.asarray(lbl)).sum() * 100.0 / len(lbl))


def update_shallow(x, d, net, gamma=0.05):
    W1, b1, W2, b2 = net
    _, h, _, y = forwardprop_shallow(x, net)
    delta2 = y - d
    delta1 = relup(h, W2.T @ delta2)
    step = gamma / d.shape[1]
    W2 -= step * delta2 @ h.T
    b2 -= step * delta2.sum(axis=1, keepdims=True)
    W1 -= step * delta1 @ x.T
    b1 -= step * delta1.sum(axis=1, keepdims=True)
    return W1, b1, W2, b2


def backprop_shallow(x, d, net, T, gamma=0.05):
    losses = []
    for _ in range(T):
        net = update_shallow(x, d, net, gamma)
        losses.append(eval_loss(forwardprop_shallow(x, net)[-1], d))
    return net, losses


def backprop_minibatch_shallow(x, d, net, T, B=100, gamma=0.05):
    N = x.shape[1]
    for _ in range(T):
        order = rng.permutation(N)
        for start in range(0, N, B):
            cols = order[start : start + B]
            net = update_shallow(x[:, cols], d[:, cols], net, gamma)
    return net
