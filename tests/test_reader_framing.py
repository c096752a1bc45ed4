"""Line framing: Go bufio.Scanner semantics over arbitrarily chunked blocks."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archivekit.read import MAX_LINE_BYTES, LineTooLong, iter_line_batches, iter_line_blocks
from archivekit.read.framing import exact_blocks, iter_shared_batches


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def lines_of(blocks: Iterable[bytes], max_line: int = MAX_LINE_BYTES) -> list[bytes | LineTooLong]:
    return [line for batch in iter_line_batches(blocks, max_line) for line in batch]


def scanner_model(data: bytes, max_line: int) -> list[bytes | LineTooLong]:
    """What Go's scanner yields, written the obvious (slow) way."""
    pieces = data.split(b"\n")
    if pieces[-1] == b"":
        pieces.pop()
    return [p if len(p) <= max_line else LineTooLong(len(p)) for p in pieces]


SAMPLE = b'{"type":"version"}\r\n\n{"a":1}\n\n\nlast line without newline'


def test_crlf_keeps_the_carriage_return_for_the_decoder() -> None:
    assert lines_of([b"one\r\ntwo\r\n"]) == [b"one\r", b"two\r"]


def test_blank_lines_are_yielded() -> None:
    assert lines_of([b"a\n\n\nb\n"]) == [b"a", b"", b"", b"b"]


def test_final_line_without_newline_is_yielded() -> None:
    assert lines_of([b"a\nb"]) == [b"a", b"b"]


def test_trailing_newline_adds_no_empty_line() -> None:
    assert lines_of([b"a\nb\n"]) == [b"a", b"b"]


def test_a_lone_newline_is_one_blank_line() -> None:
    assert lines_of([b"\n"]) == [b""]


def test_empty_input_yields_nothing() -> None:
    assert list(iter_line_batches([])) == []
    assert list(iter_line_batches([b"", b""])) == []


@pytest.mark.parametrize("size", [1, 7, 65536])
def test_rechunking_gives_identical_lines(size: int) -> None:
    data = SAMPLE * 50
    assert lines_of(chunked(data, size)) == lines_of([data]) == scanner_model(data, MAX_LINE_BYTES)


@given(
    st.lists(st.binary(max_size=40), max_size=12),
    st.integers(min_value=1, max_value=30),
)
def test_exact_blocks_are_the_same_whatever_the_pieces(pieces: list[bytes], size: int) -> None:
    """A stream's pieces depend on the timing of its reads; its blocks (and so the batches
    two processes each own every other of) must not."""
    data = b"".join(pieces)
    blocks = list(exact_blocks(pieces, size))
    assert blocks == [data[at : at + size] for at in range(0, len(data), size)]


def test_one_batch_per_block_that_completes_lines() -> None:
    batches = list(iter_line_batches([b"a\nb", b"c", b"\nd\ne\n", b"f"]))
    assert batches == [[b"a"], [b"bc", b"d", b"e"], [b"f"]]


@pytest.mark.parametrize("size", [1, 7, 65536])
def test_line_at_the_limit_is_fine_one_more_byte_is_too_long(size: int) -> None:
    data = b"x" * 10 + b"\n" + b"y" * 11 + b"\nz\n"
    lines = lines_of(chunked(data, size), max_line=10)
    assert lines == [b"x" * 10, LineTooLong(11), b"z"]


@pytest.mark.parametrize("size", [1, 7, 65536])
def test_too_long_line_counts_every_byte_and_framing_continues(size: int) -> None:
    data = b"ok\n" + b"q" * 1000 + b"\r\nnext\n" + b"w" * 50
    lines = lines_of(chunked(data, size), max_line=20)
    assert lines == [b"ok", LineTooLong(1001), b"next", LineTooLong(50)]


def test_final_line_at_the_limit_without_newline_is_fine() -> None:
    assert lines_of([b"a\n", b"x" * 10], max_line=10) == [b"a", b"x" * 10]
    assert lines_of([b"a\n", b"x" * 11], max_line=10) == [b"a", LineTooLong(11)]


@given(
    data=st.lists(st.sampled_from([b"\n", b"\r", b"x", b"yy", b"\xff", b"z" * 9]), max_size=60),
    size=st.integers(1, 40),
    max_line=st.integers(1, 30),
)
def test_matches_the_scanner_model_for_any_chunking(
    data: list[bytes], size: int, max_line: int
) -> None:
    raw = b"".join(data)
    if not raw:
        assert lines_of([], max_line) == []
        return
    assert lines_of(chunked(raw, size), max_line) == scanner_model(raw, max_line)


@given(
    data=st.lists(st.sampled_from([b"\n", b"\r", b"x", b"yy", b"z" * 9]), max_size=60),
    size=st.integers(1, 40),
    max_line=st.integers(1, 30),
    workers=st.integers(1, 4),
)
def test_a_share_frames_its_batches_and_counts_the_others(
    data: list[bytes], size: int, max_line: int, workers: int
) -> None:
    """Whatever an over-long line or a line across blocks leaves from a batch not framed, the
    batches of the share are those of `iter_line_batches`, the others their numbers of lines."""
    blocks = chunked(b"".join(data), size)
    every = list(iter_line_batches(blocks, max_line))
    for me in range(workers):
        shared = list(iter_shared_batches(blocks, (me, workers), max_line))
        assert len(shared) == len(every)
        for index, (got, batch) in enumerate(zip(shared, every, strict=True)):
            mine = index % workers == me
            assert got == (batch if mine else len(batch))


def test_a_100_mb_line_without_newline_stays_bounded_in_memory() -> None:
    block = b"a" * (1 << 20)

    def blocks() -> Iterator[bytes]:
        yield b"first\n"
        for _ in range(100):
            yield block  # the same object: the source itself allocates nothing

    tracemalloc.start()
    try:
        lines = lines_of(blocks(), max_line=1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == [b"first", LineTooLong(100 << 20)]
    assert peak < 8 << 20


@pytest.mark.slow
def test_real_limit_is_16_mib_including_the_newline() -> None:
    at_limit = b"x" * MAX_LINE_BYTES
    data = at_limit + b"\n" + at_limit + b"x\nend"
    lines = lines_of(chunked(data, 1 << 20))
    assert len(lines) == 3
    assert lines[0] == at_limit
    assert lines[1] == LineTooLong(MAX_LINE_BYTES + 1)
    assert lines[2] == b"end"


# --- iter_line_blocks: the same batches, with their text ----------------------------------------


@given(
    data=st.binary(max_size=300).map(lambda b: b.replace(b"\x00", b"\n")),
    sizes=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=20),
    max_line=st.integers(min_value=1, max_value=30),
)
def test_line_blocks_are_the_batches_with_their_text(
    data: bytes, sizes: list[int], max_line: int
) -> None:
    blocks, at = [], 0
    for size in sizes * (len(data) // max(1, sum(sizes)) + 1):
        if at >= len(data):
            break
        blocks.append(data[at : at + size])
        at += size
    batches = list(iter_line_batches(blocks, max_line))
    line_blocks = list(iter_line_blocks(blocks, max_line))
    assert [block.lines() for block in line_blocks] == batches
    for block, batch in zip(line_blocks, batches, strict=True):
        if all(type(line) is bytes for line in batch):
            assert block.text == b"\n".join(batch)  # type: ignore[arg-type]
        else:
            assert block.text is None


def test_line_blocks_slice_the_input_without_splitting() -> None:
    only = next(iter_line_blocks([b"one\ntwo\nthr", b"ee\n"]))
    assert only.text == b"one\ntwo"
    assert only._lines is None  # nothing split until asked
    assert only.lines() == [b"one", b"two"]
