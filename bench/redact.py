"""Time `archivekit redact` against the decompression floor, and its peak RSS as posts grow
(issue 15: at most 3x the floor on the 400 MB archive; memory bounded by distinct names).

    python bench/redact.py             # 400 MB archive (floor timed right before each run),
                                       # then peak RSS at 50k and 500k posts
    python bench/redact.py --quick     # 10 MB, then 5k vs 50k posts, one run each: a smoke test

The archives, the floor (``unzip -p ARCHIVE import.jsonl | wc -l``), the timing and the table
are bench/run.py's (`redact ARCHIVE -o OUT.zip --key bench`); other options (``--repeats``,
``--stat``, ``--no-record``...) are passed on. Each part appends its own section to
bench/results.md.
"""

from __future__ import annotations

import sys

from run import main as run_main


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    code = run_main(["--commands", "redact", "--paired-floor", *args])
    if code:
        return code
    return run_main(["--commands", "redact", "--memory-scaling", *args])


if __name__ == "__main__":
    sys.exit(main())
