r"""Showing MNIST digits with matplotlib (the course's ``MNISTtools.show``).

Non-goals: interactive viewers; anything beyond one digit or a grid of digits.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError

__all__ = ["show", "show_grid"]


def _as_square(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.shape == (784,) or image.shape == (784, 1):
        return image.reshape(28, 28)
    if image.shape == (28, 28):
        return image
    raise InputError(f"an image must have 784 pixels (shape (784,) or (28, 28)), got {image.shape}")


def show(image: np.ndarray, ax=None, title: str | None = None):
    r"""Draw one digit in grey levels, white on black as in the course.

    Parameters
    ----------
    image : numpy.ndarray
        One column of the images matrix, shape ``(784,)``, or ``(28, 28)``;
        ``uint8`` or normalised floats.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    square = _as_square(image)
    if ax is None:
        _, ax = plt.subplots(figsize=(2.5, 2.5))
    lo, hi = (0, 255) if square.dtype == np.uint8 else (float(square.min()), float(square.max()))
    ax.imshow(square, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


def show_grid(images: np.ndarray, titles=None, columns: int = 8):
    r"""Draw several digits (the columns of ``images``) in a grid; returns the figure."""
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim != 2 or images.shape[0] != 784:
        raise InputError(f"images must be (784, N), got {images.shape}")
    n = images.shape[1]
    rows = max(1, -(-n // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.5 * rows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k < n:
            show(images[:, k], ax=ax, title=None if titles is None else titles[k])
            ax.title.set_fontsize(8)
        else:
            ax.axis("off")
    fig.tight_layout()
    return fig
