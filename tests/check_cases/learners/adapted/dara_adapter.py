# How backproof calls Dara's class-based network: each function is written the course's way,
# `learner` is Dara's notebook. Only what differs from the course is adapted.


def init_shallow(Ni, Nh, No):
    return learner.ShallowNet(Ni, Nh, No).params()


def forwardprop_shallow(x, net):
    return learner.ShallowNet(params=net).forward(x)


def update_shallow(x, d, net, gamma):
    model = learner.ShallowNet(params=net)
    model.step(x, d, gamma)
    return model.params()


def backprop_shallow(x, d, net, T, gamma):
    return learner.ShallowNet(params=net).fit(x, d, T, gamma).params()


def backprop_minibatch_shallow(x, d, net, T, B, gamma):
    return learner.ShallowNet(params=net).fit_minibatch(x, d, T, B, gamma).params()
