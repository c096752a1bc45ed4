"""Build hook for the one C extension; everything else is declared in pyproject.toml.

archivekit._scan is the accept-only fast path for post lines (see archivekit/fastpath.py).
It is optional: without a C compiler the install still succeeds and the pure-Python fast
path runs instead (same reports, slower). CI checks that the extension was built.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "archivekit._scan",
            sources=["archivekit/_scan.c"],
            optional=True,
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
        )
    ]
)
