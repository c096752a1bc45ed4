"""Regenerate the committed sample archives (byte-identical on every run) and their README tables.

    python sample_exports/generate.py            # rewrites sample_exports/*.zip and README.md
    python sample_exports/generate.py --out DIR  # writes the zips into DIR only

Each broken/over-limit line is declared next to the sentence that explains it, so the README
cannot drift from the archive (tests/test_synth.py checks both).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from archivekit.testing import synth
from archivekit.testing.synth import (
    Line,
    channel,
    direct_channel,
    direct_post,
    emoji,
    post,
    reaction,
    reply,
    team,
    user,
    version,
)

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"

# Exporter-shaped ids (26 chars of Mattermost's id alphabet), fixed so paths never change.
TEAM_ID = "k3yd8w5ajbgfpq1mtzx7rn4ehc"
CHANNEL_ID = "r9cu6z3sq1hx8dmkwa4otbye7n"
USER_ID = "b5n8wqe3xj1crtzo7mkya6dhgs"
T0 = 1_704_153_600_000  # 2024-01-02T00:00:00Z


def attachment_path(file_id: str, name: str) -> str:
    """An exporter-style attachment path (relative to ``data/``, as the JSONL writes it)."""
    return f"20240102/teams/{TEAM_ID}/channels/{CHANNEL_ID}/users/{USER_ID}/{file_id}/{name}"


def generate_clean(path: Path, jsonl_method: synth.Method = "deflate") -> synth.GenerateStats:
    """The clean sample: every line type, attachments (one on a reply), DMs and GMs, a bot,
    custom emoji with images, roles and schemes; a few hundred lines."""
    return synth.generate_export(
        path,
        seed=7,
        teams=2,
        channels_per_team=4,
        users=12,
        posts=180,
        dm_channels=4,
        gm_channels=2,
        direct_posts=50,
        attachments=8,
        emojis=2,
        bots=1,
        roles_and_schemes=True,
        jsonl_method=jsonl_method,
    )


# --- broken.zip: one common mistake per line --------------------------------------------------

DIAGRAM = attachment_path("f1rstf1leid0000000000000aa", "diagram.png")
MISSING = attachment_path("m1ss1ngf1le000000000000aab", "missing.pdf")
REPORT = attachment_path("d4t4pref1xed0000000000000c", "report.csv")
LONG_MESSAGE = "x" * 16384


def broken_lines() -> list[tuple[Line, str]]:
    """(line, what is wrong with it) in file order; line numbers are list positions + 1."""
    alice, bob = "alice.smith", "bob.jones"
    return [
        (version(), "version line (valid)"),
        (team("eng"), "valid team"),
        (
            team("admin-tools"),
            "reserved team name: starts with `admin` → `name_reserved.error` (fatal)",
        ),
        (
            team("sales", allow_open_invite="true"),
            'boolean written as a string (`"allow_open_invite":"true"`) → JSON decode error '
            "(fatal)",
        ),
        (channel("eng", "town-square"), "valid channel"),
        (channel("eng", "off-topic"), "valid channel"),
        (user(alice, teams=["eng"]), "valid user"),
        (user(bob, teams=["eng"]), "valid user"),
        (
            user(alice, teams=["eng"], email="alice@other.example.com"),
            "duplicate user `alice.smith` (line 7): the server silently updates the first; "
            "mmctl reports `duplicate entry`",
        ),
        (
            user("carol.brown", teams=["eng"], email="carol-at-example.com"),
            "email without `@` → `model.user.is_valid.email.app_error` at apply (fatal)",
        ),
        (
            user("dave.garcia", teams=["Eng"]),
            "uppercase team reference `Eng` in `teams[].name` (looked up exactly) → "
            "`some_teams_not_found` (fatal)",
        ),
        (
            post("eng", "town-square", alice, "Here is the diagram", T0 + 1, attachments=[DIAGRAM]),
            "valid post with an attachment that is in the zip",
        ),
        (
            post("eng", "Town-Square", alice, "Uppercase channel", T0 + 2),
            "uppercase channel reference `Town-Square` (looked up exactly) → "
            "`import_post.channel_not_found.error`, reported on line 0 (batch)",
        ),
        (
            post("eng", "town-square", bob, "Where is the PDF?", T0 + 3, attachments=[MISSING]),
            "attachment not in the zip → file dropped, post imported (warning)",
        ),
        (
            post("eng", "town-square", bob, "Report", T0 + 4, attachments=["data/" + REPORT]),
            "`data/`-prefixed path: the server looks for `data/data/…` → file dropped "
            "(mmctl accepts it)",
        ),
        (
            post("eng", "town-square", "mallory", "Who am I?", T0 + 5),
            "unknown user `mallory` → `some_users_not_found`, reported on line 0 (batch)",
        ),
        (
            post("eng", "releases", alice, "Release notes", T0 + 6),
            "channel `releases` is only defined on line 26, a later block → "
            "`import_post.channel_not_found.error` (line 0)",
        ),
        (
            post("eng", "town-square", alice, LONG_MESSAGE, T0 + 7),
            "message of 16,384 runes, one over MaxPostSize → `message_length.error` (fatal)",
        ),
        (
            post(
                "eng",
                "town-square",
                alice,
                "Reacted too early",
                T0 + 8,
                reactions=[reaction(bob, "thumbsup", T0 + 7)],
            ),
            "reaction 1 ms before its post → `validate_reaction_import_data."
            "create_at_before_parent.error` (fatal)",
        ),
        (
            post(
                "eng",
                "town-square",
                alice,
                "Thread",
                T0 + 9,
                replies=[reply(bob, "Reply from the past", T0 + 1)],
            ),
            "reply older than its parent → warning only (the server clamps it to the parent)",
        ),
        ("", "blank line → JSON decode error (fatal; mmctl: `unexpected empty line`)"),
        (
            '{"type":"post","post":{"team":"eng","channel":"town-square"',
            "truncated JSON → `app.import.bulk_import.json_decode.error` (fatal)",
        ),
        (
            {"type": "webhook", "webhook": {"url": "https://example.com/hook"}},
            "unknown line type `webhook` → `import_line.unknown_line_type.error` (fatal)",
        ),
        (
            version(),
            "a second version line: only line 1 may be one → `unknown_line_type.error` (fatal)",
        ),
        (
            post("eng", "town-square", bob, "Timeless", 0),
            "`create_at` 0 → `validate_post_import_data.create_at_zero.error` (fatal)",
        ),
        (channel("eng", "releases"), "valid channel, but after the post of line 17"),
        (
            emoji("smile", "emoji/smile/image"),
            "custom emoji named like a system emoji → skipped with a warning",
        ),
        (
            direct_channel([alice]),
            "DM with 1 member → `members_too_few.error` (non-fatal: the line is skipped)",
        ),
        (
            direct_post([alice, bob], alice, "psst", T0 + 10, flagged_by=["mallory"]),
            "flagged by `mallory`, who is not a channel member → `unknown_flagger.error` (fatal)",
        ),
        (direct_post([alice, bob], bob, "All good here", T0 + 11), "valid direct post"),
    ]


def broken_files() -> dict[str, bytes]:
    return {
        "data/" + DIAGRAM: synth.png_bytes(120, 80),
        "data/" + REPORT: b"quarter,revenue\nq1,100\n",
        "data/emoji/smile/image": synth.png_bytes(32, 32),
    }


# --- over_limits.zip: every limit at the boundary and one over ------------------------------

AT_LIMIT_IMAGE = attachment_path("4tl1m1t1mage00000000000aaa", "7680x4320.png")
OVER_LIMIT_IMAGE = attachment_path("0verl1m1t1mage0000000000ab", "8000x5000.png")


def _files_path(i: int) -> str:
    return attachment_path(f"manyf1les{i:02d}".ljust(26, "0"), f"file-{i:02d}.txt")


def over_limit_lines() -> list[tuple[Line, str]]:
    members = [f"member{i:02d}" for i in range(1, 61)]
    first = members[0]
    lines: list[tuple[Line, str]] = [
        (version(), "version line"),
        (team("big"), "valid team"),
        (channel("big", "town-square"), "valid channel"),
        (channel("big", "off-topic"), "valid channel"),
    ]
    for i, name in enumerate(members, start=1):
        if i < 50:
            note = "a member of `big` (valid)"
        elif i == 50:
            note = "the 50th member of `big`: exactly MaxUsersPerTeam, valid"
        else:
            note = "one more member than MaxUsersPerTeam (50) → `max_accounts.app_error` (fatal)"
        lines.append((user(name, teams=["big"]), note))
    lines += [
        (
            post("big", "town-square", first, "At the limit", T0 + 1, attachments=[AT_LIMIT_IMAGE]),
            "PNG whose header says 7680×4320 = 33,177,600 px, exactly MaxImageResolution: kept",
        ),
        (
            post("big", "town-square", first, "Too big", T0 + 2, attachments=[OVER_LIMIT_IMAGE]),
            "PNG whose header says 8000×5000 = 40,000,000 px > MaxImageResolution → "
            "attachment dropped (non-fatal)",
        ),
        (
            post(
                "big",
                "town-square",
                first,
                "Ten files",
                T0 + 3,
                attachments=[_files_path(i) for i in range(1, 11)],
            ),
            "10 attachments: the per-post maximum, valid",
        ),
        (
            post(
                "big",
                "town-square",
                first,
                "Eleven files",
                T0 + 4,
                attachments=[_files_path(i) for i in range(1, 12)],
            ),
            "11 attachments → `model.post.is_valid.file_ids.app_error` (fatal)",
        ),
        (
            post("big", "town-square", first, "é" * 16383, T0 + 5),
            "message of exactly 16,383 runes (32,766 bytes): at MaxPostSize, valid",
        ),
    ]
    return lines


def over_limit_files() -> dict[str, bytes]:
    files = {
        "data/" + AT_LIMIT_IMAGE: synth.png_bytes(7680, 4320),
        "data/" + OVER_LIMIT_IMAGE: synth.png_bytes(8000, 5000),
    }
    for i in range(1, 12):
        files["data/" + _files_path(i)] = f"attachment {i}\n".encode()
    return files


# --- building ---------------------------------------------------------------------------------


def build_all(out_dir: Path) -> dict[str, synth.GenerateStats | None]:
    """Write the four sample archives into ``out_dir``; stats for the generated ones."""
    out_dir.mkdir(parents=True, exist_ok=True)
    clean = generate_clean(out_dir / "clean.zip")
    if clean.reply_attachments < 1:
        raise RuntimeError("clean.zip must carry an attachment on a reply: pick another seed")
    d64 = generate_clean(out_dir / "deflate64.zip", jsonl_method="deflate64")
    synth.make_archive(
        out_dir / "broken.zip",
        [line for line, _ in broken_lines()],
        broken_files(),
        version_line=False,
    )
    synth.make_archive(
        out_dir / "over_limits.zip",
        [line for line, _ in over_limit_lines()],
        over_limit_files(),
        version_line=False,
    )
    return {"clean.zip": clean, "deflate64.zip": d64, "broken.zip": None, "over_limits.zip": None}


def _line_table(lines: Sequence[tuple[Line, str]]) -> str:
    """One row per line; consecutive lines of the same type and note share a row (5–53)."""
    rows: list[list[Any]] = []
    for number, (line, note) in enumerate(lines, start=1):
        kind = line.get("type", "?") if isinstance(line, dict) else "(raw)"
        if rows and rows[-1][2:] == [kind, note]:
            rows[-1][1] = number
        else:
            rows.append([number, number, kind, note])
    out = ["| line | type | what it shows |", "|---:|---|---|"]
    for first, last, kind, note in rows:
        span = str(first) if first == last else f"{first}–{last}"
        out.append(f"| {span} | `{kind}` | {note} |")
    return "\n".join(out)


def _counts_table(stats: synth.GenerateStats) -> str:
    rows = ["| line type | count |", "|---|---:|"]
    rows += [f"| `{kind}` | {n} |" for kind, n in stats.lines.items()]
    rows.append(f"| replies (inside post lines) | {stats.replies} |")
    rows.append(f"| reactions | {stats.reactions} |")
    rows.append(f"| attachments (files under `data/`) | {stats.attachments} |")
    rows.append(f"| of which on replies | {stats.reply_attachments} |")
    rows.append(f"| JSONL bytes (uncompressed) | {stats.jsonl_bytes} |")
    return "\n".join(rows)


def _filler(table: str) -> Callable[[re.Match[str]], str]:
    return lambda m: f"{m.group(1)}{table}\n{m.group(2)}"


def render_readme(text: str, stats: synth.GenerateStats) -> str:
    """``text`` with every ``<!-- generated:NAME -->`` section replaced by its current table."""
    sections = {
        "clean": _counts_table(stats),
        "broken": _line_table(broken_lines()),
        "over_limits": _line_table(over_limit_lines()),
    }
    for name, table in sections.items():
        pattern = re.compile(
            rf"(<!-- generated:{name} -->\n)(?:.*?\n)?(<!-- /generated:{name} -->)", re.DOTALL
        )
        text, n = pattern.subn(_filler(table), text)
        if n != 1:
            raise RuntimeError(f"README.md lacks the generated:{name} markers")
    return text


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="directory for the zips")
    args = parser.parse_args(argv)
    stats = build_all(args.out)
    clean = stats["clean.zip"]
    assert clean is not None
    if args.out.resolve() == HERE:
        README.write_text(render_readme(README.read_text(encoding="utf-8"), clean), "utf-8")
    for name in stats:
        size = (args.out / name).stat().st_size
        print(f"{args.out / name}: {size} bytes")


if __name__ == "__main__":
    main()
