"""Shared fixtures: build an archive inside the test, validate it, and the ``--update-golden``
option that rewrites ``tests/golden/`` from the current output.

Every report made through `validate_lines` is checked against the issue catalogue on the spot,
so a code missing from `archivekit.issues.CODES` fails the test that produced it; and every
issue any test makes must keep the numbers and names its message speaks of in its `values`
(`message_values.unkept_values`), else the test that made it fails at teardown.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import pytest
from message_values import unkept_values

from archivekit.issues import CODES, Issue
from archivekit.report.model import Report
from archivekit.testing.fuzz import load_fuzz_profile
from archivekit.testing.synth import Line, make_archive
from archivekit.validate import validate

# Every property test in the suite runs under the same profile: derandomized in CI, long and
# random on request (docs/fuzzing.md).
load_fuzz_profile()

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
# How many issues of one code a test has checked for kept values (`issues_keep_their_values`).
ISSUES_CHECKED_PER_CODE = 50

# make_archive's keyword arguments; every other keyword goes to validate().
_ARCHIVE_OPTIONS = frozenset({"jsonl_name", "method", "attachment_method", "version_line"})

Build = Callable[..., Path]
ValidateLines = Callable[..., Report]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/* from the current output instead of comparing with it",
    )


@pytest.fixture(autouse=True)
def issues_keep_their_values(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[None]:
    """Every issue made during the test holds what its message speaks of in `values` (unless
    the test is marked ``unkept_values``: it makes such issues on purpose)."""
    if request.node.get_closest_marker("unkept_values") is not None:
        yield
        return
    unkept: list[str] = []
    seen: Counter[str] = Counter()
    made = Issue.__init__

    def checked(issue: Issue, *args: Any, **kwargs: Any) -> None:
        made(issue, *args, **kwargs)
        # The first issues of each code are enough: a hostile archive makes millions.
        seen[issue.code] += 1
        if seen[issue.code] > ISSUES_CHECKED_PER_CODE:
            return
        missing = unkept_values(issue)
        if missing and len(unkept) < 5:
            unkept.append(
                f"{issue.code}: {', '.join(missing)} not in {dict(issue.values)}: {issue.message}"
            )

    monkeypatch.setattr(Issue, "__init__", checked)
    yield
    assert not unkept, "issue messages speak of values missing from `values`:\n" + "\n".join(unkept)


@pytest.fixture(autouse=True)
def signal_mask_restored() -> Iterator[None]:
    """The test leaves the main thread's signal mask as it found it. A mask left blocked is
    inherited by every process the later tests start: a `validate -` started with SIGTERM
    blocked never saw it, and a test of SIGTERM hung in CI for that (issue 18)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    yield
    after = signal.pthread_sigmask(signal.SIG_SETMASK, before)
    assert after == before, f"the test changed the signal mask: {sorted(after ^ before)}"


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def assert_catalogued(report: Report) -> None:
    """Every code a report mentions (kept or only counted) is in the catalogue."""
    codes = set(report.issue_counts) | {issue.code for issue in report.issues}
    unknown = sorted(codes - set(CODES))
    assert not unknown, f"codes missing from archivekit.issues.CODES: {unknown}"


@pytest.fixture
def build(tmp_path: Path) -> Build:
    """``build(lines, files={}, name="export.zip", **make_archive_options) -> Path``.

    Line 1 of the JSONL is the version line make_archive prepends, so the first line a test
    passes is line 2.
    """

    def _build(
        lines: Sequence[Line],
        files: Mapping[str, bytes] | None = None,
        *,
        name: str = "export.zip",
        **options: Any,
    ) -> Path:
        return make_archive(tmp_path / name, lines, files or {}, **options)

    return _build


@pytest.fixture
def validate_lines(build: Build) -> ValidateLines:
    """``validate_lines(lines, files={}, **options) -> Report``: build, then validate.

    Keeps every issue unless ``max_issues`` is given; make_archive options (``method``,
    ``attachment_method``, ``version_line``, ``jsonl_name``) go to the builder.
    """

    def _validate(
        lines: Sequence[Line], files: Mapping[str, bytes] | None = None, **options: Any
    ) -> Report:
        archive_options = {k: v for k, v in options.items() if k in _ARCHIVE_OPTIONS}
        validate_options = {k: v for k, v in options.items() if k not in _ARCHIVE_OPTIONS}
        validate_options.setdefault("max_issues", None)
        report = validate(build(lines, files, **archive_options), **validate_options)
        assert_catalogued(report)
        return report

    return _validate


# --- external tools (installed by scripts/test-tools.sh, which `make test` runs) -------------

# Every name a tool goes by, in order of preference (Debian's 7zip package installs `7zz`,
# p7zip installs `7z`).
TOOLS: dict[str, tuple[str, ...]] = {
    "chromium": ("chromium", "chromium-browser", "google-chrome"),
    "7z": ("7zz", "7z", "7za"),
}


def require_tool(tool: str) -> str:
    """The path of `tool`. A missing tool skips the test on a developer's machine but FAILS it
    under ``CI=true``: CI must never pass by silently not running a browser or a second zip
    implementation."""
    for name in TOOLS.get(tool, (tool,)):
        path = shutil.which(name)
        if path is not None:
            return path
    missing_tool(f"{tool} is not installed (scripts/test-tools.sh installs it as root)")


def missing_tool(message: str) -> NoReturn:
    """Skip on a developer's machine, FAIL under ``CI=true`` (see `require_tool`)."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


def require_sanitizers() -> tuple[str, str]:
    """gcc and its libasan.so, for the C extensions' AddressSanitizer builds (gcc builds the
    extensions themselves, so CI has it; a gcc without libasan fails there too)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        missing_tool("gcc is not installed: cannot build the C extensions with sanitizers")
    libasan = subprocess.run(
        [gcc, "-print-file-name=libasan.so"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not os.path.isabs(libasan) or not os.path.exists(libasan):
        missing_tool("gcc has no libasan.so: cannot run the AddressSanitizer build")
    return gcc, libasan


REPO_ROOT = Path(__file__).resolve().parent.parent


def sanitized_build(
    gcc: str, source: Path, out_dir: Path, *, libraries: Sequence[str] = ()
) -> Path:
    """`source` (a C extension of the package) built into `out_dir` with AddressSanitizer and
    UBSan, importable there under its own name."""
    import sysconfig

    out_dir.mkdir(exist_ok=True)
    module = out_dir / (source.stem + sysconfig.get_config_var("EXT_SUFFIX"))
    build = subprocess.run(
        [
            gcc, "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer", "-shared", "-fPIC",
            "-I" + sysconfig.get_paths()["include"], "-I" + str(source.parent),
            "-I" + str(REPO_ROOT / "archivekit" / "read"), str(source), "-o", str(module),
            *(f"-l{name}" for name in libraries),
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    return module


def run_sanitized(
    argv: Sequence[str], libasan: str, timeout: int = 300, env: Mapping[str, str] | None = None
) -> None:
    """Run `argv` (Python importing a `sanitized_build`) with libasan preloaded, and `env`
    added; fails the test on a non-zero exit or any sanitizer report, quoting it."""
    env = {
        **os.environ,
        **(env or {}),
        "LD_PRELOAD": libasan,
        "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:halt_on_error=1",
        "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
        "PYTHONMALLOC": "malloc",
    }
    run = subprocess.run(list(argv), capture_output=True, text=True, env=env, timeout=timeout)
    starts = [i for i in (run.stderr.find("ERROR: "), run.stderr.find("runtime error")) if i >= 0]
    report = run.stderr[max(min(starts, default=0) - 200, 0) :][:6000]
    assert run.returncode == 0, report
    assert "AddressSanitizer" not in run.stderr, report
    assert "runtime error" not in run.stderr, report


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a headless-capable Chromium (session-wide: a module may share one page load)."""
    return require_tool("chromium")


@pytest.fixture
def seven_zip() -> str:
    """Path of 7-Zip (`7zz` or `7z`), a second zip implementation to read our archives back."""
    return require_tool("7z")
