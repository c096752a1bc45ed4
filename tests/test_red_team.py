"""Red-team review of `validate` against the reference (§1-§7): tricky lines, pinned down.

Every archive goes through `both`, which validates it with the post fast path on and off and
requires identical reports (the fast path may only ever accept what the general path accepts
silently). Disagreements with the server are kept as strict xfails that say what and where.
Line numbers: 1 is the version line, 2-5 the `BASE` definitions, 6 the line under test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archivekit.check.engine import LineProcessor
from archivekit.check.references import (
    CHANNEL_TEAM_NOT_FOUND,
    POST_CHANNEL_NOT_FOUND,
    REACTION_USER_NOT_FOUND,
    TEAMS_NOT_FOUND,
    USERS_NOT_FOUND,
)
from archivekit.testing.synth import (
    channel,
    direct_channel,
    direct_post,
    make_archive,
    post,
    reaction,
    reply,
    team,
    user,
)
from archivekit.validate import validate

BASE: list[Any] = [
    team("team1"),
    channel("team1", "chan1"),
    user("alice", teams={"team1": ["chan1"]}),
    user("bob", teams={"team1": ["chan1"]}),
]
LINE = 6
T0 = 1_700_000_000_000
# A valid post payload written by hand, open at the end for one more field.
HEAD = (
    b'{"type":"post","post":{"team":"team1","channel":"chan1","user":"alice",'
    b'"message":"m","create_at":1700000000000'
)
DM_HEAD = (
    b'{"type":"direct_post","direct_post":{"channel_members":["alice","bob"],"user":"alice",'
    b'"message":"m","create_at":1700000000000'
)


def both(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lines: list[Any],
    files: dict[str, bytes] | None = None,
) -> dict[str, Any]:
    """The report of BASE + `lines`, the same with and without the fast path."""
    path = make_archive(tmp_path / "a.zip", BASE + lines, files or {})
    with monkeypatch.context() as patch:
        patch.setattr(LineProcessor, "fast", False)
        slow = validate(path, max_issues=None).to_dict()
    fast = validate(path, max_issues=None).to_dict()
    assert fast == slow
    return fast


def found(report: dict[str, Any]) -> list[tuple[str, int | None, str | None]]:
    return [(i["code"], i["line"], i["field"]) for i in report["issues"]]


def errors(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in report["issues"] if i["severity"] == "error"]


def post_with(**kw: Any) -> dict[str, Any]:
    return post("team1", "chan1", "alice", "m", T0, **kw)


# --- confirmed: odd but valid JSON spellings, same verdict on both paths -----------------------


@pytest.mark.parametrize(
    "raw",
    [
        # keys in another order, white space everywhere
        b'{ "post" : { "create_at" : 1700000000000 , "message" : "m" , "user" : "alice" ,'
        b' "channel" : "chan1" , "team" : "team1" } , "type" : "post" }',
        # unknown keys in the payload and the envelope are ignored
        HEAD + b',"extra":{"nested":[1,2,{"x":null}]},"team_id":"abc"},"comment":"hi"}',
        # keys matched case-insensitively (Go's fold includes U+017F long s)
        b'{"TYPE":"post","Post":{"Team":"team1","CHANNEL":"chan1","User":"alice",'
        b'"Message":"m","Create_At":1700000000000}}',
        '{"type":"post","po\u017ft":{"team":"team1","channel":"chan1","user":"alice",'
        '"message":"m","create_at":1700000000000}}'.encode(),
        # escapes in keys and values
        b'{"type":"po\\u0073t","post":{"te\\u0061m":"team1","channel":"chan1","user":"alice",'
        b'"message":"caf\\u00e9 \\ud83d\\ude00 \\"q\\": \\\\","create_at":1700000000000}}',
        # CRLF line ending
        HEAD + b"}}\r",
        # a repeated array key: Go decodes the second array into the first one's elements
        HEAD + b',"replies":[{"user":"bob","message":"r","create_at":1700000000001}],'
        b'"replies":[{"message":"r2"}]}}',
        # props: nested objects, arrays, a float, an int beyond int64 (a float64 in Go)
        HEAD + b',"props":{"attachments":[{"text":"<b>&</b>","fields":[]}],"f":1.5e10,'
        b'"big":123456789012345678901234567890,"t":true,"n":null}}}',
        # type null, is_pinned false, edit_at null, empty arrays
        HEAD + b',"type":null,"is_pinned":false,"edit_at":null,"reactions":[],"replies":[],'
        b'"attachments":[],"flagged_by":[],"thread_followers":[]}}',
    ],
    ids=[
        "reordered-spaced",
        "unknown-keys",
        "case-folded-keys",
        "long-s-key",
        "escapes",
        "crlf",
        "repeated-array-key-merges",
        "rich-props",
        "nulls-and-empties",
    ],
)
def test_odd_but_valid_post_spellings_are_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: bytes
) -> None:
    report = both(tmp_path, monkeypatch, [raw])
    assert found(report) == []
    assert report["counts"]["posts"] == 1


def test_the_last_of_two_type_keys_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = b'{"type":"post","Type":"team","post":{"team":"team1"}}'
    report = both(tmp_path, monkeypatch, [raw])
    assert [(i["code"], i["server_error_id"]) for i in report["issues"]] == [
        ("payload-missing", "app.import.import_line.null_team.error")
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("create_at", b"true"),
        ("create_at", b"1.0"),
        ("create_at", b"9223372036854775808"),
        ("is_pinned", b"1"),
        ("props", b"[]"),
    ],
)
def test_wrong_json_types_fail_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str, value: bytes
) -> None:
    raw = b'{"type":"post","post":{"team":"team1","channel":"chan1","user":"alice",'
    raw += b'"message":"m","' + field.encode() + b'":' + value + b"}}"
    report = both(tmp_path, monkeypatch, [raw])
    assert found(report) == [("json-type", LINE, f"post.{field}")]


def test_a_props_number_beyond_float64_fails_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = both(tmp_path, monkeypatch, [HEAD + b',"props":{"a":1e400}}}'])
    assert found(report) == [("json-type", LINE, "post.props")]


def test_nul_in_a_nested_props_key_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = both(tmp_path, monkeypatch, [HEAD + b',"props":{"a":{"b\\u0000":1}}}}'])
    assert found(report) == [("nul-character", LINE, "post.props.a.b\x00")]


def test_a_lone_surrogate_is_a_warning_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = b'{"type":"post","post":{"team":"team1","channel":"chan1","user":"alice",'
    raw += b'"message":"x\\ud800y","create_at":1700000000000}}'
    report = both(tmp_path, monkeypatch, [raw])
    assert report["valid"]
    assert found(report) == [("invalid-utf8", LINE, None)]


# --- confirmed: validator and apply boundaries on post lines ------------------------------------


def test_message_length_is_counted_in_runes_at_the_boundary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_limit = post("team1", "chan1", "alice", "é" * 16383, T0)
    over = post("team1", "chan1", "alice", "é" * 16384, T0 + 1)
    report = both(tmp_path, monkeypatch, [at_limit, over])
    assert found(report) == [("invalid-field", LINE + 1, "post.message")]


def test_reactions_by_users_differing_only_in_case_resolve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = post_with(
        reactions=[reaction("alice", "smile", T0), reaction("ALICE", "smile", T0)],
        thread_followers=[{"user": "BoB"}],
    )
    assert found(both(tmp_path, monkeypatch, [line])) == []


def test_replies_at_their_posts_time_are_fine_one_ms_earlier_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = post_with(
        replies=[reply("bob", "r", T0), reply("bob", "r", T0), reply("bob", "early", T0 - 1)]
    )
    report = both(tmp_path, monkeypatch, [line])
    assert report["valid"]
    assert found(report) == [("reply-before-parent", LINE, "post.replies[2].create_at")]


def test_a_reply_reaction_is_measured_against_the_reply_not_the_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok = post_with(replies=[reply("bob", "r", T0 - 10, reactions=[reaction("bob", "x", T0 - 5)])])
    bad = post(
        "team1",
        "chan1",
        "alice",
        "n",
        T0,
        replies=[reply("bob", "r", T0 + 10, reactions=[reaction("bob", "x", T0 + 5)])],
    )
    report = both(tmp_path, monkeypatch, [ok, bad])
    assert ("invalid-field", LINE + 1, "post.replies[0].reactions[0].create_at") in found(report)
    assert [i for i in errors(report) if i["line"] == LINE] == []


def test_a_unicode_emoji_reaction_passes_the_validator_but_fails_on_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = both(tmp_path, monkeypatch, [post_with(reactions=[reaction("bob", "😀", T0)])])
    assert [(i["code"], i["server_error_id"]) for i in report["issues"]] == [
        ("apply-invalid", "model.reaction.is_valid.emoji_name.app_error")
    ]


def test_post_types_are_case_sensitive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = both(
        tmp_path,
        monkeypatch,
        [post_with(type="me"), post("team1", "chan1", "bob", "n", T0, type="Me")],
    )
    assert found(report) == [("apply-invalid", LINE + 1, "post.type")]


def test_a_direct_post_with_a_repeated_member_is_a_self_dm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = direct_post(["alice", "alice"], "alice", "note to self", T0, flagged_by=["alice"])
    assert found(both(tmp_path, monkeypatch, [line])) == []


def test_direct_post_flaggers_are_compared_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = direct_post(["alice", "bob"], "alice", "m", T0, flagged_by=["Alice"])
    report = both(tmp_path, monkeypatch, [line])
    assert report["issues"][0]["server_error_id"] == (
        "app.import.validate_direct_post_import_data.unknown_flagger.error"
    )


def test_a_null_attachment_does_not_stop_reply_files_but_an_empty_path_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replies = [reply("bob", "r", T0 + 1, attachments=["x.txt"])]
    null_first = post_with(attachments=[None], replies=replies)
    empty_first = post("team1", "chan1", "alice", "n", T0, attachments=[""], replies=replies)
    report = both(tmp_path, monkeypatch, [null_first, empty_first], {"data/x.txt": b"x"})
    # The empty path names no file (a warning of its own) and still stops the reply files.
    assert [i for i in found(report) if i[1] is not None] == [
        ("attachment-path-empty", LINE + 1, "post.attachments[0].path"),
        ("attachment-dropped", LINE + 1, "post.replies[0].attachments[0].path"),
    ]


def test_an_nfd_attachment_path_finds_its_nfc_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = post_with(attachments=["/cafe\u0301.txt"])
    assert found(both(tmp_path, monkeypatch, [line], {"data/caf\u00e9.txt": b"x"})) == []


# --- bugs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [b"5", b"true"])
def test_a_scalar_direct_post_flagged_by_is_a_decode_error(tmp_path: Path, value: bytes) -> None:
    path = make_archive(tmp_path / "a.zip", [*BASE, DM_HEAD + b',"flagged_by":' + value + b"}}"])
    report = validate(path, max_issues=None).to_dict()
    assert found(report) == [("json-type", LINE, "direct_post.flagged_by")]


# An empty string (or a null array element, which Go decodes as "") passes the validator's
# nil checks (§4.8, §4.9, §4.10, §4.5.2, §4.4) and is then looked up at apply time, where no team,
# channel or user is named "": the import fails (§5.2). The last item names the check
# (archivekit.check.post_refs.PostReferences, archivekit.check.engine.LineProcessor).
EMPTY_REFERENCES = [
    ("post.user", post("team1", "chan1", "", "m", T0), USERS_NOT_FOUND, "PostReferences.post"),
    ("post.team", post("", "chan1", "alice", "m", T0), TEAMS_NOT_FOUND, "PostReferences.place"),
    (
        "post.channel",
        post("team1", "", "alice", "m", T0),
        POST_CHANNEL_NOT_FOUND,
        "PostReferences.place",
    ),
    ("post.flagged_by[0]", post_with(flagged_by=[None]), USERS_NOT_FOUND, "PostReferences.users"),
    (
        "post.reactions[0].user",
        post_with(reactions=[reaction("", "smile", T0)]),
        REACTION_USER_NOT_FOUND,
        "PostReferences._reactions",
    ),
    (
        "post.replies[0].user",
        post_with(replies=[reply("", "r", T0)]),
        USERS_NOT_FOUND,
        "PostReferences.post",
    ),
    (
        "direct_post.channel_members[1]",
        direct_post(["alice", None], "alice", "m", T0),  # type: ignore[list-item]
        USERS_NOT_FOUND,
        "PostReferences.users",
    ),
    (
        "direct_channel.members[1]",
        direct_channel(["alice", ""]),
        USERS_NOT_FOUND,
        "PostReferences.direct_channel",
    ),
    (
        "user.teams[0].name",
        user("carol", teams=[{"name": "", "roles": "team_user"}]),
        TEAMS_NOT_FOUND,
        "LineProcessor._user",
    ),
    ("channel.team", channel("", "chan2"), CHANNEL_TEAM_NOT_FOUND, "LineProcessor._channel"),
]


@pytest.mark.parametrize(
    ("field", "line", "server_id"),
    [pytest.param(f, line, sid, id=f) for f, line, sid, _where in EMPTY_REFERENCES],
)
def test_an_empty_reference_is_not_found_by_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str, line: Any, server_id: str
) -> None:
    report = both(tmp_path, monkeypatch, [line])
    assert [(i["line"], i["field"], i["server_error_id"]) for i in errors(report)] == [
        (LINE, field, server_id)
    ]


def test_a_username_with_dotted_capital_i_is_stored_with_a_plain_i(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # §4.5 / §7: the validator lowercases (Go: İ -> i) and the user is stored lowercase, so
    # the username is "ivan" and references to "ivan" resolve.
    lines = [user("\u0130van", teams={"team1": ["chan1"]}), post("team1", "chan1", "ivan", "m", T0)]
    report = both(tmp_path, monkeypatch, lines)
    assert errors(report) == []


def test_a_team_name_with_dotted_capital_i_is_found_by_its_lowercase_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # §4.3 / §5.1: the channel's team is looked up lowercased (Go: "İnfo" -> "info").
    report = both(tmp_path, monkeypatch, [team("\u0130nfo"), channel("info", "general")])
    assert [i for i in errors(report) if i["field"] == "channel.team"] == []


def test_a_repeated_array_key_merges_even_next_to_spaced_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # §2.2: a repeated key is decoded into the earlier value (reply 0 keeps user and create_at).
    raw = (
        HEAD + b',"replies":[{"user":"bob","message":"r","create_at":1700000000001}],'
        b'"a" :1,"b" :1,"c" :1,"d" :1,"replies":[{"message":"r2"}]}}'
    )
    assert found(both(tmp_path, monkeypatch, [raw])) == []


def test_a_mixed_case_reference_defined_later_says_both_fixes(tmp_path: Path) -> None:
    # Moving the definition alone would not help: the server never finds "Dave" (stored
    # "dave"). One issue per reference, as for an undefined one, that names both fixes.
    lines = [
        team("t1"),
        channel("t1", "c1"),
        user("alice", teams={"t1": ["c1"]}),
        post("t1", "c1", "Dave", "hi", T0),
        user("dave", teams={"t1": ["c1"]}),
    ]
    report = validate(make_archive(tmp_path / "a.zip", lines), max_issues=None)
    assert [(i.code, i.field) for i in report.issues] == [("defined-later", "post.user")]
    (issue,) = report.issues
    assert issue.values["miscased"] is True
    assert "move the definition" in issue.message
    assert "must say 'dave'" in issue.message
