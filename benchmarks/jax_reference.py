r"""A JAX (CPU) version of the network, written as a skilled JAX user would, for timing.

Any depth, ReLU hidden layers, float32, samples as rows. The loss is the mean cross-entropy
through ``jax.nn.log_softmax``, its gradient comes from ``jax.grad`` (XLA fuses the softmax,
the ``(y - d)/B`` and the bias sums into the products around them), and SGD updates the
parameters. Two forms:

* :meth:`JaxNetwork.step`: one jitted update (parameters donated, so updated in place);
* :meth:`JaxNetwork.epoch`: a whole epoch in one jitted call, the batches gathered inside a
  ``lax.scan`` over the rows of the permutation (the last, smaller batch, if any, is one
  :meth:`step`), so that Python is out of the loop entirely.

Only imported when jax is installed (``pip install ".[bench-jax]"``).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np


def _loss(params, xb, yb):
    h = xb
    for W, b in params[:-1]:
        h = jax.nn.relu(h @ W.T + b)
    W, b = params[-1]
    logits = h @ W.T + b
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))


def _sgd(params, xb, yb, lr):
    grads = jax.grad(_loss)(params, xb, yb)
    return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)


@partial(jax.jit, donate_argnums=0)
def _step(params, xb, yb, lr):
    return _sgd(params, xb, yb, lr)


@partial(jax.jit, donate_argnums=0)
def _epoch(params, rows, labels, batches, lr):
    def body(p, idx):
        return _sgd(p, rows[idx], labels[idx], lr), None

    params, _ = jax.lax.scan(body, params, batches)
    return params


class JaxNetwork:
    """Parameters as ``((W_1, b_1), ..., (W_L, b_L))`` with ``W_l`` of shape (n_l, n_(l-1))."""

    def __init__(self, params) -> None:
        self.params = tuple(
            (jnp.asarray(np.asarray(W, np.float32)), jnp.asarray(np.asarray(b, np.float32)))
            for W, b in zip(params.W, params.b)
        )

    def step(self, xb, yb, lr: float) -> None:
        self.params = _step(self.params, xb, yb, jnp.float32(lr))
        jax.block_until_ready(self.params)

    def epoch(self, rows, labels, B: int, lr: float, rng: np.random.Generator) -> None:
        """One epoch of minibatch SGD over ``rows`` (a device array (N, n_0)) in a shuffled order."""
        N = rows.shape[0]
        perm = rng.permutation(N).astype(np.int32)
        full = N // B * B
        self.params = _epoch(
            self.params, rows, labels, jnp.asarray(perm[:full].reshape(-1, B)), jnp.float32(lr)
        )
        if full < N:
            rest = jnp.asarray(perm[full:])
            self.params = _step(self.params, rows[rest], labels[rest], jnp.float32(lr))
        jax.block_until_ready(self.params)
