"""backproof.experiments' scaling helpers: a step's products and the timings of "How cost grows"."""

from __future__ import annotations

import numpy as np

from backproof import _blas, experiments


def test_the_course_networks_epoch_has_the_12_3_gflop_of_products_the_issue_counted():
    # per step: W1 x, W2 h1, W2^T delta2, delta2 h1^T, delta1 x^T (the bias sums are not products)
    assert experiments.step_products([784, 64, 10], 100) == [
        (64, 100, 784), (64, 784, 100), (10, 100, 64), (64, 100, 10), (10, 64, 100)
    ]  # fmt: skip
    assert experiments.step_flops([784, 64, 10], 100) * 600 == 12_272_640_000


def test_a_step_costs_six_multiply_adds_per_weight_and_sample_but_the_first_layers_backward():
    sizes, B = [784, 512, 256, 10], 64
    weights = [sizes[l] * sizes[l - 1] for l in range(1, 4)]
    assert experiments.step_flops(sizes, B) == 2 * B * (2 * weights[0] + 3 * weights[1] + 3 * weights[2])


def test_the_scaling_sizes_run_from_64_to_4096_wide_and_2_to_6_layers_deep():
    assert experiments.width_sizes(4096) == [784, 4096, 4096, 10]
    assert [len(experiments.depth_sizes(L)) - 1 for L in experiments.SCALING_DEPTHS] == [2, 3, 4, 5, 6]
    assert experiments.SCALING_WIDTHS[0] == 64 and experiments.SCALING_WIDTHS[-1] == 4096


def test_scaling_times_a_step_and_its_products_and_leaves_the_blas_threads_as_they_were():
    start = _blas.threads()
    (row,) = experiments.scaling([[784, 16, 10]], batch=20, rounds=1)
    assert _blas.threads() == start
    assert row["sizes"] == [784, 16, 10] and row["flops"] == experiments.step_flops([784, 16, 10], 20)
    assert 0 < row["gemm_epoch_s"] and 0 < row["epoch_s"]
    assert np.isclose(row["ratio"], row["epoch_s"] / row["gemm_epoch_s"])
    assert np.isclose(row["gflops"], row["flops"] / (row["epoch_s"] / 3000) / 1e9)


def test_timing_the_products_alone_changes_no_parameter():
    # the products run after a step of rate 0, so every delta is 0 and the updates add nothing
    kernel, xb, labels = experiments._random_kernel([784, 16, 10], 20)
    before = kernel.params.copy()
    experiments.gemm_step_seconds(kernel, xb, labels, repeats=1)
    for name, value in before.arrays().items():
        np.testing.assert_array_equal(getattr(kernel.params, name), value)


def test_scaling_times_one_step_of_the_widest_network_and_many_of_a_narrow_one():
    # enough steps of a small network that waking the threads and filling the caches do not
    # weigh in the mean (with 8 steps a 784-64-64-10 step looked 50 % slower than in an epoch)
    assert experiments.scaling_steps(experiments.width_sizes(4096)) == 1
    narrow = experiments.scaling_steps(experiments.width_sizes(64))
    assert 50 <= narrow <= experiments.SCALING_MAX_STEPS
    assert experiments.scaling_steps([784, 4, 10]) == experiments.SCALING_MAX_STEPS
    flops = experiments.step_flops(experiments.width_sizes(256), experiments.SCALING_BATCH)
    assert experiments.scaling_steps(experiments.width_sizes(256)) == round(experiments.SCALING_FLOPS / flops)
