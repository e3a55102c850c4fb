"""The score of a mutmut run over the named mutants (tox -e mutation prints it after the run).

``python .ci/mutation_score.py [--fail-under PERCENT] NAME ...``: each NAME is a mutant name or a
glob, as given to ``mutmut run``. Reads mutmut's records in ``mutants/`` and prints, per function,
how many of its mutants were killed, then every mutant not killed with its status, then the total.
``mutmut results`` lists the functions left out of the run too ("not checked"); this does not.
Exits 1 if a named mutant was not checked or if the share killed is below PERCENT.
"""

import fnmatch
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from mutmut.stats import status_by_exit_code


def main(argv: list[str]) -> int:
    fail_under = None
    if argv[:1] == ["--fail-under"]:
        fail_under, argv = float(argv[1]), argv[2:]
    counts: dict[str, Counter] = defaultdict(Counter)
    not_killed = []
    for meta in sorted(Path("mutants").rglob("*.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if not any(fnmatch.fnmatchcase(name, pattern) for pattern in argv):
                continue
            status = status_by_exit_code[code]
            counts[name.rsplit("__mutmut_", 1)[0]][status] += 1
            if status != "killed":
                not_killed.append((name, status))
    if not counts:
        print("no mutants of these names: run `mutmut run NAME ...` first")
        return 1
    width = max(map(len, counts))
    for function, c in sorted(counts.items()):
        print(f"{function:<{width}}  {c['killed']:4}/{sum(c.values()):<4} killed")
    for name, status in sorted(not_killed):
        print(f"{status:>12}  {name}")
    killed = sum(c["killed"] for c in counts.values())
    total = sum(sum(c.values()) for c in counts.values())
    print(f"{killed} of {total} mutants killed ({100 * killed / total:.1f} %)")
    if any(status == "not checked" for _, status in not_killed):
        print("some named mutants were not checked: the run did not finish")
        return 1
    if fail_under is not None and 100 * killed / total < fail_under:
        print(f"below the {fail_under:g} % required")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
