# Starts processes that try to outlive the check: setsid + double fork, a new session, and one
# with an empty environment (so nothing marks it as the worker's) named after the checker.
import os
import subprocess
import sys
import time


def _escape():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            while True:  # the grandchild spins at 100 % CPU
                pass
        os._exit(0)


def _checker():
    with open(f"/proc/{os.getppid()}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[1])


_escape()  # at load: a statement the checker does not run (only definitions); the calls below do it


def softmax(a):
    _escape()
    subprocess.Popen(["sleep", "1000"], start_new_session=True)
    subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(1000)", f"backproof-hostile-orphan-{_checker()}"],
        env={},
        start_new_session=True,
    )
    time.sleep(0.01)
    return a  # wrong
