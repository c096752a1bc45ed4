"""Property-based fuzzing of archives: mutation strategies and the contract every run must keep.

Owns three things the test suites of `validate` and of every later writer (filter, split,
redact, reports) reuse, so each new writer gets the same hostile inputs and the same checks:

* mutations as small frozen dataclasses with a readable ``repr`` (hypothesis prints them when a
  property fails): byte-level (`ByteMutation`: flip, truncate, overwrite, insert, delete, and
  overwrites aimed at zip header fields) and record-level (`RecordMutation`: set / delete /
  retype a field, change the case of a name or key, repeat a key later in its object (Go
  keeps the last value), graft one line's members onto another, duplicate / move / drop a
  line, insert a garbage line);
* hypothesis strategies producing them (`byte_mutations`, `record_mutations`,
  `archive_mutations`) and `MutatedArchive`, which writes the mutated zip (and says which
  of its structures the byte mutations hit: `archivekit.testing.ziphits`);
* `check_validate_contract` (the CLI in a subprocess under a time and address-space limit) and
  `check_validate_in_process` (the library call, fast): exit code 0/1/3 as documented, one JSON
  document whose ``valid`` is "no error issue", never a traceback.

Byte mutations are independent of the data they are applied to (offsets are taken modulo its
length, header targets modulo the signatures found), so one drawn mutation applies to the zip
that record mutations produced, whatever its size. Needs hypothesis: install
``archivekit[testing]`` (`archivekit.testing.synth` does not). Being below the entry points,
it runs the CLI in a subprocess and takes the library's `validate` as an argument.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson

try:
    from hypothesis import HealthCheck, settings
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "archivekit.testing.fuzz needs hypothesis: pip install 'archivekit[testing]'"
    ) from exc

from archivekit.errors import ArchiveError
from archivekit.gosem.spec import INT64_MAX, INT64_MIN
from archivekit.issues import CODES
from archivekit.read import ReadLimits
from archivekit.report.model import Report
from archivekit.testing.synth import (
    Method,
    ZipMember,
    bot,
    channel,
    direct_channel,
    direct_post,
    emoji,
    gif_bytes,
    jpeg_header_bytes,
    png_bytes,
    post,
    reply,
    team,
    user,
    webp_bytes,
    write_zip,
)
from archivekit.testing.ziphits import zip_hits
from archivekit.write.core import JSONL_NAME

__all__ = [
    "EXIT_CODES",
    "ArchiveRecipe",
    "ByteMutation",
    "ContractResult",
    "ContractViolation",
    "MutatedArchive",
    "RecordMutation",
    "apply_byte_mutations",
    "apply_record_mutations",
    "archive_mutations",
    "byte_mutation",
    "byte_mutations",
    "check_validate_contract",
    "check_validate_in_process",
    "dump_json_line",
    "garbage_lines",
    "json_values",
    "load_fuzz_profile",
    "member_mutations",
    "member_recipes",
    "record_mutation",
    "record_mutations",
    "scaled_examples",
]

# The documented exit codes `validate` may end with on any input (2 is a usage error, 4 a bug).
EXIT_CODES = frozenset({0, 1, 3})
PROFILE_ENV = "ARCHIVEKIT_FUZZ_PROFILE"
EXAMPLES_ENV = "ARCHIVEKIT_FUZZ_EXAMPLES"
CI_EXAMPLES = 100
LONG_EXAMPLES = 5000


# --- hypothesis profiles -------------------------------------------------------------------


def load_fuzz_profile() -> str:
    """Register the "ci" and "long" profiles and load the one the environment asks for.

    ``ci`` (the default): derandomized, a fixed number of examples, no example database, so a
    CI run is reproducible and its time predictable. ``long``: random, ``$ARCHIVEKIT_FUZZ_EXAMPLES``
    examples (default 5000), failures kept in ``.hypothesis/`` and replayed first next time.
    Setting only ``ARCHIVEKIT_FUZZ_EXAMPLES`` selects ``long``. Returns the profile's name.
    """
    examples_text = os.environ.get(EXAMPLES_ENV)
    common: dict[str, Any] = {
        "deadline": None,  # archives are built inside examples: wall time varies on CI hosts
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    }
    settings.register_profile(
        "ci", max_examples=CI_EXAMPLES, derandomize=True, database=None, **common
    )
    settings.register_profile(
        "long", max_examples=int(examples_text or LONG_EXAMPLES), print_blob=True, **common
    )
    name = os.environ.get(PROFILE_ENV) or ("long" if examples_text else "ci")
    settings.load_profile(name)
    return name


def scaled_examples(share: float) -> int:
    """A share of the loaded profile's examples (at least 3), for slower properties."""
    loaded = settings.default
    examples = loaded.max_examples if loaded is not None else CI_EXAMPLES
    return max(3, int(examples * share))


# --- values --------------------------------------------------------------------------------


def json_values() -> st.SearchStrategy[Any]:
    """JSON values that sit on the edges of Go's decoding and the server's validators."""
    edge_scalars = st.sampled_from(
        [
            None,
            True,
            False,
            0,
            -1,
            INT64_MAX,
            INT64_MAX + 1,
            INT64_MIN - 1,
            10**40,
            1.5,
            -0.0,
            1e308,
            "",
            " ",
            "\u0000",
            "\ufffd",
            "K\u212a\u017fs",
            "e\u0301",
            "town-square",
            "../../etc/passwd",
            "x" * 65,
            "y" * 16_384,
            "2024-01-01T00:00:00Z",
        ]
    )
    leaves = st.one_of(
        edge_scalars,
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.text(max_size=12), inner, max_size=4),
        ),
        max_leaves=12,
    )


GARBAGE_LINES: tuple[bytes, ...] = (
    b"",
    b" \t ",
    b"\r",
    b"{",
    b"}",
    b"null",
    b"[]",
    b"{}",
    b'"post"',
    b'{"type":"post"}',
    b'{"type":"version","version":1}',
    b'{"type":"nope","nope":{}}',
    b"\xef\xbb\xbf{}",
    b'{"type":"post","post":{"message":"\xff\xfe"}}',
    b"[" * 10_001 + b"]" * 10_001,
    b'{"a":1}{"b":2}',
)


def garbage_lines() -> st.SearchStrategy[bytes]:
    """Lines no exporter writes: broken JSON, odd types, BOMs, invalid UTF-8, deep nesting."""
    random_line = st.binary(max_size=64).map(lambda b: b.replace(b"\n", b" "))
    return st.one_of(st.sampled_from(GARBAGE_LINES), random_line)


# --- byte-level mutations --------------------------------------------------------------------

# Zip record signatures and the length of the fixed part after each, so header overwrites land
# on the fields a parser trusts (sizes, offsets, counts, name lengths, flags, methods).
_ZIP_RECORDS: tuple[tuple[bytes, int], ...] = (
    (b"PK\x03\x04", 30),
    (b"PK\x01\x02", 46),
    (b"PK\x05\x06", 22),
    (b"PK\x06\x06", 56),
    (b"PK\x06\x07", 20),
    (b"PK\x07\x08", 16),
)
_EDGE_FIELD_BYTES: tuple[bytes, ...] = (
    b"\x00",
    b"\xff",
    b"\x00\x00",
    b"\xff\xff",
    b"\xff\xff\xff\xff",
    b"\x00\x00\x00\x00",
    b"\x01\x00",
    b"\x09\x00",
    b"\x63\x00",
    b"\x00\x00\x00\x80",
    b"\xfe\xff\xff\xff",
)


@dataclass(frozen=True, slots=True)
class ByteMutation:
    """One change to a byte string; positions are taken modulo the data's length.

    kind: ``flip`` (xor ``mask`` at ``offset``), ``truncate`` (keep ``offset`` bytes),
    ``overwrite`` / ``insert`` (``data`` at ``offset``), ``delete`` (``length`` bytes at
    ``offset``), ``header`` (``data`` over field byte ``offset`` of the ``record``-th zip
    record with signature ``signature``).
    """

    kind: str
    offset: int = 0
    mask: int = 1
    data: bytes = b""
    length: int = 1
    signature: bytes = b""
    record: int = 0

    def apply(self, source: bytes) -> bytes:
        if not source:
            return self.data if self.kind in ("insert", "overwrite") else source
        at = self.offset % len(source)
        if self.kind == "flip":
            out = bytearray(source)
            out[at] ^= self.mask or 1
            return bytes(out)
        if self.kind == "truncate":
            return source[:at]
        if self.kind == "overwrite":
            return source[:at] + self.data + source[at + len(self.data) :]
        if self.kind == "insert":
            return source[:at] + self.data + source[at:]
        if self.kind == "delete":
            return source[:at] + source[at + self.length :]
        if self.kind == "header":
            return self._apply_header(source)
        raise ValueError(f"unknown byte mutation {self.kind!r}")

    def _apply_header(self, source: bytes) -> bytes:
        at = self.position(source)
        if at is None:
            return source
        return source[:at] + self.data + source[at + len(self.data) :]

    def position(self, source: bytes) -> int | None:
        """Where a ``header`` mutation writes in `source` (None: no such record)."""
        starts = _find_all(source, self.signature)
        if not starts:
            return None
        start = starts[self.record % len(starts)]
        fixed = dict(_ZIP_RECORDS)[self.signature]
        return start + 4 + self.offset % (fixed - 4)


def _find_all(data: bytes, needle: bytes) -> list[int]:
    found: list[int] = []
    i = data.find(needle)
    while i >= 0:
        found.append(i)
        i = data.find(needle, i + 1)
    return found


def byte_mutation() -> st.SearchStrategy[ByteMutation]:
    """One byte-level mutation, random or aimed at a zip header field."""
    offsets = st.integers(min_value=0, max_value=2**31)
    small = st.binary(min_size=1, max_size=8)
    return st.one_of(
        st.builds(ByteMutation, st.just("flip"), offsets, st.integers(1, 255)),
        st.builds(ByteMutation, st.just("truncate"), offsets),
        st.builds(ByteMutation, st.just("overwrite"), offsets, data=small),
        st.builds(ByteMutation, st.just("insert"), offsets, data=small),
        st.builds(ByteMutation, st.just("delete"), offsets, length=st.integers(1, 64)),
        st.builds(
            ByteMutation,
            st.just("header"),
            st.integers(0, 64),
            data=st.sampled_from(_EDGE_FIELD_BYTES) | small,
            signature=st.sampled_from([sig for sig, _ in _ZIP_RECORDS]),
            record=st.integers(0, 8),
        ),
    )


def byte_mutations(max_mutations: int = 3) -> st.SearchStrategy[tuple[ByteMutation, ...]]:
    """One to ``max_mutations`` byte mutations, applied in order by `apply_byte_mutations`."""
    return st.lists(byte_mutation(), min_size=1, max_size=max_mutations).map(tuple)


def apply_byte_mutations(data: bytes, mutations: Sequence[ByteMutation]) -> bytes:
    for mutation in mutations:
        data = mutation.apply(data)
    return data


# --- record-level mutations ------------------------------------------------------------------

FieldPath = tuple[str | int, ...]  # a location inside one decoded JSON line


@dataclass(frozen=True, slots=True)
class RecordMutation:
    """One change to the lines of a JSONL; line numbers are taken modulo the line count.

    kind: ``set`` / ``retype`` (``value`` at ``path``), ``delete`` (the key at ``path``),
    ``case`` (swap the case of the string at ``path``, or of its key when ``key`` is set),
    ``repeat`` (write the key at ``path`` once more at the end of its object, with ``value``;
    its case swapped when ``key`` is set), ``graft`` (move every top-level member of line
    ``target`` to the end of line ``line``, dropping line ``target``:
    ``{"type":"post",...,"type":"team","team":{...}}``),
    ``duplicate`` (copy ``line`` to position ``target``), ``move``, ``drop``, ``garbage``
    (insert ``raw`` before ``target``).
    """

    kind: str
    line: int = 0
    path: FieldPath = ()
    value: Any = None
    key: bool = False
    target: int = 0
    raw: bytes = b""

    def apply(self, lines: list[bytes]) -> list[bytes]:
        if self.kind == "garbage":
            at = self.target % (len(lines) + 1)
            return [*lines[:at], self.raw, *lines[at:]]
        if not lines:
            return lines
        i = self.line % len(lines)
        if self.kind == "drop":
            return lines[:i] + lines[i + 1 :]
        if self.kind in ("duplicate", "move"):
            moved = lines[i]
            rest = lines if self.kind == "duplicate" else lines[:i] + lines[i + 1 :]
            at = self.target % (len(rest) + 1)
            return [*rest[:at], moved, *rest[at:]]
        if self.kind == "graft":
            donor = self.target % len(lines)
            grafted = _graft(lines[i], lines[donor])
            if donor == i or grafted is None:
                return lines
            joined = [*lines[:i], grafted, *lines[i + 1 :]]
            return joined[:donor] + joined[donor + 1 :]
        try:
            record = orjson.loads(lines[i])
        except orjson.JSONDecodeError:
            return lines  # an earlier mutation made it garbage: nothing to address any more
        if self.kind == "repeat":
            return [*lines[:i], _repeat(record, self) or lines[i], *lines[i + 1 :]]
        if not _edit(record, self):
            return lines
        return [*lines[:i], dump_json_line(record), *lines[i + 1 :]]


# A key no line has, replaced in the dumped text by the repeated key (JSON objects cannot
# hold a key twice, their text can).
_PLACEHOLDER = "\x00archivekit-repeat\x00"


def _repeat(record: Any, mutation: RecordMutation) -> bytes | None:
    """The line with the key at the mutation's path written once more, last in its object."""
    if not mutation.path or not isinstance(mutation.path[-1], str):
        return None
    parent = _child_at(record, mutation.path[:-1])
    name = mutation.path[-1]
    if not isinstance(parent, dict) or name not in parent:
        return None
    parent[_PLACEHOLDER] = mutation.value
    text = dump_json_line(record)
    key = name.swapcase() if mutation.key else name
    return text.replace(dump_json_line(_PLACEHOLDER), dump_json_line(key), 1)


def _graft(line: bytes, donor: bytes) -> bytes | None:
    """`line` with every top-level member of `donor` appended, or None unless both are
    non-empty JSON objects."""
    try:
        record, extra = orjson.loads(line), orjson.loads(donor)
    except orjson.JSONDecodeError:
        return None
    if not (isinstance(record, dict) and isinstance(extra, dict) and record and extra):
        return None
    return line.rstrip()[:-1] + b"," + donor.lstrip()[1:]


def _edit(record: Any, mutation: RecordMutation) -> bool:
    """Apply a field mutation in place; False when its path no longer exists."""
    if not mutation.path:
        return False
    parent = _child_at(record, mutation.path[:-1])
    last = mutation.path[-1]
    in_dict = isinstance(parent, dict) and isinstance(last, str) and last in parent
    in_list = isinstance(parent, list) and isinstance(last, int) and last < len(parent)
    if not (in_dict or in_list):
        return False
    if mutation.kind == "delete":
        del parent[last]
    elif mutation.kind == "case":
        if mutation.key and isinstance(last, str):
            parent[last.swapcase()] = parent.pop(last)
        elif isinstance(parent[last], str):
            parent[last] = parent[last].swapcase()
        else:
            return False
    else:
        parent[last] = mutation.value
    return True


def _child(node: Any, step: str | int) -> Any:
    if isinstance(node, dict) and isinstance(step, str):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and step < len(node):
        return node[step]
    return None


def dump_json_line(record: Any) -> bytes:
    """Compact JSON like the exporter's; falls back to `json` for what orjson refuses
    (integers beyond 64 bits)."""
    try:
        return orjson.dumps(record)
    except TypeError:
        return json.dumps(record, separators=(",", ":")).encode()


def _paths(record: Any, limit: int = 400) -> list[FieldPath]:
    """Every addressable location in a decoded line, breadth-first (top-level keys first)."""
    found: list[FieldPath] = []
    queue: list[tuple[FieldPath, Any]] = [((), record)]
    while queue and len(found) < limit:
        prefix, node = queue.pop(0)
        children: Sequence[tuple[str | int, Any]]
        if isinstance(node, dict):
            children = list(node.items())
        elif isinstance(node, list):
            children = list(enumerate(node))
        else:
            continue
        for step, child in children:
            found.append((*prefix, step))
            queue.append(((*prefix, step), child))
    return found


def _other_type(value: Any) -> st.SearchStrategy[Any]:
    """A JSON value of another type than ``value`` (strings become numbers and so on)."""
    kinds: list[tuple[Callable[[Any], bool], st.SearchStrategy[Any]]] = [
        (lambda v: isinstance(v, str), st.text(max_size=8)),
        (lambda v: isinstance(v, bool), st.booleans()),
        (lambda v: isinstance(v, int) and not isinstance(v, bool), st.integers()),
        (lambda v: isinstance(v, float), st.floats(allow_nan=False, allow_infinity=False)),
        (lambda v: isinstance(v, list), st.just([])),
        (lambda v: isinstance(v, dict), st.just({})),
        (lambda v: v is None, st.none()),
    ]
    return st.one_of([strategy for matches, strategy in kinds if not matches(value)])


@st.composite
def record_mutation(draw: st.DrawFn, lines: Sequence[bytes]) -> RecordMutation:
    """One record-level mutation addressed to the given (original) lines."""
    n = max(len(lines), 1)
    kind = draw(
        st.sampled_from(
            [
                *("set", "retype", "delete", "case", "repeat", "graft"),
                *("duplicate", "move", "drop", "garbage"),
            ]
        )
    )
    line = draw(st.integers(0, n - 1))
    target = draw(st.integers(0, n))
    if kind == "garbage":
        return RecordMutation("garbage", target=target, raw=draw(garbage_lines()))
    if kind in ("duplicate", "move", "drop", "graft"):
        return RecordMutation(kind, line=line, target=target)
    try:
        record = orjson.loads(lines[line]) if lines else None
    except orjson.JSONDecodeError:
        record = None
    paths = _paths(record)
    if not paths:
        return RecordMutation("drop", line=line)
    path = draw(st.sampled_from(paths))
    if kind == "set":
        return RecordMutation("set", line=line, path=path, value=draw(json_values()))
    if kind == "retype":
        current = _child_at(record, path)
        return RecordMutation("retype", line=line, path=path, value=draw(_other_type(current)))
    if kind == "case":
        return RecordMutation("case", line=line, path=path, key=draw(st.booleans()))
    if kind == "repeat":
        # Often the value another line has at the same place: a "type" repeated with another
        # line's type turns the line into that type.
        elsewhere = [v for v in (_value_at(other, path) for other in lines) if v is not None]
        values = json_values() if not elsewhere else st.sampled_from(elsewhere) | json_values()
        return RecordMutation(
            "repeat", line=line, path=path, value=draw(values), key=draw(st.booleans())
        )
    return RecordMutation("delete", line=line, path=path)


def _value_at(line: bytes, path: FieldPath) -> Any:
    try:
        return _child_at(orjson.loads(line), path)
    except orjson.JSONDecodeError:
        return None


def _child_at(record: Any, path: FieldPath) -> Any:
    for step in path:
        record = _child(record, step)
    return record


def record_mutations(
    lines: Sequence[bytes], max_mutations: int = 3
) -> st.SearchStrategy[tuple[RecordMutation, ...]]:
    """One to ``max_mutations`` record mutations of ``lines`` (JSONL lines without newline)."""
    return st.lists(record_mutation(lines), min_size=1, max_size=max_mutations).map(tuple)


def apply_record_mutations(
    lines: Sequence[bytes], mutations: Sequence[RecordMutation]
) -> list[bytes]:
    out = list(lines)
    for mutation in mutations:
        out = mutation.apply(out)
    return out


# --- whole archives ------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveRecipe:
    """A valid archive as data: its JSONL lines (version line included) and its files.

    The JSONL is written first in ``method``, then ``files`` in order, stored unless
    ``file_methods`` names another method; the files named in ``first`` come before the
    JSONL instead (older exporters' layouts). Every member is written as Go's writer does
    (a data descriptor after its data) unless ``sized`` names it (`JSONL_NAME` for the
    JSONL): then its sizes are in its local header.
    """

    lines: tuple[bytes, ...]
    files: Mapping[str, bytes] = field(default_factory=dict)
    method: Method = "deflate"
    file_methods: Mapping[str, Method] = field(default_factory=dict)
    first: frozenset[str] = frozenset()
    sized: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, lines: Sequence[Mapping[str, Any] | bytes], files: Mapping[str, bytes] = {}
    ) -> ArchiveRecipe:
        """From `archivekit.testing.synth` records; the version line is prepended."""
        body = [orjson.dumps({"type": "version", "version": 1})]
        body += [line if isinstance(line, bytes) else orjson.dumps(line) for line in lines]
        return cls(tuple(body), dict(files))

    def write(self, path: str | os.PathLike[str], lines: Sequence[bytes] | None = None) -> Path:
        chosen = self.lines if lines is None else lines
        jsonl = b"".join(line + b"\n" for line in chosen)
        members = [
            ZipMember(name, data, self.file_methods.get(name, "stored"), sized=name in self.sized)
            for name, data in self.files.items()
        ]
        before = [member for member in members if member.name in self.first]
        after = [member for member in members if member.name not in self.first]
        main = ZipMember(JSONL_NAME, jsonl, self.method, sized=JSONL_NAME in self.sized)
        return write_zip(Path(path), [*before, main, *after])


@dataclass(frozen=True)
class MutatedArchive:
    """A recipe plus the mutations to apply: records first, then the JSONL text, then the zip."""

    recipe: ArchiveRecipe = field(repr=False)
    records: tuple[RecordMutation, ...] = ()
    text: tuple[ByteMutation, ...] = ()
    zip: tuple[ByteMutation, ...] = ()

    def lines(self) -> list[bytes]:
        lines = apply_record_mutations(self.recipe.lines, self.records)
        if not self.text:
            return lines
        return apply_byte_mutations(b"\n".join(lines), self.text).split(b"\n")

    def write(self, path: str | os.PathLike[str]) -> Path:
        return self._write(path, hits=False)[0]

    def write_hits(self, path: str | os.PathLike[str]) -> tuple[Path, frozenset[str]]:
        """`write`, and what the zip's mutations hit (`archivekit.testing.ziphits.zip_hits`:
        the JSONL's or another member's local header, data or descriptor, a central
        directory entry, the end records, a cut, a shift); empty without them."""
        return self._write(path, hits=True)

    def _write(self, path: str | os.PathLike[str], hits: bool) -> tuple[Path, frozenset[str]]:
        target = self.recipe.write(path, self.lines())
        if not self.zip:
            return target, frozenset()
        intact = target.read_bytes()
        target.write_bytes(apply_byte_mutations(intact, self.zip))
        return target, zip_hits(intact, self.zip, JSONL_NAME) if hits else frozenset()


def archive_mutations(
    recipe: ArchiveRecipe, max_mutations: int = 3
) -> st.SearchStrategy[MutatedArchive]:
    """Mutated versions of ``recipe``: record mutations, byte mutations of the JSONL text,
    byte mutations of the zip, or a mix (at least one mutation)."""
    records = record_mutations(recipe.lines, max_mutations)
    raw = byte_mutations(max_mutations)
    none: st.SearchStrategy[tuple[Any, ...]] = st.just(())
    return st.one_of(
        st.builds(MutatedArchive, st.just(recipe), records=records),
        st.builds(MutatedArchive, st.just(recipe), text=raw),
        st.builds(MutatedArchive, st.just(recipe), zip=raw),
        st.builds(
            MutatedArchive,
            st.just(recipe),
            records=records | none,
            text=raw | none,
            zip=raw | none,
        ),
    )


# --- archives whose verdict depends on their members -------------------------------------

_T = 1_700_000_000_000


@functools.cache  # built once: hypothesis draws thousands of recipes
def _member_lines() -> tuple[bytes, ...]:
    """Lines naming members of every kind the checks read: profile images (one without an
    extension), emoji images (an image without an extension, an SVG, one that is no image,
    one too large), attachments of posts, replies and direct posts (images over the
    resolution limit, one without an extension, one file named twice)."""
    lines = [
        team("team1"),
        channel("team1", "chan1"),
        user("ann", ["team1"], profile_image="users/ann/avatar"),
        user("bob", ["team1"], profile_image="users/bob.png"),
        bot("botty", "ann", profile_image="users/botty.gif"),
        emoji("ak_smile", "emoji/smile/image"),
        emoji("ak_logo", "emoji/logo.svg"),
        emoji("ak_text", "emoji/text/image"),
        emoji("ak_big", "emoji/big/image"),
        post(
            "team1",
            "chan1",
            "ann",
            "files",
            _T,
            attachments=["files/a.png", "files/b.txt", "files/photo"],
            replies=[reply("bob", "re", _T + 1, attachments=["files/c.jpg", "files/b.txt"])],
        ),
        post("team1", "chan1", "bob", "more", _T + 2, attachments=["files/d.gif", "files/e.webp"]),
        direct_channel(["ann", "bob"]),
        direct_post(["ann", "bob"], "ann", "dm", _T + 3, attachments=["files/b.txt"]),
    ]
    return ArchiveRecipe.of(lines).lines


@functools.cache
def _member_files() -> Mapping[str, bytes]:
    """The members `_member_lines` names, then members nobody names (unreferenced, outside
    data/, differing from a named one by case only)."""
    return MappingProxyType(
        {
            "data/users/ann/avatar": png_bytes(6000, 6000),
            "data/users/bob.png": png_bytes(64, 64),
            "data/users/botty.gif": gif_bytes(16, 16),
            "data/emoji/smile/image": png_bytes(32, 32),
            "data/emoji/logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',
            "data/emoji/text/image": b"not an image",
            "data/emoji/big/image": png_bytes(128, 128) + bytes(600_000),
            "data/files/a.png": png_bytes(7000, 6000),
            "data/files/b.txt": b"some text\n" * 50,
            "data/files/photo": jpeg_header_bytes(8000, 8000),
            "data/files/c.jpg": jpeg_header_bytes(640, 480),
            "data/files/d.gif": gif_bytes(10, 10),
            "data/files/e.webp": webp_bytes(9000, 9000),
            "data/unused.txt": b"nobody uses me",
            "attachments/x.txt": b"outside data/",
            "data/files/B.txt": b"another case",
        }
    )


@st.composite
def member_recipes(draw: st.DrawFn) -> ArchiveRecipe:
    """Archives whose verdict depends on their members (`_member_lines`): each member
    present or missing, in any order, stored, deflated or Deflate64, with a data descriptor
    or its sizes in its local header, after the JSONL or before it."""
    available = _member_files()
    methods: st.SearchStrategy[Method] = st.sampled_from(["stored", "deflate", "deflate64"])
    names = draw(st.permutations(list(available)))
    names = [name for name in names if draw(st.integers(0, 4))]  # one in five missing
    files = {name: available[name] for name in names}
    file_methods = {name: draw(methods) for name in names}
    # Sets drawn as lists of the names: their order is the permutation's, so shrinking works.
    members = [JSONL_NAME, *names]
    sized = frozenset(draw(st.lists(st.sampled_from(members), unique=True)))
    first = frozenset(draw(st.lists(st.sampled_from(names), unique=True))) if names else frozenset()
    return ArchiveRecipe(
        _member_lines(),
        files,
        method=draw(methods),
        file_methods=file_methods,
        first=first,
        sized=sized,
    )


def member_mutations(max_mutations: int = 3) -> st.SearchStrategy[MutatedArchive]:
    """`member_recipes` as they are or mutated by `archive_mutations`."""
    return member_recipes().flatmap(
        lambda recipe: st.just(MutatedArchive(recipe)) | archive_mutations(recipe, max_mutations)
    )


# --- the contract ----------------------------------------------------------------------------


class ContractViolation(AssertionError):
    """`validate` broke its documented contract on some input."""


@dataclass(frozen=True)
class ContractResult:
    exit_code: int
    report: dict[str, Any] | None  # the JSON document (exit 0/1), None for exit 3
    stderr: str
    seconds: float


def _limit_memory(address_space: int) -> Callable[[], None]:
    def apply() -> None:  # runs in the child between fork and exec
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    return apply


def check_validate_contract(
    path: str | os.PathLike[str],
    *,
    args: Sequence[str] = (),
    timeout: float = 30.0,
    memory: int = 1 << 30,
    cwd: str | os.PathLike[str] | None = None,
) -> ContractResult:
    """Run ``archivekit validate PATH --format json`` in a subprocess and check its contract.

    The child gets ``memory`` bytes of address space (RLIMIT_AS) and ``timeout`` seconds; it
    runs in an empty temporary directory unless ``cwd`` is given. Raises `ContractViolation`
    unless: the exit code is 0, 1 or 3; stderr holds no traceback; with 0/1, stdout is one JSON
    document whose ``valid`` is true exactly when it counts no error (and the exit code agrees),
    whose kept issues' severities agree with that, and whose codes are all catalogued; with 3,
    stdout is empty and stderr is one ``archivekit: ...`` line.
    """
    command = [sys.executable, "-m", "archivekit", "validate", os.fspath(path)]
    command += ["--format", "json", "--max-issues", "0", *args]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="archivekit-fuzz-") as scratch:
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                timeout=timeout,
                cwd=os.fspath(cwd) if cwd is not None else scratch,
                preexec_fn=_limit_memory(memory),
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ContractViolation(f"validate ran over {timeout:g} s on {path}") from None
        leftovers = os.listdir(scratch)
    seconds = time.perf_counter() - started
    stderr = done.stderr.decode("utf-8", "replace")
    where = f"{path} (exit {done.returncode}, stderr {stderr[-2000:]!r})"
    if "Traceback" in stderr:
        raise ContractViolation(f"traceback on {where}")
    if done.returncode not in EXIT_CODES:
        raise ContractViolation(f"exit code not in {sorted(EXIT_CODES)} on {where}")
    if cwd is None and leftovers:
        raise ContractViolation(f"validate wrote {leftovers} into its working directory")
    if done.returncode == 3:
        if done.stdout or stderr.count("\n") != 1 or not stderr.startswith("archivekit: "):
            raise ContractViolation(f"exit 3 without exactly one message line on {where}")
        return ContractResult(3, None, stderr, seconds)
    try:
        report = orjson.loads(done.stdout)
    except orjson.JSONDecodeError as exc:
        raise ContractViolation(f"stdout is not one JSON document ({exc}) on {where}") from None
    _check_report_document(report, done.returncode, where)
    return ContractResult(done.returncode, report, stderr, seconds)


def _check_report_document(report: Any, exit_code: int, where: str) -> None:
    if not isinstance(report, dict) or not isinstance(report.get("valid"), bool):
        raise ContractViolation(f"the report has no boolean 'valid' on {where}")
    issues = report.get("issues", [])
    severities = {issue["severity"] for issue in issues}
    valid = report["valid"]
    if valid != (report.get("errors") == 0) or (valid and "error" in severities):
        raise ContractViolation(f"'valid' disagrees with the errors found on {where}")
    if not valid and not report.get("truncated") and "error" not in severities:
        raise ContractViolation(f"invalid without an error issue on {where}")
    if exit_code != (0 if valid else 1):
        raise ContractViolation(f"exit code {exit_code} but valid={valid} on {where}")
    unknown = {issue["code"] for issue in issues} - set(CODES)
    if unknown:
        raise ContractViolation(f"uncatalogued issue codes {sorted(unknown)} on {where}")


def check_validate_in_process(
    path: str | os.PathLike[str],
    *,
    validate: Callable[..., Report],
    read_limits: ReadLimits | None = None,
) -> Report | ArchiveError:
    """Call `validate` (`archivekit.validate`) and check its contract without a subprocess
    (fast, for many examples).

    Returns the report, or the `ArchiveError` of an unusable archive (exit 3). Any other
    exception propagates (that is the bug the property finds); a report whose ``valid``
    disagrees with its issues raises `ContractViolation`.
    """
    try:
        report = validate(path, max_issues=None, read_limits=read_limits)
    except ArchiveError as exc:
        if exc.issue.code not in CODES:
            raise ContractViolation(f"uncatalogued code {exc.issue.code!r}") from None
        return exc
    has_error = any(issue.severity.value == "error" for issue in report.issues)
    if report.valid != (not has_error) or report.valid != (report.errors == 0):
        raise ContractViolation(f"'valid' disagrees with the issues of {path}")
    unknown = {issue.code for issue in report.issues} - set(CODES)
    if unknown:
        raise ContractViolation(f"uncatalogued issue codes {sorted(unknown)} in {path}")
    return report
