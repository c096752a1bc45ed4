"""Deflate settings for the JSONL the writers produce: time and size, ISA-L levels 0-3 and zlib 6.

    python bench/deflate_levels.py          # bench/data/bench-40.zip, appended to results.md
    python bench/deflate_levels.py --archive bench/data/bench-400.zip --repeats 5 --no-record

The writers compress the new ``import.jsonl`` on the fly (`archivekit.write.zipwriter`,
`FAST_DEFLATE`); this measures each candidate the way the writer feeds it: the archive's own
JSONL, held in memory, given to `deflater` in 256 KiB pieces (the writer's buffer size), then
finished. Only the compressor is timed (no reading, no writing), as CPU seconds of this process
(steadier than wall time on a shared machine; the wall time is printed beside it), best of
``--repeats``. ``zlib 6`` is what Go's writer produces (`GO_DEFLATE`, the committed samples).
The floor (`unzip -p ARCHIVE import.jsonl | wc -l`) is timed in the same run for scale.
"""

from __future__ import annotations

import argparse
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from run import (
    DATA,
    MB,
    append_results,
    ensure_archive,
    find_cli,
    recording_options,
    time_floor,
)

from archivekit.write.zipwriter import FAST_DEFLATE, Deflate, deflater

CANDIDATES = (
    Deflate("isal", 0),
    Deflate("isal", 1),
    Deflate("isal", 2),
    Deflate("isal", 3),
    Deflate("zlib", 6),
)
PIECE = 256 * 1024  # archivekit.write.core's JSONL buffer: what the writer hands the compressor


@dataclass(frozen=True)
class Measured:
    setting: Deflate
    cpu_seconds: float
    wall_seconds: float
    compressed: int


def compress_once(data: memoryview, setting: Deflate) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, compressed bytes) of one streamed compression of ``data``."""
    compressor = deflater(setting)
    size = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(data), PIECE):
        size += len(compressor.compress(data[start : start + PIECE]))
    size += len(compressor.flush())
    return time.process_time() - cpu, time.perf_counter() - wall, size


def measure(data: bytes, repeats: int) -> list[Measured]:
    view = memoryview(data)
    found = []
    for setting in CANDIDATES:
        runs = [compress_once(view, setting) for _ in range(repeats)]
        found.append(
            Measured(setting, min(r[0] for r in runs), min(r[1] for r in runs), runs[0][2])
        )
        print(f"{label(setting)}: done", file=sys.stderr)
    return found


def label(setting: Deflate) -> str:
    name = "ISA-L" if setting.library == "isal" else "zlib"
    chosen = " (FAST_DEFLATE)" if setting == FAST_DEFLATE else ""
    return f"{name} {setting.level}{chosen}"


def table(rows: list[Measured], size: int, floor: float | None) -> list[str]:
    base = next(r for r in rows if r.setting == FAST_DEFLATE)
    lines = [
        "| setting | CPU s (best) | wall s (best) | MB/s (CPU) | × FAST_DEFLATE time "
        "| × floor | compressed MB | ratio | × FAST_DEFLATE size |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        on_floor = f"{r.wall_seconds / floor:.2f}" if floor else "–"
        lines.append(
            f"| {label(r.setting)} | {r.cpu_seconds:.3f} | {r.wall_seconds:.3f} | "
            f"{size / MB / r.cpu_seconds:.0f} | {r.cpu_seconds / base.cpu_seconds:.2f} | "
            f"{on_floor} | {r.compressed / MB:.2f} | {size / r.compressed:.2f} | "
            f"{r.compressed / base.compressed:.3f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=DATA / "bench-40.zip")
    parser.add_argument("--jsonl-mb", type=float, default=40, help="size to build if missing")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each setting (best)")
    recording_options(parser)
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    args.script = "bench/deflate_levels.py"
    ensure_archive(args.archive, jsonl_mb=args.jsonl_mb)
    with zipfile.ZipFile(args.archive) as archive:
        data = archive.read("import.jsonl")
    floor = time_floor(args.archive, args.repeats)
    rows = measure(data, args.repeats)
    lines = table(rows, len(data), floor.seconds if floor else None)
    floor_text = f"{floor.seconds:.3f} s" if floor else "– (no unzip)"
    lines += [
        "",
        f"input: {args.archive.name}'s import.jsonl, {len(data) / MB:.1f} MB, in {PIECE // 1024} "
        f"KiB pieces; floor (`unzip -p | wc -l`, wall, best of {args.repeats}): {floor_text}.",
    ]
    print("\n".join(lines))
    if not args.no_record:
        cli, _ = find_cli(args.cli)
        append_results(
            f"deflate settings for the writers' JSONL ({len(data) / MB:.0f} MB)",
            lines,
            args,
            cli or [sys.executable],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
