"""The long-lived stdio worker: JSON lines in on stdin, JSON lines out on stdout.

Start it with the folder that contains the ``pyxray`` package (``pyxray python-path`` prints it)::

    python3 -I -u -c "import sys; sys.path.insert(0, '<python dir>'); from pyxray.worker import main; main()"

``-I`` keeps the user's environment (PYTHONPATH, user site-packages, the current directory) out of
the agent; ``-u`` makes stderr unbuffered. (``python -m pyxray`` is reserved for the profiler.)

The worker first prints one line ``{"ready": true, "pid": ..., <the info result>}``, then answers
each request line (see :mod:`pyxray.protocol`) with exactly one response line, in order, one at a
time, flushing after each. Blank lines are ignored. It exits with status 0 at end of input or after
answering ``shutdown``.

Nothing else can reach the protocol stream: the real stdout is duplicated to a private file
descriptor for responses, then file descriptor 1 and ``sys.stdout`` are pointed at stderr, so a
``print()`` (or a C extension writing to fd 1) during a request lands on stderr. Likewise stdin is
moved to a private descriptor and fd 0 reads from the null device, so nothing run by a request
can consume the requests that follow.
"""

from __future__ import annotations

import json
import os
import sys

from .errors import bad_request
from .protocol import encode, handle_line, info

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only: importing it would slow the worker's start
    from typing import BinaryIO


def _claim_stdout() -> BinaryIO:
    """A private binary stream on the real stdout; fd 1 and sys.stdout now go to stderr."""
    if sys.stdout is not None:
        sys.stdout.flush()
    private = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(private, "wb")


def _claim_stdin() -> BinaryIO:
    """A private binary stream on the real stdin; fd 0 (and so sys.stdin) now reads nothing."""
    private = os.dup(0)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
    finally:
        os.close(null)
    return os.fdopen(private, "rb")


def _send(out: BinaryIO, line: str) -> None:
    out.write(line.encode("ascii") + b"\n")
    out.flush()


def serve(requests: BinaryIO, out: BinaryIO) -> None:
    """Answers request lines from ``requests`` on ``out`` until end of input or ``shutdown``."""
    while True:
        raw = requests.readline()
        if not raw:
            return
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            _send(out, encode({"id": None, "error": bad_request("the line is not UTF-8: {}".format(exc)).to_json()}))
            continue
        if not line.strip():
            continue
        response, stop = handle_line(line)
        _send(out, response)
        if stop:
            return


def main() -> None:
    """The worker's entry point (see the module docstring for how to start it)."""
    out = _claim_stdout()
    requests = _claim_stdin()
    try:
        ready = {"ready": True, "pid": os.getpid()}
        ready.update(info())
        _send(out, json.dumps(ready, ensure_ascii=True, separators=(",", ":")))
        serve(requests, out)
    except BrokenPipeError:
        # The client went away mid-answer: nothing left to tell anyone.
        os._exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
