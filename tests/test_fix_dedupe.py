"""`archivekit fix --dedupe`: duplicate definitions merged the way the importer applies them.

The end state is checked against `imported`, a small model of what the importer stores after
each definition line (written from its import functions as a state update, independently of
the merge in `archivekit.write.dedupe`): the original archive and the deduplicated one must
leave the same teams, channels, users, memberships, preferences, roles, schemes and emoji.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_filter import files, jsonl
from test_fix import PNG, T0, fix, members, run_cli

from archivekit.testing.fuzz import scaled_examples
from archivekit.testing.synth import (
    bot,
    channel,
    emoji,
    generate_export,
    make_archive,
    post,
    role,
    scheme,
    team,
    user,
)
from archivekit.validate import validate
from archivekit.write.dedupe import NotMergeable, merge
from archivekit.write.repairs import FixOptions

DEDUPE = FixOptions(dedupe=True)
DUPLICATE_CODES = {f"duplicate-{k}" for k in ("team", "channel", "user", "emoji", "scheme", "role")}

# --- a model of the importer's end state ---------------------------------------------------------

State = dict[tuple[str, str], dict[str, Any]]
_PREFERENCES = ("theme", "military_time", "link_previews", "name_format", "tutorial_step")
_INTERVALS = {"immediately": "30", "fifteen": "900", "hour": "3600"}


def _set_given(target: dict[str, Any], source: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if source.get(name) is not None:
            target[name] = source[name]


def _import_user(state: State, data: dict[str, Any]) -> None:
    stored = state.setdefault(("user", data["username"].lower()), {"props": {}, "prefs": {}})
    stored["kind"] = "user"
    stored["email"] = data["email"].lower()
    if data.get("auth_data") is not None:
        stored["sign_in"] = ("sso", data.get("auth_service") or "", data["auth_data"])
    elif data.get("password") is not None:
        stored["sign_in"] = ("password", data["password"])
    else:
        stored["sign_in"] = ("random",)
    _set_given(stored, data, ("nickname", "first_name", "last_name", "position", "delete_at"))
    stored["locale"] = data.get("locale") or "default"
    stored["roles"] = data.get("roles") or stored.get("roles") or "system_user"
    props = data.get("notify_props")
    if props is not None:
        _set_given(stored["props"], props, tuple(props))
        if props.get("mention_keys") is None:
            stored["props"]["mention_keys"] = "from the username"
    _set_given(stored["prefs"], data, _PREFERENCES)
    if data.get("email_interval") is not None or stored["props"].get("email") == "false":
        off = stored["props"].get("email") == "false"
        stored["prefs"]["email_interval"] = "0" if off else _INTERVALS[data["email_interval"]]
    guest = "system_guest" in stored["roles"].split()
    for entry in data.get("teams") or ():
        team_key = entry["name"].lower()
        membership = {"roles": entry.get("roles")}
        stored[("team", team_key)] = membership
        if entry.get("theme") is not None:
            stored["prefs"][("theme", team_key)] = entry["theme"]
        listed = list(entry.get("channels") or ())
        if not guest and not any(c["name"] == "town-square" for c in listed):
            listed.append({"name": "town-square"})
        for item in listed:
            where = ("channel", team_key, item["name"].lower())
            stored[where] = {
                "roles": item.get("roles"),
                "notify_props": item.get("notify_props"),
                "last_viewed_at": item.get("last_viewed_at"),
            }
            if item.get("favorite"):
                stored["prefs"][("favorite", *where[1:])] = True


def imported(path: Path) -> State:
    """What the importer stores after every definition line of ``path``, in order."""
    state: State = {}
    for line in jsonl(path):
        record = orjson.loads(line)
        kind = record["type"]
        data = record.get(kind)
        if kind == "team":
            stored = state.setdefault(("team", data["name"].lower()), {})
            _set_given(stored, data, ("display_name", "type", "description", "allow_open_invite"))
        elif kind == "channel":
            key = ("channel", f"{data['team'].lower()}/{data['name'].lower()}")
            stored = state.setdefault(key, {})
            stored["display_name"] = data.get("display_name") or data["name"]
            _set_given(stored, data, ("type", "header", "purpose", "scheme"))
            if (data.get("deleted_at") or 0) > 0:
                stored["archived_at"] = data["deleted_at"]
        elif kind == "user":
            _import_user(state, data)
        elif kind == "bot":
            stored = state.setdefault(("user", data["username"].lower()), {"kind": "bot"})
            _set_given(stored, data, ("display_name", "description", "owner", "profile_image"))
        elif kind == "emoji":
            state[("emoji", data["name"])] = {"image": data["image"]}
        elif kind == "role":
            stored = state.setdefault(("role", data["name"]), {})
            _set_given(stored, data, ("display_name", "description", "permissions"))
    return state


# --- the tests ------------------------------------------------------------------------------------


def _membership(name: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, **kw}


def duplicated_lines() -> list[Any]:
    return [
        team("eng"),
        team("ops"),
        channel("eng", "dev", header="first header", purpose="first purpose"),
        channel("eng", "old", deleted_at=T0),
        role("helper_role"),
        user(
            "alice",
            [
                {
                    "name": "eng",
                    "roles": "team_user team_admin",
                    "theme": '{"sidebarBg":"#000000"}',
                    "channels": [
                        _membership("town-square", roles="channel_user channel_admin"),
                        _membership("dev", roles="channel_user", favorite=True),
                        _membership("old", roles="channel_user", last_viewed_at=T0),
                    ],
                }
            ],
            password="first-password",
            notify_props={"desktop": "all", "mention_keys": "al,alice", "email": "true"},
            theme='{"sidebarBg":"#111111"}',
        ),
        emoji("party", "emoji/party.png"),
        channel("eng", "Dev", display_name="", header="second header"),
        channel("eng", "old", deleted_at=0, purpose="still archived"),
        team("ENG", display_name="Engineering", description="the later team"),
        role("helper_role", display_name="Helper", permissions=["create_post"]),
        user(
            "Alice",
            [
                {"name": "eng", "roles": "team_user", "channels": [_membership("dev")]},
                {"name": "ops", "roles": "team_user", "channels": []},
            ],
            nickname="al",
            locale=None,
            notify_props={"desktop": "mention"},
            military_time="true",
        ),
        emoji("party", "emoji/party2.png"),
        post("eng", "dev", "alice", "hello", T0),
    ]


def test_dedupe_merges_into_the_first_definition_with_the_importers_end_state(
    tmp_path: Path,
) -> None:
    files = {"data/emoji/party.png": PNG, "data/emoji/party2.png": PNG}
    source = make_archive(tmp_path / "in.zip", duplicated_lines(), files)
    before = validate(source, max_issues=None)
    assert DUPLICATE_CODES & set(before.issue_counts) == {
        "duplicate-team",
        "duplicate-channel",
        "duplicate-user",
        "duplicate-emoji",
        "duplicate-role",
    }
    out = tmp_path / "out.zip"
    changes, result = fix(source, out, options=DEDUPE)
    after = validate(out, max_issues=None)
    assert not DUPLICATE_CODES & set(after.issue_counts)
    # The first emoji image is no longer named (the importer overwrote it anyway).
    assert set(after.issue_counts) - set(before.issue_counts) == {"attachment-unreferenced"}
    assert after.errors == 0
    assert imported(out) == imported(source)

    # Each merge is logged: the fields of the kept line, and every line left out.
    dropped = sorted(c["line"] for c in changes if c["repair"] == "dedupe" and c["field"] is None)
    assert dropped == [9, 10, 11, 12, 13, 14]
    assert result.stats.lines_dropped == 6
    fields = {(c["line"], c["field"]) for c in changes if c["field"] is not None}
    assert (2, "team.display_name") in fields
    assert (4, "channel.header") in fields
    assert (7, "user.teams") in fields
    # The merged lines are where the first definitions were; nothing else moved or changed.
    out_lines, in_lines = jsonl(out), jsonl(source)
    assert len(out_lines) == len(in_lines) - 6
    kept = [n for n in range(1, len(in_lines) + 1) if n not in dropped]
    rewritten = {2, 4, 5, 6, 7, 8}
    for index, number in enumerate(kept):
        if number not in rewritten:
            assert out_lines[index] == in_lines[number - 1]
    merged_team, merged_channel = orjson.loads(out_lines[1]), orjson.loads(out_lines[3])
    assert merged_team["team"]["name"] == "eng"  # the first line's spelling
    assert merged_team["team"]["description"] == "the later team"
    assert merged_channel["channel"]["name"] == "dev"
    assert merged_channel["channel"]["display_name"] == "Dev"  # the later line's name
    assert members(out) == members(source)


def test_the_user_merge_follows_the_importers_membership_rules() -> None:
    earlier = duplicated_lines()[5]
    later = duplicated_lines()[11]
    merged = merge(earlier, later)["user"]
    assert merged["username"] == "alice"  # the first line's spelling
    assert "password" not in merged  # the later line has none: the server makes one up
    assert "locale" not in merged  # left out later: reset to the default
    # notify_props merged key by key; a later notify_props without mention_keys resets them.
    assert merged["notify_props"] == {"desktop": "mention", "email": "true"}
    assert merged["theme"] == '{"sidebarBg":"#111111"}'
    assert merged["military_time"] == "true"
    eng, ops = merged["teams"]
    assert eng["roles"] == "team_user"  # the later membership replaces the earlier one
    assert eng["theme"] == '{"sidebarBg":"#000000"}'  # a theme preference stays
    by_name = {c["name"]: c for c in eng["channels"]}
    assert by_name["town-square"] == {"name": "town-square"}  # re-imported as plain
    assert by_name["old"]["last_viewed_at"] == T0  # only the earlier line lists it: kept
    assert by_name["dev"] == {"name": "dev", "favorite": True}  # a favourite is never unset
    assert ops["name"] == "ops"


def test_what_one_line_cannot_say_is_reported_and_left_as_it_is(tmp_path: Path) -> None:
    lines = [
        team("eng"),
        user("alice", ["eng"]),
        user("helper", ["eng"]),
        bot("helper", "alice"),
        scheme("sch", "team"),
        scheme("sch", "channel"),
        user("carol", ["eng"], notify_props={"email": "false"}),
        user("carol", ["eng"], notify_props={"email": "true"}),
        team("ops"),
        team("ops", display_name=""),  # refused by the validator: the import stops here
    ]
    source = make_archive(tmp_path / "in.zip", lines)
    changes, _ = fix(source, tmp_path / "out.zip", options=DEDUPE)
    refused = sorted((c["line"], c["note"]) for c in changes if c["after"] is None)
    assert [line for line, _ in refused] == [5, 7, 9, 11]
    assert "a user and a bot" in refused[0][1]
    assert "scope" in refused[1][1]
    assert "email interval" in refused[2][1]
    assert "without team.display_name" in refused[3][1]
    assert all(c["repair"] == "dedupe" for c in changes)
    assert jsonl(tmp_path / "out.zip") == jsonl(source)
    try:
        merge(lines[2], lines[3])
    except NotMergeable:
        pass
    else:  # pragma: no cover - the assertion is the point
        raise AssertionError("a user and a bot merged")


def test_a_merged_line_that_names_a_later_team_leads_to_block_order(tmp_path: Path) -> None:
    lines = [
        team("eng"),
        channel("eng", "dev"),
        user("alice", {"eng": ["dev"]}),
        team("ops"),  # defined after alice's first line, joined on her second
        user("alice", {"ops": []}),
        post("eng", "dev", "alice", "hi", T0),
    ]
    source = make_archive(tmp_path / "in.zip", lines)
    out = tmp_path / "out.zip"
    changes, result = fix(source, out, options=DEDUPE)
    assert result.stats.reordered
    assert "reorder-blocks" in {c["repair"] for c in changes}
    assert list(validate(out, max_issues=None).issues) == []
    assert imported(out) == imported(source)


def test_dedupe_is_opt_in_idempotent_and_deterministic(tmp_path: Path) -> None:
    files = {"data/emoji/party.png": PNG, "data/emoji/party2.png": PNG}
    source = make_archive(tmp_path / "in.zip", duplicated_lines(), files)
    changes, _ = fix(source, tmp_path / "default.zip")
    assert "dedupe" not in {c["repair"] for c in changes}
    for name in ("a.zip", "b.zip"):
        fix(source, tmp_path / name, options=DEDUPE)
    digests = {hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in ("a.zip", "b.zip")}
    assert len(digests) == 1
    again, _ = fix(tmp_path / "a.zip", tmp_path / "again.zip", options=DEDUPE)
    assert again == []
    assert jsonl(tmp_path / "again.zip") == jsonl(tmp_path / "a.zip")


def test_cli_lists_dedupe_and_merges_with_it(tmp_path: Path) -> None:
    done = run_cli("--help")
    assert b"--dedupe" in done.stdout
    assert b"fix export.zip -o fixed.zip --dedupe" in done.stdout
    source = make_archive(tmp_path / "in.zip", [team("eng"), team("eng", description="x")])
    done = run_cli(str(source), "-o", str(tmp_path / "out.zip"), "--dedupe")
    assert done.returncode == 0, done.stderr
    assert b"dedupe" in done.stdout
    assert len(jsonl(tmp_path / "out.zip")) == 2


# --- duplicates injected into generated archives ---------------------------------------------

_CHANGES = {
    "team": {"display_name": "Renamed", "description": "a later description"},
    "channel": {"display_name": "", "purpose": "a later purpose", "header": None},
    "user": {"nickname": "later", "locale": None, "teams": []},
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[bytes], dict[str, bytes]]:
    path = tmp_path_factory.mktemp("gen") / "gen.zip"
    generate_export(path, seed=5, posts=40, direct_posts=10, attachments=4, users=6)
    return jsonl(path), {name: value[3] for name, value in files(path).items()}


@settings(
    max_examples=scaled_examples(0.1),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_duplicates_injected_into_generated_archives_are_merged(
    data: st.DataObject,
    generated: tuple[list[bytes], dict[str, bytes]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Copies of definitions, changed or not, appended after the posts: after --dedupe no
    duplicate is left, the importer's end state is the same, and a second run changes nothing."""
    lines, archive_files = generated
    records = [orjson.loads(line) for line in lines]
    definitions = [i for i, r in enumerate(records) if r["type"] in _CHANGES]
    picked = data.draw(st.lists(st.sampled_from(definitions), min_size=1, max_size=4))
    extra = []
    for index in picked:
        copy = orjson.loads(lines[index])
        kind = copy["type"]
        if data.draw(st.booleans()):
            copy[kind].update(_CHANGES[kind])
        extra.append(copy)
    folder = tmp_path_factory.mktemp("dup")
    source = make_archive(folder / "in.zip", [*records, *extra], archive_files)
    out = folder / "out.zip"
    fix(source, out, options=DEDUPE)
    assert not DUPLICATE_CODES & set(validate(out, max_issues=None).issue_counts)
    assert imported(out) == imported(source)
    again, _ = fix(out, folder / "again.zip", options=DEDUPE)
    assert again == []
