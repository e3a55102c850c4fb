# Tries to change backproof's installed files and the learner's own folder; says what it could do.
import importlib.util
import os


def _try(path, mode):
    try:
        with open(path, mode):
            pass
    except OSError as exc:
        return f"denied ({exc.strerror})"
    return "ALLOWED"


def softmax(a):
    package = os.path.dirname(importlib.util.find_spec("backproof").origin)
    here = os.getcwd()
    original = here.split(os.sep + "root", 1)[1] if os.sep + "root" + os.sep in here else here
    results = {
        "backproof-append": _try(os.path.join(package, "check", "_specs.py"), "a"),
        "backproof-new": _try(os.path.join(package, "check", "_hostile_new.py"), "w"),
        "folder-append": _try(os.path.join(original, "write_files.py"), "a"),
        "folder-new": _try(os.path.join(original, "hostile_new.txt"), "w"),
        "copy-new": _try(os.path.join(here, "scratch.txt"), "w"),
    }
    raise PermissionError("RESULT " + " ".join(f"{k}={v.split()[0]}" for k, v in results.items()))
