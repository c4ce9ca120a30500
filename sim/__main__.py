"""Entry point of ``python -m sim``: runs :func:`sim.cli.main`."""

import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
