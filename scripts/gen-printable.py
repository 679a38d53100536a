"""Print the code points this interpreter's str.isprintable() rejects, as JSON runs.

Helper of scripts/gen-printable.mjs; runs under every supported CPython. Output:
{"version": "3.15.2", "minor": 15, "unicode": "17.0.0", "runs": [[start, end), ...]}
"""

from __future__ import annotations

import json
import platform
import sys
import unicodedata


def runs() -> list:
    out = []
    start = None
    for cp in range(sys.maxunicode + 1):
        bad = not chr(cp).isprintable()
        if bad and start is None:
            start = cp
        elif not bad and start is not None:
            out.append([start, cp])
            start = None
    if start is not None:
        out.append([start, sys.maxunicode + 1])
    return out


if __name__ == "__main__":
    print(json.dumps({
        "version": platform.python_version(),
        "minor": sys.version_info[1],
        "unicode": unicodedata.unidata_version,
        "runs": runs(),
    }))
