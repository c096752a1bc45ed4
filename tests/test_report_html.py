"""`archivekit report`: the triage page's content, its bounds and its command (the browser
tests are in test_report_browser.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from markupsafe import escape
from report_archives import IMAGE, MATH, MONTH, SCRIPT, T0, busy_archive

from archivekit import validate
from archivekit.cli import cli
from archivekit.gosem.decode import POST_LINE_TYPES
from archivekit.issues import Issue, Severity
from archivekit.read import open_archive
from archivekit.report.archive_members import member_manifest
from archivekit.report.html import MAX_MESSAGE, MAX_TEXT, PAGE_BUDGET, clip_html, render_html
from archivekit.report.shapes import Shape
from archivekit.testing.reexport import reexport
from archivekit.testing.synth import (
    channel,
    direct_channel,
    direct_post,
    make_archive,
    post,
    team,
    user,
)
from archivekit.triage import triage, triage_html

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_exports"


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return busy_archive(tmp_path_factory.mktemp("busy") / "busy.zip")


@pytest.fixture(scope="module")
def busy_page(busy: Path) -> str:
    return triage_html(busy)


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["report", *args])


def test_the_command_writes_the_page_and_exits_as_validate(tmp_path: Path) -> None:
    out = tmp_path / "triage.html"
    result = run(str(SAMPLES / "over_limits.zip"), "-o", str(out))
    assert result.exit_code == 1, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Not ready to import" in page
    clean = run(str(SAMPLES / "clean.zip"), "-o", str(tmp_path / "clean.html"))
    assert clean.exit_code == 0, clean.output
    assert "Ready to import" in (tmp_path / "clean.html").read_text(encoding="utf-8")
    assert (
        list(tmp_path.iterdir()) == [out, tmp_path / "clean.html"]
        or len(list(tmp_path.iterdir())) == 2
    )  # nothing left behind but the two pages


def test_every_issue_code_is_a_group_with_its_exact_count(busy: Path, busy_page: str) -> None:
    report = validate(busy)
    assert report.issue_counts
    for code, count in report.issue_counts.items():
        group = re.search(
            rf'id="code-{code}".*?<span class="count">([\d,]+)</span>', busy_page, re.S
        )
        assert group is not None, code
        assert int(group.group(1).replace(",", "")) == count


class _Tags(HTMLParser):
    """Every start tag of a document with its attributes (text and escaped text aside)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_root_causes_come_first_in_the_order_to_fix_them(busy: Path, busy_page: str) -> None:
    from markupsafe import escape

    report = validate(busy)
    assert report.causes
    causes_at = busy_page.index('id="causes"')
    assert causes_at < busy_page.index('id="problems"') < busy_page.index('id="all-issues"')
    at = causes_at
    for n, cause in enumerate(report.causes, 1):
        found = busy_page.index(f"{n}. ", at)
        assert busy_page.index(str(escape(cause.cause)), found) > found
        assert str(escape(cause.fix)) in busy_page
        at = found


def test_the_page_loads_nothing(busy_page: str) -> None:
    parser = _Tags()
    parser.feed(busy_page)
    names = [tag for tag, _ in parser.tags]
    assert "link" not in names
    assert "img" not in names
    assert "iframe" not in names
    assert names.count("script") == 1
    for _, attrs in parser.tags:
        for name in ("src", "href", "xlink:href", "action", "srcset"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (name, value)
    assert "@import" not in busy_page
    assert "url(http" not in busy_page
    # ... and the page's policy forbids it anyway.
    policy = [
        a["content"] for t, a in parser.tags if a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert policy
    assert policy[0] is not None
    assert policy[0].startswith("default-src 'none';")


def test_names_from_the_archive_are_escaped(busy_page: str) -> None:
    assert SCRIPT not in busy_page
    assert IMAGE not in busy_page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in busy_page
    assert busy_page.count("<script") == 1


def test_without_its_script_the_page_shows_everything(busy_page: str) -> None:
    """The filter's controls start hidden (the script shows them) and no row starts hidden:
    with scripts off, the whole list reads as it is."""
    parser = _Tags()
    parser.feed(busy_page)
    filters = [a for t, a in parser.tags if a.get("id") == "issue-filters"]
    assert len(filters) == 1
    assert "hidden" in filters[0]
    rows = [a for t, a in parser.tags if t == "tr" and "data-severity" in a]
    assert len(rows) == 5
    assert not any("hidden" in a for a in rows)
    groups = [a for t, a in parser.tags if t == "details"]
    assert groups
    assert all("open" in a for a in groups)  # the issues by code too (the script folds them)


def test_the_charts_have_titles_and_labelled_axes(busy_page: str) -> None:
    svgs = dict(re.findall(r'<figure id="(chart-[a-z]+)".*?(<svg.*?</svg>)', busy_page, re.S))
    expected = {
        "chart-months": ("Posts per month", "month (UTC)", "posts"),
        "chart-channels": ("Top 8 channels by posts", "channel", "posts", f"sales/{MATH}"),
        "chart-users": ("Top 6 users by posts", "user", "posts"),
        "chart-files": ("Attachments by file type", "file type", "files", "size (bytes)"),
        "chart-teams": ("Team members against MaxUsersPerTeam", "team"),
    }
    assert set(svgs) == set(expected)
    # Names are text: "$x^2$" is drawn as itself, not as math.
    for chart, labels in expected.items():
        texts = re.findall(r"<text[^>]*>([^<]*)</text>", svgs[chart])
        for label in labels:
            assert label in texts, (chart, label, texts)


def test_limits_and_mmctl_commands_when_a_target_is_given(tmp_path: Path) -> None:
    out = tmp_path / "t.html"
    result = run(str(SAMPLES / "over_limits.zip"), "-o", str(out), "--max-users-per-team", "50")
    assert result.exit_code == 1
    page = out.read_text(encoding="utf-8")
    assert "Checked against the given target configuration" in page
    assert "mmctl config set TeamSettings.MaxUsersPerTeam 60" in page
    assert "TeamSettings.MaxChannelsPerTeam" in page  # every setting, met or not


def test_the_page_stays_small_for_a_huge_hostile_archive(tmp_path: Path) -> None:
    """Names grow when escaped (`"`, `<`, `&` five times) or encoded (4-byte characters):
    the page's bound holds for what is written, not for what was read."""
    hostile = '"<&\U0001d11e' * 1500  # 6,000 characters, 30,000 bytes escaped
    lines: list[Any] = [team("eng")]
    lines += [channel("eng", f"{hostile}{i}") for i in range(300)]
    lines += [
        post("eng", f"{hostile}{i % 300}", f"{hostile}{i}", f"{hostile}{i}", T0 + i)
        for i in range(3000)
    ]
    files = {f"data/{hostile[:200]}/{i:05d}{hostile[:100]}.txt": b"x" for i in range(3000)}
    archive = make_archive(tmp_path / "huge.zip", lines, files)
    after = tmp_path / "after.zip"
    make_archive(after, [team("eng")])  # nothing arrived: every item is missing
    out = tmp_path / "huge.html"
    result = run(str(archive), "-o", str(out), "--against", str(after), "--checksums")
    assert result.exit_code == 1, result.output
    page = out.read_bytes()
    assert len(page) < 2_000_000
    text = page.decode("utf-8")
    _Tags().feed(text)  # it parses
    assert text.count("<script") == 1
    report = validate(archive, max_issues=None)
    assert f"{report.issue_counts['unknown-user']:,}" in text  # counts stay exact
    assert "Missing per channel" in text
    # Each text is cut whole: no entity or character is broken at the cut.
    assert re.search(r"&(?![a-z]+;|#\d+;)", text[: text.index("<script>")]) is None
    assert "\ufffd" not in text


@pytest.mark.parametrize(
    "name", ['"' * 1000, "<&" * 500, "\U0001d11e" * 1000, "é" * 1000, "x" * 1000]
)
def test_a_text_is_clipped_by_what_it_weighs_on_the_page(name: str) -> None:
    shown = str(clip_html(name))
    assert len(shown.encode("utf-8")) <= MAX_TEXT
    assert shown.endswith("…")
    assert len(shown.encode("utf-8")) > MAX_TEXT - 8  # cut at the last whole character
    assert str(clip_html("a<b")) == "a&lt;b"  # short texts whole, escaped


def test_the_manifest_counts_everything_and_lists_the_first(busy: Path) -> None:
    with open_archive(busy) as archive:
        manifest = member_manifest(archive, max_listed=3)
        members = [m for m in archive.members() if not m.is_dir]
        assert manifest.members == len(members)
        assert manifest.bytes == sum(m.size for m in members)
        assert [r.name for r in manifest.rows] == ["import.jsonl", *[m.name for m in members[1:3]]]
        assert manifest.truncated
        assert all(r.sha256 is None for r in manifest.rows)

        summed = member_manifest(archive, checksums=True, max_listed=3)
        data = {m.name: b"".join(archive.iter_member_blocks(m)) for m in members}
    for row in summed.rows:
        assert row.sha256 == hashlib.sha256(data[row.name]).hexdigest()
    lines = "".join(
        f"{hashlib.sha256(d).hexdigest()}  {len(d)}  {name}\n" for name, d in data.items()
    )
    assert summed.digest == hashlib.sha256(lines.encode()).hexdigest()


def test_checksums_on_the_page(busy: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.html"
    assert run(str(busy), "-o", str(out), "--checksums").exit_code == 1
    page = out.read_text(encoding="utf-8")
    assert "Manifest digest" in page
    with open_archive(busy) as archive:
        jsonl = b"".join(archive.iter_jsonl_blocks())
    assert hashlib.sha256(jsonl).hexdigest() in page


def test_against_shows_what_did_not_arrive(busy: Path, tmp_path: Path) -> None:
    target = tmp_path / "after.zip"
    lost: list[int] = []

    def drop(line: int, record: dict[str, Any]) -> dict[str, Any] | None:
        if record.get("type") == "post" and record["post"]["message"] == "message 4":
            lost.append(line)
            return None
        return record

    reexport(busy, target, edit=drop)
    page = triage(busy, against=target)
    assert page.reconciliation is not None
    assert not page.reconciliation.ok
    out = tmp_path / "r.html"
    assert run(str(busy), "-o", str(out), "--against", str(target)).exit_code == 1
    html = out.read_text(encoding="utf-8")
    assert "did not arrive" in html
    assert "Missing per channel" in html
    assert "eng/general" in html
    assert f'<td class="n">{lost[0]}</td>' in html


def test_against_reads_the_archive_once_and_reconciles_as_reconcile_does(
    busy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archivekit.read.source import Archive
    from archivekit.report.reconcile import reconcile

    target = tmp_path / "after.zip"
    reexport(
        busy,
        target,
        edit=lambda _, r: None if r.get("type") == "post" and r["post"]["user"] == "user01" else r,
    )
    expected = reconcile(busy, target)
    assert not expected.ok
    reads: list[tuple[str, str]] = []
    stream = Archive._stream

    def counted(archive: Archive, member: Any, block_size: int, ratio: bool = True) -> Any:
        reads.append((Path(archive.path).name, member.name))
        return stream(archive, member, block_size, ratio)

    monkeypatch.setattr(Archive, "_stream", counted)
    page = triage(busy, against=target)
    jsonl_reads = [read for read in reads if read[1] == "import.jsonl"]
    assert sorted(jsonl_reads) == [("after.zip", "import.jsonl"), ("busy.zip", "import.jsonl")]
    found = page.reconciliation
    assert found is not None
    assert found.summary == expected.summary
    assert found.missing_total == expected.missing_total
    assert [(m.kind, m.line, m.channel) for m in found.missing] == [
        (m.kind, m.line, m.channel) for m in expected.missing
    ]


def test_a_missing_library_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import archivekit.triage

    monkeypatch.setattr(archivekit.triage, "missing_report_modules", lambda: ["matplotlib"])
    result = run(str(SAMPLES / "clean.zip"), "-o", str(tmp_path / "x.html"))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "archivekit: report needs matplotlib: pip install 'archivekit[report]'"
    ]
    assert not (tmp_path / "x.html").exists()


def test_an_unreadable_archive_is_exit_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")
    result = run(str(bad), "-o", str(tmp_path / "x.html"))
    assert result.exit_code == 3
    assert not (tmp_path / "x.html").exists()


def test_counting_in_workers_and_drawing_in_a_child_give_the_same_page_data(busy: Path) -> None:
    alone = triage(busy, workers=1)  # one process: validate and count, then draw here
    side_by_side = triage(busy, workers=3)  # 2 workers validate and count; a child draws
    assert side_by_side.report.to_dict() == alone.report.to_dict()
    for name in ("teams", "channels", "users", "directs", "months", "files"):
        assert side_by_side.tables.table(name).rows == alone.tables.table(name).rows
    assert side_by_side.charts == alone.charts  # drawn in the child process, the same SVG


def test_report_takes_every_validate_option_but_the_texts() -> None:
    from archivekit.cli import report, validate

    mine = {p.name for p in report.params}
    theirs = {p.name for p in validate.params}
    assert mine == (theirs - {"output_format", "verbose"}) | {"against", "checksums"}


def test_codes_beyond_the_issue_cap_keep_their_count_severity_and_effect(busy: Path) -> None:
    from markupsafe import escape

    from archivekit.report.html import issue_groups, render_html

    page = triage(busy, max_issues=1)
    assert len(page.report.issues) == 1
    groups = {g.code: g for g in issue_groups(page.report)}
    assert groups["attachment-unreferenced"].severity == "warning"
    assert groups["unknown-user"].severity == "error"
    assert groups["unknown-user"].effect == "fails-import"
    assert groups["unknown-user"].examples == []
    html = render_html(page)
    # A code without kept examples still says how to fix it.
    (cause,) = [c for c in page.report.causes if c.code == "unknown-user"]
    unknown = html[html.index('id="code-unknown-user"') :]
    unknown = unknown[: unknown.index("</details>")]
    assert f"<strong>How to fix:</strong> {escape(cause.fix)}" in unknown
    for code, count in page.report.issue_counts.items():
        assert f'id="code-{code}"' in html
        assert count > 0
    assert "1 of 5 issues listed" in html


def test_settings_that_are_on_or_off_read_true_or_false() -> None:
    from archivekit.report.html import number

    assert [number(v) for v in (True, False, 12345, None)] == ["true", "false", "12,345", "–"]


def test_counts_are_charted_with_whole_ticks_only() -> None:
    import pandas as pd

    from archivekit.report.charts import team_members

    chart = team_members(pd.DataFrame({"team": ["a", "b"], "members": [1, 2]}), None)
    assert chart.svg is not None
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", chart.svg)
    assert {"0", "1", "2"} <= set(texts)
    assert not [t for t in texts if re.fullmatch(r"[\d.,]*\.\d+", t)]


def test_text_sizes_are_measured_once_and_follow_the_font_settings() -> None:
    # The layout's text sizes are kept (measuring is ~0.4 ms a text): asked again they are
    # not measured again, and a size named relative to the font size follows that setting.
    import matplotlib

    from archivekit.report import charts

    with matplotlib.rc_context(charts._RC):
        charts._extent.cache_clear()
        first = charts._text("a channel name", "small")
        again = charts._text("a channel name", "small")
        assert again == first
        assert charts._extent.cache_info().hits >= 2  # the name and "lp" (a line's height)
        with matplotlib.rc_context({"font.size": 18}):
            larger = charts._text("a channel name", "small")
    assert larger[0] > first[0] * 1.5
    assert larger[1] > first[1] * 1.5


def test_every_chart_fits_its_figure(busy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The axes are placed from the sizes of the texts around them (no measuring draw): what
    is drawn — long names, month labels on end, bar labels, the legend — stays inside."""
    from archivekit.report import charts

    figures: list[Any] = []
    svg = charts._svg

    def kept(figure: Any, salt: str) -> str:
        figures.append(figure)
        return svg(figure, salt)

    monkeypatch.setattr(charts, "_svg", kept)
    triage(busy, workers=1)  # drawn in this process
    assert len(figures) == 5
    for figure in figures:
        drawn = figure.get_tightbbox()  # inches
        width, height = figure.get_size_inches()
        assert drawn.x0 >= -0.01
        assert drawn.y0 >= -0.01
        assert drawn.x1 <= width + 0.01
        assert drawn.y1 <= height + 0.01
        assert drawn.width > width * 0.9  # and uses the width it has


def _svg(page: str, chart: str) -> str:
    found = re.search(rf'<figure id="{chart}".*?(<svg.*?</svg>)', page, re.S)
    assert found is not None, chart
    return found.group(1)


def test_a_long_date_range_is_charted_per_a_wider_period(tmp_path: Path) -> None:
    # Posts in 300 months (25 years), in two teams and a DM: one bar a month would be 300.
    lines: list[Any] = [team("a"), team("b"), channel("a", "c"), channel("b", "c")]
    lines += [user("u1", {"a": ["c"], "b": ["c"]}), user("u2", {"a": ["c"]})]
    for m in range(300):
        lines += [post(name, "c", "u1", "hi", T0 + m * MONTH) for name in ("a", "b")]
        lines.append(direct_post(["u1", "u2"], "u1", "hi", T0 + m * MONTH))
    page = triage_html(make_archive(tmp_path / "years.zip", lines))
    svg = _svg(page, "chart-months")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "Posts per quarter" in texts
    assert "quarter (UTC)" in texts
    assert len(svg.encode()) < 150_000
    assert re.search(r'id="patch_\d+"', svg) is not None  # bars are drawn


def test_the_page_keeps_its_budget_by_cutting_the_long_lists(tmp_path: Path) -> None:
    """Hostile names everywhere and posts over 400 months: the long lists are cut until the
    page fits its budget (here a small one: the same code keeps real pages under 2 MB), each
    cut said on the page; counts stay exact."""
    hostile = '"<&\U0001d11e' * 200
    lines: list[Any] = [team("eng")]
    lines += [channel("eng", f"{hostile}{i}") for i in range(20)]
    lines += [
        post("eng", f"{hostile}{i % 20}", f"{hostile}{i}", "hi", T0 + i * MONTH) for i in range(400)
    ]
    files = {f"data/{hostile[:100]}{i:04d}.txt": b"x" for i in range(300)}
    page = triage(make_archive(tmp_path / "hostile.zip", lines, files))
    whole = render_html(page)
    assert len(whole.encode()) > 400_000  # the lists as capped by their counts alone
    small = render_html(page, budget=400_000)
    assert len(small.encode()) <= 400_000
    assert "more not shown; see <code>archivekit validate --format json</code>" in small
    assert re.search(r"[\d,]+ more not shown\.", small)  # the manifest
    count = page.report.issue_counts["unknown-user"]
    assert f'<span class="count">{count:,}</span>' in small
    _Tags().feed(small)
    assert "Posts per year" in _svg(small, "chart-months")


def test_the_budget_holds_when_cutting_the_long_lists_is_not_enough(busy: Path) -> None:
    """A report made up to outweigh the budget with every long list empty: hundreds of issue
    codes, each with long examples, and as many sentences about the archive's shape. The
    examples go, then the charts and shapes, then codes, until the page fits."""
    page = triage(busy)
    long = '"<&' * 700  # clipped to MAX_MESSAGE bytes as escaped
    codes = [f"made-up-{i:03d}" for i in range(200)]
    issues = [Issue(c, Severity.ERROR, long, "import.jsonl", n) for n, c in enumerate(codes)]
    page.report = dataclasses.replace(
        page.report,
        issues=issues * 5,
        issue_counts=dict.fromkeys(codes, 5),
        errors=len(issues) * 5,
        shapes=[Shape("made-up", long)] * 200,
    )
    assert len(render_html(page).encode()) <= PAGE_BUDGET  # 2.4 MB with the lists empty
    budget = 50_000
    html = render_html(page, budget=budget)
    assert len(html.encode()) <= budget
    assert "100 more codes not shown" in html
    assert html.count("left out to keep the page under 2 MB") == 5  # the five charts
    assert "made-up-000" in html  # the first codes stay
    _Tags().feed(html)


def test_an_issue_message_shows_whole() -> None:
    # Our words around archive values: longer than a name's clip, shown whole.
    archive = SAMPLES / "broken.zip"
    page = triage_html(archive)
    shown = [str(escape(i.message)) for i in validate(archive).issues]
    long = [message for message in shown if MAX_TEXT < len(message.encode()) < MAX_MESSAGE]
    assert long
    assert all(message in page for message in long)


@pytest.mark.parametrize(
    ("first", "last", "shown"),
    [
        (T0, 253_402_300_800_000, "to 10000-01-01 (first"),  # a post in year 10000
        (-(2**63), T0, "-292275055-05-16 to "),  # the smallest int64 (numpy's NaT)
        (T0, 10**18, "to 31690708-07-05 (first"),
        (T0, 2**63 - 1, "to 292278994-08-17 (first"),
    ],
)
def test_the_summary_dates_any_create_at_the_server_takes(
    tmp_path: Path, first: int, last: int, shown: str
) -> None:
    lines = [team("t"), channel("t", "c"), user("u", {"t": ["c"]})]
    lines += [post("t", "c", "u", "a", first), post("t", "c", "u", "b", last)]
    page = triage_html(make_archive(tmp_path / "dates.zip", lines))
    dates = re.search(r"<th>dates</th><td>([^<]*)</td>", page)
    assert dates is not None
    assert shown in dates.group(1)
    assert "NaT" not in page


@pytest.mark.parametrize("kind", POST_LINE_TYPES)
def test_a_create_at_past_int64_gets_a_page_not_a_crash(tmp_path: Path, kind: str) -> None:
    # 2**63 is read by the counter as uint64 but is no int64 the server can store.
    lines: list[Any] = [team("t"), channel("t", "c"), user("u", {"t": ["c"]})]
    lines += [user("v", {"t": ["c"]}), direct_channel(["u", "v"]), post("t", "c", "u", "a", T0)]
    if kind == "post":
        payload = '"team":"t","channel":"c","user":"u","message":"b"'
    else:
        payload = '"channel_members":["u","v"],"user":"u","message":"b"'
    lines.append(f'{{"type":"{kind}","{kind}":{{{payload},"create_at":{2**63}}}}}'.encode())
    archive = make_archive(tmp_path / "past.zip", lines)
    out = tmp_path / "page.html"
    result = CliRunner().invoke(cli, ["report", str(archive), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert out.stat().st_size > 0
