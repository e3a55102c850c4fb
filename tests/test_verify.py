"""backproof verify: the table, the JSON report and the exit status."""

import json

from backproof import verify as V
from backproof.cli import main


def test_verify_reports_every_identity_proved_and_within_tolerance(tmp_path, capsys):
    out = tmp_path / "v.json"
    assert main(["verify", "--json", str(out)]) == 0
    records = json.loads(out.read_text())
    assert len(records) == 9
    for r in records:
        assert r["proved"] is True
        assert r["numeric_max_rel_error"] <= V.TOLERANCE["float64"]
        assert r["fd_rel_error"] <= V.TOLERANCE["fd"]
        assert {"name", "proved", "numeric_max_rel_error", "fd_rel_error"} <= set(r)
    assert "9 of 9 identities verified" in capsys.readouterr().out


def test_verify_exits_non_zero_when_an_identity_fails(monkeypatch, capsys):
    real = V.numeric_check

    def broken(name, dtype=None, seed=0):
        return 1.0 if name == "softmax_jvp_is_g_times_e_minus_inner_product" else real(name, dtype, seed)

    monkeypatch.setattr(V, "numeric_check", broken)
    assert main(["verify"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_rel_error_is_cs231n():
    assert V.rel_error(1.0, 1.0) == 0.0
    assert abs(V.rel_error(1.0, 3.0) - 0.5) < 1e-15
    assert V.rel_error(0.0, 1e-12) < 1e-3  # the 1e-8 floor
