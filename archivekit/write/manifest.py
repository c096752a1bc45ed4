"""The manifest a writer puts next to what it wrote.

Next to the output, not inside it: it records the SHA-256 of the zip itself (what to compare
after a copy or an upload — a file cannot contain its own checksum), it leaves the archive
exactly as the server will read it (an extra root member would be one more file the importer
ignores and `validate` warns about), and it can be read without unzipping anything.
``OUT.zip`` gets ``OUT.manifest.json``; a split writes ``DIR/manifest.json`` for all its parts.

Deterministic like the archives: no timestamps, file names without folders.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from archivekit.write.atomic import write_atomic
from archivekit.write.core import WrittenArchive

MANIFEST_VERSION = 1


def manifest_path(output: str | os.PathLike[str]) -> Path:
    """``OUT.zip`` → ``OUT.manifest.json`` (any other name gets ``.manifest.json`` added)."""
    path = Path(output)
    stem = path.name[:-4] if path.name.lower().endswith(".zip") else path.name
    return path.with_name(stem + ".manifest.json")


def archive_entry(written: WrittenArchive) -> dict[str, Any]:
    """One written archive: name, size, SHA-256, JSONL lines and every member."""
    return {
        "file": Path(written.path).name,
        "size": written.size,
        "sha256": written.sha256,
        "jsonl_lines": written.lines,
        "members": [m.to_dict() for m in written.members],
    }


def json_bytes(document: Any) -> bytes:
    """Indented JSON. Strings that are not valid Unicode (file names read from a disk, kept
    by Python as surrogate escapes) are written with U+FFFD in place of their bad bytes."""
    try:
        return orjson.dumps(document, option=orjson.OPT_INDENT_2)
    except TypeError:
        return orjson.dumps(printable(document), option=orjson.OPT_INDENT_2)


def printable_text(text: str) -> str:
    """``text`` as valid Unicode: bytes kept as surrogate escapes become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def printable(value: Any) -> Any:
    """``value`` with every string made valid Unicode (see `json_bytes`)."""
    if isinstance(value, str):
        return printable_text(value)
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable(v) for v in value]
    return value


def write_manifest(
    path: str | os.PathLike[str],
    document: dict[str, Any],
    *,
    protect: tuple[str | os.PathLike[str], ...] = (),
) -> Path:
    """Write ``document`` (with the manifest version first) as indented JSON, atomically."""
    body = {"manifest_version": MANIFEST_VERSION, **document}
    write_atomic(path, json_bytes(body) + b"\n", protect=protect)
    return Path(path)
