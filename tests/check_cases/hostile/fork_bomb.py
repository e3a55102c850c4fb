# Forks until it cannot (at most 300 here, so that a broken limit cannot take the machine down).
import os
import time


def softmax(a):
    n = 0
    try:
        for _ in range(300):
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            n += 1
    except OSError as exc:
        raise RuntimeError(f"FORKS {n} then {exc.strerror}") from None
    raise RuntimeError(f"FORKS {n}")
