"""Build a realistic benchmark archive of about a given JSONL size (or post count).

    python bench/make_archive.py --jsonl-mb 400 --out bench/data/bench-400.zip
    python bench/make_archive.py --posts 50000 --out bench/data/mem-50000.zip

The shape (teams, users, DMs, attachments...) is fixed; only the number of posts (and direct
posts, one per six posts) grows. For --jsonl-mb the post count is derived from two small
calibration runs (bytes per post and fixed overhead), so the result lands within a few percent.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from archivekit.testing.synth import GenerateStats, generate_export

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--jsonl-mb", type=float, help="target uncompressed JSONL size (10^6 B)")
    size.add_argument("--posts", type=int, help="exact number of post lines")
    parser.add_argument("--out", type=Path, required=True, help="archive to write")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    posts = args.posts or posts_for_jsonl_size(int(args.jsonl_mb * MB), args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
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
