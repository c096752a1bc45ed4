"""Decode one JSONL line exactly as the server's Go ``json.Unmarshal`` into `LineImportData`.

The result is the *canonical envelope*: a plain dict with canonical lowercase keys, in which
`null` and absent are the same (``d.get(k) is None``), the envelope's `type` is a string
(``""`` when null/absent), null elements of string arrays are ``""``, null elements of object
arrays are ``{}`` (``participants`` keeps ``None``), and unknown keys are gone. Lines Go
cannot decode give ``None`` plus exactly one error issue.

Go semantics reproduced here (spec §2.2): exactly one JSON value per line, no NaN, depth
≤ 10000; keys matched case-insensitively (exact first, else Go's fold, where ``K`` (U+212A)
~ ``k`` and ``ſ`` (U+017F) ~ ``s``); for repeated keys the later value is decoded *into* the
earlier one, as Go does (scalars: last wins; objects and maps merge; arrays reuse their
elements); strict JSON types in every known field of every payload key present; integers are
integer literals within int64; numbers in ``props`` must fit a float64; ``time.Time`` is
parsed from the raw string bytes; invalid UTF-8 bytes and lone surrogate escapes become
U+FFFD (one per invalid byte, like Go's ``utf8.DecodeRune``).

Two paths. The fast path (~all lines) is ``orjson.loads`` plus a walk of the decode spec
generated from the models (`archivekit.gosem.decode_spec`); it only *accepts* a line or gives up.
Whatever it gives up on (orjson errors, keys not spelled canonically, repeated keys, type
mismatches, escaped time strings) goes to the exact slow path: an iterative parser that keeps
key order, repeats and number literals, then a replay of Go's decoding onto that tree, which
also words the error the way Go does.

Repeated keys are detected on the fast path by counting: every object key written tightly is
followed by ``":``, so a line whose ``":`` count equals the number of keys orjson kept has
no repeats. The other ``":`` (an escaped ``\\"`` then a colon inside a string, or a string
value starting with a colon such as ``":smile:"``) are subtracted when the counts differ.
Any remaining difference just takes the slow path, and so does any line with white space
before a colon (a key there escapes the count). Blind spot, accepted for speed: a line that
repeats an object-valued key *and* has keys the count over-subtracts (keys ending in a
backslash, colon, comma, bracket, brace or space). Not modelled either: with three or more
repeats of an object-array key, Go can resurrect
elements left beyond a shorter middle array's length (slice capacity reuse, golang/go#21092).
"""

from __future__ import annotations

import re
from _json import scanstring  # the C string scanner behind json.decoder
from collections import Counter
from json import JSONDecodeError, JSONDecoder
from typing import Any

import orjson

from archivekit.gosem import decode_spec
from archivekit.gosem.gotime import check_go_rfc3339
from archivekit.gosem.spec import (
    FIELD_INDEX,
    INT64_MAX,
    INT64_MIN,
    FieldSpec,
    Kind,
    StructSpec,
    field_pattern,
    from_data,
)
from archivekit.gosem.strings import fold_json_key, go_text
from archivekit.issues import (
    FAILS_IMPORT,
    REPAIR_NUL,
    REPAIR_TRAILING,
    Issue,
    Scalar,
    by_fix,
    error,
    warning,
)

__all__ = [
    "ENVELOPE",
    "GO_MAX_DEPTH",
    "JSON_DECODE_ERROR_ID",
    "PAYLOAD_TYPES",
    "POST_LINE_TYPES",
    "SPACED_COLON",
    "check_canonical",
    "decode_line",
    "type_is_settled",
]

# The Go struct of a line (`LineImportData`) and everything below it; line types that have a
# payload key (all but "version").
ENVELOPE: StructSpec = from_data(decode_spec.STRUCTS, decode_spec.ROOT)
PAYLOAD_TYPES: frozenset[str] = frozenset(decode_spec.PAYLOAD_TYPES)
# The line types whose payload is a post (with replies, reactions and attachments); a line's
# type from whether it is direct is ``POST_LINE_TYPES[direct]``.
POST_LINE_TYPES: tuple[str, str] = ("post", "direct_post")

# A key written with white space before its colon: it escapes the repeated-key count below
# (the fast paths of decoding and of post lines send such lines to the exact path).
SPACED_COLON = re.compile(rb'"[ \t\r\n]+:')

JSON_DECODE_ERROR_ID = "app.import.bulk_import.json_decode.error"
# encoding/json's scanner refuses deeper nesting (maxNestingDepth).
GO_MAX_DEPTH = 10000
BOM = b"\xef\xbb\xbf"
_REPLACEMENT_BYTES = "\ufffd".encode()
JSON_WHITESPACE = b" \t\r\n"
# orjson keeps integers in [-2**63, 2**64) as int and turns others into float; the slow path
# does the same so both paths give identical values.
_ORJSON_INT_MAX = 2**64 - 1
_INT64_RANGE = range(INT64_MIN, INT64_MAX + 1)  # `in` is O(1) for ints
# `":` that does not end a key: an escaped quote inside a string, or the opening quote of a
# string (value or key) that starts with a colon (":smile: hi") after a colon, comma, bracket
# or space.
_NOT_KEY_ENDS = (b'\\":', b':":', b',":', b'[":', b'{":', b' ":')
# Enum member lookups cost ~100 ns each in CPython 3.11; the hot path compares module globals.
_STRING, _INT, _BOOL, _TIME = Kind.STRING, Kind.INT, Kind.BOOL, Kind.TIME
_STRUCT, _LIST, _MAP, _ANY = Kind.STRUCT, Kind.LIST, Kind.MAP, Kind.ANY


# --- issues --------------------------------------------------------------------------------


def _decode_error(
    code: str, message: str, values: dict[str, Scalar], field: str | None = None
) -> Issue:
    """A line Go cannot decode. `values` holds Go's own error text (``go_error``), where it
    failed (``offset``, in characters) or what it found there (``found``, ``expected``)."""
    return error(
        code,
        message,
        field=field,
        server_error_id=JSON_DECODE_ERROR_ID,
        effect=FAILS_IMPORT,
        values=values,
    )


def _failed(issue: Issue) -> tuple[None, tuple[Issue, ...]]:
    return None, (issue,)


# --- fast path -----------------------------------------------------------------------------


class _GiveUp(Exception):
    """The fast path cannot vouch for this line; the slow path decides."""


_GIVE_UP = _GiveUp()


def _count_keys(value: Any) -> int:
    """Object keys anywhere inside an arbitrary JSON value (iterative: depth is unbounded)."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            total += len(item)
            item = item.values()
        for child in item:
            if (type(child) is dict or type(child) is list) and child:
                stack.append(child)
    return total


def _drop_unknown(d: dict[str, Any], unknown: list[str], known: frozenset[str]) -> int:
    """Remove keys the struct does not have; give up on one that folds onto a known key
    (a case variant: the slow path applies Go's matching). Returns the keys nested in the
    removed values, for the repeated-key count."""
    nested = 0
    for key in unknown:
        if fold_json_key(key) in known:
            raise _GIVE_UP
        value = d.pop(key)
        if (type(value) is dict or type(value) is list) and value:
            nested += _count_keys(value)
    return nested


def _check_struct(d: dict[str, Any], spec: StructSpec, raw: bytes) -> int:
    """Accept `d` (an orjson object at a `spec` position) in place, or raise `_GiveUp`.
    Normalises null array elements and drops unknown keys. Returns the number of keys seen,
    nested ones included, for the repeated-key count.

    (Measured: a plain loop beats memoising object shapes, whose tuple building and hashing
    cost more than the few lookups they save.)"""
    keys = len(d)
    simple = spec.scalars
    unknown: list[str] | None = None
    for name, value in d.items():
        # The common case costs one lookup: a scalar field holding its type.
        expected = simple.get(name)
        if type(value) is expected and (expected is not int or value in _INT64_RANGE):
            continue
        f = spec.fields.get(name)
        if f is None:
            if unknown is None:
                unknown = []
            unknown.append(name)
        elif value is None:
            continue
        elif f.kind is _LIST:
            if type(value) is not list:
                raise _GIVE_UP
            elem = f.elem
            assert elem is not None
            if elem.kind is _STRING:
                for item in value:
                    if type(item) is not str:
                        _null_elements(value, "")
                        break
            else:
                sub = elem.struct
                assert sub is not None
                for item in value:
                    if type(item) is dict:
                        keys += _check_struct(item, sub, raw)
                    elif item is not None:
                        raise _GIVE_UP
                if None in value and not elem.pointer:
                    _null_elements(value, None)
        elif f.kind is _STRUCT:
            if type(value) is not dict:
                raise _GIVE_UP
            keys += _check_struct(value, f.struct, raw)  # type: ignore[arg-type]
        elif f.kind is _MAP:
            if type(value) is not dict:
                raise _GIVE_UP
            if value:
                keys += _count_keys(value)
        elif f.kind is _ANY:
            if (type(value) is dict or type(value) is list) and value:
                keys += _count_keys(value)
        elif f.kind is _TIME:
            # Go parses the raw bytes between the quotes: any backslash in the line might be
            # an escape inside this string, which Go would refuse. The slow path knows.
            if type(value) is not str or b"\\" in raw or check_go_rfc3339(value) is not None:
                raise _GIVE_UP
        else:  # a scalar of the wrong type, or an int outside int64
            raise _GIVE_UP
    if unknown is not None:
        keys += _drop_unknown(d, unknown, spec.known)
    return keys


def _null_elements(items: list[Any], string_zero: str | None) -> None:
    """Go's zero value for null array elements: "" in string arrays (`string_zero`), {} in
    object arrays (None). Gives up on any other non-string in a string array."""
    for i, item in enumerate(items):
        if item is None:
            items[i] = {} if string_zero is None else string_zero
        elif string_zero is not None and type(item) is not str:
            raise _GIVE_UP


def _fast(raw: bytes) -> dict[str, Any] | None:
    """The canonical envelope via orjson, or None when the slow path must decide."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(doc) is not dict:
        return None
    try:
        keys = _check_struct(doc, ENVELOPE, raw)
    except _GiveUp:
        return None
    # Repeated keys: Go decodes a repeat into the earlier value (objects merge), orjson keeps
    # the last one, so such lines go to the exact path. See the module docstring.
    colons = raw.count(b'":')
    if colons != keys:
        for not_a_key in _NOT_KEY_ENDS:
            colons -= raw.count(not_a_key)
        if colons != keys:
            return None
    if SPACED_COLON.search(raw) is not None:
        # A key written with white space before its colon escapes the count above: only the
        # exact path can tell whether it repeats another.
        return None
    if doc.get("type") is None:
        doc["type"] = ""
    return doc


def check_canonical(doc: dict[str, Any]) -> bool:
    """Whether the fast path's type check accepts `doc` (a JSON-like dict with canonical keys).

    Mutates `doc` like the fast path (null array elements, unknown keys). Exposed for the
    property test that holds this check and the pydantic models to the same verdicts.
    """
    try:
        _check_struct(doc, ENVELOPE, b"")
    except _GiveUp:
        return False
    return True


# --- slow path: an exact parser ------------------------------------------------------------


class _Syntax(Exception):
    """A JSON syntax error (Go's ``checkValid`` fails before any decoding)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class _Obj(list[tuple[str, Any]]):
    """A JSON object as its (key, value) pairs in line order, repeats kept."""

    __slots__ = ()


class _Num:
    """A JSON number, kept as its literal (Go's checks depend on the spelling)."""

    __slots__ = ("literal",)

    def __init__(self, literal: str) -> None:
        self.literal = literal

    @property
    def is_integer_literal(self) -> bool:
        return "." not in self.literal and "e" not in self.literal and "E" not in self.literal

    def value(self) -> int | float:
        """The Python value, as orjson would give it."""
        literal = self.literal
        if self.is_integer_literal and len(literal) <= 20:
            number = int(literal)
            if INT64_MIN <= number <= _ORJSON_INT_MAX:
                return number
        return float(literal)


class _Escaped(str):
    """A string written with escapes; `raw` is its text between the quotes (Go's time parser
    sees the raw bytes, so ``"\\u0032024-…"`` is not a time)."""

    raw: str


_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_SPACE = re.compile(r"[ \t\n\r]*")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Parser:
    """Iterative JSON parser (no recursion: Go allows 10000 levels) that keeps what Go's
    decoding depends on: key order and repeats, number literals, escaped strings."""

    __slots__ = ("lone_surrogate_at", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.lone_surrogate_at: int | None = None

    def _string(self, i: int) -> tuple[str, int]:
        text = self.text
        try:
            value, end = scanstring(text, i + 1, True)
        except JSONDecodeError as exc:
            raise _Syntax(f"invalid string literal: {exc.msg}", exc.pos) from None
        if end - i - 2 != len(value):  # escapes always shorten the text
            if _SURROGATE.search(value):
                # A \uD800-style escape without its pair: Go writes U+FFFD.
                value = _SURROGATE.sub("\ufffd", value)
                if self.lone_surrogate_at is None:
                    self.lone_surrogate_at = i
            escaped = _Escaped(value)
            escaped.raw = text[i + 1 : end - 1]
            return escaped, end
        return value, end

    def _key(self, i: int) -> tuple[str, int]:
        text = self.text
        if text[i : i + 1] != '"':
            raise _Syntax(self._invalid(i, "looking for beginning of object key string"), i)
        key, i = self._string(i)
        i = _SPACE.match(text, i).end()  # type: ignore[union-attr]
        if text[i : i + 1] != ":":
            raise _Syntax(self._invalid(i, "after object key"), i)
        return key, _SPACE.match(text, i + 1).end()  # type: ignore[union-attr]

    def _invalid(self, i: int, where: str) -> str:
        if i >= len(self.text):
            return "unexpected end of JSON input"
        return f"invalid character {self.text[i]!r} {where}"

    def parse(self) -> Any:
        text = self.text
        n = len(text)
        space = _SPACE.match
        i = space(text, 0).end()  # type: ignore[union-attr]
        stack: list[list[Any]] = []  # open containers
        keys: list[str] = []  # the pending key of each open container ("" for arrays)
        while True:
            # Parse one value at i.
            c = text[i : i + 1]
            value: Any
            if c == '"':
                value, i = self._string(i)
            elif c == "{" or c == "[":
                if len(stack) >= GO_MAX_DEPTH:
                    raise _Syntax("exceeded max depth", i)
                i = space(text, i + 1).end()  # type: ignore[union-attr]
                if c == "{":
                    if text[i : i + 1] == "}":
                        value, i = _Obj(), i + 1
                    else:
                        key, i = self._key(i)
                        stack.append(_Obj())
                        keys.append(key)
                        continue
                elif text[i : i + 1] == "]":
                    value, i = [], i + 1
                else:
                    stack.append([])
                    keys.append("")
                    continue
            elif c and c in "-0123456789":
                match = _NUMBER.match(text, i)
                if match is None:
                    raise _Syntax(self._invalid(i + 1, "in numeric literal"), i + 1)
                value, i = _Num(match.group()), match.end()
            elif text.startswith("true", i):
                value, i = True, i + 4
            elif text.startswith("false", i):
                value, i = False, i + 5
            elif text.startswith("null", i):
                value, i = None, i + 4
            else:
                raise _Syntax(self._invalid(i, "looking for beginning of value"), i)
            # Attach the value to its container; close containers that end here.
            while True:
                i = space(text, i).end()  # type: ignore[union-attr]
                if not stack:
                    if i != n:
                        raise _Syntax(self._invalid(i, "after top-level value"), i)
                    return value
                top = stack[-1]
                is_object = type(top) is _Obj
                top.append((keys[-1], value) if is_object else value)
                c = text[i : i + 1]
                if c == ",":
                    i = space(text, i + 1).end()  # type: ignore[union-attr]
                    if is_object:
                        keys[-1], i = self._key(i)
                    break
                if c == ("}" if is_object else "]"):
                    value = stack.pop()
                    keys.pop()
                    i += 1
                    continue
                where = "after object key:value pair" if is_object else "after array element"
                raise _Syntax(self._invalid(i, where), i)


# --- slow path: Go's decoding replayed on the parse tree ------------------------------------


class _TimeError(Exception):
    """``time.Time.UnmarshalJSON`` failed: Go returns this at once, over any earlier error."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def _json_kind(value: Any) -> str:
    """How Go names a JSON value in ``cannot unmarshal <kind>``."""
    if isinstance(value, str):
        return "string"
    if type(value) is bool:
        return "bool"
    if type(value) is _Num:
        return "number"
    if type(value) is _Obj:
        return "object"
    return "array"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _GoDecoder:
    """Go's ``decodeState`` on a parse tree: fills canonical dicts, remembers the first type
    error (Go saves it and goes on), and keeps Go's null and repeat semantics."""

    __slots__ = ("error_field", "error_message", "error_values")

    def __init__(self) -> None:
        self.error_message: str | None = None
        self.error_field: str | None = None
        self.error_values: dict[str, Scalar] = {}

    def _type_error(self, what: str, go_type: str, owner: StructSpec, path: str) -> None:
        if self.error_message is None:
            go_field = FIELD_INDEX.sub("", path)
            self.error_message = (
                f"json: cannot unmarshal {what} into Go struct field "
                f"{owner.short_name}.{go_field} of type {go_type}"
            )
            self.error_field = path
            self.error_values = {"json_type": what, "expected": go_type}

    def envelope(self, tree: Any) -> dict[str, Any]:
        if tree is None:  # `null` into a struct is a no-op
            return {"type": ""}
        if type(tree) is not _Obj:
            self.error_message = (
                f"json: cannot unmarshal {_json_kind(tree)} into Go value of type "
                f"{ENVELOPE.go_name}"
            )
            self.error_values = {"json_type": _json_kind(tree), "expected": ENVELOPE.go_name}
            return {}
        doc = self.struct(tree, ENVELOPE, None, "")
        if doc.get("type") is None:
            doc["type"] = ""
        return doc

    def struct(
        self, pairs: _Obj, spec: StructSpec, target: dict[str, Any] | None, path: str
    ) -> dict[str, Any]:
        if target is None:
            target = {}
        fields = spec.fields
        for key, value in pairs:
            f = fields.get(key)
            if f is None:
                folded = fold_json_key(key)
                f = fields.get(folded) if folded is not None else None
                if f is None:
                    continue  # unknown keys are skipped
            name = f.name
            target[name] = self.value(value, f, target.get(name), _join(path, name), spec)
        return target

    def value(self, value: Any, f: FieldSpec, old: Any, path: str, owner: StructSpec) -> Any:
        """Decode `value` into a field that currently holds `old` (Go decodes into place)."""
        if value is None:
            # Pointers, slices and maps become nil; plain values (string, time.Time) and
            # struct elements are left as they were.
            return None if f.pointer else old
        kind = f.kind
        if kind is _STRING:
            if isinstance(value, str):
                return str(value)
        elif kind is _INT:
            if type(value) is _Num:
                literal = value.literal
                if (
                    value.is_integer_literal
                    and len(literal) <= 20
                    and INT64_MIN <= int(literal) <= INT64_MAX
                ):
                    return int(literal)
                self._type_error(f"number {literal}", f.go_type, owner, path)
                return old
        elif kind is _BOOL:
            if type(value) is bool:
                return value
        elif kind is _STRUCT:
            if type(value) is _Obj:
                assert f.struct is not None
                return self.struct(value, f.struct, old if type(old) is dict else None, path)
        elif kind is _LIST:
            if type(value) is list:
                return self.array(value, f, old if type(old) is list else None, path, owner)
        elif kind is _MAP:
            if type(value) is _Obj:
                # Go decodes into the existing map: repeated `props` keys merge.
                target = old if type(old) is dict else {}
                for key, item in value:
                    target[str(key)] = self.plain(item, path, owner, float64=True)
                return target
        elif kind is _ANY:
            return self.plain(value, path, owner, float64=False)
        elif kind is _TIME:
            if not isinstance(value, str):
                raise _TimeError("Time.UnmarshalJSON: input is not a JSON string", path)
            raw = value.raw if type(value) is _Escaped else value
            reason = check_go_rfc3339(raw)
            if reason is not None:
                raise _TimeError(reason, path)
            return str(value)
        self._type_error(_json_kind(value), f.go_type, owner, path)
        return old

    def array(
        self, items: list[Any], f: FieldSpec, old: list[Any] | None, path: str, owner: StructSpec
    ) -> list[Any]:
        """Go decodes an array into the existing slice's elements (a repeated key merges
        element by element); null leaves a value element as it was (zero when new)."""
        elem = f.elem
        assert elem is not None
        out: list[Any] = []
        for i, item in enumerate(items):
            base = old[i] if old is not None and i < len(old) else None
            item_path = f"{path}[{i}]"
            if elem.kind is _STRING:
                if isinstance(item, str):
                    out.append(str(item))
                else:
                    if item is not None:
                        self._type_error(_json_kind(item), elem.go_type, owner, path)
                    out.append(base if base is not None else "")
            elif type(item) is _Obj:
                assert elem.struct is not None
                out.append(self.struct(item, elem.struct, base, item_path))
            elif item is None and elem.pointer:
                out.append(None)  # []*T: the element pointer becomes nil
            else:
                if item is not None:
                    self._type_error(_json_kind(item), elem.go_type, owner, path)
                out.append(base if base is not None else {})
        return out

    def plain(self, value: Any, path: str, owner: StructSpec, *, float64: bool) -> Any:
        """An `any` value as plain Python (iterative: depth is only bounded by the parser).
        With `float64`, numbers must fit Go's float64 (``map[string]any`` decoding)."""
        root: list[Any] = [None]
        stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
        while stack:
            item, parent, slot = stack.pop()
            if type(item) is _Obj:
                # Go decodes an object inside `any` into a fresh map: a repeated key's last
                # value wins.
                latest = {str(key): child for key, child in item}
                obj: dict[str, Any] = dict.fromkeys(latest)
                parent[slot] = obj
                stack.extend((child, obj, key) for key, child in latest.items())
            elif type(item) is list:
                arr: list[Any] = [None] * len(item)
                parent[slot] = arr
                stack.extend((child, arr, index) for index, child in enumerate(item))
            elif type(item) is _Num:
                number = item.value()
                if float64 and number in (float("inf"), float("-inf")):
                    self._type_error(f"number {item.literal}", "float64", owner, path)
                parent[slot] = number
            elif isinstance(item, str):
                parent[slot] = str(item)
            else:
                parent[slot] = item
        return root[0]


def _slow(raw: bytes) -> tuple[dict[str, Any] | None, tuple[Issue, ...]]:
    """The exact decoder: every line the fast path does not vouch for."""
    if raw.startswith(BOM):
        return _failed(
            _decode_error(
                "bom",
                "The line starts with a UTF-8 byte order mark; Go's decoder refuses it "
                "(invalid character 'ï' looking for beginning of value). Save the file as "
                "UTF-8 without BOM.",
                {"go_error": "invalid character 'ï' looking for beginning of value", "offset": 0},
            )
        )
    if not raw.strip(JSON_WHITESPACE):
        return _failed(
            _decode_error(
                "line-empty",
                "Empty line: Go's decoder fails (unexpected end of JSON input). Remove blank "
                "lines.",
                {"go_error": "unexpected end of JSON input"},
            )
        )
    notes: list[Issue] = []
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        text = go_text(raw)
        replaced = text.count("\ufffd") - raw.count(_REPLACEMENT_BYTES)
        notes.append(
            warning(
                "invalid-utf8",
                f"{replaced} invalid UTF-8 byte(s) (first at byte {exc.start}); the server "
                "stores U+FFFD in their place.",
                values={"found": replaced, "unit": "bytes", "offset": exc.start},
            )
        )
    parser = _Parser(text)
    try:
        tree = parser.parse()
    except _Syntax as exc:
        return _failed(
            _decode_error(
                "json-decode",
                f"Not valid JSON: {exc.message} (offset {exc.offset}).",
                {"go_error": exc.message, "offset": exc.offset},
            )
        )
    decoder = _GoDecoder()
    try:
        doc = decoder.envelope(tree)
    except _TimeError as exc:
        return _failed(_decode_error("json-type", exc.message, {"go_error": exc.message}, exc.path))
    if decoder.error_message is not None:
        message = decoder.error_message
        return _failed(
            _decode_error("json-type", message, decoder.error_values, decoder.error_field)
        )
    if parser.lone_surrogate_at is not None:
        notes.append(
            warning(
                "invalid-utf8",
                "A \\u escape of a lone UTF-16 surrogate (first at offset "
                f"{parser.lone_surrogate_at}); the server stores U+FFFD in its place.",
                values={"offset": parser.lone_surrogate_at},
            )
        )
    return doc, tuple(notes)


# --- NUL characters ------------------------------------------------------------------------


def _nul_issues(doc: dict[str, Any]) -> list[Issue]:
    """An error per field of the imported payload holding U+0000.

    UNVERIFIED (spec §2.2): Go accepts ``\\u0000`` but PostgreSQL text and jsonb columns
    reject it when the line is written, so we report it as failing the import. Only the
    payload named by `type` is written; other payload keys and `info` are not checked.
    """
    line_type = doc.get("type")
    if line_type not in PAYLOAD_TYPES or doc.get(line_type) is None:
        return []
    issues: list[Issue] = []
    stack: list[tuple[Any, str]] = [(doc[line_type], line_type)]
    while stack:
        value, path = stack.pop()
        if type(value) is dict:
            cleaned: Counter[str] | None = None
            for key, child in value.items():
                child_path = _join(path, key)
                if "\x00" in key:
                    if cleaned is None:
                        cleaned = Counter(k.replace("\x00", "") for k in value)
                    # Without its NULs the key would be another one of the object's: fix
                    # keeps it (one value would be lost), no promise.
                    clash = cleaned[key.replace("\x00", "")] > 1
                    issues.append(_nul_issue(child_path, promise=not clash))
                stack.append((child, child_path))
        elif type(value) is list:
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(value))
        elif type(value) is str and "\x00" in value:
            issues.append(_hashed_nul_issue(path) if path in HASHED_ONLY else _nul_issue(path))
    issues.sort(key=lambda issue: issue.field or "")
    return issues


# Fields the server never writes as text: User.PreSave replaces the password with its bcrypt
# hash (Go's bcrypt uses every byte, NUL included), so a NUL there reaches no database column.
HASHED_ONLY = frozenset({"user.password"})


def _nul_issue(path: str, *, promise: bool = True) -> Issue:
    if promise and key_kind(path) is None:
        # Free text: `archivekit fix` removes the NUL. In a key (a name, a reference, an
        # email) it does only when the value without it is no other one's — known to fix,
        # which reads every definition, not here: no promise.
        return error(
            "nul-character",
            "Contains a NUL character (\\u0000); PostgreSQL rejects it when the server writes "
            f"the line. Remove it{by_fix(REPAIR_NUL)}.",
            field=path,
            effect=FAILS_IMPORT,
            values={"repair": REPAIR_NUL},
        )
    return error(
        "nul-character",
        "Contains a NUL character (\\u0000); PostgreSQL rejects it when the server writes "
        "the line. Remove it (`archivekit fix` does, unless the value without it is another "
        "one's: then rename one by hand).",
        field=path,
        effect=FAILS_IMPORT,
    )


# The fields (their path, list indexes left out) that hold a key the server keeps unique,
# by the kind of key: only there can a NUL removal merge two of them.
_KEY_FIELDS = {
    "team.name": "team",
    "channel.name": "channel",
    "user.teams[].name": "team",
    "user.teams[].channels[].name": "channel",
    "user.email": "email",
    # Emoji, schemes and roles: names looked up exactly, each defined once (a repeat updates
    # or overwrites the first); a scheme's own roles are roles too.
    "emoji.name": "emoji",
    "scheme.name": "scheme",
    "team.scheme": "scheme",
    "channel.scheme": "scheme",
    "role.name": "role",
    **{
        f"scheme.default_{kind}_role.name": "role"
        for kind in (
            "team_admin",
            "team_user",
            "team_guest",
            "channel_admin",
            "channel_user",
            "channel_guest",
        )
    },
}
_KEY_LEAVES = {
    "username": "user",
    "user": "user",
    "owner": "user",
    "members": "user",
    "channel_members": "user",
    "flagged_by": "user",
    "team": "team",
    "channel": "channel",
    "emoji_name": "emoji",
}


def key_kind(path: str) -> str | None:
    """The kind of unique key the field at ``path`` (``post.replies[0].user``) holds, if any."""
    bare = field_pattern(path)
    kind = _KEY_FIELDS.get(bare)
    if kind is not None:
        return kind
    leaf = bare.rsplit(".", 1)[-1].removesuffix("[]")
    return _KEY_LEAVES.get(leaf)


def _hashed_nul_issue(path: str) -> Issue:
    return warning(
        "nul-character",
        "The password contains a NUL character (\\u0000). The server stores only its bcrypt "
        "hash, so the import works and the password is valid through the API, but no login "
        "form can type it: the user will need a password reset. Remove the NUL if the "
        "password is meant to be used.",
        field=path,
    )


# --- deciding a line's type without decoding it ---------------------------------------------

# Every case of the last four letters of a key Go matches to "type" (it folds case; no other
# character folds onto t, y, p or e), written plainly.
_TYPE_KEY_TAILS = tuple(
    y + p + e + b'"' for y in (b"y", b"Y") for p in (b"p", b"P") for e in (b"e", b"E")
)
# A \u escape of an ASCII letter (or of @, `, [ ... ): a key could spell "type" with one.
_LETTER_ESCAPE = re.compile(rb"\\u00[4-7][0-9a-fA-F]")


def type_is_settled(raw: bytes, prefix: bytes) -> bool:
    """Whether Go decodes `raw` as a line of the type that `prefix` (``{"type":"post"``) names,
    or cannot decode it at all — decided without decoding.

    Go keeps the *last* value of a repeated key and matches keys case-insensitively, so
    ``{"type":"post","post":{...},"type":"team","team":{...}}`` is a team line. The answer is
    yes only when `raw` starts with `prefix` and no later key could be matched to ``type``: no
    ``ype"`` in any case (a superset of every such key written plainly) and no \\u escape
    of a letter. Conservative: a post with a ``type`` of its own gets "no" (decode it).
    """
    if not raw.startswith(prefix):
        return False
    start = len(prefix)
    for tail in _TYPE_KEY_TAILS:
        if raw.find(tail, start) != -1:
            return False
    return b"\\u" not in raw or _LETTER_ESCAPE.search(raw) is None


# --- public API ----------------------------------------------------------------------------


def decode_line(raw: bytes) -> tuple[dict[str, Any] | None, tuple[Issue, ...]]:
    """Decode one line (without its ``\\n``; one trailing ``\\r`` is dropped) like the server.

    Returns ``(envelope, issues)``: the canonical envelope (see the module docstring) and
    its warnings/errors, or ``None`` and exactly one error when Go's ``json.Unmarshal`` would
    fail (codes ``json-decode``, ``line-empty``, ``bom``, ``json-type``; server error id
    ``app.import.bulk_import.json_decode.error``; the import stops at this line).
    """
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    doc = _fast(raw)
    issues: tuple[Issue, ...] = ()
    if doc is None:
        doc, issues = _slow(raw)
        if doc is None:
            if issues[0].code == "json-decode" and leading_objects(raw)[0]:
                issues = (_trailing_text(issues[0]),)
            return None, issues
    if b"\\u0000" in raw:
        issues += tuple(_nul_issues(doc))
    return doc, issues


def leading_objects(text: bytes) -> tuple[list[bytes], str]:
    """A line that does not decode, read as the trailing-garbage repair reads it: the JSON
    objects at its start that decode (each a line of its own once repaired) and the text
    after them. ``([], "")`` when it does not start with one (or is not UTF-8)."""
    try:
        value = text.decode("utf-8")
    except UnicodeDecodeError:
        return [], ""
    decoder = JSONDecoder()
    pieces: list[bytes] = []
    pos = len(value) - len(value.lstrip(" \t"))
    while pos < len(value):
        try:
            _, end = decoder.raw_decode(value, pos)
        except (JSONDecodeError, RecursionError):  # nested deeper than Python's stack: no
            break
        piece = value[pos:end].encode("utf-8")
        if len(piece) >= len(text) or decode_line(piece)[0] is None:
            break  # (the whole line: no text after it, and no recursion without end)
        pieces.append(piece)
        pos = end
        pos += len(value[pos:]) - len(value[pos:].lstrip(" \t"))
    if not pieces:
        return [], ""
    return pieces, value[pos:]


def _trailing_text(issue: Issue) -> Issue:
    """``json-decode`` of a line whose JSON objects decode with text after them: `archivekit
    fix` removes that text (the `remove-trailing-garbage` repair, which reads the line the same
    way: `leading_objects`)."""
    return _decode_error(
        "json-decode",
        f"{issue.message} The line's JSON is followed by other text: remove it (`archivekit "
        f"fix` does this: {REPAIR_TRAILING}).",
        {**issue.values.mapping, "repair": REPAIR_TRAILING},
    )


def str_or_none(value: Any) -> str | None:
    """A decoded JSON value if it is a string, else None (a field the reader only trusts as
    text: a number or object there is as good as absent)."""
    return value if type(value) is str else None


def str_or_empty(value: Any) -> str:
    """A decoded JSON value if it is a string, else "" (Go's zero string)."""
    return value if type(value) is str else ""


def list_or_empty(value: Any) -> list[Any]:
    """A decoded JSON value if it is a list, else [] (a list field's elements: null or a
    wrong type holds none)."""
    return value if type(value) is list else []
