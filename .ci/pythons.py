"""Which Pythons the test suite ran on in this tox run (tox's last env prints it).

``python .ci/pythons.py mark TOXWORKDIR ENVNAME``: a py3XX env records its Python after its tests pass.
``python .ci/pythons.py report TOXWORKDIR``: prints the Pythons that ran in this tox run (the records
made by the same tox process) and those not found; exits 1 if none ran.
"""

import os
import platform
import sys

WANT = ("py310", "py311", "py312", "py313")


def main(argv: list[str]) -> int:
    mode, workdir = argv[0], argv[1]
    folder = os.path.join(workdir, ".pythons")
    tox_pid = str(os.getppid())  # tox runs each command as its own child
    if mode == "mark":
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, argv[2]), "w") as fh:
            fh.write(f"{tox_pid} {platform.python_version()}\n")
        return 0
    ran = {}
    for env in WANT:
        try:
            with open(os.path.join(folder, env)) as fh:
                pid, version = fh.read().split()
        except (OSError, ValueError):
            continue
        if pid == tox_pid:
            ran[env] = version
    done = ", ".join(f"{env} (Python {v})" for env, v in ran.items()) or "none"
    missing = ", ".join(env for env in WANT if env not in ran) or "none"
    print(f"pythons: the suite ran on {done}; not found or not run: {missing}")
    return 0 if ran else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
