"""Print this interpreter's version, .pyc magic number and importlib's magic-number list as JSON.

Helper of scripts/gen-magic.mjs; runs under every supported CPython.
"source" is the text of importlib/_bootstrap_external.py, whose comments list the known magic
numbers up to 3.13. 3.14 moved that list into the C header Include/internal/pycore_magic_number.h,
which the interpreter's development headers install: when present, its comment lines are appended
with a "#" in front, so one parser reads both.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pkgutil
import platform
import sys
from typing import Any, Dict


def header_list() -> str:
    """The magic-number list of the installed pycore_magic_number.h (3.14+), each line with "#"."""
    import sysconfig

    name = "python{}.{}{}".format(sys.version_info[0], sys.version_info[1], getattr(sys, "abiflags", ""))
    # INCLUDEPY names the configured prefix; an interpreter run from another root (the Debian
    # unstable root of scripts/setup-native-pythons.sh) has its headers under its own sys.prefix.
    folders = [os.path.join(sys.prefix, "include", name), sysconfig.get_config_var("INCLUDEPY") or ""]
    for folder in folders:
        path = os.path.join(folder, "internal", "pycore_magic_number.h")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                return "\n".join("#" + line for line in f.read().split("\n"))
    return ""


def collect() -> Dict[str, Any]:
    """Version, magic number and the source text that lists the magic numbers."""
    source = (pkgutil.get_data("importlib", "_bootstrap_external.py") or b"").decode("utf-8")
    return {
        "version": platform.python_version(),
        "minor": sys.version_info[1],
        "magic": int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little"),
        "source": source + "\n" + header_list(),
    }


if __name__ == "__main__":
    print(json.dumps(collect()))
