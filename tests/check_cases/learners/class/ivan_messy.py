import numpy as np, math
import numpy
#import matplotlib.pyplot as plt

g = .05   # learning rate
nh=64
eps = 1e-12
DEBUG = False

def normalize_MNIST_images(X):
    X=X.astype('float32')
    X = X/255*2-1
    return X

def label2onehot(l):
    return np.eye(10)[:,l]

def onehot2label(D): return D.argmax(axis=0)

def softmax(A):
    A = A-A.max(0)
    E=np.exp(A)
    return E/E.sum(0)

# old version, wrong
def softmaxp(a,e):
    s=softmax(a)
    return s*e

relu = lambda a: np.maximum(a,0)

def softmaxp(a,e):   # new: J^T e = g*e - <g,e> g
    s=softmax(a)
    tmp = (s*e).sum(0)
    return s*e - tmp*s

def relup(a,e): return np.heaviside(a,0)*e

def init_shallow(Ni,Nh,No):
    W1 = numpy.random.normal(0, 1/math.sqrt((Ni+1)/2), (Nh,Ni))
    b1 = numpy.random.normal(0, 1/math.sqrt((Ni+1)/2), (Nh,1))
    W2 = numpy.random.normal(0, 1/math.sqrt(Nh+1), (No,Nh))
    b2 = numpy.random.normal(0, 1/math.sqrt(Nh+1), (No,1))
    return W1,b1,W2,b2

def forwardprop_shallow(x,net):
    W1,b1,W2,b2=net
    A1=W1@x+b1;H=relu(A1);A2=W2@H+b2
    if DEBUG: print(A2.shape)
    return A1,H,A2,softmax(A2)

def eval_loss(y,d): return -(d*np.log(y+eps)).mean()

def eval_perfs(y,lbl):
    return (y.argmax(0)!=lbl).sum()/len(lbl)*100

def update_shallow(x,d,net,gamma=g):
    W1,b1,W2,b2=net
    A1,H,A2,Y=forwardprop_shallow(x,net)
    N=x.shape[1]
    D2=softmaxp(A2,-d/Y)
    D1=relup(A1,W2.T@D2)
    #W1=W1-gamma*D1@x.T
    W1=W1-gamma/N*D1@x.T; b1=b1-gamma/N*D1.sum(1,keepdims=True)
    W2=W2-gamma/N*D2@H.T; b2=b2-gamma/N*D2.sum(1,keepdims=True)
    return (W1,b1,W2,b2)

def backprop_shallow(x,d,net,T,gamma=g):
    L=[]
    for t in range(T):
        net=update_shallow(x,d,net,gamma)
        L.append(eval_loss(forwardprop_shallow(x,net)[-1],d))
    return net,L

def backprop_minibatch_shallow(x,d,net,T,B=100,gamma=g):
    N=x.shape[1]
    for t in range(T):
        I=np.random.permutation(N)
        for s in range(0,N,B):
            j=I[s:s+B]
            net=update_shallow(x[:,j],d[:,j],net,gamma)
    return net
