"""Time archivekit's commands (validate, inspect, filter, split) against the decompression floor.

    python bench/run.py                      # 400 MB archive (built on first use)
    python bench/run.py --sizes 400,2000     # several JSONL sizes, in MB
    python bench/run.py --quick              # a 10 MB archive, one run each: a smoke test
    python bench/run.py --memory-scaling     # peak RSS at 1x and 10x the posts (50k / 500k)
    python bench/run.py --files 300000,1500000 --stat median   # attachment-heavy (issue 19)
    python bench/run.py --files 300000 --images   # the same, about half the files images
    python bench/run.py --files 300000 --non-ascii-names   # the same, names with an Ü
    python bench/run.py --commands filter,split --paired-floor   # some commands, floor each

For each archive, on the same machine in the same run: the floor
``unzip -p ARCHIVE import.jsonl | wc -l`` (best of N), then each archivekit command as a
subprocess (best of N wall time). Peak RSS is given two ways, as bench/report.py and
bench/tables_reconcile.py give it: the largest single process (``os.wait4``'s ``ru_maxrss``:
the command or one of its workers, whichever peaked highest) and the whole process tree (the
resident memory of the command and all its descendants summed, sampled from /proc every
20 ms: what the machine needs while workers run side by side). Prints MB/s of uncompressed
JSONL, the ratio to the floor and both peaks, and appends a dated section to bench/results.md.
Archives live in bench/data/ (git-ignored) and are reused when present.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

BENCH = Path(__file__).resolve().parent
DATA = BENCH / "data"
RESULTS = BENCH / "results.md"
MB = 1_000_000
# What is timed: a label and the arguments after the archivekit executable (``ARCHIVE`` and
# ``OUT``, a fresh scratch folder per run, are filled in). Writers validate their input in a
# second process on the side by default; the --no-check rows show the writer alone.
BENCH_TEAM = "engineering"  # the first team of every generated archive
SPLIT_SIZE = "50MB"
COMMANDS: dict[str, tuple[str, ...]] = {
    "validate": ("validate", "ARCHIVE"),
    "inspect": ("inspect", "ARCHIVE"),
    "filter": ("filter", "ARCHIVE", "-o", "OUT/out.zip"),
    "filter --no-check": ("filter", "ARCHIVE", "-o", "OUT/out.zip", "--no-check"),
    "filter --team": ("filter", "ARCHIVE", "-o", "OUT/out.zip", "--team", BENCH_TEAM),
    "filter --team --no-check": (
        *("filter", "ARCHIVE", "-o", "OUT/out.zip", "--team", BENCH_TEAM, "--no-check"),
    ),
    f"split --max-bytes {SPLIT_SIZE}": (
        *("split", "ARCHIVE", "-o", "OUT/parts", "--max-bytes", SPLIT_SIZE),
    ),
    f"split --max-bytes {SPLIT_SIZE} --no-check": (
        *("split", "ARCHIVE", "-o", "OUT/parts", "--max-bytes", SPLIT_SIZE, "--no-check"),
    ),
    # A fixed key: every run writes the same bytes (and the key costs nothing to draw).
    "redact": ("redact", "ARCHIVE", "-o", "OUT/out.zip", "--key", "bench"),
}
# Timed when --commands is not given (the writers' rows are asked for by name).
DEFAULT_COMMANDS = ("validate", "inspect")
# validate exits 1 when it finds problems; both are a completed run for timing purposes.
COMPLETED_EXIT_CODES = (0, 1)


@dataclass(frozen=True)
class Timing:
    seconds: float
    peak_rss_kib: int | None = None  # the largest single process
    # CPU seconds (user + system, the child and its children), summarised like `seconds`:
    # steadier than wall time when other work shares the machine.
    cpu_seconds: float | None = None
    tree_rss_kib: int | None = None  # the process tree, summed (sampled)


def children_cpu() -> float:
    """User + system seconds of every child reaped so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Row:
    archive: str
    jsonl_mb: float
    what: str
    timing: Timing | None
    note: str = ""


def find_cli(explicit: str | None = None) -> tuple[list[str] | None, str]:
    """The archivekit command, or None and why it is unusable."""
    beside_python = Path(sys.executable).with_name("archivekit")
    exe = explicit or (str(beside_python) if beside_python.exists() else None)
    exe = exe or shutil.which("archivekit")
    if exe is None:
        return None, "no `archivekit` executable next to this Python or on PATH"
    probe = subprocess.run([exe, "--help"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["(no output)"])[-1]
        return None, f"`{exe} --help` failed ({probe.returncode}): {last}"
    return [exe], ""


def ensure_archive(path: Path, *, jsonl_mb: float | None = None, posts: int | None = None) -> None:
    if path.exists():
        return
    args = ["--jsonl-mb", str(jsonl_mb)] if jsonl_mb is not None else ["--posts", str(posts)]
    print(f"building {path} ...", file=sys.stderr)
    subprocess.run(
        [sys.executable, str(BENCH / "make_archive.py"), *args, "--out", str(path)], check=True
    )


# The attachment-heavy shape's version, in its archives' names: r2 since replies carry files
# (make_archive.py), so that an archive of the earlier shape in bench/data is never reused.
FILES_SHAPE = "r2"


def files_archive(data: Path, members: int, variant: str = "") -> Path:
    """Where the attachment-heavy archive of about `members` members is kept (`variant`:
    "-images", "-nonascii" or both)."""
    return data / f"files{variant}-{members}-{FILES_SHAPE}.zip"


def ensure_files_archive(
    path: Path, members: int, *, images: bool = False, non_ascii: bool = False
) -> None:
    """The attachment-heavy archive of about `members` members (issue 19), built once."""
    if path.exists():
        return
    print(f"building {path} ...", file=sys.stderr)
    subprocess.run(
        [sys.executable, str(BENCH / "make_archive.py"), "--file-posts", str(members // 2),
         "--out", str(path), *(["--images"] if images else []),
         *(["--non-ascii-names"] if non_ascii else [])],
        check=True,
    )  # fmt: skip


def jsonl_size(path: Path) -> int:
    """In a child process: zipfile holds an object per member (1.2 GB for 1.5 million), and
    every later child would start from this process's resident memory — which `ru_maxrss`
    would then report as that child's peak (the kernel keeps the high-water mark of the
    process image an `exec` replaces)."""
    script = (
        "import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).getinfo('import.jsonl').file_size)"
    )
    found = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    return int(found.stdout)


def child_env() -> dict[str, str]:
    """The environment of measured commands: as a user's, with the bytecode cache allowed
    (PYTHONDONTWRITEBYTECODE makes every run compile every module from source, which no
    installed package does; some sandboxes set it)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def tree_rss_kib(root: int) -> int:
    """Resident KiB of a process and all its descendants (0 once gone)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            total += next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
            )
            for task in Path(f"/proc/{pid}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(c) for c in children)
        except (OSError, StopIteration, ValueError):
            continue
    return total


def wait_sampled(proc: subprocess.Popen[bytes]) -> tuple[int, resource.struct_rusage, int]:
    """Reap `proc` (exit status, its rusage) while sampling its process tree's summed RSS every
    20 ms; the third value is the largest sum seen, in KiB.

    wait4 reaps this child alone and returns its rusage: its ``ru_maxrss`` is the largest
    single process among it and the children it reaped (RUSAGE_CHILDREN would instead report
    the maximum over every child so far, hiding a smaller later run)."""
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kib(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        done.set()
        sampler.join()
    return status, usage, peak


def timed_child(
    argv: list[str], out: IO[bytes], err: IO[bytes], env: dict[str, str] | None = None
) -> tuple[float, int, resource.struct_rusage, int]:
    """Run one child to its end: (wall seconds, exit code, its rusage, peak RSS in KiB of its
    whole tree). The one way every bench script starts and times a command."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
    status, usage, tree = wait_sampled(proc)
    return time.perf_counter() - started, os.waitstatus_to_exitcode(status), usage, tree


def run_child(argv: list[str], stdout_path: Path) -> tuple[float, int, int, int, str]:
    """Run one child; (wall seconds, exit code, peak RSS in KiB of its largest process and of
    its whole tree, stderr tail)."""
    with stdout_path.open("wb") as out, tempfile.TemporaryFile() as err:
        elapsed, code, usage, tree = timed_child(argv, out, err, child_env())
        err.seek(0)
        tail = err.read().decode("utf-8", "replace").strip()[-500:]
    return elapsed, code, usage.ru_maxrss, tree, tail  # ru_maxrss is KiB on Linux


def floor_script(archive: Path, listing: bool = False) -> str:
    """The floor as a bash script: `unzip -p ARCHIVE import.jsonl | wc -l`; with `listing`,
    after `unzip -Z1 ARCHIVE` (the names of every member: what reading the central directory
    costs unzip)."""
    inflate = f"unzip -p '{archive}' import.jsonl | wc -l"
    listed = f"unzip -Z1 '{archive}' > /dev/null && " if listing else ""
    return f"set -o pipefail; {listed}{inflate}"


# How the runs of one measurement are summarised: "best" (the minimum) or "median".
STAT = {"best": min, "median": statistics.median}


def time_floor(
    archive: Path, repeats: int, stat: str = "best", listing: bool = False
) -> Timing | None:
    """The floor's timing (see floor_script)."""
    if shutil.which("unzip") is None:
        return None
    script = floor_script(archive, listing)
    times, cpu = [], []
    for _ in range(repeats):
        started, cpu_before = time.perf_counter(), children_cpu()
        subprocess.run(["bash", "-c", script], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
        cpu.append(children_cpu() - cpu_before)
    return Timing(STAT[stat](times), None, STAT[stat](cpu))


def _timed_runs(
    argv_of: Callable[[Path], list[str]],
    repeats: int,
    stat: str,
    check: Callable[[Path], None] | None = None,
) -> Timing:
    """Run ``argv_of(scratch)`` `repeats` times (each with a fresh, empty scratch folder; the
    output to ``out`` beside it), failing on an exit that is not a completed run; `check` reads
    the first run's output."""
    times, cpu, peak, tree_peak = [], [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        for attempt in range(repeats):
            scratch = Path(tmp) / f"run-{attempt}"
            scratch.mkdir()
            argv = argv_of(scratch)
            cpu_before = children_cpu()
            seconds, code, rss, tree, stderr = run_child(argv, out)
            cpu.append(children_cpu() - cpu_before)
            if code not in COMPLETED_EXIT_CODES:
                raise RuntimeError(f"{' '.join(argv)} exited {code}: {stderr}")
            if attempt == 0 and check is not None:
                check(out)
            shutil.rmtree(scratch)
            times.append(seconds)
            peak, tree_peak = max(peak, rss), max(tree_peak, tree)
    return Timing(STAT[stat](times), peak, STAT[stat](cpu), tree_peak)


def time_mmctl(mmctl: str, archive: Path, repeats: int, stat: str = "best") -> Timing:
    """`mmctl import validate ARCHIVE` (it runs locally, no server): the comparison issue 19's
    goals name. mmctl exits 0 whatever it finds, so any exit but a crash is a completed run."""
    return _timed_runs(lambda _: [mmctl, "import", "validate", str(archive)], repeats, stat)


def time_command(
    cli: list[str], command: str, archive: Path, repeats: int, stat: str = "best"
) -> Timing:
    def argv_of(scratch: Path) -> list[str]:
        args = [
            str(archive) if a == "ARCHIVE" else a.replace("OUT", str(scratch))
            for a in COMMANDS[command]
        ]
        return [*cli, *args, "--format", "json"]

    def check(out: Path) -> None:
        json.loads(out.read_bytes())  # the run did produce a complete report

    return _timed_runs(argv_of, repeats, stat, check)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}, " + (
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def revision() -> str:
    probe = subprocess.run(
        ["git", "-C", str(BENCH), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.stdout.strip() or "unknown"


def fast_path(cli: list[str]) -> str:
    """Which fast path the measured install runs: "C" (archivekit.check.fast._scan built), "Python"
    (no compiler at install, or ARCHIVEKIT_PURE_PYTHON set), or "unknown"."""
    python = Path(cli[0]).with_name("python")
    if not python.exists():
        return "unknown"
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import archivekit.check.fast.fastpath as f; print('C' if f.NATIVE else 'Python')",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.stdout.strip() or "unknown"


def format_rows(rows: list[Row], stat: str = "best") -> list[str]:
    """The table; each command is compared with the floor timed last before it (one floor per
    archive, or one before every command with --paired-floor)."""
    floors: dict[str, float] = {}
    floor_cpu: dict[str, float] = {}
    lines = [
        f"| archive | JSONL MB | measured | {stat} s | MB/s | × floor "
        "| peak RSS MB (one process / all) | CPU s | CPU × floor |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r.timing is None:
            lines.append(
                f"| {r.archive} | {r.jsonl_mb:.0f} | {r.what} | – | – | – | – {r.note} | – | – |"
            )
            continue
        if r.what.startswith("floor"):
            floors[r.archive] = r.timing.seconds
            if r.timing.cpu_seconds:
                floor_cpu[r.archive] = r.timing.cpu_seconds
        floor = floors.get(r.archive)
        ratio = (
            f"{r.timing.seconds / floor:.2f}" if floor and not r.what.startswith("floor") else "–"
        )
        rss = (
            f"{r.timing.peak_rss_kib / 1024:.0f} / {(r.timing.tree_rss_kib or 0) / 1024:.0f}"
            if r.timing.peak_rss_kib
            else "–"
        )
        cpu = r.timing.cpu_seconds
        cpu_floor = floor_cpu.get(r.archive)
        cpu_text = "–" if cpu is None else f"{cpu:.2f}"
        cpu_ratio = (
            f"{cpu / cpu_floor:.2f}"
            if cpu is not None and cpu_floor and not r.what.startswith("floor")
            else "–"
        )
        lines.append(
            f"| {r.archive} | {r.jsonl_mb:.0f} | {r.what} | {r.timing.seconds:.2f} | "
            f"{r.jsonl_mb / r.timing.seconds:.0f} | {ratio} | {rss} | {cpu_text} | {cpu_ratio} |"
        )
    return lines


def measure(
    archive: Path,
    cli: list[str],
    repeats: int,
    with_floor: bool = True,
    stat: str = "best",
    listing: bool = False,
    commands: list[str] | None = None,
    paired_floor: bool = False,
    mmctl: str | None = None,
) -> list[Row]:
    mb = jsonl_size(archive) / MB
    rows = []
    for index, command in enumerate(commands or DEFAULT_COMMANDS):
        if with_floor and (index == 0 or paired_floor):
            floor = time_floor(archive, repeats, stat, listing)
            what = "floor (list + inflate)" if listing else "floor"
            rows.append(Row(archive.name, mb, what, floor, "" if floor else "(no unzip)"))
        timing = time_command(cli, command, archive, repeats, stat)
        rows.append(Row(archive.name, mb, command, timing))
        print("\n".join(format_rows(rows, stat)[-1:]), file=sys.stderr)
    if mmctl is not None:
        timing = time_mmctl(mmctl, archive, repeats, stat)
        rows.append(Row(archive.name, mb, "mmctl import validate", timing))
    return rows


def append_results(title: str, table: list[str], args: argparse.Namespace, cli: list[str]) -> None:
    results: Path = args.results
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        "# Benchmark results\n\nAppended by `python bench/run.py`; newest last. Peak RSS: "
        "the largest single process / the whole process tree, summed.\n"
    )
    text = results.read_text(encoding="utf-8") if results.exists() else header
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    start = getattr(args, "load_at_start", None)
    started = "" if start is None else f"; 1-min load at the start: {start:.2f}"
    section = [
        f"\n## {stamp} — {title}\n",
        f"- machine: {machine()}; load average (1, 5, 15 min) at the end: {load}{started}",
        f"- revision: {revision()}; command: "
        f"`python {getattr(args, 'script', 'bench/run.py')} {' '.join(args.argv)}`; "
        f"fast path: {fast_path(cli)}",
        "",
        *table,
        "",
    ]
    results.write_text(text + "\n".join(section), encoding="utf-8")


def recording_options(parser: argparse.ArgumentParser) -> None:
    """The options of every script that appends to results.md and finds the CLI."""
    parser.add_argument("--no-record", action="store_true", help="do not append to results.md")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to append")
    parser.add_argument("--cli", help="archivekit executable (default: next to this Python)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="400", help="JSONL sizes in MB, comma separated")
    parser.add_argument("--quick", action="store_true", help="10 MB archive, one run each")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (best of)")
    parser.add_argument(
        "--memory-scaling", action="store_true", help="peak RSS at 50k and 500k posts"
    )
    parser.add_argument(
        "--files",
        help="attachment-heavy archives (issue 19) of about these member counts, comma separated",
    )
    parser.add_argument(
        "--images",
        action="store_true",
        help="with --files: about half the files images (their headers are read)",
    )
    parser.add_argument(
        "--non-ascii-names",
        action="store_true",
        help="with --files: every file name starts with 'Übersicht-' (non-ASCII member names)",
    )
    parser.add_argument("--stat", choices=sorted(STAT), default="best", help="best or median run")
    parser.add_argument(
        "--commands",
        help="what to time, comma separated labels matched by prefix (default: validate, "
        "inspect; all: " + ", ".join(COMMANDS) + ")",
    )
    parser.add_argument(
        "--paired-floor",
        action="store_true",
        help="time the floor again right before every command and compare each command with "
        "that one (fairer on a machine whose load changes during the run)",
    )
    parser.add_argument(
        "--mmctl",
        metavar="PATH",
        help="also time `PATH import validate ARCHIVE` (mmctl; not buildable on the development "
        "machine, so issue 19's goals against mmctl are checked where it is installed)",
    )
    recording_options(parser)
    parser.add_argument("--data", type=Path, default=DATA, help="where archives are kept")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    args.load_at_start = os.getloadavg()[0]
    repeats = 1 if args.quick else args.repeats
    commands = None
    if args.commands:
        wanted = [c.strip() for c in args.commands.split(",") if c.strip()]
        commands = [c for c in COMMANDS if any(c.startswith(w) for w in wanted)]
        if not commands:
            parser.error(f"--commands: none of {wanted} is a timed command")

    cli, why = find_cli(args.cli)
    if cli is None:
        print(
            f"archivekit CLI unavailable: {why}.\n"
            "Install the package (`make` builds .venv) and make sure `archivekit validate "
            "ARCHIVE --format json` works, then rerun.",
            file=sys.stderr,
        )
        return 2

    sections: list[tuple[str, list[Row]]] = []
    if args.files:
        rows = []
        counts = [int(c) for c in args.files.split(",") if c.strip()]
        variant = ("-images" if args.images else "") + ("-nonascii" if args.non_ascii_names else "")
        for members in counts:
            archive = files_archive(args.data, members, variant)
            ensure_files_archive(
                archive, members, images=args.images, non_ascii=args.non_ascii_names
            )
            rows += measure(
                *(archive, cli, repeats),
                stat=args.stat,
                listing=True,
                commands=commands,
                mmctl=args.mmctl,
            )
        shape = "attachment-heavy, half the files images" if args.images else "attachment-heavy"
        if args.non_ascii_names:
            shape += ", non-ASCII names"
        sections.append((f"{shape} ({', '.join(map(str, counts))} members)", rows))
    elif args.memory_scaling:
        counts = (5_000, 50_000) if args.quick else (50_000, 500_000)
        rows = []
        for posts in counts:
            archive = args.data / f"mem-{posts}.zip"
            ensure_archive(archive, posts=posts)
            rows += measure(archive, cli, repeats, with_floor=False, commands=commands)
        sections.append((f"memory scaling ({counts[0]} vs {counts[1]} posts)", rows))
    else:
        sizes = ["10"] if args.quick else [s.strip() for s in args.sizes.split(",") if s.strip()]
        rows = []
        for size in sizes:
            archive = args.data / f"bench-{size}.zip"
            ensure_archive(archive, jsonl_mb=float(size))
            rows += measure(
                *(archive, cli, repeats),
                commands=commands,
                paired_floor=args.paired_floor,
                mmctl=args.mmctl,
            )
        sections.append((f"throughput ({', '.join(sizes)} MB JSONL)", rows))

    for title, rows in sections:
        table = format_rows(rows, args.stat)
        print(f"\n{title}\n" + "\n".join(table))
        if not args.no_record:
            append_results(title, table, args, cli)
    return 0


if __name__ == "__main__":
    sys.exit(main())
