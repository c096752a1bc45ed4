"""Time `archivekit fix` (issue 14) against the floor ``unzip -p ARCHIVE import.jsonl | wc -l``
of the same run: on the bench archive (nothing to repair: every line is kept byte-identical)
and on a copy whose user lines come after the posts (a reorder: every line goes through the
spill files).

    python bench/fix.py             # the 400 MB archive (built on first use)
    python bench/fix.py --quick     # 10 MB, one run each: a smoke test

Goals (issue 14): nothing to repair ≤ 2.0× the floor and peak RSS < 200 MB; with a reorder,
bounded memory (the spill buffers hold at most `archivekit.write.fix.SPILL_BUDGET` bytes).
The commands run round-robin (each repeat runs every command once); `--stat median` for a
shared machine. Appends a dated section
to bench/results.md with `uptime` before and after.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from pathlib import Path

from run import DATA, MB, RESULTS, ensure_archive, find_cli, jsonl_size
from tables_reconcile import STAT, Run, append_section, floor_run, run_once, summary, uptime


def reorder_copy(source: Path, target: Path) -> None:
    """``source`` with its user lines moved after every other line (stored once, reused)."""
    if target.exists():
        return
    print(f"building {target} ...", file=sys.stderr)
    partial = target.with_suffix(".partial")
    with (
        zipfile.ZipFile(source) as zin,
        tempfile.TemporaryFile() as users,
        zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout,
    ):
        with zin.open("import.jsonl") as lines, zout.open("import.jsonl", "w") as out:
            for line in lines:
                if line.startswith(b'{"type":"user"'):
                    users.write(line)
                else:
                    out.write(line)
            users.seek(0)
            for line in users:
                out.write(line)
        for info in zin.infolist():
            if info.filename != "import.jsonl":
                zout.writestr(info, zin.read(info))
    partial.rename(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="400", help="JSONL size in MB")
    parser.add_argument("--quick", action="store_true", help="10 MB archive, one run each")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement")
    parser.add_argument(
        "--stat", choices=sorted(STAT), default="best", help="best or median of the runs"
    )
    parser.add_argument(
        "--no-reorder",
        action="store_true",
        help="only the floor and nothing to repair (the reorder run takes ~20x as long)",
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to results.md")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    size = "10" if args.quick else args.size
    repeats = 1 if args.quick else args.repeats
    cli, why = find_cli(None)
    if cli is None:
        print(f"archivekit CLI unavailable: {why}", file=sys.stderr)
        return 2
    archive = args.data / f"bench-{size}.zip"
    ensure_archive(archive, jsonl_mb=float(size))
    reordered = args.data / f"bench-{size}-users-last.zip"
    reorder_copy(archive, reordered)
    mb = jsonl_size(archive) / MB
    load_before = uptime()
    with tempfile.TemporaryDirectory() as folder:
        commands = {
            "floor": lambda: floor_run(archive),
            "fix": lambda: run_once([*cli, "fix", str(archive), "-o", f"{folder}/a.zip"], (0,)),
            "fix (reorder)": lambda: run_once(
                [*cli, "fix", str(reordered), "-o", f"{folder}/b.zip"], (0,)
            ),
        }
        if args.no_reorder:
            del commands["fix (reorder)"]
        runs: dict[str, list[Run]] = {name: [] for name in commands}
        for _ in range(repeats):
            for name, command in commands.items():
                runs[name].append(command())
    load_after = uptime()
    floor, plain = (summary(runs[name], args.stat) for name in ("floor", "fix"))

    def row(what: str, run: Run, goal: str) -> str:
        ratio = f"{run.seconds / floor.seconds:.2f}× ({run.cpu_seconds / floor.cpu_seconds:.2f}×)"
        return (
            f"| {what} | {mb:.0f} | {run.seconds:.2f} | {run.cpu_seconds:.2f} | "
            f"{'–' if run is floor else ratio} | {run.process_rss_mib:.0f} | {goal} |"
        )

    table = [
        f"| measured | JSONL MB | {args.stat} wall s | {args.stat} CPU s | "
        "ratio to floor: wall (CPU) | "
        "peak RSS MB | goal |",
        "|---|---:|---:|---:|---|---:|---|",
        row(f"floor: `unzip -p` {archive.name}", floor, ""),
        row("`fix -o OUT.zip` (nothing to repair)", plain, "≤ 2.0×, < 200 MB"),
    ]
    if not args.no_reorder:
        reorder = summary(runs["fix (reorder)"], args.stat)
        what = "`fix -o OUT.zip` (users after posts: reorder)"
        table.append(row(what, reorder, "bounded memory"))
    print("\n".join(table))
    if not args.no_record:
        title = f"fix ({size} MB JSONL)"
        append_section(args.results, title, "fix.py", argv, cli, load_before, load_after, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
