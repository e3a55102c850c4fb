r"""The report on one derivation: text for a terminal, a dict for JSON.

Non-goals: HTML; rendering the learner's LaTeX (it is shown as written).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .check import CLASSES, TARGETS, ChainResult, Step

__all__ = ["DerivationReport"]


@dataclass
class DerivationReport:
    r"""What ``backproof check`` found about one derivation.

    ``status`` is "follows" (every step proved, and no line left unread), "wrong" (a step does not
    follow), "needs a condition" (a step holds only under a condition not written), "incomplete"
    (a line not read or a step not decided, none wrong) or "reached another result" (every step
    follows but the last line is not the course's).
    """

    where: str
    first: str
    last: str
    target: str | None
    target_how: str
    status: str
    steps: list[Step] = field(default_factory=list)
    not_read: list[tuple[str, str, str]] = field(default_factory=list)  # (where, text, reason)
    reached: str | None = None
    reached_text: str | None = None

    @classmethod
    def build(cls, where: str, first: str, last: str, res: ChainResult) -> DerivationReport:
        statuses = [s.status for s in res.steps]
        if "does not follow" in statuses:
            status = "wrong"
        elif "holds only if" in statuses:
            status = "needs a condition"
        elif res.not_read or "could not decide" in statuses or not res.steps:
            status = "incomplete"
        elif res.reached is not None:
            status = "reached another result"
        else:
            status = "follows"
        return cls(
            where,
            first,
            last,
            res.target,
            res.target_how,
            status,
            res.steps,
            [(it.where, it.text, why) for it, why in res.not_read],
            res.reached,
            res.reached_text,
        )

    @property
    def ok(self) -> bool:
        return self.status == "follows"

    @property
    def first_wrong(self) -> Step | None:
        return next((s for s in self.steps if s.status == "does not follow"), None)

    @property
    def score(self) -> float:
        return 1.0 if self.ok else 0.0

    def title(self) -> str:
        if self.target:
            return f"{TARGETS[self.target][0]}  [{self.target}, {self.target_how}]"
        return f"{self.first} = …"

    def format(self) -> str:
        marks = {
            "follows": "✓",
            "wrong": "✗",
            "needs a condition": "✗",
            "incomplete": "?",
            "reached another result": "✗",
        }
        lines = [f"{marks[self.status]} {self.status}: derivation at {self.where}: {self.title()}"]
        n_ok = sum(s.status == "follows" for s in self.steps)
        if self.steps:
            lines.append(f"    {n_ok} of {len(self.steps)} steps follow (assuming {CLASSES})")
        else:
            lines.append("    no step could be checked")
        for s in self.steps:
            if s.status == "follows":
                continue
            lines.append(
                f"    {s.status}: step at {s.after.where}"
                + (f" ({', '.join(s.needs)} only)" if s.needs else "")
            )
            lines.append(f"        from: {s.before.text}")
            lines.append(f"        to:   {s.after.text}")
            if s.after.why:
                lines.append(f"        (your words before it: “{s.after.why[-80:]}”)")
            if s.status == "holds only if":
                lines.append(
                    f"        holds for {', '.join(s.needs)} only: write the condition beside the line"
                )
            if s.counterexample:
                shown = ", ".join(f"{k} = {v}" for k, v in s.counterexample.items())
                lines.append(f"        counterexample: {shown}")
                if s.values:
                    lines.append(
                        f"        there the first line is {s.values[0]} and the second {s.values[1]}"
                    )
            if s.diagnosis:
                lines.append(f"        diagnosis: {s.diagnosis}")
            if s.status == "could not decide":
                lines.append(f"        ({s.reason})")
        for where, text, why in self.not_read:
            lines.append(f"    not read: {where}: {text}")
            lines.append(f"        ({why})")
        if self.status == "reached another result":
            other = f" ({TARGETS[self.reached][0]})" if self.reached else ""
            lines.append(
                f"    every step follows, but it ends at {self.reached_text}{other}, not the course's result"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict:
        wrong = self.first_wrong
        return {
            "where": self.where,
            "target": self.target,
            "target_statement": TARGETS[self.target][0] if self.target else None,
            "target_how": self.target_how,
            "status": self.status,
            "ok": self.ok,
            "first": self.first,
            "last": self.last,
            "assumptions": [CLASSES],
            "steps": [
                {
                    "where": s.after.where,
                    "from": s.before.text,
                    "to": s.after.text,
                    "status": s.status,
                    "needs": s.needs,
                    "counterexample": s.counterexample or None,
                    "values": list(s.values) if s.values else None,
                    "diagnosis": s.diagnosis,
                    "slip": s.slip,
                }
                for s in self.steps
            ],
            "first_wrong_step": wrong.after.where if wrong else None,
            "slip": wrong.slip if wrong else None,
            "not_read": [{"where": w, "text": t, "reason": r} for w, t, r in self.not_read],
            "reached": self.reached_text if self.status == "reached another result" else None,
        }
