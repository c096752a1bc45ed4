"""Archives for the triage page's tests: one with a bit of everything the page shows, and
names that try to run code in the page."""

from __future__ import annotations

from pathlib import Path

from archivekit.testing.synth import (
    channel,
    direct_channel,
    direct_post,
    make_archive,
    png_bytes,
    post,
    reply,
    team,
    user,
)

# Names from the archive that would run (or load) something if they reached the page as HTML.
SCRIPT = "<script>window.__pwned = 1</script>"
IMAGE = '<img src="x" onerror="window.__pwned = 2">'
MATH = "$x^2$"
T0 = 1_700_000_000_000  # 2023-11-14
MONTH = 31 * 86_400_000


def busy_archive(path: Path) -> Path:
    """Two teams, posts over four months, a DM and a GM, attachments of three types, issues of
    several kinds (among them a hostile channel and a hostile user, each named in messages)."""
    users = [f"user{i:02d}" for i in range(12)]
    lines = [
        team("eng"),
        team("sales"),
        channel("eng", "general"),
        channel("eng", "random"),
        channel("sales", "deals"),
        channel("eng", SCRIPT, display_name=SCRIPT),  # invalid name: an issue quoting it
        channel("sales", MATH),
    ]
    lines += [user(name, {"eng": ["general", "random"], "sales": ["deals"]}) for name in users]
    lines += [direct_channel(users[:2]), direct_channel(users[:3])]
    at = T0
    for i in range(60):
        where = ("eng", "general") if i % 3 else ("sales", "deals")
        extra = {}
        if i % 10 == 0:
            extra["attachments"] = [f"files/f{i}.{('png', 'pdf', 'txt')[i % 3]}"]
        if i % 7 == 0:
            extra["replies"] = [reply(users[(i + 1) % 12], "a reply", at + 1000)]
        lines.append(post(*where, users[i % 5], f"message {i}", at, **extra))
        at += MONTH // 15
    lines.append(post("eng", "random", IMAGE, "from a user nobody defined", T0 + 5))
    lines.append(post("eng", "nowhere", users[0], "to a channel nobody defined", T0 + 6))
    lines.append(post("eng", SCRIPT, users[1], SCRIPT, T0 + 7))
    lines.append(post("sales", MATH, users[1], MATH, T0 + 10))
    lines.append(direct_post(users[:2], users[0], "hi", T0 + 8))
    lines.append(direct_post(users[:3], users[2], "hello all", T0 + 9))
    files = {
        f"data/files/f{i}.{('png', 'pdf', 'txt')[i % 3]}": png_bytes(4, 4)
        if i % 3 == 0
        else b"x" * 100
        for i in range(0, 60, 10)
    }
    files["data/unused.bin"] = b"nobody uses me"
    return make_archive(path, lines, files)
