"""Print this interpreter's version, .pyc magic number and importlib's magic-number list as JSON.

Helper of scripts/gen-magic.mjs; runs under CPython 3.8-3.14 (also inside Pyodide).
"source" is the text of importlib/_bootstrap_external.py, whose comments list the known magic
numbers up to 3.13 (3.14 moved that list into a C header, so its file has none).
"""

from __future__ import annotations

import importlib.util
import json
import pkgutil
import platform
import sys
from typing import Any, Dict


def collect() -> Dict[str, Any]:
    """Version, magic number and the source text that lists the magic numbers."""
    source = pkgutil.get_data("importlib", "_bootstrap_external.py") or b""
    return {
        "version": platform.python_version(),
        "minor": sys.version_info[1],
        "magic": int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little"),
        "source": source.decode("utf-8"),
    }


if __name__ == "__main__":
    print(json.dumps(collect()))
