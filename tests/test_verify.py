"""backproof verify: the table, the JSON report, the exit status, and NaN never passing."""

import importlib
import json
import math

import numpy as np

from backproof import symbolic as S
from backproof import verify as V
from backproof.cli import main

softmax_module = importlib.import_module("backproof.softmax")


def test_verify_reports_every_identity_proved_refuted_and_within_tolerance(tmp_path, capsys):
    out = tmp_path / "v.json"
    assert main(["verify", "--json", str(out)]) == 0
    records = json.loads(out.read_text())
    assert [r["name"] for r in records] == [i.name for i in S.identities()]
    for r in records:
        assert r["proved"] is True and r["statement_matches"] is True and r["ok"] is True
        assert r["substantive_steps"] >= 1 and r["sizes"]
        assert r["variants"] and r["variants_refuted"] == len(r["variants"])
        assert all(v["method"] in (S.REFUTATION, S.SHAPES) for v in r["variants"])
        assert all(c["ok"] and c["error"] <= c["tolerance"] for c in r["checks"])
        assert r["failures"] == []
    n = len(records)
    assert f"{n} of {n} identities verified" in capsys.readouterr().out


def _naive_softmax(a):
    """A softmax without the max-subtraction: e^1000 overflows, inf / inf is NaN."""
    arr = np.asarray(a, dtype=np.float64 if np.asarray(a).dtype.kind != "f" else np.asarray(a).dtype)
    vector = arr.ndim == 1
    arr = arr[:, None] if vector else arr
    with np.errstate(all="ignore"):
        g = np.exp(arr)
        g = g / g.sum(axis=0, keepdims=True)
    return g[:, 0] if vector else g


def test_a_softmax_without_max_subtraction_fails_verify_with_a_nan_message(monkeypatch, capsys):
    monkeypatch.setattr(softmax_module, "softmax", _naive_softmax)
    assert main(["verify"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "nan" in out.lower() and "NaN or an infinity" in out


def test_a_nan_in_a_comparison_is_a_failure_not_a_pass():
    assert math.isnan(V.rel_error([1.0, np.nan], [1.0, 1.0]))
    assert math.isnan(V.col_rel_error([[np.inf]], [[1.0]]))
    result = V.CheckResult("x", "float64", float("nan"), 1e-9)
    assert not result.ok and "NaN" in result.message


def test_verify_exits_non_zero_when_a_check_fails(monkeypatch, capsys):
    ident = S.identity("softmax_jvp_is_g_times_e_minus_inner_product")
    broken = [S.Check(c.label, c.kind, lambda rng: 1.0) for c in ident.checks]
    monkeypatch.setattr(ident, "checks", broken)
    assert main(["verify"]) == 1
    assert "FAILED softmax_jvp_is_g_times_e_minus_inner_product" in capsys.readouterr().out


def test_report_to_dict_has_the_documented_keys():
    r = V.report(S.identity("softmax_is_shift_invariant")).to_dict()
    keys = {
        "number", "name", "title", "proved", "proof_method", "proof_seconds", "sizes", "substantive_steps",
        "total_steps", "statement_matches", "chains", "variants", "variants_refuted", "checks",
        "numeric_max_rel_error", "numeric_max_rel_error_float32", "fd_rel_error", "assumption_needed",
        "tolerances", "failures", "ok",
    }  # fmt: skip
    assert keys <= set(r)
    assert r["fd_rel_error"] is None  # this identity has no finite-difference check: null, not 0
    assert json.dumps(r)


def test_rel_error_is_cs231n():
    assert V.rel_error(1.0, 1.0) == 0.0
    assert abs(V.rel_error(1.0, 3.0) - 0.5) < 1e-15
    assert V.rel_error(0.0, 1e-12) < 1e-3  # the 1e-8 floor


def test_verify_prints_each_row_as_soon_as_its_identity_is_done(monkeypatch, capsys):
    quick = [
        S.identity("relu_derivative_is_heaviside_zero_at_kink"),
        S.identity("softmax_is_shift_invariant"),
    ]
    seen_before_the_second = []

    def two_reports(seed=0):
        first = V.report(quick[0], seed)
        yield first
        seen_before_the_second.append(capsys.readouterr().out)  # what a pipe has received so far
        yield V.report(quick[1], seed)

    monkeypatch.setattr(V, "iter_reports", two_reports)
    assert main(["verify"]) == 0
    assert "relu_derivative_is_heaviside_zero_at_kink" in seen_before_the_second[0]
    assert "2 of 2 identities verified" in capsys.readouterr().out
