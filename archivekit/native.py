"""Loading the optional C extensions (each has a Python twin that does the same work), and the
fastest zlib at hand."""

from __future__ import annotations

import importlib
import os
import zlib
from types import ModuleType


def native_module(name: str) -> ModuleType | None:
    """The C extension `name`, or None when it was not built (no C compiler at install) or
    ``ARCHIVEKIT_PURE_PYTHON`` is set (tests and users can force the Python twins)."""
    if os.environ.get("ARCHIVEKIT_PURE_PYTHON"):
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def fast_zlib() -> ModuleType:
    """ISA-L's zlib (several times faster to inflate and to compress at level 1), or zlib."""
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - isal is a dependency, zlib is the fallback
        return zlib
    return isal_zlib
