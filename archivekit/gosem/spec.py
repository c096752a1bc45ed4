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
from enum import IntEnum

# Go's int64, the type of every integer field of the import structs (`*int` is int64 on the
# 64-bit servers Mattermost ships).
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# An index in a field path (`post.replies[2].message`): Go's errors name the field without it,
# root causes group paths with it blanked.
FIELD_INDEX = re.compile(r"\[\d+\]")


def field_pattern(field: str | None) -> str:
    """A field path without its indices: ``post.replies[].attachments[].path``."""
    return FIELD_INDEX.sub("[]", field or "")


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


# FieldSpec and StructSpec are plain classes (identity equality, as ``eq=False`` dataclasses
# had): a dataclass costs ~0.5 ms at import, and this module is part of every run's start-up.


class FieldSpec:
    """One JSON key of a struct (or the element of a list field, with `name` ""). `pointer` is
    False for plain Go values, which `null` leaves untouched (`[]T` elements, `string`)."""

    __slots__ = ("elem", "go_type", "kind", "name", "pointer", "struct")

    def __init__(
        self,
        name: str,
        kind: Kind,
        go_type: str,
        pointer: bool = True,
        struct: StructSpec | None = None,
        elem: FieldSpec | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.go_type = go_type
        self.pointer = pointer
        self.struct = struct
        self.elem = elem

    def __repr__(self) -> str:
        return f"FieldSpec({self.name!r}, {self.kind!r}, {self.go_type!r})"


class StructSpec:
    """One Go struct: its fields by canonical key, plus lookup tables for the hot path:
    `known`, the canonical keys (for the cheap ``dict.keys() <= known`` test), and `scalars`,
    key → Python type for the scalar fields (str/int/bool: one dict lookup per key)."""

    __slots__ = ("fields", "go_name", "known", "scalars")

    def __init__(
        self,
        go_name: str,
        fields: dict[str, FieldSpec] | None = None,
        known: frozenset[str] = frozenset(),
        scalars: dict[str, type] | None = None,
    ) -> None:
        self.go_name = go_name
        self.fields: dict[str, FieldSpec] = {} if fields is None else fields
        self.known = known
        self.scalars: dict[str, type] = {} if scalars is None else scalars

    def __repr__(self) -> str:
        return f"StructSpec({self.go_name!r})"

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
