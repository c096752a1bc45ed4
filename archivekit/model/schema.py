"""JSON Schemas of the JSONL lines, generated from the pydantic models.

`line_schemas` gives one ``<type>.schema.json`` per line type (the envelope with that type's
payload) and ``line.schema.json`` (the envelope with every payload key);
`archivekit.write.schemas.export_schemas` writes them. The files are
deterministic (sorted keys, 2-space indent, trailing newline) so they can be committed and
checked for drift. JSON Schema cannot say that the server matches keys case-insensitively,
that repeated keys merge, or that `null` means absent for every field; the descriptions do.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from archivekit.model import LINE_TYPES, PAYLOAD_MODELS, Envelope, VersionInfo
from archivekit.model.base import GoInt

_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_NOTE = (
    " Keys match case-insensitively and unknown keys are ignored (Go's encoding/json); null "
    "is the same as an absent key."
)


def _line_model(line_type: str) -> type[BaseModel]:
    """A model of a line of one type: `type` fixed, its payload required."""
    config = ConfigDict(strict=True, extra="allow", title=f"{line_type} line")
    type_field: Any = (
        Literal[line_type],
        Field(description=f'Always "{line_type}".'),
    )
    if line_type == "version":
        return create_model(
            "VersionLine",
            __config__=config,
            __doc__="Line 1 of every import file." + _NOTE,
            type=type_field,
            version=(GoInt, Field(description="Must be 1.")),
            info=(VersionInfo | None, Field(default=None, description="Export metadata.")),
        )
    payload = PAYLOAD_MODELS[line_type]
    fields: dict[str, Any] = {
        "type": type_field,
        line_type: (payload, Field(description=f"The {line_type} to import.")),
    }
    return create_model(
        f"{payload.__name__}Line",
        __config__=config,
        __doc__=f"A `{line_type}` line.{_NOTE}",
        **fields,
    )


def line_schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema, for every line type and the envelope."""
    schemas: dict[str, dict[str, Any]] = {}
    for line_type in LINE_TYPES:
        schemas[f"{line_type}.schema.json"] = _line_model(line_type).model_json_schema()
    schemas["line.schema.json"] = Envelope.model_json_schema()
    schemas["line.schema.json"]["description"] += _NOTE
    for schema in schemas.values():
        schema["$schema"] = _DIALECT
    return schemas


def render(schema: dict[str, Any]) -> str:
    """The committed text of a schema: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
