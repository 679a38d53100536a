"""The launcher: what ``pyxray profile`` runs (``python -c 'import sys; ...; from pyxray._process
import launch; ...' args``, see src/cli/agent-process.ts), and what a followed child process runs
(:mod:`pyxray._children`). It sits above everything else of the agent (it imports the command
lines it starts); the process's edges it guards are :mod:`pyxray._guards`.
"""

from __future__ import annotations

import sys

from ._guards import ImportGuard

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List


def launch(module: str, agent_dir: str, argv: List[str]) -> int:
    """The launcher's entry (``python -c 'import sys; ...' args``, see src/cli/agent-process.ts):
    runs ``module``'s ``main(argv, guard=...)``. ``-c`` put the current folder first on
    ``sys.path`` after start-up; it is taken out, and until :meth:`ImportGuard.target_path` the
    agent imports with its own folder first and without PYTHONPATH's folders (nothing there may
    shadow the standard library modules the agent needs)."""
    guard = ImportGuard(set(sys.modules), sys.path, agent_dir)
    import importlib

    if module == "pyxray":
        from . import _profile_cli

        return _profile_cli.main(argv, guard=guard)
    if module == "pyxray:child":  # a followed child process (pyxray._children): argv is SESSION target...
        import json

        from . import _profile_cli

        return _profile_cli.child_main(json.loads(argv[0]), argv[1:], guard)
    main = importlib.import_module(module + "._cli").main  # pyxray.memory: imported apart, then runs as before
    guard.target_path()
    return main(argv)
