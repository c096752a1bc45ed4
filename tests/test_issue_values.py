"""Issues keep the values their messages speak of as data, beside the text."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from message_values import unkept_values

from archivekit.check.references import Existing
from archivekit.check.rules.names import shown
from archivekit.check.target import TargetConfig
from archivekit.issues import Values, error
from archivekit.testing.synth import OMIT, channel, make_archive, post, team, user
from archivekit.validate import validate

T = 1_700_000_000_000


def values_of(report: Any, code: str) -> list[dict[str, Any]]:
    return [dict(i.values) for i in report.issues if i.code == code]


def test_values_are_an_immutable_picklable_mapping() -> None:
    issue = error("limit-exceeded", "too big", values={"found": 3, "limit": 2})
    assert issue.values["found"] == 3
    assert issue.to_dict()["values"] == {"found": 3, "limit": 2}
    with pytest.raises(TypeError):
        issue.values["found"] = 4  # type: ignore[index]
    assert pickle.loads(pickle.dumps(issue)) == issue
    assert hash(issue) == hash(error("limit-exceeded", "too big", values={"limit": 2, "found": 3}))
    assert issue.at("import.jsonl", 7).values == Values({"found": 3, "limit": 2})
    assert error("json-decode", "bad").to_dict()["values"] == {}


def test_references_name_their_kind_and_target(tmp_path: Path) -> None:
    path = make_archive(
        tmp_path / "a.zip",
        [
            team("eng"),
            user("alice", ["eng"]),
            post("eng", "dev", "ghost", "hi", T),
            post("Eng", "dev", "alice", "hi", T),
            channel("eng", "dev"),
        ],
    )
    report = validate(path)
    assert values_of(report, "defined-later") == [
        {"kind": "channel", "name": "eng/dev", "key": "eng/dev", "defined_line": 6}
    ]
    assert values_of(report, "unknown-user") == [{"kind": "user", "name": "ghost", "key": "ghost"}]
    assert values_of(report, "reference-case") == [
        {"kind": "team", "name": "Eng", "key": "eng", "repair": "lowercase-references"}
    ]


def test_lengths_limits_files_and_duplicates_carry_their_numbers(tmp_path: Path) -> None:
    path = make_archive(
        tmp_path / "a.zip",
        [
            team("eng", display_name="x" * 70),
            team("eng"),
            user("alice", ["eng"]),
            user("bob", ["eng"]),
            channel("eng", "dev"),
            post("eng", "dev", "alice", "hi", T, attachments=["nope.png"]),
            post("eng", "dev", "alice", "hi", T),
        ],
    )
    report = validate(path, target=TargetConfig(max_users_per_team=1), explicit=True)
    assert values_of(report, "invalid-field") == [
        {"found": 70, "limit": 64, "unit": "characters", "value": "x" * 70, "subject": "eng"}
    ]
    assert values_of(report, "duplicate-team") == [{"kind": "team", "name": "eng", "first_line": 2}]
    assert values_of(report, "attachment-missing") == [
        {"path": "nope.png", "member": "data/nope.png"}
    ]
    assert values_of(report, "duplicate-post") == [{"first_line": 7}]
    assert values_of(report, "limit-exceeded") == [
        {
            "setting": "TeamSettings.MaxUsersPerTeam",
            "found": 2,
            "limit": 1,
            "unit": "members",
            "name": "eng",
            "needed": 2,
        }
    ]


def test_line_rules_name_what_the_line_defines(tmp_path: Path) -> None:
    path = make_archive(
        tmp_path / "a.zip",
        [
            team("eng"),
            channel("eng", "dev", display_name="x" * 70),
            user("jdoe", ["eng"], email=OMIT),
            channel("eng", "ops"),
            post("eng", "ops", "jdoe", "x" * 16_384, T),
        ],
    )
    report = validate(path)
    assert [(i.code, i.values.get("subject")) for i in report.issues] == [
        ("invalid-field", "eng/dev"),
        ("missing-field", "jdoe"),
        ("invalid-field", None),  # a post defines nothing with a name
    ]
    assert report.issues[1].message.startswith("User 'jdoe' has no email")
    assert "--default-email-domain" in report.issues[1].message
    # MaxPostSize is no config setting: the message says what decides it.
    message = report.issues[2]
    assert message.values["setting"] == "MaxPostSize"
    assert "not a config setting" in message.message
    assert "posts.message column" in message.message


def test_an_undefined_mixed_case_team_is_unknown_on_every_line(tmp_path: Path) -> None:
    # Defined nowhere, it is stored nowhere: never "stored as 'acme-corp'", whether the
    # server looks the reference up lowercased (channel.team) or exactly (user, post).
    path = make_archive(
        tmp_path / "a.zip",
        [
            channel("Acme-Corp", "dev"),
            user("alice", ["Acme-Corp"]),
            post("Acme-Corp", "dev", "alice", "hi", T),
        ],
    )
    report = validate(path)
    assert {i.code for i in report.issues} == {"unknown-team"}
    assert "stored as" not in " ".join(i.message for i in report.issues)
    assert [i.values.get("miscased", False) for i in report.issues] == [False, True, True]
    assert all(i.values["key"] == "acme-corp" for i in report.issues)
    # Once the server has it (stored lowercase), the exact lookups are case errors.
    report = validate(path, existing=Existing(teams=frozenset({"Acme-Corp"})))
    assert [(i.code, i.field) for i in report.issues] == [
        ("reference-case", "user.teams[0].name"),
        ("reference-case", "post.team"),
    ]
    assert "stored as 'acme-corp'" in report.issues[0].message


@pytest.mark.unkept_values
def test_the_values_check_finds_what_a_message_says_beyond_its_values() -> None:
    # The check conftest.py runs on every issue the suite makes (tests/message_values.py).
    kept = error("x", "team 'eng' has 70 members; at most 64", values={"name": "eng", "found": 70})
    assert unkept_values(kept) == ["64"]
    named = error("x", "user 'bob' of team 'eng' is 1,024 bytes", values={"found": 1024})
    assert unkept_values(named) == ["'bob'", "'eng'"]
    cut = error("x", f"name {shown('abc' * 300)} at offset 7", values={"value": ("abc" * 300)[:80]})
    assert unkept_values(cut) == ["7"]
    wording = error(
        "x",
        "since v11.5 (mattermost/mattermost#28906, late 2024) replies[2] of a 26-character id "
        "use `zip -s 0`; run 'mmctl import upload' (HTTP 413), 1-64 bytes, UTF-8",
    )
    assert unkept_values(wording) == []


def test_every_issue_of_the_sample_archives_keeps_its_values() -> None:
    samples = sorted((Path(__file__).parent.parent / "sample_exports").glob("*.zip"))
    assert len(samples) >= 4
    issues = [issue for sample in samples for issue in validate(sample, max_issues=None).issues]
    assert len({issue.code for issue in issues}) >= 15  # the samples cover many codes
    assert [(i.code, unkept_values(i)) for i in issues if unkept_values(i)] == []
