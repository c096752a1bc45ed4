"""The email check is Go's: net/mail.ParseAddress (archivekit.gosem.mail) and the server's
model.IsValidEmail, held to Go's own verdicts on every row of a generated corpus
(tests/data/go_mail_verdicts.jsonl, made by tools/oracles/mail with Go 1.23.5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archivekit.check.rules.user import email_problem, is_valid_email
from archivekit.gosem.mail import Address, AddressError, parse_address
from archivekit.gosem.strings import go_lower

VERDICTS = Path(__file__).parent / "data" / "go_mail_verdicts.jsonl"


def test_every_go_verdict_on_the_corpus() -> None:
    # One JSON object a line; str.splitlines would also split at U+2028 inside a value.
    rows = [json.loads(line) for line in VERDICTS.read_bytes().split(b"\n") if line]
    assert len(rows) > 20_000
    wrong = [
        (row["input"], row["valid"], row["valid_lowered"])
        for row in rows
        if is_valid_email(row["input"]) != row["valid"]
        or is_valid_email(go_lower(row["input"])) != row["valid_lowered"]
    ]
    assert wrong == []
    # The corpus exercises both answers of both columns.
    assert {row["valid"] for row in rows} == {True, False}
    assert {row["valid_lowered"] for row in rows} == {True, False}


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("a@b.c", Address("", "a@b.c")),
        ("Bob <a@b.c>", Address("Bob", "a@b.c")),
        ('"x y"@b.c', Address("", "x y@b.c")),
        ("a@b.c (Bob)", Address("Bob", "a@b.c")),
        ("=?utf-8?q?J=C3=B6rg?= <j@b.c>", Address("Jörg", "j@b.c")),
        ("g: a@b.c;", Address("", "a@b.c")),
        ("a@[1.2.3.4]", Address("", "a@[1.2.3.4]")),
    ],
)
def test_parse_address_returns_gos_name_and_address(text: str, parsed: Address) -> None:
    assert parse_address(text) == parsed


@pytest.mark.parametrize("text", ["", "a", "a@", "a@b..c", "a@[1.2.3]", "g: a@b.c, d@e.f;"])
def test_parse_address_refuses_what_go_refuses(text: str) -> None:
    with pytest.raises(AddressError):
        parse_address(text)


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("a@b.c", None),
        (" a@b.c", "white space"),
        ("a@b.c\t", "white space"),
        ("<a@b.c>", "angle brackets"),
        ('"bob"@example.com', "quoted"),
        ("bob <a@b.c>", "display name"),
        ("frank@example.com()", "reads it as"),
        ("erin@ example.com", "reads it as"),
        ("a@b@c", "more than one"),
        ("a@b..c", "cannot parse"),
        ("carol-at-example.com", "no `@`"),
        ("A@b.c", "uppercase"),
    ],
)
def test_email_problem_says_why(email: str, reason: str | None) -> None:
    problem = email_problem(email)
    if reason is None:
        assert problem is None
    else:
        assert problem is not None
        assert reason in problem
