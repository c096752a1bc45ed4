"""The decode spec: what Go's ``encoding/json`` checks for every field of the import structs.

`archivekit.gosem.decode` type-checks ~1M lines per archive, far too many for pydantic
validation, so it walks this spec instead. The spec itself is plain data
(`archivekit.gosem.decode_spec`, generated from the pydantic models by `make schemas`; a test
fails when it drifts from them), turned into linked `StructSpec` objects here, so decoding
never imports pydantic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

# Go's int64, the type of every integer field of the import structs (`*int` is int64 on the
# 64-bit servers Mattermost ships).
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# An index in a field path (`post.replies[2].message`): Go's errors name the field without it,
# root causes group paths with it blanked.
FIELD_INDEX = re.compile(r"\[\d+\]")


class Kind(IntEnum):
    """The JSON shape a field expects (what Go's decoder checks)."""

    STRING = 1
    INT = 2
    BOOL = 3
    TIME = 4  # time.Time: an RFC 3339 JSON string, parsed from its raw bytes
    STRUCT = 5
    LIST = 6
    MAP = 7  # map[string]any: an object whose numbers must fit a float64
    ANY = 8  # json.RawMessage: any JSON value


@dataclass(slots=True, eq=False)
class FieldSpec:
    """One JSON key of a struct (or the element of a list field, with `name` ""). `pointer` is
    False for plain Go values, which `null` leaves untouched (`[]T` elements, `string`)."""

    name: str
    kind: Kind
    go_type: str
    pointer: bool = True
    struct: StructSpec | None = None
    elem: FieldSpec | None = None


@dataclass(slots=True, eq=False)
class StructSpec:
    """One Go struct: its fields by canonical key, plus lookup tables for the hot path."""

    go_name: str
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    # Canonical keys, for the cheap `dict.keys() <= known` test.
    known: frozenset[str] = frozenset()
    # Key → Python type for the scalar fields (str/int/bool): one dict lookup per key.
    scalars: dict[str, type] = field(default_factory=dict)

    @property
    def short_name(self) -> str:
        """The struct name Go prints in errors (``PostImportData``)."""
        return self.go_name.rpartition(".")[2]

    def seal(self) -> StructSpec:
        """Fill the lookup tables once every field is in place."""
        self.known = frozenset(self.fields)
        self.scalars = {
            name: _SCALAR_TYPES[f.kind]
            for name, f in self.fields.items()
            if f.kind in _SCALAR_TYPES
        }
        return self


_SCALAR_TYPES: dict[Kind, type] = {Kind.STRING: str, Kind.INT: int, Kind.BOOL: bool}

# The plain-data form of a field: (name, kind, Go type, pointer, struct's Go name, element).
FieldData = tuple[str, Kind, str, bool, "str | None", "FieldData | None"]


def to_data(root: StructSpec) -> dict[str, tuple[FieldData, ...]]:
    """Every struct reachable from `root` as plain data, by Go name (`root` first)."""
    structs: dict[str, tuple[FieldData, ...]] = {}
    pending = [root]
    while pending:
        spec = pending.pop(0)
        if spec.go_name in structs:
            continue
        structs[spec.go_name] = tuple(_field_data(f, pending) for f in spec.fields.values())
    return structs


def _field_data(f: FieldSpec, pending: list[StructSpec]) -> FieldData:
    if f.struct is not None:
        pending.append(f.struct)
    elem = None if f.elem is None else _field_data(f.elem, pending)
    struct = None if f.struct is None else f.struct.go_name
    return (f.name, f.kind, f.go_type, f.pointer, struct, elem)


def from_data(structs: Mapping[str, Sequence[FieldData]], root: str) -> StructSpec:
    """The linked spec of `root` from `to_data`'s form (each struct built once, shared)."""
    built = {name: StructSpec(name) for name in structs}

    def make(data: FieldData) -> FieldSpec:
        name, kind, go_type, pointer, struct, elem = data
        return FieldSpec(
            name,
            Kind(kind),
            go_type,
            pointer,
            None if struct is None else built[struct],
            None if elem is None else make(elem),
        )

    for name, fields in structs.items():
        spec = built[name]
        for data in fields:
            spec.fields[data[0]] = make(data)
        spec.seal()
    return built[root]
