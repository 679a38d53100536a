"""The build backend of the pyxray agent (PEP 517, with PEP 660 editable installs): standard
library only, so that ``pip install --no-index ./python`` works offline on every supported
interpreter -- with setuptools, ``--no-index`` fails (pip's isolated build cannot fetch it) and
what the interpreters bundle is too old (3.8: setuptools 56, the ``[project]`` table needs 61) or
nothing (3.12+ venvs have no setuptools).

The wheel holds every file of the ``pyxray`` package but caches -- the Python modules, ``py.typed``
and ``_accel.c``, the C engine's source, which :mod:`pyxray._accel_build` compiles on first use
(without it an installed agent runs the pure-Python engine). The metadata comes from
``pyproject.toml``'s ``[project]`` table (read with a small parser of the subset it uses: Python
3.8-3.10 have no tomllib) and the version from ``pyxray/__init__.py``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Dict, List, Optional, Tuple

#: The folder of pyproject.toml (this file is in its build_backend/ folder).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "pyxray"
#: Wheel tag: pure Python (the C engine is built on the user's machine, on first use).
TAG = "py3-none-any"
#: Files of the package that are not shipped.
SKIPPED_DIRS = {"__pycache__"}
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd", ".dylib", ".o")


def _version() -> str:
    with open(os.path.join(ROOT, PACKAGE, "__init__.py"), encoding="utf-8") as f:
        match = re.search(r"^__version__\s*=\s*[\"']([^\"']+)[\"']", f.read(), re.M)
    if match is None:
        raise RuntimeError("no __version__ in {}/__init__.py".format(PACKAGE))
    return match.group(1)


def _project() -> Dict[str, object]:
    """The ``[project]`` table of pyproject.toml: ``key = "string"``, ``key = [ "strings", ... ]``
    (over several lines) and ``key = { text = "..." }`` -- what the file uses."""
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    section = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    if section is None:
        raise RuntimeError("pyproject.toml has no [project] table")
    out: Dict[str, object] = {}
    for match in re.finditer(r'^([A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|\[.*?\]|\{.*?\})\s*$', section.group(1), re.M | re.S):
        key, value = match.group(1), match.group(2)
        if value.startswith('"'):
            out[key] = value[1:-1]
        elif value.startswith("["):
            out[key] = re.findall(r'"((?:[^"\\]|\\.)*)"', value)
        else:
            out[key] = dict(re.findall(r'([A-Za-z-]+)\s*=\s*"((?:[^"\\]|\\.)*)"', value))
    return out


def _entry_points() -> str:
    """``entry_points.txt`` from pyproject.toml's ``[project.entry-points.GROUP]`` tables
    (``name = "module:attr"`` lines); empty when there are none."""
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    out = []
    for section in re.finditer(r'^\[project\.entry-points\.([A-Za-z0-9_.-]+|"[^"]+")\]\s*$(.*?)(?=^\[|\Z)', text, re.M | re.S):
        group = section.group(1).strip('"')
        entries = re.findall(r'^"?([A-Za-z0-9_.-]+)"?\s*=\s*"([^"]+)"\s*$', section.group(2), re.M)
        if entries:
            out.append("[{}]\n{}".format(group, "".join("{} = {}\n".format(name, value) for name, value in entries)))
    return "\n".join(out)


def _metadata() -> str:
    """The core metadata (METADATA / PKG-INFO), version 2.1."""
    project = _project()
    lines = ["Metadata-Version: 2.1", "Name: {}".format(project.get("name", PACKAGE)), "Version: {}".format(_version())]
    if project.get("description"):
        lines.append("Summary: {}".format(project["description"]))
    if project.get("requires-python"):
        lines.append("Requires-Python: {}".format(project["requires-python"]))
    license = project.get("license")
    if isinstance(license, dict) and license.get("text"):
        lines.append("License: {}".format(license["text"]))
    for classifier in project.get("classifiers") or []:  # type: ignore[union-attr]
        lines.append("Classifier: {}".format(classifier))
    for requirement in project.get("dependencies") or []:  # type: ignore[union-attr]
        lines.append("Requires-Dist: {}".format(requirement))
    readme = project.get("readme")
    body = ""
    if isinstance(readme, str) and os.path.isfile(os.path.join(ROOT, readme)):
        lines.append("Description-Content-Type: text/markdown")
        with open(os.path.join(ROOT, readme), encoding="utf-8") as f:
            body = f.read()
    return "\n".join(lines) + "\n\n" + body


def package_files() -> List[Tuple[str, str]]:
    """``(path in the archive, path on disk)`` of every file shipped from the package, sorted."""
    out: List[Tuple[str, str]] = []
    for folder, dirs, files in os.walk(os.path.join(ROOT, PACKAGE)):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(SKIPPED_SUFFIXES):
                continue
            path = os.path.join(folder, name)
            out.append((os.path.relpath(path, ROOT).replace(os.sep, "/"), path))
    return out


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def _wheel(directory: str, contents: List[Tuple[str, bytes]]) -> str:
    """Writes a wheel of ``contents`` plus the dist-info files; returns its file name."""
    name, version = PACKAGE, _version()
    info = "{}-{}.dist-info".format(name, version)
    files = list(contents) + [
        (info + "/METADATA", _metadata().encode("utf-8")),
        (info + "/WHEEL", "Wheel-Version: 1.0\nGenerator: pyxray_build\nRoot-Is-Purelib: true\nTag: {}\n".format(TAG).encode("utf-8")),
        (info + "/top_level.txt", (PACKAGE + "\n").encode("utf-8")),
    ]
    entry_points = _entry_points()
    if entry_points:
        files.append((info + "/entry_points.txt", entry_points.encode("utf-8")))
    record = "".join("{},{},{}\n".format(path, _record_hash(data), len(data)) for path, data in files) + info + "/RECORD,,\n"
    filename = "{}-{}-{}.whl".format(name, version, TAG)
    with zipfile.ZipFile(os.path.join(directory, filename), "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files + [(info + "/RECORD", record.encode("utf-8"))]:
            entry = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(entry, data)
    return filename


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


# -- PEP 517 / PEP 660 hooks -------------------------------------------------------------------


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, object]] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, object]] = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Optional[Dict[str, object]] = None) -> List[str]:
    return []


def build_wheel(wheel_directory: str, config_settings: Optional[Dict[str, object]] = None, metadata_directory: Optional[str] = None) -> str:
    """A wheel of the package (every file, ``_accel.c`` included)."""
    return _wheel(wheel_directory, [(arcname, _read(path)) for arcname, path in package_files()])


def build_editable(wheel_directory: str, config_settings: Optional[Dict[str, object]] = None, metadata_directory: Optional[str] = None) -> str:
    """An editable wheel: a ``.pth`` file putting this folder on ``sys.path``."""
    return _wheel(wheel_directory, [("_pyxray_editable.pth", (ROOT + "\n").encode("utf-8"))])


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, object]] = None) -> str:
    """A source archive: pyproject.toml, the README, this backend and the package."""
    base = "{}-{}".format(PACKAGE, _version())
    filename = base + ".tar.gz"
    extra = [name for name in ("pyproject.toml", "README.md") if os.path.isfile(os.path.join(ROOT, name))]
    backend = os.path.relpath(os.path.abspath(__file__), ROOT).replace(os.sep, "/")
    members = [(name, os.path.join(ROOT, name)) for name in extra + [backend]] + package_files()
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as archive:
        pkg_info = _metadata().encode("utf-8")
        entry = tarfile.TarInfo(base + "/PKG-INFO")
        entry.size = len(pkg_info)
        entry.mode = 0o644
        archive.addfile(entry, io.BytesIO(pkg_info))
        for arcname, path in members:
            data = _read(path)
            entry = tarfile.TarInfo(base + "/" + arcname)
            entry.size = len(data)
            entry.mode = 0o644
            archive.addfile(entry, io.BytesIO(data))
    return filename
