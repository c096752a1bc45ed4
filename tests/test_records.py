"""The Record stream (archivekit.read.records): every line with its number, bytes and decoded
envelope or decode issues — the one way the layers above the reader get decoded lines."""

from __future__ import annotations

from pathlib import Path

from archivekit.read import LineTooLong, open_archive
from archivekit.read.records import Record, RecordStream, iter_records, read_record
from archivekit.testing.synth import channel, make_archive, post, team, user
from archivekit.validate import validate

T = 1_700_000_000_000
DECODE_CODES = frozenset(
    {"line-too-long", "line-empty", "json-decode", "json-type", "bom", "invalid-utf8"}
)


def archive_of(tmp_path: Path, *lines: object, block_size: int = 1 << 20) -> list[Record]:
    path = make_archive(tmp_path / "a.zip", list(lines))  # type: ignore[arg-type]
    with open_archive(path) as archive:
        return list(RecordStream(archive, block_size=block_size))


def test_each_line_has_its_number_bytes_and_envelope(tmp_path: Path) -> None:
    eng_line = b'{"type":"team","team":{"name":"eng"}}'
    records = archive_of(tmp_path, eng_line, b'{"type":"team","team":{"name":"ops"}}\r')
    assert [r.line for r in records] == [1, 2, 3]
    version, eng, ops = records
    assert (version.type, version.payload) == ("version", None)  # its payload is a number
    assert (eng.type, eng.payload, eng.issues) == ("team", {"name": "eng"}, ())
    assert (eng.raw, eng.size) == (eng_line, len(eng_line))
    # The raw bytes are the line as written (a writer copies them back), CR included.
    assert (ops.raw[-1:], ops.payload) == (b"\r", {"name": "ops"})


def codes(record: Record) -> tuple[object, list[str]]:
    return record.envelope, [i.code for i in record.issues]


def test_a_line_go_cannot_decode_has_no_envelope_and_its_issue(tmp_path: Path) -> None:
    _, broken, blank, typed = archive_of(
        tmp_path, b'{"type":"team",', b"", b'{"type":"team","team":{"name":5}}'
    )
    assert codes(broken) == (None, ["json-decode"])
    assert codes(blank) == (None, ["line-empty"])
    assert codes(typed) == (None, ["json-type"])
    assert (typed.type, typed.payload) == (None, None)


def test_plain_decoding_counts_any_json_object_without_issues() -> None:
    # Go refuses a number where a string belongs; JSON parsing does not.
    raw = b'{"type":"team","team":{"name":5}}'
    assert read_record(7, raw).envelope is None
    plain = read_record(7, raw, exact=False)
    assert plain == Record(7, raw, len(raw), {"type": "team", "team": {"name": 5}})
    # Only what orjson refuses is decoded as Go would: invalid UTF-8 still counts.
    utf8 = read_record(1, b'{"type":"team","team":{"name":"\xff"}}', exact=False)
    assert utf8.payload == {"name": "\ufffd"}
    assert read_record(1, b"[1]", exact=False).envelope is None  # not an object


def test_a_line_too_long_keeps_only_its_length() -> None:
    record = read_record(4, LineTooLong(20_000_000))
    assert (record.raw, record.size, record.envelope) == (b"", 20_000_000, None)
    (issue,) = record.issues
    assert issue.code == "line-too-long"
    assert dict(issue.values) == {"found": 20_000_000, "limit": 16_777_215, "unit": "bytes"}
    assert read_record(4, LineTooLong(20_000_000), exact=False).issues == ()


def test_shares_split_the_lines_and_count_them_all(tmp_path: Path) -> None:
    lines = [team("eng"), user("alice", ["eng"]), channel("eng", "dev")]
    lines += [post("eng", "dev", "alice", f"message {i}", T + i) for i in range(300)]
    path = make_archive(tmp_path / "a.zip", lines)
    with open_archive(path) as archive:
        whole = list(iter_records(archive))
        parts = []
        for me in range(3):
            stream = RecordStream(archive, block_size=4096, share=(me, 3))
            parts.append(list(stream))
            assert stream.lines == len(whole) == 304
    assert all(parts)  # each share got some
    assert sorted((r for part in parts for r in part), key=lambda r: r.line) == whole


def test_wanted_lines_only(tmp_path: Path) -> None:
    path = make_archive(tmp_path / "a.zip", [team(f"t{i}") for i in range(10)])
    with open_archive(path) as archive:
        stream = RecordStream(archive, wanted={3, 7, 99})
        assert [r.line for r in stream] == [3, 7]
        assert stream.lines == 11


def test_the_validator_reports_exactly_the_records_decode_issues(tmp_path: Path) -> None:
    lines = [
        team("eng"),
        b'{"type":"team",',
        b"",
        b'\xef\xbb\xbf{"type":"team","team":{"name":"x"}}',
        b'{"type":"team","team":{"name":"caf\xe9"}}',
        b'{"type":"user","user":{"username":7}}',
    ]
    path = make_archive(tmp_path / "a.zip", lines)  # type: ignore[arg-type]
    with open_archive(path) as archive:
        records = list(iter_records(archive))
    from_records = [(r.line, i.code, i.message) for r in records for i in r.issues]
    report = validate(path, max_issues=None)
    from_report = [(i.line, i.code, i.message) for i in report.issues if i.code in DECODE_CODES]
    assert from_report == from_records
    assert len(from_records) == 5
