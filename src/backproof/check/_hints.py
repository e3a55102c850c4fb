r"""Hints for errors that Python 2 code gives in Python 3: integer division, ``xrange``, ...

Non-goals: porting the learner's code; hints for anything that is not a Python 2 habit.
"""

from __future__ import annotations

import re

_PYTHON2 = (
    (
        re.compile(
            r"'float' object cannot be interpreted as an integer|slice indices must be integers|"
            r"only integers, slices|must be an integer|float' object is not iterable"
        ),
        "a float where an integer is needed: in Python 3, N / B is a float (Python 2 rounded it down); "
        "write N // B, or int(np.ceil(N / B)) for the last, smaller batch",
    ),
    (re.compile(r"name 'xrange' is not defined"), "xrange is Python 2: write range"),
    (re.compile(r"has no attribute 'iteritems'"), "iteritems is Python 2: write items()"),
    (
        re.compile(r"name '(raw_input|unicode|long|basestring)' is not defined"),
        "raw_input, unicode, long and basestring are Python 2: input, str, int and str",
    ),
    (
        re.compile(r"object is not subscriptable.*(map|zip|filter|range)|'(map|zip|filter)' object"),
        "map, zip and filter return iterators in Python 3 (lists in Python 2): wrap them in list(...)",
    ),
)


def python2_hint(problem: str) -> str | None:
    r"""A hint for an error that Python 2 code gives in Python 3 (division, xrange, ...), or None."""
    for pattern, hint in _PYTHON2:
        if pattern.search(problem):
            return "Python 2 leftover? " + hint
    return None
