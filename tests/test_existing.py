"""Imports into a populated server: references to what the target already has resolve when
it is declared (like mmctl's ``--team``)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from archivekit.check.references import Existing
from archivekit.cli import cli
from archivekit.testing.synth import channel, make_archive, post, user
from archivekit.validate import validate

LINES = [
    channel("sales", "deals"),
    user("alice", teams={"sales": ["deals"]}),
    post("sales", "deals", "bob", "hi", 1_700_000_000_000),
    post("sales", "town-square", "alice", "hello", 1_700_000_000_001),
]


def codes(path: Path, existing: Existing | None = None) -> list[str]:
    return [i.code for i in validate(path, existing=existing, max_issues=None).issues]


def test_without_a_declaration_the_references_are_unknown(tmp_path: Path) -> None:
    found = codes(make_archive(tmp_path / "a.zip", LINES))
    assert found.count("unknown-team") == 4  # the channel line, the user line, both posts
    assert "unknown-user" in found


def test_declared_teams_and_users_resolve_with_their_default_channels(tmp_path: Path) -> None:
    path = make_archive(tmp_path / "a.zip", LINES)
    existing = Existing(teams=frozenset({"sales"}), users=frozenset({"bob"}))
    assert codes(path, existing) == []
    assert validate(path, existing=existing, workers=2, block_size=64).valid


def test_redefining_an_existing_team_says_it_updates_the_servers_team(tmp_path: Path) -> None:
    from archivekit.testing.synth import team

    path = make_archive(tmp_path / "a.zip", [team("sales")])
    report = validate(path, existing=Existing(teams=frozenset({"sales"})))
    (issue,) = report.issues
    assert issue.code == "duplicate-team"
    assert "already exists on the target server" in issue.message
    assert "duplicate entry, server already has a team named" in issue.message


def test_a_channel_line_for_a_default_channel_of_an_existing_team_is_no_duplicate(
    tmp_path: Path,
) -> None:
    # Converters (mmetl) write town-square and off-topic lines for a team made beforehand.
    from archivekit.testing.synth import channel

    lines = [channel("sales", "town-square"), channel("sales", "off-topic"), channel("sales", "x")]
    path = make_archive(tmp_path / "a.zip", lines)
    assert codes(path, Existing(teams=frozenset({"sales"}))) == []
    declared = Existing(channels=frozenset({("sales", "x")}))
    assert codes(path, declared) == ["duplicate-channel"]  # declared, then defined: says so


def test_the_cli_options(tmp_path: Path) -> None:
    path = make_archive(tmp_path / "a.zip", LINES)
    runner = CliRunner()
    assert runner.invoke(cli, ["validate", str(path)]).exit_code == 1
    args = ["validate", str(path), "--existing-team", "sales", "--existing-user", "bob"]
    assert runner.invoke(cli, args).exit_code == 0
    bad = runner.invoke(cli, ["validate", str(path), "--existing-channel", "nochannel"])
    assert bad.exit_code == 2
    assert "TEAM/CHANNEL" in bad.stderr
