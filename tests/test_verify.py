"""backproof verify: the table, the JSON report, the exit status, and NaN never passing."""

import importlib
import json
import math
import types

import numpy as np
import sympy as sp

from backproof import proof_cache as PC
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


# --------------------------------------------------------------------------- the proof cache


QUICK = ("relu_derivative_is_heaviside_zero_at_kink", "relu_subgradient_at_zero_is_any_s_in_0_1")


def _quick(monkeypatch, idents=None):
    """Let verify run on two quick identities only (and count the proofs it makes)."""
    idents = tuple(idents or (S.identity(name) for name in QUICK))
    monkeypatch.setattr(S, "identities", lambda: idents)
    made = []
    real = V.certify

    def counting(ident, seed=0):
        made.append(ident.name)
        return real(ident, seed)

    monkeypatch.setattr(V, "certify", counting)
    return made


def _records(tmp_path, args, name="v.json"):
    out = tmp_path / name
    code = main(["verify", "--json", str(out), *args])
    return code, json.loads(out.read_text())


def test_an_unchanged_proof_is_read_from_the_cache(tmp_path, monkeypatch, capsys):
    made = _quick(monkeypatch)
    code, first = _records(tmp_path, ["--jobs", "1"])
    assert code == 0 and made == list(QUICK) and not any(r["from_cache"] for r in first)
    made.clear()
    code, second = _records(tmp_path, ["--jobs", "1"], "w.json")
    assert code == 0 and made == []  # nothing proved again
    assert all(r["from_cache"] and r["proved"] for r in second)
    assert "cache" in capsys.readouterr().out


def test_no_cache_proves_everything_again(tmp_path, monkeypatch):
    made = _quick(monkeypatch)
    _records(tmp_path, ["--jobs", "1"])
    made.clear()
    code, records = _records(tmp_path, ["--no-cache", "--jobs", "1"], "w.json")
    assert code == 0 and made == list(QUICK) and not any(r["from_cache"] for r in records)


def test_a_source_change_invalidates_the_cache(tmp_path, monkeypatch):
    made = _quick(monkeypatch)
    _records(tmp_path, ["--jobs", "1"])
    made.clear()
    monkeypatch.setattr(PC, "_sources_digest", lambda: "the engine's source changed")
    _records(tmp_path, ["--jobs", "1"], "w.json")
    assert made == list(QUICK)


def test_the_sources_digest_changes_with_any_source_file(tmp_path, monkeypatch):
    src = tmp_path / "symbolic"
    src.mkdir()
    (src / "core.py").write_text("TRUSTED = True\n")
    (src / "my_identities.py").write_text("x = 1\n")
    monkeypatch.setattr(PC, "_symbolic_sources", lambda: sorted(src.glob("*.py")))
    PC._sources_digest.cache_clear()
    before = PC._sources_digest()
    (src / "my_identities.py").write_text("x = 2\n")
    PC._sources_digest.cache_clear()
    after = PC._sources_digest()
    PC._sources_digest.cache_clear()
    assert before != after


def test_a_changed_identity_is_not_read_from_the_cache(tmp_path, monkeypatch):
    """The key covers the identity's steps: a false step in place of a true one is proved again and fails."""
    ident = S.identity("relu_derivative_is_heaviside_zero_at_kink")
    made = _quick(monkeypatch, [ident])
    assert _records(tmp_path, ["--jobs", "1"])[0] == 0
    chain = ident.chains[0]
    wrong = [*chain.steps[:-1], S.Step(-chain.steps[-1].expr, chain.steps[-1].why, chain.steps[-1].kind)]
    monkeypatch.setattr(chain, "steps", wrong)
    monkeypatch.setattr(ident, "prove", ident._prove_uncached)  # the engine's own per-object memo aside
    made.clear()
    code, records = _records(tmp_path, ["--jobs", "1"], "w.json")
    assert made == [ident.name] and code == 1
    assert records[0]["proved"] is False and records[0]["proof_summary"] == "not proved"


def _false_identity():
    x = sp.Symbol("x", real=True)
    chain = S.Chain("x = x + 1", [S.Step(x), S.Step(x + 1, "a careless step", S.REWRITE)])
    return S.Identity("x_equals_x_plus_one", "x = x + 1 (false)", [chain])


def test_a_failed_proof_is_not_cached(tmp_path, monkeypatch):
    ident = _false_identity()
    made = _quick(monkeypatch, [ident])
    for name in ("v.json", "w.json"):
        code, records = _records(tmp_path, ["--jobs", "1"], name)
        assert code == 1 and records[0]["proved"] is False and not records[0]["from_cache"]
    assert made == [ident.name, ident.name] and not list(PC.cache_dir().glob("x_equals_x_plus_one-*"))


def test_a_corrupted_or_forged_cache_entry_is_ignored(tmp_path, monkeypatch, capsys):
    """Garbage, a verdict flipped to "proved" without its checksum, or an entry made for other sources:
    the proof is made again, and a false identity never prints proved from the cache."""
    ident = _false_identity()
    made = _quick(monkeypatch, [ident])
    forged = PC.Certificate(S.ProofResult(ident.name, True, 0.1, {"x = x + 1": [True]}, [True]), [])
    payload = PC._to_payload(ident, 0, forged)
    other_sources = {**payload, "key": "0" * 64}
    entry = PC.cache_dir() / f"{ident.name}-0.json"
    entry.parent.mkdir(parents=True, exist_ok=True)
    for text in (
        json.dumps({"payload": payload, "checksum": "0" * 64}),  # flipped by hand: the checksum differs
        json.dumps({"payload": other_sources, "checksum": PC._checksum(other_sources)}),  # another key
        "{not json",
        "",
    ):
        entry.write_text(text)
        assert PC.load_certificate(ident) is None
        made.clear()
        code, records = _records(tmp_path, ["--jobs", "1"], "w.json")
        assert made == [ident.name] and code == 1 and records[0]["proved"] is False
    rows = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith(" 0 x_equals_x_plus_one")
    ]
    assert len(rows) == 4 and all("✗" in row and "✓" not in row for row in rows)
    # the same entry, made honestly for the identity as it is, would be used: the test can fail
    entry.write_text(json.dumps({"payload": payload, "checksum": PC._checksum(payload)}))
    assert PC.load_certificate(ident) is not None


def test_proofs_made_in_two_processes_equal_those_made_in_one(tmp_path, monkeypatch):
    idents = [S.identity(name) for name in QUICK]
    monkeypatch.setattr(S, "identities", lambda: tuple(idents))
    parallel = [r.to_dict() for r in V.iter_reports(cache=False, jobs=2)]
    serial = [r.to_dict() for r in V.iter_reports(cache=False, jobs=1)]
    keep = ("name", "proved", "statement_matches", "chains", "variants_refuted", "cited_rules", "ok")
    assert [{k: r[k] for k in keep} for r in parallel] == [{k: r[k] for k in keep} for r in serial]
    assert all(r["proved"] for r in parallel)


# --------------------------------------------------------------------------- cited rules, the table


def test_every_report_says_from_how_many_cited_rules_it_is_proved():
    r = V.report(S.identity("softmax_is_shift_invariant"))
    k = len(r.cited_rules)
    assert r.proof_summary == f"proved by SymPy from {k} cited rule{'' if k == 1 else 's'}"
    assert r.to_dict()["cited_rules"] == r.cited_rules and r.to_dict()["proof_summary"] == r.proof_summary


def test_a_false_identity_is_reported_not_proved_with_its_failure():
    r = V.report(_false_identity())
    assert not r.proved and r.proof_summary == "not proved" and not r.ok
    assert "✗" in V.table_row(r).splitlines()[0] and "FAILED" in V.table_row(r)


def test_the_table_fits_in_100_columns():
    reports = [V.report(S.identity(name)) for name in QUICK]
    reports[0].name = "fused_softmax_cross_entropy_gradient_is_y_minus_d_and_more"  # longer than any
    reports[0].cited_rules = [
        {"name": "the chain rule", "statement": "", "status": "checked for sizes " + "x" * 200}
    ]
    lines = [*V.table_header(), *(V.table_row(r) for r in reports), *V.table_footer(reports)]
    lines = [line for block in lines for line in block.splitlines()]
    assert max(len(line) for line in lines) <= V.WIDTH


def test_a_proof_key_is_the_same_in_a_fresh_process():
    """A key that changed from run to run (a memory address in it) would make the cache never hit."""
    import subprocess
    import sys

    from backproof.symbolic import layer_identities as LP

    code = (
        "from backproof import proof_cache as PC\n"
        "from backproof.symbolic import layer_identities as LP\n"
        "print(PC.proof_key(LP.activation_lemma()))\n"
    )
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert fresh.stdout.strip() == PC.proof_key(LP.activation_lemma())
    other = PC.proof_key(LP.activation_lemma(), seed=1)
    assert other != PC.proof_key(LP.activation_lemma())


class _DonePool:
    """A stand-in for the process pool: runs each job at once and records what it was given."""

    def __init__(self):
        self.jobs = []

    def submit(self, fn, *args):
        from concurrent.futures import Future

        self.jobs.append(fn.__name__)
        future: Future = Future()
        unproved = types.SimpleNamespace(result=types.SimpleNamespace(proved=False), verdicts=[])
        future.set_result((args[0], unproved) if fn is V._certify_in_worker else None)
        return future

    def shutdown(self, cancel_futures=False):
        pass


def _count_jobs(monkeypatch, cached: bool) -> list[str]:
    from backproof.symbolic import _layer_numeric

    pool = _DonePool()
    monkeypatch.setattr(V, "_pool", lambda jobs: pool)
    monkeypatch.setattr(V, "load_certificate", lambda ident, seed: "certificate" if cached else None)
    monkeypatch.setattr(V, "save_certificate", lambda *a: None)
    monkeypatch.setattr(V, "report", lambda ident, seed, cert: ident.name)
    monkeypatch.setattr(_layer_numeric, "_BUILT", {})
    monkeypatch.setattr(_layer_numeric, "_PREBUILT", {})
    list(V.iter_reports(jobs=2))
    return pool.jobs


def test_with_every_proof_in_the_cache_the_idle_workers_take_the_networks_derivatives(monkeypatch):
    assert _count_jobs(monkeypatch, cached=True) == ["network_gradients"] * 4


def test_with_proofs_to_make_the_workers_prove_and_the_networks_are_made_in_the_main_process(monkeypatch):
    jobs = _count_jobs(monkeypatch, cached=False)
    assert "network_gradients" not in jobs and len(jobs) == len(S.identities())
