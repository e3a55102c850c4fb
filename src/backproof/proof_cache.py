r"""The proof cache of ``backproof verify``: a proof is made once for the same sources and identity.

A :class:`Certificate` is what SymPy established about one identity (the proof's result and the
wrong variants' verdicts). It is stored as JSON in :func:`cache_dir` under :func:`proof_key`: a
digest of every source file of :mod:`backproof.symbolic` (the trusted core, the engine and the
identity modules), of SymPy's and Python's versions, and of the identity itself (its statement and
every step, definition, assumption, case and cited rule of its chains; its variants). An entry is
used only if its checksum matches its content and its key is the identity's key now; "proved" is
then recomputed from the stored step verdicts (:func:`load_certificate`). Only successes are
stored (``backproof verify`` decides; :mod:`backproof.verify`). The numeric checks are never
cached: they test the NumPy code as it is.

Non-goals: protection against a forger who can write the cache folder and recompute a checksum
(the cache is the user's own); caching the numeric checks.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from . import symbolic as S
from ._output import cache_folder

__all__ = [
    "CACHE_FORMAT",
    "Certificate",
    "cache_dir",
    "certify",
    "load_certificate",
    "proof_key",
    "save_certificate",
]


@dataclass
class Certificate:
    r"""What SymPy established about one identity: the proof's result and the wrong variants' verdicts."""

    result: S.ProofResult
    verdicts: list
    from_cache: bool = False


def certify(ident, seed: int = 0) -> Certificate:
    r"""Prove ``ident`` and refute its wrong variants, now (no cache)."""
    return Certificate(ident.prove(), ident.refute_variants(seed))


#: Bumped when the cache's format or meaning changes: every older entry is then a miss.
CACHE_FORMAT = 1


def cache_dir() -> Path:
    r"""Where proofs are cached: ``$BACKPROOF_CACHE/verify`` or the user cache folder's ``verify``."""
    return cache_folder("verify")


def _symbolic_sources() -> list[Path]:
    r"""Every source file a proof depends on: the trusted core, the engine and every identity module."""
    root = Path(__file__).resolve().parent / "symbolic"
    return sorted(root.rglob("*.py"))


@functools.lru_cache(maxsize=1)
def _sources_digest() -> str:
    import sympy

    h = hashlib.sha256(f"format {CACHE_FORMAT}; sympy {sympy.__version__}; {sys.version}".encode())
    for path in _symbolic_sources():
        h.update(f"{path.parent.name}/{path.name}".encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _tree_digest(obj, memo: dict) -> bytes:
    r"""A digest of a SymPy expression (or matrix, tuple, dict, string) by its structure and names.

    Stable across processes (no use of ``hash``); a shared subexpression is digested once.
    """
    got = memo.get(id(obj))
    if got is not None:
        return got[0]
    if isinstance(obj, sp.MatrixBase):
        parts = [b"M%d,%d" % obj.shape, *(_tree_digest(x, memo) for x in obj)]
    elif isinstance(obj, sp.Basic) and obj.args:
        parts = [type(obj).__name__.encode(), *(_tree_digest(x, memo) for x in obj.args)]
    elif isinstance(obj, sp.Basic):
        signs = sorted(obj.assumptions0.items()) if isinstance(obj, sp.Symbol) else ()
        parts = [type(obj).__name__.encode(), str(obj).encode(), str(signs).encode()]
    elif isinstance(obj, (tuple, list)):
        parts = [b"T", *(_tree_digest(x, memo) for x in obj)]
    elif isinstance(obj, dict):
        parts = [b"D", *(_tree_digest(k, memo) + _tree_digest(v, memo) for k, v in obj.items())]
    else:
        parts = [type(obj).__name__.encode(), str(obj).encode()]
    out = hashlib.blake2b(b"\0".join(parts), digest_size=16).digest()
    memo[id(obj)] = (out, obj)  # obj kept alive, so its id is not reused
    return out


def _content(ident) -> list:
    r"""What the identity states and proves, as plain data: statement, chains (every step, definition,
    assumption, case and rule), variants."""
    out: list = [ident.name, ident.statement, list(ident.assumptions)]
    for c in ident.chains:
        steps = [
            (
                st.expr,
                st.why,
                st.kind,
                st.relation,
                tuple(getattr(st, "uses", ())),
                str(getattr(st, "rules", ())),
            )
            for st in c.steps
        ]
        rules = [(r.name, r.statement, r.status) for r in getattr(c, "rules", ())]
        out.append((c.title, c.size, steps, c.definitions, c.assumptions, c.hypotheses, c.cases, rules))
    for v in ident.variants:
        parts = [
            getattr(v, f, None) for f in ("wrong", "first", "chain", "true", "instance", "target", "sizes")
        ]
        out.append((v.name, v.description, *map(_stable, parts)))
    return out


def _stable(obj):
    r"""``obj``, or for a function its name and bytecode (its ``str`` holds a memory address)."""
    code = getattr(obj, "__code__", None)
    if code is None:
        return obj
    return (getattr(obj, "__module__", ""), getattr(obj, "__qualname__", ""), code.co_code.hex())


def proof_key(ident, seed: int = 0) -> str:
    r"""The cache key of ``ident``'s proof.

    A digest of the sources of :mod:`backproof.symbolic` (the trusted core, the engine and every
    identity module), of the identity itself (statement, every step of every chain with its
    definitions, assumptions, cases and cited rules; the variants) and of the seed: a change to any
    of them is a miss.
    """
    content = _tree_digest([_content(ident), seed], {})
    return hashlib.sha256(_sources_digest().encode() + content).hexdigest()


def _entry_path(ident, seed: int) -> Path:
    return cache_dir() / f"{ident.name}-{seed}.json"


def _checksum(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _to_payload(ident, seed: int, cert: Certificate) -> dict:
    r = cert.result
    return {
        "key": proof_key(ident, seed),
        "name": ident.name,
        "chains": {title: [bool(x) for x in steps] for title, steps in r.chains.items()},
        "statement": [bool(x) for x in r.statement],
        "necessity": r.necessity,
        "seconds": r.seconds,
        "verdicts": [
            {"name": v.name, "refuted": bool(v.refuted), "method": v.method, "seconds": v.seconds}
            for v in cert.verdicts
        ],
    }


def save_certificate(ident, seed: int, cert: Certificate) -> None:
    r"""Write ``cert`` to the cache (quietly nothing if the folder cannot be written)."""
    payload = _to_payload(ident, seed, cert)
    path = _entry_path(ident, seed)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"payload": payload, "checksum": _checksum(payload)}))
        os.replace(tmp, path)
    except OSError:
        pass


def load_certificate(ident, seed: int = 0) -> Certificate | None:
    r"""The cached certificate of ``ident``, or ``None`` when there is none or it cannot be trusted.

    An entry is used only if it parses, its checksum matches its content, its key is the key of
    ``ident`` now (same sources, name, chains and variants) and every chain, equation and variant
    of ``ident`` has its verdict; "proved" is then recomputed from the stored step verdicts.
    """
    from .symbolic import ProofResult, Verdict

    try:
        record = json.loads(_entry_path(ident, seed).read_text())
        payload = record["payload"]
        if record["checksum"] != _checksum(payload) or payload["key"] != proof_key(ident, seed):
            return None
        chains = {c.title: payload["chains"][c.title] for c in ident.chains}
        if any(len(chains[c.title]) != len(c.steps) - 1 for c in ident.chains):
            return None
        statement = payload["statement"]
        names = [v.name for v in ident.variants]
        verdicts = [
            Verdict(v["name"], v["refuted"] is True, str(v["method"]), float(v["seconds"]))
            for v in payload["verdicts"]
        ]
        if [v.name for v in verdicts] != names or len(statement) == 0:
            return None
        necessity = payload["necessity"]
        if necessity not in (True, False, None) or (ident.necessity is None) != (necessity is None):
            return None
        steps_ok = all(all(x is True for x in v) and v for v in chains.values())
        proved = steps_ok and all(x is True for x in statement) and necessity is not False
        result = ProofResult(ident.name, proved, float(payload["seconds"]), chains, statement, necessity)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return Certificate(result, verdicts, from_cache=True)
