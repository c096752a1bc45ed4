"""The locale check is Go's: model.IsValidLocale (language.Parse of golang.org/x/text within 5
bytes), read from archivekit/data/locales.txt and held to Go's own verdicts on every row of
tests/data/go_locale_verdicts.jsonl (made by tools/oracles/locale)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.user import apply_user, is_valid_locale

VERDICTS = Path(__file__).parent / "data" / "go_locale_verdicts.jsonl"


def test_every_go_verdict_on_the_corpus() -> None:
    rows = [json.loads(line) for line in VERDICTS.read_bytes().split(b"\n") if line]
    assert len(rows) > 7_000
    wrong = [
        (row["input"], row["valid"])
        for row in rows
        if is_valid_locale(row["input"]) != row["valid"]
    ]
    assert wrong == []
    assert {row["valid"] for row in rows} == {True, False}


@pytest.mark.parametrize(
    ("locale", "suggestion"),
    [("jp", "ja"), ("cz", "cs"), ("dk", "da"), ("gr", "el"), ("ua", "uk"), ("cn", "zh"),
     ("vn", "vi"), ("us", "en")],
)  # fmt: skip
def test_country_codes_are_refused_with_the_language_they_mean(
    locale: str, suggestion: str
) -> None:
    issues = apply_user({"username": "a", "email": "a@b.c", "locale": locale}, RuleContext())
    assert [i.server_error_id for i in issues] == ["model.user.is_valid.locale.app_error"]
    assert f"`{suggestion}`" in issues[0].message
    assert "golang.org/x/text v0.16.0" in issues[0].message
    assert dict(issues[0].values) == {"found": locale, "suggestion": suggestion}


@pytest.mark.parametrize(
    "locale", ["", "en", "EN", "pt_BR", "zh-tw", "root", "i-ami", "x-a-b", "se", "br"]
)
def test_language_tags_go_accepts(locale: str) -> None:
    assert is_valid_locale(locale)


@pytest.mark.parametrize("locale", ["es-419", "en-US-x", "zz", "\u212am", "en*", "*-us"])
def test_tags_go_refuses(locale: str) -> None:
    assert not is_valid_locale(locale)
