"""Time `archivekit report` (the HTML triage page, issue 13) against `validate` on the same
archive, with the floor ``unzip -p ARCHIVE import.jsonl | wc -l`` of the same run.

    python bench/report.py             # the 400 MB archive (built on first use)
    python bench/report.py --quick     # 10 MB, one run each: a smoke test

Each command is a child process; the commands run round-robin (each repeat runs every command
once) so that a change of load on the shared machine hits them alike. Wall time (best of N)
and CPU time (user + system, children included, from ``os.wait4``: steadier on a loaded
machine) are given, their ratios to validate's (the goal: report ≤ 1.5× validate), peak RSS
as the largest single process and as the whole process tree (sampled from /proc; goal < 300
MB), and the size of the page (goal < 2 MB). `report --against` (the archive's re-export, built
on first use) is timed beside them, against validate plus reading the re-export once (its
floor), since it reads the destination's export too; `--no-against` leaves it out. Appends a
dated section to bench/results.md with `uptime` before and after.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from run import MB, jsonl_size
from tables_reconcile import (
    Run,
    append_section,
    bench_parser,
    ensure_reexport,
    floor_run,
    round_robin,
    run_once,
    setup,
    summary,
    uptime,
)


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--no-against", action="store_true", help="do not time report --against")
    got = setup(parser, argv)
    args, size, repeats, cli, archive = got.args, got.size, got.repeats, got.cli, got.archive
    again = args.data / f"bench-{size}-reexport.zip"
    if not args.no_against:
        ensure_reexport(archive, again)
    mb = jsonl_size(archive) / MB
    load_before = uptime()
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "triage.html"
        against_page = Path(folder) / "against.html"
        commands = {
            "floor": lambda: floor_run(archive),
            "validate": lambda: run_once(
                [*cli, "validate", str(archive), "--format", "json", "-o", f"{folder}/v.json"],
                (0, 1),
            ),
            "report": lambda: run_once([*cli, "report", str(archive), "-o", str(page)], (0, 1)),
            "floor_again": lambda: floor_run(again),
            "against": lambda: run_once(
                [*cli, "report", str(archive), "-o", str(against_page), "--against", str(again)],
                (0, 1),
            ),
        }
        if args.no_against:
            del commands["floor_again"], commands["against"]
        runs = round_robin(commands, repeats)
        page_bytes = page.stat().st_size
        against_bytes = against_page.stat().st_size if not args.no_against else 0
    load_after = uptime()
    results = {name: summary(done, args.stat) for name, done in runs.items()}
    floor, validate, report = results["floor"], results["validate"], results["report"]

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
    ]
    if not args.no_against:
        against, again_floor = results["against"], results["floor_again"]
        with_target = validate.seconds + again_floor.seconds
        table.append(
            row(
                "`report -o triage.html --against REEXPORT`",
                against,
                f"**{against.seconds / validate.seconds:.2f}× validate**, "
                f"{against.seconds / with_target:.2f}× validate + the re-export's floor "
                f"({against.cpu_seconds / validate.cpu_seconds:.2f}× validate's CPU)",
            )
        )
    table += [
        "",
        f"Page: {page_bytes / 1e6:.2f} MB (goal < 2 MB)"
        + (f"; with --against {against_bytes / 1e6:.2f} MB." if against_bytes else "."),
    ]
    print("\n".join(table))
    if not args.no_record:
        title = f"report ({size} MB JSONL)"
        append_section(args.results, title, "report.py", argv, cli, load_before, load_after, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
