"""Time `validate` and `inspect` reading an archive from a pipe against the file (issue 18).

    python bench/stream.py                                 # the 400 MB archive (built once)
    python bench/stream.py --stat median --repeats 5       # on a shared machine
    python bench/stream.py --quick                         # 10 MB, one run each: a smoke test
    python bench/stream.py --files 100000,300000           # also attachment-heavy archives

In the same run, round-robin (each repeat runs every command once, so a change of load on the
shared machine hits them alike): the floor ``unzip -p ARCHIVE import.jsonl | wc -l``; then
``archivekit validate ARCHIVE --format json`` (its default workers: two on this machine), the
same with ``--workers 1``, and ``cat ARCHIVE | archivekit validate - --format json``; the same
three for ``inspect``. Each as a child process: the best (or median) wall time of N, CPU time
(user + system, children included: ``cat`` for the pipes), peak RSS of the largest process
and of the whole process tree. The goal: from a pipe within 1.2x of the file (its default
workers). With ``--files N,M``: the same pair (file, pipe) for ``validate`` on the
attachment-heavy archives of about N and M members (issue 19's shape, bench/data/files-N-r2.zip,
built once; ``--quick``: 10000 members), whose stored members written with data descriptors
a stream must delimit by scanning — its peak RSS at two sizes is the memory scaling from a
pipe — and ``cat ARCHIVE | wc -c``, what moving its bytes through a pipe costs by itself.
Appends a dated section to bench/results.md with `uptime` before and after.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from run import MB, ensure_files_archive, files_archive, jsonl_size
from tables_reconcile import (
    Run,
    append_section,
    bench_parser,
    floor_run,
    round_robin,
    run_once,
    setup,
    summary,
    uptime,
)


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--files",
        default="",
        help="also attachment-heavy archives of about these member counts, comma separated",
    )
    got = setup(parser, argv)
    args, size, repeats, cli, archive = got.args, got.size, got.repeats, got.cli, got.archive
    mb = jsonl_size(archive) / MB
    load_before = uptime()
    done = (0, 1)  # validate exits 1 when it finds problems: a completed run

    def direct(command: str, *options: str, of: Path = archive) -> Run:
        return run_once([*cli, command, str(of), "--format", "json", *options], done)

    def piped(command: str, of: Path = archive) -> Run:
        line = " ".join(f"'{part}'" for part in cli)
        script = f"set -o pipefail; cat '{of}' | {line} {command} - --format json"
        return run_once(["bash", "-c", script], done)

    def transfer(of: Path) -> Run:
        """What the pipe alone costs: every byte of the archive through it, read by wc."""
        return run_once(["bash", "-c", f"set -o pipefail; cat '{of}' | wc -c"], (0,))

    commands = {
        "floor": lambda: floor_run(archive),
        "validate": lambda: direct("validate"),
        "validate_1": lambda: direct("validate", "--workers", "1"),
        "validate_pipe": lambda: piped("validate"),
        "inspect": lambda: direct("inspect"),
        "inspect_1": lambda: direct("inspect", "--workers", "1"),
        "inspect_pipe": lambda: piped("inspect"),
    }
    counts = [10_000] if args.quick and args.files else [int(c) for c in args.files.split(",") if c]
    heavy = {members: files_archive(args.data, members) for members in counts}
    for members, path in heavy.items():
        ensure_files_archive(path, members)
        commands[f"files_{members}"] = functools.partial(direct, "validate", of=path)
        commands[f"files_{members}_pipe"] = functools.partial(piped, "validate", of=path)
        commands[f"files_{members}_cat"] = functools.partial(transfer, path)
    runs = round_robin(commands, repeats)
    load_after = uptime()
    got = {name: summary(r, args.stat) for name, r in runs.items()}
    floor = got["floor"]

    def row(what: str, name: str, against: str | None, of_floor: bool = True) -> str:
        """`of_floor`: the floor is the text archive's (not the attachment-heavy one's)."""
        run = got[name]
        ratio = f"{run.seconds / floor.seconds:.2f}×" if of_floor else "—"
        if against is not None:
            other = got[against]
            ratio += (
                f"; **{run.seconds / other.seconds:.2f}× the file** "
                f"({run.cpu_seconds / other.cpu_seconds:.2f}× CPU); goal ≤ 1.2×"
            )
        return (
            f"| {what} | {run.seconds:.2f} | {run.cpu_seconds:.2f} | {ratio} | "
            f"{run.process_rss_mib:.0f} / {run.tree_rss_mib:.0f} |"
        )

    table = [
        f"{archive.name}: {mb:.0f} MB of JSONL, {archive.stat().st_size / MB:.0f} MB zip.",
        "",
        f"| measured | {args.stat} wall s | {args.stat} CPU s | × floor (wall); pipe vs file | "
        "peak RSS MB (one process / all) |",
        "|---|---:|---:|---|---:|",
        row("floor: `unzip -p ARCHIVE import.jsonl \\| wc -l`", "floor", None),
        row("`validate ARCHIVE` (default workers)", "validate", None),
        row("`validate ARCHIVE --workers 1`", "validate_1", None),
        row("`cat ARCHIVE \\| validate -`", "validate_pipe", "validate"),
        row("`inspect ARCHIVE` (default workers)", "inspect", None),
        row("`inspect ARCHIVE --workers 1`", "inspect_1", None),
        row("`cat ARCHIVE \\| inspect -`", "inspect_pipe", "inspect"),
    ]
    for members, path in heavy.items():
        table += [
            row(f"`validate {path.name}` (attachment-heavy)", f"files_{members}", None, False),
            row(
                f"`cat {path.name} \\| validate -`",
                f"files_{members}_pipe",
                f"files_{members}",
                False,
            ),
            row(
                f"`cat {path.name} \\| wc -c` (the pipe alone)", f"files_{members}_cat", None, False
            ),
        ]
    one = got["validate_pipe"].seconds / got["validate_1"].seconds
    notes = [
        f"- pipe vs `--workers 1` (one process each): validate {one:.2f}×, inspect "
        f"{got['inspect_pipe'].seconds / got['inspect_1'].seconds:.2f}×.",
    ]
    for members in heavy:
        file, pipe = got[f"files_{members}"], got[f"files_{members}_pipe"]
        alone = got[f"files_{members}_cat"]
        notes.append(
            f"- attachment-heavy, {members:,} members: the pipe takes "
            f"{pipe.seconds - file.seconds:.2f} s more than the file; moving the archive's "
            f"bytes through a pipe alone takes "
            f"{alone.seconds:.2f} s ({alone.seconds / file.seconds:.2f}× the file's whole run), "
            "which a file's run never pays (it seeks past the attachments)."
        )
    print("\n".join([*table, "", *notes]))
    if not args.no_record:
        title = f"from a pipe vs the file, issue 18 ({size} MB JSONL, {args.stat} of {repeats})"
        append_section(args.results, title, "stream.py", argv, cli, load_before, load_after,
                       [*table, "", *notes])  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
