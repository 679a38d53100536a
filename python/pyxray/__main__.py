"""``python -m pyxray [options] script.py | -m module | -c code [args...]``: profile a program
(see :mod:`pyxray._profile_cli`). The exit status is the program's."""

import sys

from ._profile_cli import main

if __name__ == "__main__":
    sys.exit(main())
