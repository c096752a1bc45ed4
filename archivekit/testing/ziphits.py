"""Which structures of a zip its byte mutations hit (a stream and a file's reader differ there).

A stream reads a zip front to back by its local headers; a file's reader goes by the central
directory at its end. Which of the two a mutation damaged decides what a stream can tell, so
tests/test_stream_differential.py keys the verdicts it lets a stream differ by on these
classes. `zip_hits` maps the intact archive (as `archivekit.testing.synth.write_zip` writes it)
into spans — each member's local header, data and data descriptor, each central directory
entry, the end records — and follows them through the mutations in order, as insertions and
deletions move them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from archivekit.read.zipdir import (
    CENTRAL_HEADER,
    LOCAL_HEADER_SIG,
    directory_start,
    read_central_directory,
    read_data_offset,
)

if TYPE_CHECKING:  # fuzz.py imports this module: only its type, at run time
    from archivekit.testing.fuzz import ByteMutation

__all__ = [
    "CENTRAL",
    "CUT",
    "DATA",
    "DESCRIPTOR",
    "END",
    "LOCAL",
    "SHIFT",
    "START",
    "of_jsonl",
    "zip_hits",
]

# A member's structures; each is named with the prefix "jsonl-" for the JSONL's (`of_jsonl`).
LOCAL, DATA, DESCRIPTOR, CENTRAL = "local", "data", "descriptor", "central"
START = "start"  # the first local header's signature (or bytes before it): how a stream
# knows a zip (a file's reader finds the end records)
END = "end"  # the end records: zip64 end record and locator, end of central directory
CUT = "cut"  # the archive lost its tail (truncated, or deleted up to its end)
SHIFT = "shift"  # bytes inserted or deleted before the end: what follows moved


def of_jsonl(part: str) -> str:
    """The name of the JSONL's `part` (`LOCAL`, `DATA`, `DESCRIPTOR`, `CENTRAL`)."""
    return "jsonl-" + part


@dataclass(slots=True)
class _Span:
    start: int
    end: int
    part: str


def zip_hits(data: bytes, mutations: Sequence[ByteMutation], jsonl: str) -> frozenset[str]:
    """The structures of the intact zip `data` that `mutations`, applied in order, hit and
    that are still in the result (`LOCAL`, `DATA`, ... prefixed "jsonl-" for the member named
    `jsonl`; `START`, `END`), with `CUT` and `SHIFT` (bytes moved, before a cut if any): a
    change that a later cut took away again is none. Raises `ArchiveError` if `data` is no
    readable zip."""
    spans = _spans(data, jsonl)
    marks: list[_Span] = []  # the bytes each mutation changed, moved as the later ones move
    for mutation in mutations:
        if not data:
            break  # nothing left to hit: a byte or two written on nothing
        _hit(mutation, data, spans, marks)
        data = mutation.apply(data)
    return frozenset(m.part for m in marks if m.start < len(data) or m.part == CUT)


def _spans(data: bytes, jsonl: str) -> list[_Span]:
    fh = io.BytesIO(data)
    members = read_central_directory(fh, len(data))
    directory = directory_start(fh, len(data))[0]
    spans: list[_Span] = []
    for member in sorted(members, key=lambda m: m.header_offset):
        name = of_jsonl if member.name == jsonl else str
        at = read_data_offset(fh, member, len(data))
        if spans:
            spans.append(_descriptor_after(spans[-1], member.header_offset))
        spans.append(_Span(member.header_offset, at, name(LOCAL)))
        spans.append(_Span(at, at + member.compressed_size, name(DATA)))
    if spans:
        spans.append(_descriptor_after(spans[-1], directory))
    at = directory
    for member in members:
        name_length, extra, comment = CENTRAL_HEADER.unpack_from(data, at)[10:13]
        size = CENTRAL_HEADER.size + name_length + extra + comment
        spans.append(_Span(at, at + size, of_jsonl(CENTRAL) if member.name == jsonl else CENTRAL))
        at += size
    spans.append(_Span(at, len(data), END))
    if spans[0].start == 0 and spans[0].part.endswith(LOCAL):
        spans[0].start = len(LOCAL_HEADER_SIG)
        spans.insert(0, _Span(0, len(LOCAL_HEADER_SIG), START))
    return [span for span in spans if span.end > span.start]


def _descriptor_after(data: _Span, end: int) -> _Span:
    """What lies between a member's data and the next structure: its data descriptor (none
    when its sizes are in its local header: then the span is empty)."""
    return _Span(data.end, end, data.part.removesuffix(DATA) + DESCRIPTOR)


def _hit(mutation: ByteMutation, data: bytes, spans: list[_Span], marks: list[_Span]) -> None:
    """Marks what `mutation` changes in `data` (laid out as `spans`), and moves `spans` and
    the earlier `marks` as it moves their bytes."""
    size = len(data)
    at = mutation.offset % size
    if mutation.kind == "truncate":
        _cut([*spans, *marks], at)
        marks.append(_Span(at, at, CUT))
    elif mutation.kind == "flip":
        marks += _marks(spans, at, at + 1)
    elif mutation.kind in ("header", "overwrite"):
        where = mutation.position(data) if mutation.kind == "header" else at
        if where is None:
            return  # no such record: nothing changed
        end = where + len(mutation.data)
        marks += _marks(spans, where, end)
        if end > size:  # the written bytes run on past the end: the archive grew
            spans[-1].end = end
            marks.append(_Span(size, end, END))
    elif mutation.kind == "insert":
        length = len(mutation.data)
        parts = _parts(spans, at, at + 1)
        _move([*spans, *marks], at, length)
        marks += [_Span(at, at + length, part) for part in (*parts, SHIFT)]
    else:  # delete
        end = min(at + mutation.length, size)
        if end == size:  # the archive's tail gone: a cut
            _cut([*spans, *marks], at)
            marks.append(_Span(at, at, CUT))
            return
        parts = _parts(spans, at, end)
        _move([*spans, *marks], at, at - end)
        marks += [_Span(at, at, part) for part in (*parts, SHIFT)]


def _marks(spans: list[_Span], start: int, end: int) -> list[_Span]:
    return [_Span(start, end, part) for part in _parts(spans, start, end)]


def _parts(spans: list[_Span], start: int, end: int) -> set[str]:
    return {span.part for span in spans if span.start < end and start < span.end}


def _cut(spans: list[_Span], at: int) -> None:
    for span in spans:
        span.start, span.end = min(span.start, at), min(span.end, at)


def _move(spans: list[_Span], at: int, by: int) -> None:
    """Bytes inserted at `at` (`by` > 0) or `-by` bytes deleted from `at`."""
    for span in spans:
        if by < 0:
            span.start = span.start if span.start <= at else max(at, span.start + by)
            span.end = span.end if span.end <= at else max(at, span.end + by)
        else:
            span.start += by if span.start > at else 0
            span.end += by if span.end > at else 0
