"""``python -m pyxray.memory COMMAND …`` (see :mod:`pyxray.memory._cli`)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
