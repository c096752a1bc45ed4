"""What importing costs: a plain install never needs hypothesis, the reader never loads
pydantic, and `import archivekit` loads nothing but the package itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter (sys.modules as a plain start leaves it)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


# A meta path finder that refuses hypothesis, as on an install without the testing extra.
HIDE_HYPOTHESIS = """
import sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name == "hypothesis" or name.startswith("hypothesis."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, Hide())
"""


def test_synth_imports_without_hypothesis() -> None:
    done = run_python(
        HIDE_HYPOTHESIS
        + """
import archivekit, archivekit.testing.synth
from archivekit.testing.synth import make_archive, team
assert "hypothesis" not in sys.modules
"""
    )
    assert done.returncode == 0, done.stderr


def test_fuzz_without_hypothesis_says_which_extra_to_install() -> None:
    done = run_python(HIDE_HYPOTHESIS + "import archivekit.testing.fuzz\n")
    assert done.returncode != 0
    assert "pip install 'archivekit[testing]'" in done.stderr


def test_the_reader_and_the_package_do_not_load_pydantic() -> None:
    done = run_python(
        """
import sys
import archivekit
assert [m for m in sys.modules if m.startswith("archivekit")] == ["archivekit"], sys.modules
import archivekit.read
from archivekit.gosem.decode import decode_line
assert decode_line(b'{"type":"version","version":1}')[0] is not None
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "click", "numpy"))
assert not loaded, loaded
"""
    )
    assert done.returncode == 0, done.stderr


def test_validate_on_a_small_archive_loads_only_what_it_needs() -> None:
    # Start-up is most of a run on a small archive (issue 9's budget: bench/startup.py).
    sample = Path(__file__).resolve().parent.parent / "sample_exports" / "clean.zip"
    done = run_python(
        f"""
import sys
from archivekit.cli import main
sys.argv = ["archivekit", "validate", {str(sample)!r}]
try:
    main()
except SystemExit as exc:
    assert exc.code == 0, exc.code
import gc
# What the run built is frozen: the interpreter's exit leaves it to the system, uncollected.
assert gc.get_freeze_count() > 0
heavy = ("pydantic", "pandas", "numpy", "pyarrow", "jinja2", "matplotlib", "hypothesis")
# Only a stream, a parallel run, another command or package data read the slow way need these
# (shutil, which imports bz2 and lzma: a terminal's width, removing a run's directory).
# heapq: only past the limit of duplicates listed; binascii: only an RFC 2047 B-encoded word.
unneeded = ("multiprocessing", "pickle", "queue", "importlib.resources", "zipfile", "shutil",
            "bz2", "lzma", "heapq", "binascii")
loaded = sorted(
    m for m in sys.modules
    if m.split(".")[0] in heavy or m in unneeded or m.startswith("importlib.resources.")
    or m.startswith(("archivekit.write.", "archivekit.model", "archivekit.testing"))
    or m in ("archivekit.inspect", "archivekit.triage", "archivekit.report.tables",
             "archivekit.report.html", "archivekit.report.charts", "archivekit.cli_commands",
             "archivekit.read.stream", "archivekit.check.deferred", "archivekit.check.parallel",
             "archivekit.check.table_counts", "archivekit.check.table_lines", "archivekit.options",
             # a valid archive's report has no problem to word, and no .svg emoji to parse
             "archivekit.report.causes", "archivekit.gosem.xml",
             # fix's split planner (only for a message too long), inspect's dates,
             # --verify-files
             "archivekit.check.rules.split", "archivekit.check.periods",
             "archivekit.check.verify")
)
assert not loaded, loaded
"""
    )
    assert done.returncode == 0, done.stderr
