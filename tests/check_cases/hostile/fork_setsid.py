# Starts processes that try to outlive the check: setsid + double fork, a new session, a daemon.
import os
import subprocess
import time


def _escape():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            while True:  # the grandchild spins at 100 % CPU
                pass
        os._exit(0)


_escape()  # while loading (a statement the checker does not run: only the calls below do it)


def softmax(a):
    _escape()
    subprocess.Popen(["sleep", "1000"], start_new_session=True)
    time.sleep(0.01)
    return a  # wrong
