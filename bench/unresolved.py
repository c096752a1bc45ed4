"""Memory of unresolved references: peak RSS of `archivekit validate` on archives whose posts
each name a distinct undefined target with a long name.

    python bench/unresolved.py                          # 2,500 and 10,000 names of 20 kB
    python bench/unresolved.py --names 5000 --kinds channel --formats json
    python bench/unresolved.py --command "env PYTHONPATH=/tmp/base python -m archivekit" \
        --command archivekit                           # A/B, the commands taking turns

A reference that does not resolve waits until the end of the run for a later definition, so
whatever is kept per undefined name is kept for the whole run; the number of such names is
bounded only by the number of posts. Two sizes show the scaling: peak RSS per extra name
should be a few hundred bytes whatever the names' length, and the rest fixed (up to
`MAX_CAUSES` root causes, each keeping its name once for the report). Archives are built on
first use into bench/data/ (git-ignored). Each run's peak RSS is that of the command and its
worker processes (``os.wait4``), with its CPU time (user + system).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

from run import child_env, find_cli

from archivekit.testing.synth import make_archive, post, team, user

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
KINDS = ("channel", "team", "user")


def build(kind: str, names: int, size: int) -> Path:
    """An archive of `names` posts, each naming a distinct undefined `kind` of `size` bytes,
    built in a process of its own: a child's peak RSS starts from its parent's (fork), which
    must stay small."""
    path = DATA / f"unresolved-{kind}-{names}-{size}.zip"
    if not path.exists():
        argv = [sys.executable, __file__, "--build", kind, str(names), str(size), str(path)]
        subprocess.run(argv, check=True)
    return path


def _write(kind: str, names: int, size: int, path: Path) -> None:
    lines = [team("t"), user("u", ["t"])]
    for i in range(names):
        name = f"{i:08d}".ljust(size, "x")
        where = {"channel": ("t", name, "u"), "team": (name, "town-square", "u")}
        team_name, channel_name, author = where.get(kind, ("t", "town-square", name))
        lines.append(post(team_name, channel_name, author, "hi", 1_600_000_000_000 + i))
    DATA.mkdir(parents=True, exist_ok=True)
    make_archive(path, lines)


def peak(argv: list[str]) -> tuple[int, float]:
    """Peak RSS in MB (the command and its workers) and CPU seconds of one run."""
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=child_env())
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} exited {child.returncode}")
    return usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


def main() -> int:
    if sys.argv[1:2] == ["--build"]:
        kind, names, size, path = sys.argv[2:6]
        _write(kind, int(names), int(size), Path(path))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", default="2500,10000", help="undefined names per archive")
    parser.add_argument("--size", type=int, default=20_000, help="bytes of each name")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--formats", default="text,json")
    parser.add_argument("--pipe", action="store_true", help="also read each archive from a pipe")
    parser.add_argument(
        "--command", action="append", help="the archivekit command line (repeat to compare)"
    )
    args = parser.parse_args()
    if args.command:
        clis = [shlex.split(command) for command in args.command]
    else:
        cli, why = find_cli()
        if cli is None:
            print(why, file=sys.stderr)
            return 2
        clis = [cli]
    print(
        f"{'kind':8} {'names':>7} {'format':6} {'input':5} {'cmd':>3} {'peak MB':>8} {'cpu s':>6}"
    )
    for kind in args.kinds.split(","):
        for names in (int(n) for n in args.names.split(",")):
            path = build(kind, names, args.size)
            for fmt in args.formats.split(","):
                for source in ("file", "pipe") if args.pipe else ("file",):
                    for n, cli in enumerate(clis):
                        argv = [*cli, "validate", "--max-issues", "5", "--format", fmt]
                        if source == "file":
                            argv.append(str(path))
                        else:
                            argv = [
                                "sh",
                                "-c",
                                'f=$1; shift; cat "$f" | "$@" -',
                                "sh",
                                str(path),
                                *argv,
                            ]
                        mb, cpu = peak(argv)
                        row = f"{kind:8} {names:>7,} {fmt:6} {source:5} {n:>3}"
                        print(f"{row} {mb:>8,} {cpu:>6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
