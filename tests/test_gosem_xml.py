"""mmctl's SVG check is Go's encoding/xml decoding the first element (archivekit.gosem.xml),
held to Go's own answers on every row of tests/data/go_xml_verdicts.jsonl (made by
tools/oracles/xml with Go 1.23.5 from tools/oracles/gen_xml_corpus.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from archivekit.gosem.xml import first_element_error

VERDICTS = Path(__file__).parent / "data" / "go_xml_verdicts.jsonl"


def test_every_go_verdict_and_message_on_the_corpus() -> None:
    rows = [json.loads(line) for line in VERDICTS.read_bytes().split(b"\n") if line]
    assert len(rows) > 3_000
    wrong = [
        (document, got, row["error"])
        for row in rows
        if (got := first_element_error(document := base64.b64decode(row["input"]))) != row["error"]
    ]
    assert wrong == []
    assert {row["error"] is None for row in rows} == {True, False}


@pytest.mark.parametrize(
    ("document", "error"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', None),
        (b"text before <svg></svg> and <<< garbage after", None),
        (b"just text", "EOF"),
        (b"<svg>", "XML syntax error on line 1: unexpected EOF"),
        (b"<svg>\n<g></svg>", "XML syntax error on line 2: element <g> closed by </svg>"),
        (
            b"<svg width=16/>",
            "XML syntax error on line 1: unquoted or missing attribute value in element",
        ),
        (
            b'<?xml version="1.0" encoding="latin1"?><svg/>',
            'xml: encoding "latin1" declared but Decoder.CharsetReader is nil',
        ),
        (b"<svg>&nbsp;</svg>", "XML syntax error on line 1: invalid character entity &nbsp;"),
    ],
)  # fmt: skip
def test_first_element_error(document: bytes, error: str | None) -> None:
    assert first_element_error(document) == error
