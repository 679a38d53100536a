"""Sampling a CPython 3.14+ process from outside, with the interpreter's own
``_remote_debugging.RemoteUnwinder`` (PEP 768's companion: the unwinder reads the target's memory
with ``process_vm_readv``; nothing is injected and the target runs unmodified).

- :class:`RemoteSampler` -- samples one process by pid into a profile document (schema v2,
  ``mode: sample``, ``metadata.sampler: remote``);
- ``python -m pyxray.remote attach PID [--duration S] [options]`` and
  ``python -m pyxray.remote run [options] script.py args…`` (see :mod:`pyxray.remote._cli`), which
  ``pyxray profile --pid`` and ``pyxray profile --mode sample`` run on 3.14+.

The sampler must run on the same minor version as the target (the unwinder knows its own
version's structures).
"""

from __future__ import annotations

from ._sampler import AttachError, RemoteSampler

__all__ = ["AttachError", "RemoteSampler"]
