"""pyxray's Python agent: stdlib only, CPython 3.8-3.14 (also inside Pyodide).

The TypeScript toolkit talks to it through :mod:`pyxray.protocol` (JSON requests), either over
stdio with :mod:`pyxray.worker` or by calling :func:`pyxray.protocol.handle_json` in Pyodide.
"""

from __future__ import annotations

__version__ = "0.1.0"
