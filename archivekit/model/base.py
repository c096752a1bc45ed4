"""Shared building blocks of the line models: the model base class and the field types.

The models mirror the server's Go structs (``server/channels/app/imports/import_types.go``):
every field is optional (Go pointers; absent and ``null`` both mean "not given"), types are
strict (Go's decoder refuses a string where an int is expected), and unknown keys are ignored.
`GoType` metadata records what the decoder needs to word errors the way Go does and to
treat ``null`` the way Go does for the few fields that are plain values, not pointers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from archivekit.gosem.gotime import check_go_rfc3339
from archivekit.gosem.spec import INT64_MAX, INT64_MIN


@dataclass(frozen=True, slots=True)
class GoType:
    """How the server declares a field, when the default spelling would be wrong.

    `name` is the Go type printed in decode errors (``model.ChannelType``); `pointer` is False
    for plain Go values (``string``, ``time.Time``), for which ``null`` leaves the value
    unchanged instead of clearing it.
    """

    name: str | None = None
    pointer: bool = True


class ImportModel(BaseModel):
    """Base of every line model: strict JSON types, unknown keys ignored, all fields optional."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    # The Go struct this model mirrors, as printed in decode errors (``imports.PostImportData``).
    go_name: ClassVar[str] = ""


def _go_rfc3339(value: str) -> str:
    reason = check_go_rfc3339(value)
    if reason is not None:
        raise ValueError(reason)
    return value


# Go `*int64`: a JSON integer literal (no fraction, no exponent) within the int64 range.
Int64 = Annotated[StrictInt, Field(ge=INT64_MIN, le=INT64_MAX)]
# Go `*int` (the version number): int64 on the 64-bit servers Mattermost ships.
GoInt = Annotated[StrictInt, Field(ge=INT64_MIN, le=INT64_MAX), GoType("int")]
Str = StrictStr
Bool = StrictBool
# A plain Go `string` (not a pointer): `null` is a no-op.
ValueStr = Annotated[StrictStr, GoType(pointer=False)]
# `model.ChannelType`, a named Go string type.
ChannelType = Annotated[StrictStr, GoType("model.ChannelType")]
# `model.StringInterface` (map[string]any): any JSON object; numbers must fit a float64.
Props = Annotated[dict[str, Any], GoType("model.StringInterface")]
# `json.RawMessage`: any JSON value, kept as decoded.
RawJSON = Annotated[Any, GoType("json.RawMessage")]
# A Go `time.Time` value: an RFC 3339 string as Go's `time.Parse(time.RFC3339, …)` accepts it,
# written without JSON escapes (Go parses the raw bytes). Kept as the string.
GoTime = Annotated[
    StrictStr,
    AfterValidator(_go_rfc3339),
    GoType("time.Time", pointer=False),
    Field(json_schema_extra={"format": "date-time"}),
]

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "Bool",
    "ChannelType",
    "GoInt",
    "GoTime",
    "GoType",
    "ImportModel",
    "Int64",
    "Props",
    "RawJSON",
    "Str",
    "ValueStr",
]
