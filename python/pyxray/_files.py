"""Writing files atomically: every file the agent writes (profiles, memory reports, its caches)
goes through :func:`write_atomic`, so a reader never sees half a file and a failed write leaves
the old file (or nothing) and no temporary file behind.
"""

from __future__ import annotations

import errno
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Union

    PathLike = Union[str, "os.PathLike[str]"]

#: fsync errors that only say the file system cannot sync (the data is written all the same).
_NO_SYNC = {errno.EINVAL, errno.ENOSYS, getattr(errno, "ENOTSUP", errno.EINVAL), getattr(errno, "EOPNOTSUPP", errno.EINVAL)}


def write_atomic(path: PathLike, text: str, *, encoding: str = "utf-8", private: bool = False) -> str:
    """Writes ``text`` to ``path`` atomically; returns the path.

    A temporary file in the target's folder (``tempfile.mkstemp``: a new name, never an existing
    file) is written, flushed and fsynced, then ``os.replace``\\ d onto the target; on any error
    (the target is a folder, the disk is full, the text cannot be encoded, an interrupt) the
    temporary file is removed and the target is as it was. The file gets the mode a plain
    ``open()`` would give it (0666 less the umask), or 0600 with ``private``."""
    import tempfile

    target = os.fspath(path)
    if os.path.isdir(target):
        raise IsADirectoryError(errno.EISDIR, "that is a folder; give a file name", target)
    folder = os.path.dirname(os.path.abspath(target))
    data = text.encode(encoding)  # before any file exists: an encoding error leaves nothing
    fd, temp = tempfile.mkstemp(prefix=".pyxray-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            if not private:  # mkstemp makes the file 0600
                os.chmod(temp, 0o666 & ~umask())
            f.write(data)
            f.flush()
            try:
                os.fsync(f.fileno())
            except OSError as exc:
                if exc.errno not in _NO_SYNC:
                    raise
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    return target


def umask() -> int:
    """The process's umask. On Linux read from /proc (os.umask would change it for a moment, for
    every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask
