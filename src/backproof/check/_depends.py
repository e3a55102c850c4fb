r"""One mistake, one failure: a function wrong only through a wrong one it calls "depends on" it.

After every function is checked, each wrong one that calls wrong course functions (directly, or
through helpers of the learner's own) is checked again with the course's correct versions
(:data:`._course.REFERENCE`) in their place: in a fresh child process whose code is the
learner's plus one statement rebinding those names (:class:`Replacer`), or, in a notebook, with
the learner's globals rebound for the time of the check. If it passes then, its verdict is
"depends on" them and it is not counted again; if not, the findings of that second check, free
of the callee's mistake, are its own.

Non-goals: replacing functions in a layout other than the course's (with an adapter the calls
between the learner's own functions are theirs, so nothing is replaced).
"""

from __future__ import annotations

from . import _specs as S
from ._sandbox import Learner, LearnerError


class Replacer:
    r"""The learner's code with some of its course functions replaced by the course's own, in a fresh
    child process per set replaced (the replacement is one more statement after the learner's)."""

    def __init__(self, statements, folder, time_limit, memory_mb, load_limit):
        self.args = (statements, folder, time_limit, memory_mb, load_limit)

    def learner(self, replaced: dict[str, str]) -> Learner:
        statements, folder, time_limit, memory_mb, load_limit = self.args
        code = "from backproof.check._course import REFERENCE as _backproof_reference\n" + "".join(
            f"{mine} = _backproof_reference[{course!r}]\n" for course, mine in sorted(replaced.items())
        )
        extra = ("<backproof: the course's functions>", code, "the course's functions, in place of yours")
        return Learner([*statements, extra], folder, time_limit, memory_mb, load_limit)


def _callees(name: str, functions: dict, course: set[str]) -> set[str]:
    r"""The learner's course functions that ``name`` calls: directly, or through helpers of its own
    that are not course functions (a course function's own callees are its business)."""
    seen: set[str] = set()
    stack = [name]
    while stack:
        for used in functions.get(stack.pop(), ((), 0, []))[2]:
            if used in functions and used not in seen and used != name:
                seen.add(used)
                if used not in course:
                    stack.append(used)
    return seen & course


def collapse_dependencies(results, functions: dict, mapping: dict, replace, sources, check) -> None:
    r"""One mistake, one failure: a wrong function that calls wrong ones is checked again with the
    course's versions of those in their place. If it passes then, it is "depends on" them and not
    counted again; if not, its own findings (from that second check) are reported."""
    from ._course import REFERENCE

    by_mine = {mapping.get(r.name, r.name): r for r in results}
    wrong = {"fail", "crashed", "timed out"}
    for r in results:  # the course's order: callees come before their callers
        if r.status not in wrong:
            continue
        mine = r.defined_as or r.name
        bad = {
            c: by_mine[c]
            for c in _callees(mine, functions, set(by_mine))
            if c in by_mine and by_mine[c].status in wrong | {"depends"} and by_mine[c].name in REFERENCE
        }
        if not bad:
            continue
        spec = next(s for s in S.specs_cache() if s.name == r.name)
        try:
            with replace.learner({b.name: c for c, b in bad.items()}) as other:
                again = check(other, spec, mine, sources)
        except LearnerError:
            continue
        roots: list[str] = []
        for b in bad.values():
            for n in b.depends_on if b.status == "depends" else [b.name]:
                if n not in roots:
                    roots.append(n)
        if again.status in ("pass", "differs"):
            r.status, r.depends_on, r.findings = "depends", roots, again.findings
            r.notes = [n for n in r.notes if "not checked yet" not in n]
        elif again.status in ("crashed", "timed out") and r.status == "fail":
            # the course's function does not fit the learner's calls: say no more than we know
            r.notes.append(f"calls {', '.join(roots)}, which {'is' if len(roots) == 1 else 'are'} wrong too")
        else:
            r.findings, r.status = again.findings, again.status
            r.notes.append(
                f"it calls {', '.join(roots)}, which {'is' if len(roots) == 1 else 'are'} wrong; checked "
                f"again with the course's {', '.join(roots)} in place of yours, it is still wrong: the "
                "mistake above is its own"
            )
