r"""backproof: backpropagation for a shallow MNIST network, with every formula proved by SymPy.

The NumPy path of the course exercise (784 → 64 ReLU → 10 softmax, cross-entropy,
full-batch and minibatch gradient descent), one module per concept:

* :mod:`backproof.idx`, :mod:`backproof.mnist` — reading and finding MNIST;
* :mod:`backproof.preprocess`, :mod:`backproof.display` — normalisation, one-hot, showing digits;
* :mod:`backproof.softmax`, :mod:`backproof.relu`, :mod:`backproof.loss` — each function
  beside its derivative;
* :mod:`backproof.activations` — relu, leaky_relu, sigmoid, tanh, each beside its derivative;
* :mod:`backproof.network` — networks of any depth, forward pass and backprop by the recursion;
  :mod:`backproof.training` — the two loops;
* :mod:`backproof.symbolic`, :mod:`backproof.verify` — SymPy proofs and their numeric checks;
* :mod:`backproof.model_io` — saving and loading parameters (:func:`save_model`, :func:`load_model`);
  :mod:`backproof.cli` — the command line.
"""

from .display import show, show_grid
from .errors import (
    BackproofError,
    DataNotFoundError,
    DataWarning,
    DownloadError,
    IDXFormatError,
    InputError,
    ModelFileError,
    OutputError,
    SampleDataWarning,
    TrainingDivergedError,
)
from .idx import read_idx
from .loss import cross_entropy, cross_entropy_from_logits, cross_entropy_grad, misclassification
from .mnist import (
    DataSource,
    MNISTData,
    download_mnist,
    load_dataset,
    load_mnist,
    load_sample,
    locate_mnist,
)
from .model_io import load_model, save_model
from .network import Forward, Parameters, backprop, evaluate, forward, init_network, init_shallow, predict
from .preprocess import normalize, one_hot, one_hot_to_labels
from .relu import relu, relu_jvp
from .softmax import softmax, softmax_jvp
from .training import History, TrainingResult, train_full_batch, train_minibatch

__version__ = "0.1.0"

__all__ = [
    "BackproofError",
    "DataNotFoundError",
    "DataSource",
    "DataWarning",
    "DownloadError",
    "Forward",
    "History",
    "IDXFormatError",
    "InputError",
    "MNISTData",
    "ModelFileError",
    "OutputError",
    "Parameters",
    "SampleDataWarning",
    "TrainingDivergedError",
    "TrainingResult",
    "backprop",
    "cross_entropy",
    "cross_entropy_from_logits",
    "cross_entropy_grad",
    "download_mnist",
    "evaluate",
    "forward",
    "init_network",
    "init_shallow",
    "load_dataset",
    "load_mnist",
    "load_model",
    "load_sample",
    "locate_mnist",
    "misclassification",
    "normalize",
    "one_hot",
    "one_hot_to_labels",
    "predict",
    "read_idx",
    "relu",
    "relu_jvp",
    "save_model",
    "show",
    "show_grid",
    "softmax",
    "softmax_jvp",
    "train_full_batch",
    "train_minibatch",
]
