"""Time `inspect --by channel` against plain `inspect`, and `reconcile` against the floor of
reading both archives (issue 12).

    python bench/tables_reconcile.py             # the 400 MB archive (built on first use)
    python bench/tables_reconcile.py --quick     # 10 MB, one run each: a smoke test
    python bench/tables_reconcile.py --stat median --repeats 5   # on a shared machine
    python bench/tables_reconcile.py --no-reconcile              # the tables only
    python bench/tables_reconcile.py --size 2000 --reconcile-only --repeats 1
        # reconcile's time and peak RSS on ~2,000 MB of JSONL (~2.7 million lines, ~2.3
        # million posts; builds the archive and its re-export on first use, ~1 GB of disk;
        # long: not for a busy machine)

For the archive and its re-export (`archivekit.testing.reexport`: what a destination would
export after importing it, built on first use next to it), in the same run: the floor
``unzip -p ARCHIVE import.jsonl | wc -l`` of each, then each command as a child process (best
of N wall time, or the median with ``--stat median``). The commands run round-robin (each
repeat runs every command once), so a change of load on the shared machine hits them alike,
and each one's CPU time (user + system, forked workers included, from ``os.wait4``) is given
beside the wall time: CPU time hardly moves with load, so its ratios are the steadier ones (for
commands that use several workers the wall-time ratio is the goal's). Peak RSS is given two
ways: the largest single process (``os.wait4``: the command or one of its forked workers) and
the whole process tree, sampled from /proc every 20 ms. Appends a dated section to
bench/results.md with `uptime` before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from run import (
    DATA,
    MB,
    RESULTS,
    STAT,
    ensure_archive,
    fast_path,
    find_cli,
    floor_script,
    jsonl_size,
    machine,
    revision,
    time_floor,
    timed_child,
)


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float
    process_rss_mib: float
    tree_rss_mib: float
    output: bytes = b""  # the end of its stdout (the floor's: the line count)


def run_once(argv: list[str], allowed: tuple[int, ...]) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        elapsed, code, usage, peak_tree = timed_child(argv, out, err)
        if code not in allowed:
            err.seek(0)
            raise RuntimeError(f"{' '.join(argv)} exited {code}: {err.read()[-500:]!r}")
        out.seek(max(0, out.seek(0, os.SEEK_END) - 200))
        tail = out.read()
    cpu = usage.ru_utime + usage.ru_stime
    return Run(elapsed, cpu, usage.ru_maxrss / 1024, peak_tree / 1024, tail)


def summary(runs: list[Run], stat: str) -> Run:
    """Wall and CPU time by `stat` (best or median run), peak RSS the largest."""
    pick = STAT[stat]
    return Run(
        pick([r.seconds for r in runs]),
        pick([r.cpu_seconds for r in runs]),
        max(r.process_rss_mib for r in runs),
        max(r.tree_rss_mib for r in runs),
        runs[0].output,
    )


def round_robin(commands: dict[str, Callable[[], Run]], repeats: int) -> dict[str, list[Run]]:
    """Each command's runs, `repeats` rounds of every command once (a change of load on the
    shared machine hits them alike)."""
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            runs[name].append(command())
    return runs


def line_count(floor: Run) -> int:
    """The lines `wc -l` counted in a floor run."""
    return int(floor.output.split()[-1])


def floor_run(archive: Path) -> Run:
    return run_once(["bash", "-c", floor_script(archive)], (0,))


def ensure_reexport(archive: Path, target: Path) -> None:
    if target.exists():
        return
    print(f"building {target} ...", file=sys.stderr)
    script = (
        "import sys; from archivekit.testing.reexport import reexport; "
        "reexport(sys.argv[1], sys.argv[2])"
    )
    subprocess.run([sys.executable, "-c", script, str(archive), str(target)], check=True)


def uptime() -> str:
    probe = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    return probe.stdout.strip() or "unknown"


def append_section(
    results: Path,
    title: str,
    script: str,
    argv: list[str] | None,
    cli: list[str],
    load_before: str,
    load_after: str,
    table: list[str],
) -> None:
    """Append a dated section (machine, revision, command, load) with `table` to results.md."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = [
        f"\n## {stamp} — {title}\n",
        f"- machine: {machine()}",
        f"- revision: {revision()}; command: `python bench/{script} "
        f"{' '.join(sys.argv[1:] if argv is None else argv)}`; fast path: {fast_path(cli)}",
        f"- load before: `{load_before}`; after: `{load_after}`",
        "",
        *table,
        "",
    ]
    text = results.read_text(encoding="utf-8")
    results.write_text(text + "\n".join(section), encoding="utf-8")


@dataclass(frozen=True)
class Setup:
    """What a bench script was asked to measure: its options, the CLI and the archive."""

    args: argparse.Namespace
    size: str  # JSONL MB
    repeats: int
    cli: list[str]
    archive: Path


def bench_parser(description: str) -> argparse.ArgumentParser:
    """The options every bench script takes (a script may add its own)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--size", default="400", help="JSONL size in MB")
    parser.add_argument("--quick", action="store_true", help="10 MB archive, one run each")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement")
    parser.add_argument("--stat", choices=sorted(STAT), default="best", help="best or median run")
    parser.add_argument("--no-record", action="store_true", help="do not append to results.md")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--data", type=Path, default=DATA)
    return parser


def setup(parser: argparse.ArgumentParser, argv: list[str] | None) -> Setup:
    """The options parsed, the CLI to time and the archive (built on first use); exits 2,
    having said why, when there is no CLI."""
    args = parser.parse_args(argv)
    size = "10" if args.quick else args.size
    cli, why = find_cli(None)
    if cli is None:
        print(f"archivekit CLI unavailable: {why}", file=sys.stderr)
        sys.exit(2)
    archive = args.data / f"bench-{size}.zip"
    ensure_archive(archive, jsonl_mb=float(size))
    return Setup(args, size, 1 if args.quick else args.repeats, cli, archive)


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__.splitlines()[0])
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        "--no-reconcile", action="store_true", help="time inspect and inspect --by only"
    )
    only.add_argument(
        "--reconcile-only",
        action="store_true",
        help="time the floors and reconcile only (with --size 2000: its peak RSS at millions "
        "of posts)",
    )
    got = setup(parser, argv)
    args, size, repeats, cli, archive = got.args, got.size, got.repeats, got.cli, got.archive
    again = args.data / f"bench-{size}-reexport.zip"
    ensure_reexport(archive, again)
    load_before = uptime()
    mb, mb_again = jsonl_size(archive) / MB, jsonl_size(again) / MB
    if time_floor(archive, 1) is None:
        print("unzip is needed for the floor", file=sys.stderr)
        return 2
    commands = {
        "floor": lambda: floor_run(archive),
        "floor_again": lambda: floor_run(again),
        "inspect": lambda: run_once([*cli, "inspect", str(archive), "--format", "json"], (0,)),
        "by_channel": lambda: run_once(
            [*cli, "inspect", str(archive), "--by", "channel", "--format", "json"], (0,)
        ),
        "reconcile": lambda: run_once(
            [*cli, "reconcile", str(archive), str(again), "--format", "json"], (0,)
        ),
    }
    if args.no_reconcile:
        del commands["floor_again"], commands["reconcile"]
    if args.reconcile_only:
        del commands["inspect"], commands["by_channel"]
    runs = round_robin(commands, repeats)
    load_after = uptime()
    results = {name: summary(done, args.stat) for name, done in runs.items()}
    floor = results["floor"]

    def row(what: str, size: float, run: Run, ratio: str) -> str:
        return (
            f"| {what} | {size:.0f} | {run.seconds:.2f} | {run.cpu_seconds:.2f} | {ratio} | "
            f"{run.process_rss_mib:.0f} / {run.tree_rss_mib:.0f} |"
        )

    table = [
        f"| measured | JSONL MB | {args.stat} wall s | {args.stat} CPU s | ratio: wall (CPU) | "
        "peak RSS MB (one process / all) |",
        "|---|---:|---:|---:|---|---:|",
        row(f"floor: `unzip -p` {archive.name}", mb, floor, "–"),
    ]
    if "inspect" in results:
        plain, by_channel = results["inspect"], results["by_channel"]
        table += [
            row("`inspect`", mb, plain, f"{plain.seconds / floor.seconds:.2f}× floor"),
            row(
                "`inspect --by channel`",
                mb,
                by_channel,
                f"**{by_channel.seconds / plain.seconds:.2f}× inspect** "
                f"({by_channel.cpu_seconds / plain.cpu_seconds:.2f}×); goal ≤ 1.2×",
            ),
        ]
    if "reconcile" in results:
        floor_again, reconcile = results["floor_again"], results["reconcile"]
        both = floor.seconds + floor_again.seconds
        both_cpu = floor.cpu_seconds + floor_again.cpu_seconds
        table[3:3] = [row(f"floor: `unzip -p` {again.name}", mb_again, floor_again, "–")]
        table.append(
            row(
                "`reconcile` archive vs re-export",
                mb + mb_again,
                reconcile,
                f"**{reconcile.seconds / both:.2f}× both floors** "
                f"({reconcile.cpu_seconds / both_cpu:.2f}×); goal ≤ 3×, RSS < 300",
            )
        )
    lines = f"{line_count(floor):,} lines"
    if "floor_again" in results:
        lines += f"; re-export {line_count(results['floor_again']):,}"
    print(lines)
    print("\n".join(table))
    if not args.no_record:
        what = "reconcile" if args.reconcile_only else "tables and reconcile"
        title = f"{what} ({size} MB JSONL, {lines})"
        append_section(args.results, title, "tables_reconcile.py", argv, cli, load_before,
                       load_after, table)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
