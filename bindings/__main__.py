"""``python -m cocodiff`` runs the command line (see :mod:`cocodiff.cli`)."""
import sys

from .cli import main

sys.exit(main())
