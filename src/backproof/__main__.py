r"""``python -m backproof`` runs the command line (see :mod:`backproof.cli`)."""

import sys

from .cli import main

sys.exit(main())
