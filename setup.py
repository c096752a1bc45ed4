"""Build hook for the C extensions; everything else is declared in pyproject.toml.

archivekit.check.fast._scan is the accept-only fast path for post lines (see
archivekit/check/fast/fastpath.py); archivekit.read._zipindex reads the zip central directory into
the compact member index (see archivekit/read/members.py); archivekit.write._redact rewrites
`redact`'s post lines (see archivekit/write/redact.py); archivekit.read._imagehead reads image
attachments' dimensions from their heads in bulk (see archivekit/read/source.py). All are optional: without a C
compiler the install still succeeds and their Python twins run instead (same reports, slower).
CI checks that they were built, and built from the current sources (each records the SHA-256
of its sources; `make` rebuilds on a change).
"""

import hashlib
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).parent
FLAGS = ["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
# The shared headers: the member index's layout and lookup (every extension), the JSON line
# lexer and the post identity (the fast path's modules).
INDEX_HEADER = "archivekit/read/_memberindex.h"
LINE_HEADER = "archivekit/check/fast/_jsonline.h"
IDENTITY_HEADER = "archivekit/check/fast/_identity.h"
FAST_HEADERS = (IDENTITY_HEADER, LINE_HEADER, INDEX_HEADER)


def extension(
    name: str, source: str, headers: tuple[str, ...], libraries: tuple[str, ...] = ()
) -> Extension:
    """`name` built from `source`; it records the SHA-256 of the source and the headers it
    includes, in that order (tests compare it with the files: a stale build fails them)."""
    digest = hashlib.sha256()
    for part in (source, *headers):
        digest.update((HERE / part).read_bytes())
    return Extension(
        name,
        sources=[source],
        depends=list(headers),
        include_dirs=["archivekit/read", "archivekit/check/fast"],
        optional=True,
        define_macros=[("SOURCE_SHA256", f'"{digest.hexdigest()}"')],
        extra_compile_args=FLAGS,
        libraries=list(libraries),
    )


setup(
    ext_modules=[
        extension(
            "archivekit.check.fast._scan",
            "archivekit/check/fast/_scan.c",
            FAST_HEADERS,
        ),
        extension(
            "archivekit.check.fast._report",
            "archivekit/check/fast/_report.c",
            FAST_HEADERS,
        ),
        extension("archivekit.read._zipindex", "archivekit/read/_zipindex.c", (INDEX_HEADER,)),
        extension("archivekit.write._redact", "archivekit/write/_redact.c", ()),
        # zlib: the heads of deflated images are inflated in C too (its headers: zlib1g-dev).
        extension(
            "archivekit.read._imagehead", "archivekit/read/_imagehead.c", (INDEX_HEADER,), ("z",)
        ),
    ]
)
