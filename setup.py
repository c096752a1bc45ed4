"""Build hook for the one C extension; everything else is declared in pyproject.toml.

archivekit.check.fast._scan is the accept-only fast path for post lines (see archivekit/check/fast/fastpath.py).
It is optional: without a C compiler the install still succeeds and the pure-Python fast
path runs instead (same reports, slower). CI checks that the extension was built, and that
it was built from the current source (its SOURCE_SHA256; `make` rebuilds on a change).
"""

import hashlib
from pathlib import Path

from setuptools import Extension, setup

SOURCE = "archivekit/check/fast/_scan.c"
SOURCE_SHA256 = hashlib.sha256((Path(__file__).parent / SOURCE).read_bytes()).hexdigest()

setup(
    ext_modules=[
        Extension(
            "archivekit.check.fast._scan",
            sources=[SOURCE],
            optional=True,
            define_macros=[("SOURCE_SHA256", f'"{SOURCE_SHA256}"')],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
        )
    ]
)
