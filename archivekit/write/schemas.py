"""`export_schemas`: the JSON Schemas of `archivekit.model.schema` written into a folder,
all or nothing, as every output (`archivekit.write.atomic`)."""

from __future__ import annotations

import os
from pathlib import Path

from archivekit.model.schema import line_schemas, render
from archivekit.write.atomic import write_atomic_set


def export_schemas(directory: str | os.PathLike[str]) -> list[Path]:
    """Write every schema into `directory` (created if needed); returns the paths written.
    A write the system refuses raises `OutputError` (exit 2) and leaves none of them."""
    files = {name: render(schema).encode("utf-8") for name, schema in line_schemas().items()}
    return write_atomic_set(directory, dict(sorted(files.items())))
