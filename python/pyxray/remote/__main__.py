"""``python -m pyxray.remote``: see :mod:`pyxray.remote._cli`."""

import sys

from ._cli import main

sys.exit(main())
