"""Saving and loading models: atomic writes, no pickles, validated shapes."""

import numpy as np
import pytest

from backproof import ModelFileError, init_shallow
from backproof.model_io import load_model, save_model


def test_save_then_load_round_trips_parameters_and_meta(tmp_path):
    p = init_shallow(784, 16, 10, seed=1)
    path = save_model(tmp_path / "m.npz", p, {"seed": 1})
    q, meta = load_model(path)
    np.testing.assert_array_equal(p.W1, q.W1)
    assert meta == {"seed": 1}
    assert [f.name for f in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left


def test_save_into_a_missing_directory_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        save_model(tmp_path / "no" / "m.npz", init_shallow(4, 2, 3))
