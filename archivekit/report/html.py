"""The triage page: one self-contained HTML file from a validation report, the archive's tables,
its member manifest and (optionally) a reconciliation. No I/O here: `render_html` returns text.

The page is made with jinja2 (autoescape on: every name and message from the archive is
escaped by the template engine, never by hand) from ``templates/triage.html.j2`` with its
stylesheet and script inlined; charts are inline SVG drawn by matplotlib
(`archivekit.report.charts`). Nothing on the page loads anything: no network, no fonts, no
external scripts or styles. The small script only filters the issue list; without it the page
reads the same, every row shown.

Everything listed is capped (issues, examples, manifest rows, missing items) while the counts
stay exact, and every text from the archive is clipped to `MAX_TEXT` bytes as written on the
page (escaped and UTF-8 encoded: `clip_html`; an issue's message, our words around archive
values, to `MAX_MESSAGE`). On top of that the page has a hard budget: when the rendered page
weighs more than `PAGE_BUDGET` (many long messages, hostile names everywhere) the long lists
(issue rows, manifest rows, reconciliation rows) are halved until it fits, each with a note of
how many are not shown; should the page still be too heavy with them empty, the problems and
the examples of each are halved, then the charts and the archive's shapes left out, then the
issue codes halved (`Listed.halved`) — what is left is the page's own frame and clipped
texts, so the page stays under 2 MB whatever the archive.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archivekit.check import periods
from archivekit.issues import CODES, FAILS_IMPORT, Issue, Severity
from archivekit.report.archive_members import MemberManifest
from archivekit.report.causes import RootCause, distinct_lines, ranges_text
from archivekit.report.model import Report
from archivekit.report.render import human_bytes, issues_by_cause
from archivekit.report.words import plural

if TYPE_CHECKING:
    from markupsafe import Markup

    from archivekit.report.charts import Chart
    from archivekit.report.reconcile import Reconciliation
    from archivekit.report.tables import ArchiveTables

REPORT_INSTALL = "pip install 'archivekit[report]'"
REPORT_MODULES = ("jinja2", "matplotlib")
EXAMPLES_PER_GROUP = 5  # first examples shown with each root cause and issue code
MAX_CAUSES = 100  # root causes shown (in the order to fix them; the rest counted)
MAX_SENTENCE = 1000  # bytes on the page of a sentence about the archive (a cause, a shape)
MAX_ISSUE_ROWS = 1000  # rows of the full, filterable issue list
MAX_MISSING_ROWS = 500  # reconciliation: missing items listed
MAX_CHANNEL_ROWS = 200  # reconciliation: channels with something missing
MAX_TEXT = 300  # bytes on the page of any one text from the archive (names, values)
MAX_MESSAGE = 2000  # bytes on the page of an issue's message: ordinary ones show whole
PAGE_BUDGET = 1_900_000  # bytes: the page stays under 2 MB (issue 13), lists cut to fit


def missing_report_modules() -> list[str]:
    """The optional libraries of the page that are not installed."""
    return [name for name in REPORT_MODULES if importlib.util.find_spec(name) is None]


@dataclass(slots=True)
class TriagePage:
    """Everything the page shows (built by `archivekit.triage.triage`)."""

    report: Report
    tables: ArchiveTables
    manifest: MemberManifest
    archive_kind: str
    archive_size: int
    jsonl_size: int
    max_users_per_team: int
    charts: list[Chart] = field(default_factory=list)  # drawn from the tables (draw_charts)
    reconciliation: Reconciliation | None = None
    against: str | None = None
    version: str = ""
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


# --- words ---------------------------------------------------------------------------------


def clip(value: Any, limit: int = MAX_TEXT) -> str:
    """A text from the archive, at most `limit` characters (for a sentence that is escaped as a
    whole; on the page itself texts are clipped by what they weigh there: `clip_html`)."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_ELLIPSIS = "…"
# What markupsafe writes for each character it escapes: &amp; &lt; &gt; &#34; &#39;
_ESCAPED = {"&": 5, "<": 4, ">": 4, '"': 5, "'": 5}
_WIDEST = 5  # bytes a character can weigh on the page (an escape; UTF-8 takes at most 4)


def _page_bytes(char: str) -> int:
    """What one character weighs on the page: its escape, or its UTF-8 bytes."""
    escaped = _ESCAPED.get(char)
    if escaped is not None:
        return escaped
    code = ord(char)
    return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4


def clip_html(value: Any, limit: int = MAX_TEXT) -> Markup:
    """A text from the archive escaped for the page, at most `limit` bytes as written (UTF-8):
    a name of `"`, `<` and `&` grows five times when escaped, so its characters are not the
    bound. Cut between characters, never inside an entity or a character, and marked "…"."""
    from markupsafe import escape

    text = "" if value is None else str(value)
    if len(text) * _WIDEST <= limit:
        return escape(text)
    room = limit - len(_ELLIPSIS.encode())
    weight, cut = 0, len(text)
    for at, char in enumerate(text):
        weight += _page_bytes(char)
        if weight > room and cut == len(text):
            cut = at
        if weight > limit:
            return escape(text[:cut]) + _ELLIPSIS
    return escape(text)


# --- the view: plain data for the template -------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssueGroup:
    code: str
    title: str
    description: str
    severity: str
    effect: str | None
    count: int
    examples: list[Issue]
    fix: str  # how to fix it: the first root cause's of this code (the order to fix them)


# A code no root cause speaks for (none should be: the causes count every issue).
FIX_IN_MESSAGES = "each issue's message in the list below says how to fix it."


def _effect_rank(severity: str, effect: str | None) -> int:
    if severity == Severity.ERROR:
        return 0 if effect == FAILS_IMPORT else 1
    return 2


def issue_groups(report: Report, examples: int = EXAMPLES_PER_GROUP) -> list[IssueGroup]:
    """Issues by code: what stops the import first, then what loses data, then warnings; the
    most frequent first within each. Counts are exact, examples the first `examples` kept."""
    kept: dict[str, list[Issue]] = {}
    for issue in report.issues:
        kept.setdefault(issue.code, []).append(issue)
    # Severity and effects of each code over all its issues, kept or not (the causes count
    # every issue; the worst effect speaks for the code).
    severities: dict[str, set[str]] = {}
    effects: dict[str, set[str]] = {}
    fixes: dict[str, str] = {}
    for cause in report.causes:
        severities.setdefault(cause.code, set()).add(cause.severity.value)
        if cause.effect:
            effects.setdefault(cause.code, set()).add(cause.effect)
        for leaf in cause.leaves():
            fixes.setdefault(leaf.code, leaf.fix)
    groups = []
    for code, count in report.issue_counts.items():
        first = kept.get(code, [])
        found = severities.get(code) or {i.severity.value for i in first}
        severity = Severity.ERROR.value if Severity.ERROR.value in found else Severity.WARNING.value
        worst = effects.get(code) or {i.effect for i in first if i.effect}
        effect = FAILS_IMPORT if FAILS_IMPORT in worst else next(iter(sorted(worst)), None)
        info = CODES.get(code)
        groups.append(
            IssueGroup(
                code=code,
                title=info.title if info else code,
                description=info.description if info else "",
                severity=severity,
                effect=effect,
                count=count,
                examples=first[:examples],
                fix=fixes.get(code, FIX_IN_MESSAGES),
            )
        )
    groups.sort(key=lambda g: (_effect_rank(g.severity, g.effect), -g.count, g.code))
    return groups


@dataclass(frozen=True, slots=True)
class Problem:
    """A root cause with where it is (line ranges in words) and its first kept issues."""

    cause: RootCause
    where: str
    examples: list[Issue]


def problems(report: Report, examples: int = EXAMPLES_PER_GROUP) -> list[Problem]:
    """The report's root causes, in the order to fix them, with their first `examples`."""
    found = []
    for cause, issues in zip(report.causes, issues_by_cause(report), strict=True):
        where = ranges_text(cause.lines, cause.lines_cut) if cause.lines else ""
        found.append(Problem(cause, where, issues[:examples]))
    return found


def verdict(report: Report) -> tuple[str, str, list[str]]:
    """(state: ok / warn / bad, the headline, sentences) in words a manager reads: how many
    distinct problems stop the import, lose data, or only warn."""
    ranked: dict[int, list[RootCause]] = {0: [], 1: [], 2: []}
    for cause in report.causes:
        ranked[_effect_rank(cause.severity.value, cause.effect)].append(cause)
    words = {
        0: "would stop the import: Mattermost's import job ends at the first of them.",
        1: "would lose data: the import goes on but leaves those lines or files out.",
        2: "are warnings to read: nothing is lost, but something may not look as expected.",
    }
    sentences = []
    for rank, causes in ranked.items():
        if causes:
            issues = sum(c.count for c in causes)
            lines, exact = distinct_lines(causes)  # a line of several problems counts once
            what = "problem" if rank < 2 else "warning"
            on = f" on {'' if exact else 'at least '}{plural(lines, 'line')}" if lines else ""
            sentences.append(
                f"{plural(len(causes), 'distinct ' + what)} ({plural(issues, 'issue')}{on}) "
                f"{words[rank]}"
            )
    if report.causes and report.causes[0].severity is Severity.ERROR:
        sentences.append("Fix them in the order below: the first one first.")
    if not report.valid:
        return "bad", "Not ready to import: fix the problems below first.", sentences
    if ranked[2]:
        return "warn", "Ready to import, with warnings to read.", sentences
    return (
        "ok",
        "Ready to import: nothing found that would stop the import or lose data.",
        ["Every line was checked against the server's rules and the archive's own references."],
    )


def summary_facts(page: TriagePage) -> list[tuple[str, str]]:
    """The archive in a few lines: (label, text)."""
    report, counts, manifest = page.report, page.report.counts, page.manifest
    first, last = _first_last(page.tables)
    where = f"{clip(report.archive)} ({page.archive_kind}, {human_bytes(page.archive_size)})"
    jsonl = f"{clip(report.jsonl)}: {plural(report.lines, 'line')}, {human_bytes(page.jsonl_size)}"
    messages = (
        f"{plural(counts.posts, 'post')} with {plural(counts.replies, 'reply', 'replies')} and "
        f"{plural(counts.reactions, 'reaction')}; {plural(counts.direct_posts, 'post')} in DMs "
        # The channels the lines define: direct posts may come without them (the server then
        # creates the channel), so "N channels with M posts" could say 0 channels with posts.
        f"and GMs ({plural(counts.direct_channels, 'DM/GM channel')} defined)"
    )
    files = (
        f"{plural(counts.attachments, 'attachment')} referenced; "
        f"{plural(manifest.data_files, 'file')} under data/ ({human_bytes(manifest.data_bytes)})"
    )
    facts = [
        ("archive", where),
        ("import file", jsonl),
        ("teams", f"{plural(counts.teams, 'team')}, {plural(counts.channels, 'channel')}"),
        ("people", f"{plural(counts.users, 'user')}, {plural(counts.bots, 'bot')}"),
        ("messages", messages),
        ("files", files),
        ("dates", f"{first} to {last} (first and last post, UTC)"),
    ]
    if report.upload_seconds is not None:
        upload = f"{_duration(report.upload_seconds)} at the assumed bandwidth"
        facts.append(("upload", upload))
    return facts


def _first_last(tables: ArchiveTables) -> tuple[str, str]:
    teams, directs = tables.table("channels").rows, tables.table("directs").rows
    names = tables.table("channels").names
    firsts = [r[names.index("first_post_at")] for r in teams]
    lasts = [r[names.index("last_post_at")] for r in teams]
    dnames = tables.table("directs").names
    firsts += [r[dnames.index("first_post_at")] for r in directs]
    lasts += [r[dnames.index("last_post_at")] for r in directs]
    first = min((v for v in firsts if v is not None), default=None)
    last = max((v for v in lasts if v is not None), default=None)
    return _ms_date(first), _ms_date(last)


def _ms_date(ms: int | None) -> str:
    if ms is None:
        return "–"
    return periods.date_text(ms) or "–"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return "under a minute"
    if seconds < 90:
        return "about a minute"
    if seconds < 5400:
        return f"about {seconds / 60:,.0f} minutes"
    return f"about {seconds / 3600:,.1f} hours"


def limit_rows(report: Report) -> list[dict[str, Any]]:
    rows = []
    for name, limit in report.limits.items():
        rows.append(
            {
                "setting": limit.get("setting", name),
                "configured": limit.get("configured"),
                "needed": limit.get("needed"),
                "ok": bool(limit.get("ok", True)),
                # A limit no setting changes: what decides it (never "a setting to change").
                "decided_by": limit.get("decided_by"),
            }
        )
    return rows


def chart_drawings(tables: ArchiveTables, max_users_per_team: int) -> list[Callable[[], Chart]]:
    """The page's charts from the archive's tables, in page order, each drawn when called."""
    from archivekit.report import charts as draw

    return [
        lambda: draw.posts_per_month(tables.months, tables.table("months").period or "month"),
        lambda: draw.top_channels(tables.channels, tables.directs),
        lambda: draw.top_users(tables.users),
        lambda: draw.files_by_type(tables.files),
        lambda: draw.team_members(tables.teams, max_users_per_team),
    ]


def draw_charts(tables: ArchiveTables, max_users_per_team: int) -> list[Chart]:
    """The page's charts, from the archive's tables."""
    import warnings

    with warnings.catch_warnings():
        # A name in a script the fonts lack (emoji, CJK...) is still drawn as SVG text, which
        # the reader's browser shows with its own fonts: matplotlib's measure of it is close
        # enough, and its warning is no news to the reader of the page.
        warnings.filterwarnings("ignore", r"Glyph \d+ .* missing from font", UserWarning)
        return [draw() for draw in chart_drawings(tables, max_users_per_team)]


@dataclass(frozen=True, slots=True)
class Listed:
    """How much of each part that grows with the archive the page shows (cut, step by step,
    while the page is too heavy: `halved`)."""

    issues: int = MAX_ISSUE_ROWS
    manifest: int = 0
    places: int = MAX_CHANNEL_ROWS
    missing: int = MAX_MISSING_ROWS
    causes: int = MAX_CAUSES
    examples: int = EXAMPLES_PER_GROUP  # of each problem and each issue code
    codes: int = 0  # issue codes (groups) shown
    pictures: bool = True  # the charts and the archive's shapes

    def halved(self) -> Listed | None:
        """The next, lighter listing: the long lists halved; once they are empty, the problems
        and their examples; then no charts and shapes; then the issue codes halved. None:
        nothing is left to cut (the page's frame and a few clipped texts)."""
        if self.issues or self.manifest or self.places or self.missing:
            return dataclasses.replace(
                self,
                issues=self.issues // 2,
                manifest=self.manifest // 2,
                places=self.places // 2,
                missing=self.missing // 2,
            )
        if self.causes or self.examples:
            return dataclasses.replace(self, causes=self.causes // 2, examples=self.examples // 2)
        if self.pictures:
            return dataclasses.replace(self, pictures=False)
        if self.codes:
            return dataclasses.replace(self, codes=self.codes // 2)
        return None


def reconciliation_view(result: Reconciliation, listed: Listed | None = None) -> dict[str, Any]:
    """What the page shows of a reconciliation: the summary, every channel and DM/GM with
    something missing (most first, capped), the first missing items (capped)."""
    listed = listed or Listed()
    from archivekit.report.reconcile import MISSING_COLUMNS, incomplete_places

    places = [
        {"place": p.place, "status": p.status, "missing": list(p.missing.values())}
        for p in incomplete_places(result)
    ]
    return {
        "ok": result.ok,
        "summary": result.tables["summary"],
        "places": places[: listed.places],
        "place_count": len(places),
        "missing_columns": [c.removeprefix("missing_") for c in MISSING_COLUMNS],
        "missing": result.missing[: listed.missing],
        "missing_total": result.missing_total,
        "files_compared_by": result.files_compared_by,
        "expected": result.tables["expected"].rows,
    }


# --- rendering -------------------------------------------------------------------------------


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("archivekit.report", "templates"),
        autoescape=True,  # every value is escaped unless the template says otherwise
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clip"] = clip_html  # the filter returns escaped Markup
    env.globals["MAX_SENTENCE"] = MAX_SENTENCE
    env.globals["MAX_MESSAGE"] = MAX_MESSAGE
    env.filters["bytes"] = human_bytes
    env.filters["num"] = number
    env.globals["plural"] = plural
    return env


def number(value: Any) -> Any:
    """A figure in a table: thousands separated; a setting that is on or off as true / false
    (as in the server's config.json, not 1 / 0); none as a dash."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    return "–" if value is None else value


def content_security_policy(script: str) -> str:
    """The page's policy: nothing may be loaded from anywhere, and the only script that may run
    is the page's own (by its hash) — an archive text that slipped past escaping still could
    not run or fetch anything."""
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


@functools.cache
def load_template() -> tuple[Any, str, str]:
    """The page's template (compiled), stylesheet and script: loaded once a process.

    Importing jinja2 and compiling the template is most of the rendering's time (~0.2 s
    against ~0.02 s to render), so `archivekit.triage` calls this while the charts are drawn."""
    env = _environment()
    loader = env.loader
    assert loader is not None
    style = loader.get_source(env, "triage.css")[0]
    script = loader.get_source(env, "triage.js")[0]
    return env.get_template("triage.html.j2"), style, script


def render_html(page: TriagePage, budget: int = PAGE_BUDGET) -> str:
    """The page as one HTML document (see the module docstring): at most `budget` bytes in
    UTF-8, the long lists cut to fit."""
    drawn = page.charts or draw_charts(page.tables, page.max_users_per_team)
    listed: Listed | None = Listed(
        manifest=len(page.manifest.rows), codes=len(page.report.issue_counts)
    )
    while listed is not None:
        html = _render(page, drawn, listed)
        if len(html.encode("utf-8")) <= budget:
            return html
        listed = listed.halved()
    return html


def _render(page: TriagePage, drawn: list[Chart], listed: Listed) -> str:
    from markupsafe import Markup

    report = page.report
    groups = issue_groups(report, listed.examples)
    state, headline, sentences = verdict(report)
    template, style, script = load_template()
    return str(
        template.render(
            csp=content_security_policy(script),
            page=page,
            report=report,
            state=state,
            headline=headline,
            sentences=sentences,
            facts=summary_facts(page),
            problems=problems(report, listed.examples)[: listed.causes],
            cause_total=len(report.causes),
            shapes=report.shapes if listed.pictures else [],
            groups=groups[: listed.codes],
            code_total=len(groups),
            pictures=listed.pictures,
            issues=report.issues[: listed.issues],
            manifest_rows=page.manifest.rows[: listed.manifest],
            issue_total=report.errors + report.warnings,
            limits=limit_rows(report),
            charts=drawn,
            # matplotlib wrote the SVG and escaped every text in it; nothing else is marked safe.
            svgs={c.id: Markup(c.svg) for c in drawn if c.svg is not None and listed.pictures},
            manifest=page.manifest,
            reconciliation=reconciliation_view(page.reconciliation, listed)
            if page.reconciliation
            else None,
            style=Markup(style),
            script=Markup(script),
            generated=page.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        )
    )
