"""The decode spec: a compact description of every struct, derived from the models at import.

`archivekit.gosem.decode` type-checks ~1M lines per archive, far too many for pydantic validation,
so it walks this spec instead. Deriving it from the model annotations keeps the models the
single source of truth: a field added to a model is checked by the decoder, with no second
list to keep in step (a property test checks both agree).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Annotated, Any, Union

from pydantic import BaseModel

from archivekit.model.base import GoType, ImportModel
from archivekit.model.envelope import Envelope


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

    model: type[ImportModel]
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


_SCALAR_KINDS = {str: (Kind.STRING, "string"), int: (Kind.INT, "int64"), bool: (Kind.BOOL, "bool")}


def _unwrap(annotation: Any) -> tuple[Any, bool, GoType | None]:
    """(base type, optional?, GoType metadata) of an annotation."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) != 1:
            raise TypeError(f"unsupported union {annotation!r}")
        annotation = args[0]
    go: GoType | None = None
    if typing.get_origin(annotation) is Annotated:
        base, *metadata = typing.get_args(annotation)
        go = next((m for m in metadata if isinstance(m, GoType)), None)
        annotation = base
    return annotation, optional, go


def _field(name: str, annotation: Any, specs: dict[type, StructSpec]) -> FieldSpec:
    base, _optional, go = _unwrap(annotation)
    pointer = go.pointer if go is not None else True
    go_name = go.name if go is not None else None
    if go_name == "time.Time":
        return FieldSpec(name, Kind.TIME, go_name, pointer)
    if base is Any:
        return FieldSpec(name, Kind.ANY, go_name or "json.RawMessage", pointer)
    if base in _SCALAR_KINDS:
        kind, default_go = _SCALAR_KINDS[base]
        return FieldSpec(name, kind, go_name or default_go, pointer)
    origin = typing.get_origin(base)
    if origin is dict:
        return FieldSpec(name, Kind.MAP, go_name or "map[string]interface {}", pointer)
    if origin is list:
        (elem_annotation,) = typing.get_args(base)
        _elem_base, elem_optional, _ = _unwrap(elem_annotation)
        elem = _field("", elem_annotation, specs)
        # Only `[]*T` (participants) keeps null elements as nil pointers; `*[]T` elements are
        # values, and null leaves a value element as it was.
        elem.pointer = elem_optional
        star = "*" if elem_optional else ""
        return FieldSpec(name, Kind.LIST, f"[]{star}{elem.go_type}", pointer, elem=elem)
    if isinstance(base, type) and issubclass(base, ImportModel):
        sub = _struct(base, specs)
        return FieldSpec(name, Kind.STRUCT, sub.go_name, pointer, struct=sub)
    raise TypeError(f"no decode kind for {name}: {annotation!r}")


def _struct(model: type[BaseModel], specs: dict[type, StructSpec]) -> StructSpec:
    if not issubclass(model, ImportModel):
        raise TypeError(f"{model.__name__} is not an ImportModel")
    if model in specs:
        return specs[model]
    spec = StructSpec(model, model.go_name)
    specs[model] = spec
    for name, info in model.model_fields.items():
        spec.fields[name] = _field(name, info.annotation, specs)
    spec.known = frozenset(spec.fields)
    spec.scalars = {
        name: {Kind.STRING: str, Kind.INT: int, Kind.BOOL: bool}[f.kind]
        for name, f in spec.fields.items()
        if f.kind in (Kind.STRING, Kind.INT, Kind.BOOL)
    }
    return spec


def derive(model: type[BaseModel]) -> StructSpec:
    """The decode spec of `model` and every struct below it."""
    return _struct(model, {})


ENVELOPE: StructSpec = derive(Envelope)
