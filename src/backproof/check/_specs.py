r"""The course's functions and the checks of each, in the course's order.

The checks themselves are built in :mod:`._specs_data`, :mod:`._specs_layers`,
:mod:`._specs_net` and :mod:`._specs_train` from the parts in :mod:`._spec_base`, which this
module re-exports for the checker.

Non-goals: checking functions outside the course's list (use ``--map`` to rename).
"""

from __future__ import annotations

from ._spec_base import (  # noqa: F401 - re-exported: the checker reads them from here
    GAMMA,
    IDENTITY_PAGES,
    NET,
    TEXTBOOK_PAGE,
    Malformed,
    Misbehaves,
    Mistake,
    Prop,
    Spec,
    identity_link,
    net_inputs,
    net_out,
    single,
)


def specs() -> list[Spec]:
    r"""Every course function's checks, in the course's order."""
    from ._specs_data import _loss_specs, _normalize_specs, _onehot_specs
    from ._specs_layers import _relu_specs, _softmax_spec, _softmaxp_spec
    from ._specs_net import _backprop_spec, _forward_spec, _init_spec, _update_spec
    from ._specs_train import _minibatch_spec

    return [
        _normalize_specs(),
        *_onehot_specs(),
        _softmax_spec(),
        _softmaxp_spec(),
        *_relu_specs(),
        _init_spec(),
        _forward_spec(),
        *_loss_specs(),
        _update_spec(),
        _backprop_spec(),
        _minibatch_spec(),
    ]


COURSE_FUNCTIONS = (
    "normalize_MNIST_images",
    "label2onehot",
    "onehot2label",
    "softmax",
    "softmaxp",
    "relu",
    "relup",
    "init_shallow",
    "forwardprop_shallow",
    "eval_loss",
    "eval_perfs",
    "update_shallow",
    "backprop_shallow",
    "backprop_minibatch_shallow",
)


_SPECS: list[Spec] | None = None


def specs_cache() -> list[Spec]:
    r"""The specs, built once per process (building imports Hypothesis)."""
    global _SPECS
    if _SPECS is None:
        _SPECS = specs()
    return _SPECS
