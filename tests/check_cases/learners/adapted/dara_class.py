# Dara -- I wrote it as a class because the functions kept passing 4 arrays around.
import numpy as np


def softmax(a):
    a = a - a.max(0, keepdims=True)
    return np.exp(a) / np.exp(a).sum(0, keepdims=True)


def relu(a):
    return np.maximum(a, 0.0)


class ShallowNet:
    def __init__(self, Ni=784, Nh=64, No=10, params=None):
        if params is None:
            s1, s2 = np.sqrt(2.0 / (Ni + 1)), 1.0 / np.sqrt(Nh + 1)
            self.W1 = np.random.randn(Nh, Ni) * s1
            self.b1 = np.random.randn(Nh, 1) * s1
            self.W2 = np.random.randn(No, Nh) * s2
            self.b2 = np.random.randn(No, 1) * s2
        else:
            self.W1, self.b1, self.W2, self.b2 = [np.array(p, dtype=float) for p in params]

    def params(self):
        return self.W1, self.b1, self.W2, self.b2

    def forward(self, x):
        self.x = x
        self.a1 = self.W1 @ x + self.b1
        self.h = relu(self.a1)
        self.y = softmax(self.W2 @ self.h + self.b2)
        return self.y

    def step(self, x, d, lr):
        y = self.forward(x)
        N = x.shape[1]
        delta2 = y - d
        delta1 = (self.a1 > 0) * (self.W2.T @ delta2)
        self.W2 -= lr / N * delta2 @ self.h.T
        self.b2 -= lr / N * delta2.sum(1, keepdims=True)
        self.W1 -= lr / N * delta1 @ x.T
        self.b1 -= lr / N * delta1.sum(1, keepdims=True)

    def fit(self, x, d, epochs, lr=0.05):
        for ep in range(epochs):
            self.step(x, d, lr)
        return self

    def fit_minibatch(self, x, d, epochs, batch=100, lr=0.05):
        N = x.shape[1]
        for ep in range(epochs):
            for i in range(0, N, batch):       # TODO shuffle
                self.step(x[:, i:i + batch], d[:, i:i + batch], lr)
        return self


if __name__ == "__main__":
    net = ShallowNet()
