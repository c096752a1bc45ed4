"""Time `archivekit report` (the HTML triage page, issue 13) against `validate` on the same
archive, with the floor ``unzip -p ARCHIVE import.jsonl | wc -l`` of the same run.

    python bench/report.py             # the 400 MB archive (built on first use)
    python bench/report.py --quick     # 10 MB, one run each: a smoke test

Each command is a child process; the commands run round-robin (each repeat runs every command
once) so that a change of load on the shared machine hits them alike. Wall time (best of N)
and CPU time (user + system, children included, from ``os.wait4``: steadier on a loaded
machine) are given, their ratios to validate's (the goal: report ≤ 1.5× validate), peak RSS
as the largest single process and as the whole process tree (sampled from /proc; goal < 300
MB), and the size of the page (goal < 2 MB). Appends a dated section to bench/results.md with
`uptime` before and after.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from run import (
    DATA,
    MB,
    RESULTS,
    ensure_archive,
    find_cli,
    jsonl_size,
)
from tables_reconcile import STAT, Run, append_section, floor_run, run_once, summary, uptime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="400", help="JSONL size in MB")
    parser.add_argument("--quick", action="store_true", help="10 MB archive, one run each")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement")
    parser.add_argument(
        "--stat", choices=sorted(STAT), default="best", help="best or median of the runs"
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
    mb = jsonl_size(archive) / MB
    load_before = uptime()
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "triage.html"
        commands = {
            "floor": lambda: floor_run(archive),
            "validate": lambda: run_once(
                [*cli, "validate", str(archive), "--format", "json", "-o", f"{folder}/v.json"],
                (0, 1),
            ),
            "report": lambda: run_once([*cli, "report", str(archive), "-o", str(page)], (0, 1)),
        }
        runs: dict[str, list[Run]] = {name: [] for name in commands}
        for _ in range(repeats):
            for name, command in commands.items():
                runs[name].append(command())
        page_bytes = page.stat().st_size
    load_after = uptime()
    floor, validate, report = (summary(runs[name], args.stat) for name in commands)

    def row(what: str, run: Run, ratio: str) -> str:
        return (
            f"| {what} | {mb:.0f} | {run.seconds:.2f} | {run.cpu_seconds:.2f} | {ratio} | "
            f"{run.process_rss_mib:.0f} / {run.tree_rss_mib:.0f} |"
        )

    table = [
        f"| measured | JSONL MB | {args.stat} wall s | {args.stat} CPU s | ratio: wall (CPU) | "
        "peak RSS MB (one process / all) |",
        "|---|---:|---:|---:|---|---:|",
        row(f"floor: `unzip -p` {archive.name}", floor, "–"),
        row(
            "`validate --format json`",
            validate,
            f"{validate.seconds / floor.seconds:.2f}× floor "
            f"({validate.cpu_seconds / floor.cpu_seconds:.2f}×)",
        ),
        row(
            "`report -o triage.html`",
            report,
            f"**{report.seconds / validate.seconds:.2f}× validate** "
            f"({report.cpu_seconds / validate.cpu_seconds:.2f}×); goal ≤ 1.5×, RSS < 300",
        ),
        "",
        f"Page: {page_bytes / 1e6:.2f} MB (goal < 2 MB).",
    ]
    print("\n".join(table))
    if not args.no_record:
        title = f"report ({size} MB JSONL)"
        append_section(args.results, title, "report.py", argv, cli, load_before, load_after, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
