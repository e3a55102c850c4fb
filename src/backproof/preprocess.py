r"""Turning raw MNIST into what the network consumes, as the course's MNISTtools does.

* :func:`normalize` maps grey levels 0..255 to ``float32`` in [-1, 1];
* :func:`one_hot` turns class indices into the target matrix ``d`` of shape (10, N);
* :func:`one_hot_to_labels` is its inverse (the course's ``onehot2label``).

Layout is preserved: a ``(784, N)`` view of row-contiguous samples stays one.

Non-goals: standardisation per pixel, augmentation, other encodings.
"""

from __future__ import annotations

import numpy as np

from ._checks import labels_array
from .errors import InputError

__all__ = ["normalize", "one_hot", "one_hot_to_labels"]


def normalize(images: np.ndarray) -> np.ndarray:
    r"""Map ``uint8`` grey levels to ``float32`` in :math:`[-1, 1]`.

    .. math:: x = \frac{2\,u}{255} - 1

    Parameters
    ----------
    images : numpy.ndarray
        ``uint8`` array of any shape, usually ``(784, N)``.

    Returns
    -------
    numpy.ndarray
        ``float32``, same shape and memory layout; 0 maps to -1 and 255 to 1.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise InputError(
            f"normalize expects the raw uint8 grey levels 0..255, got dtype {images.dtype}; "
            "normalise once, straight after loading"
        )
    x = images.astype(np.float32, order="K")
    x *= np.float32(2.0 / 255.0)
    x -= np.float32(1.0)
    return x


def one_hot(labels: np.ndarray, n_classes: int = 10, dtype=np.float32) -> np.ndarray:
    r"""Targets :math:`d` with :math:`d_{k n} = 1` if sample :math:`n` has class :math:`k`.

    Parameters
    ----------
    labels : numpy.ndarray
        Integer class indices in ``0..n_classes-1``, shape ``(N,)``.
    n_classes : int
    dtype : numpy dtype

    Returns
    -------
    numpy.ndarray
        Shape ``(n_classes, N)``: column ``n`` is the one-hot code of ``labels[n]``.
    """
    lbl = labels_array("labels", labels, n_classes)
    d = np.zeros((n_classes, lbl.shape[0]), dtype=dtype)
    d[lbl, np.arange(lbl.shape[0])] = 1
    return d


def one_hot_to_labels(d: np.ndarray) -> np.ndarray:
    r"""The class of each column: :math:`\operatorname{argmax}_k d_{kn}` (course: ``onehot2label``).

    Works for one-hot codes and for probability columns such as the network's ``y``.

    Parameters
    ----------
    d : numpy.ndarray
        Shape ``(n_classes, N)``.

    Returns
    -------
    numpy.ndarray
        ``int64`` of shape ``(N,)``.
    """
    d = np.asarray(d)
    if d.ndim != 2:
        raise InputError(f"expected a (classes, N) matrix, got shape {d.shape}")
    return np.argmax(d, axis=0)
