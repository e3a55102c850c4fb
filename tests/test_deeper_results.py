"""A deeper network on the full MNIST set reaches at most 2 % test error in 20 epochs (slow; CI runs it).

The settings are those of the "Going deeper" page (``backproof.experiments``): 784-512-256-10
ReLU, He's initialisation, minibatch SGD with B = 64, gamma = 0.1 decayed linearly to 0,
20 epochs. Seeds 0, 1, 2 gave 1.83, 1.80 and 1.69 % when this test was written (train_minibatch
with these settings, one BLAS thread). One seed is trained here (CI runs it once); it must land at
or below 2.0 %.
"""

import pytest

from backproof import experiments, load_dataset

pytestmark = pytest.mark.slow


def test_the_deeper_network_reaches_at_most_2_percent_test_error_in_20_epochs(mnist_dir):
    result = experiments.deep_run(load_dataset(mnist_dir), seed=1)
    assert result.config["epochs"] <= 20
    assert result.final["test_error"] <= 2.0, result.history.test_error
