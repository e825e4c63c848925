"""``python -m fayasm``: the command-line interface."""
import sys

from fayasm.cli import main

sys.exit(main())
