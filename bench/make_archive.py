"""Build a realistic benchmark archive of about a given JSONL size (or post count).

    python bench/make_archive.py --jsonl-mb 400 --out bench/data/bench-400.zip
    python bench/make_archive.py --posts 50000 --out bench/data/mem-50000.zip
    python bench/make_archive.py --file-posts 150000 --out bench/data/files-300000-r2.zip

The shape (teams, users, DMs, attachments...) is fixed; only the number of posts (and direct
posts, one per six posts) grows. For --jsonl-mb the post count is derived from two small
calibration runs (bytes per post and fixed overhead), so the result lands within a few percent.

--file-posts builds the attachment-heavy shape of issue 19 instead: that many posts (one in
eight a direct post, one in ten with a reply), each with one to three files (two on average,
so about twice as many members; one reply in two carries one or two files too) at the paths
`mmctl export` writes,
``data/<day>/teams/<id>/channels/<id>/users/<id>/<id>/<name>``, stored, 50-500 bytes each.
The files are documents, logs and archives, no images. With --images about half of them
are images instead (PNG, JPEG and GIF headers of screenshot and photo sizes, then filler
bytes): the server measures their pixels (MaxImageResolution), so validate reads each image's
header (once per member) on top of resolving it. With --non-ascii-names every file name starts
with "Übersicht-" (NFC UTF-8, as the server exports it): the same archive but for one
non-ASCII character a name, for the member index's non-ASCII keys.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from archivekit.testing.synth import (
    GenerateStats,
    ZipMember,
    channel,
    direct_channel,
    direct_post,
    generate_export,
    gif_bytes,
    jpeg_header_bytes,
    post,
    reply,
    team,
    user,
    version,
    write_zip,
)
from archivekit.write.placeholders import blank_image

MB = 1_000_000
SHAPE: dict[str, Any] = {
    "teams": 4,
    "channels_per_team": 12,
    "users": 200,  # 4 teams x 50 = every user fits under MaxUsersPerTeam
    "dm_channels": 150,
    "gm_channels": 30,
    "attachments": 200,
    "emojis": 10,
    "bots": 3,
    "roles_and_schemes": True,
}


def generate(out: Path, posts: int, seed: int = 0) -> GenerateStats:
    return generate_export(out, seed=seed, posts=posts, direct_posts=posts // 6, **SHAPE)


def posts_for_jsonl_size(target_bytes: int, seed: int = 0) -> int:
    """Posts needed for ``target_bytes`` of JSONL, from a two-point calibration."""
    with tempfile.TemporaryDirectory() as tmp:
        small = generate(Path(tmp) / "a.zip", 2_000, seed).jsonl_bytes
        large = generate(Path(tmp) / "b.zip", 8_000, seed).jsonl_bytes
    per_post = (large - small) / 6_000
    overhead = small - 2_000 * per_post
    return max(1, round((target_bytes - overhead) / per_post))


_ID = "abcdefghijkmnopqrstuwxyz13456789"
_EXTENSIONS = ("pdf", "txt", "log", "docx", "zip", "csv", "xlsx", "md")
_WORDS = ("the", "build", "is", "green", "after", "a", "fix", "for", "flaky", "upload", "tests")


_IMAGE_SIZES = ((1920, 1080), (2560, 1440), (1280, 800), (4032, 3024), (800, 600))


def _ident(rng: random.Random) -> str:
    return "".join(rng.choices(_ID, k=26))


# What --non-ascii-names puts before every file name.
NON_ASCII_PREFIX = "\u00dcbersicht-"


def _file(rng: random.Random, n: int, images: bool) -> tuple[str, bytes]:
    """A file's name and content: a document, or (`images`, half the time) an image."""
    filler = rng.randbytes(rng.randint(50, 500))
    if not (images and rng.random() < 0.5):
        return f"{rng.choice(_WORDS)}-{n}.{rng.choice(_EXTENSIONS)}", filler
    width, height = rng.choice(_IMAGE_SIZES)
    kind = rng.random()
    if kind < 0.6:
        return f"screenshot-{n}.png", blank_image("png", width, height, header_only=True) + filler
    if kind < 0.9:
        return f"IMG_{n}.jpg", jpeg_header_bytes(width, height) + filler
    return f"anim-{n}.gif", gif_bytes(width, height) + filler


def generate_files(
    out: Path, posts: int, seed: int = 0, images: bool = False, non_ascii_names: bool = False
) -> tuple[int, int]:
    """The attachment-heavy archive (see the module docstring): (members, JSONL bytes)."""
    prefix = NON_ASCII_PREFIX if non_ascii_names else ""
    rng = random.Random(seed)
    team_id = _ident(rng)
    channels = [f"channel-{i}" for i in range(10)]
    channel_ids = {name: _ident(rng) for name in channels}
    users = [f"user{i}" for i in range(48)]  # under MaxUsersPerTeam (50)
    user_ids = {name: _ident(rng) for name in users}
    records: list[dict[str, Any]] = [
        version(),
        team("eng"),
        *(channel("eng", name) for name in channels),
        *(user(name, teams={"eng": channels}) for name in users),
        *(direct_channel([users[i], users[i + 1]]) for i in range(0, 40, 2)),
    ]
    lines = [orjson.dumps(record) for record in records]
    files: list[ZipMember] = []
    t0 = 1_700_000_000_000

    def attach(n: int, count: int, day: int, where: str, author: str) -> list[str]:
        """`count` files of `author` in `where` (members added), their paths for the line."""
        paths = []
        for _ in range(count):
            name, content = _file(rng, n, images)
            path = (
                f"{day}/teams/{team_id}/channels/{channel_ids[where]}/users/"
                f"{user_ids[author]}/{_ident(rng)}/{prefix}{name}"
            )
            paths.append(path)
            files.append(ZipMember("data/" + path, content))
        return paths

    for n in range(posts):
        author = rng.choice(users)
        where = rng.choice(channels)
        day = 20240101 + n * 300 // posts
        paths = attach(n, rng.randint(1, 3), day, where, author)
        message = " ".join(rng.choices(_WORDS, k=rng.randint(3, 30)))
        replies = []
        if n % 10 == 0:
            # The server checks a reply's files as it checks its post's: half the replies
            # carry one or two of their own.
            replier = rng.choice(users)
            extra: dict[str, Any] = {}
            if n % 20 == 0:
                extra["attachments"] = attach(n, rng.randint(1, 2), day, where, replier)
            replies.append(reply(replier, "thanks", t0 + 10 * n + 5, **extra))
        if n % 8 == 7:
            pair = rng.randrange(0, 40, 2)
            members = [users[pair], users[pair + 1]]
            record = direct_post(members, members[0], message, t0 + 10 * n, attachments=paths)
        else:
            record = post("eng", where, author, message, t0 + 10 * n, attachments=paths)
        if replies:
            record[record["type"]]["replies"] = replies
        lines.append(orjson.dumps(record))
    jsonl = b"\n".join(lines) + b"\n"
    write_zip(out, [ZipMember("import.jsonl", jsonl, "deflate"), *files])
    return len(files) + 1, len(jsonl)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--jsonl-mb", type=float, help="target uncompressed JSONL size (10^6 B)")
    size.add_argument("--posts", type=int, help="exact number of post lines")
    size.add_argument("--file-posts", type=int, help="posts of the attachment-heavy shape")
    parser.add_argument(
        "--images", action="store_true", help="with --file-posts: about half the files images"
    )
    parser.add_argument(
        "--non-ascii-names",
        action="store_true",
        help=f"with --file-posts: every file name starts with {NON_ASCII_PREFIX!r}",
    )
    parser.add_argument("--out", type=Path, required=True, help="archive to write")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.file_posts:
        members, jsonl_bytes = generate_files(
            args.out, args.file_posts, args.seed, args.images, args.non_ascii_names
        )
        print(
            f"{args.out}: {args.file_posts} posts, {members} members, JSONL "
            f"{jsonl_bytes / MB:.1f} MB, built in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        return 0
    posts = args.posts or posts_for_jsonl_size(int(args.jsonl_mb * MB), args.seed)
    stats = generate(args.out, posts, args.seed)
    elapsed = time.perf_counter() - started
    print(
        f"{args.out}: {stats.total_lines} lines, {posts} posts, "
        f"JSONL {stats.jsonl_bytes / MB:.1f} MB, archive {stats.archive_bytes / MB:.1f} MB, "
        f"{stats.attachments} attachments, built in {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
