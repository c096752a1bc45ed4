"""The triage page's charts: pandas DataFrames drawn by matplotlib as inline SVG.

Why matplotlib (through pandas' plotting) and SVG: it renders offline with no browser, no
JavaScript and no fonts to ship; SVG with text kept as text (``svg.fonttype: none``) is small
(a few tens of KB a chart), sharp at any zoom and in print, and its labels use the page's own
font and stay searchable. Names from the archive reach the SVG only as text that matplotlib
escapes; math parsing (``$...$`` in a channel name) is switched off.

Every chart has labelled axes and a title, and reads in grey print: bars are outlined and the
few colours used differ in lightness as well as hue.

The data comes from the archive's DataFrames; the bars are drawn with matplotlib's own `bar` /
`barh` (one call per series) rather than pandas' plotting layer, and the axes are placed from
the sizes of the texts around them (`_fit`) rather than by a layout engine or a measuring draw:
the page's drawing comes after the pass over the archive, and pandas' layer and the
constrained layout engine (which measures twice, then draws) were two thirds of its time, the
measuring draw a third of the rest (bench/results.md, README).
"""

from __future__ import annotations

import functools
import io
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.container import BarContainer
    from matplotlib.figure import Figure
    from matplotlib.text import Text

# The charts' ids (HTML anchors, SVG id salts).
MONTHS, CHANNELS, USERS, FILES, TEAMS = (
    "chart-months",
    "chart-channels",
    "chart-users",
    "chart-files",
    "chart-teams",
)
# At most this many bars (channels, users, file types, teams) or series (teams by month).
TOP = 15
TEAM_SERIES = 7
# At most this many periods (bars) in posts per month: past it, per quarter, year, decade…
# (a hostile archive spreads its posts over as many months as it likes; the SVG stays small).
MAX_PERIODS = 120
MAX_LABEL = 40  # characters of a name on an axis (the tables on the page hold them whole)

# Colour-blind safe (Okabe-Ito), ordered so that neighbours differ in lightness for print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
DM_COLOUR, GM_COLOUR, OTHER_COLOUR = "#666666", "#BBBBBB", "#DDDDDD"
OVER_COLOUR = "#D55E00"

# Any: matplotlib types rc_context with a Literal of every setting name.
_RC: Any = {
    "svg.fonttype": "none",  # text as <text>: small, sharp, searchable, the page's font
    "text.parse_math": False,  # a name like "$x$" is text, not math
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titleweight": "bold",
    "axes.titlesize": 10,
    # Titles just above the axes, where matplotlib would put them (no tick labels on top);
    # given, it does not measure every axis to place them (a tenth of the drawing's time).
    "axes.titley": 1.0,
    "axes.grid": True,
    "axes.grid.axis": "x",
    "grid.color": "#DDDDDD",
    "patch.edgecolor": "#333333",
    "patch.linewidth": 0.4,
}


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart: a stable id (for the page's anchors), its title, the inline SVG (or None
    when there is nothing to draw) and a sentence saying what it shows."""

    id: str
    title: str
    svg: str | None
    caption: str


def short(name: Any) -> str:
    """A name short enough for an axis label."""
    text = "" if name is None else str(name)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def size_unit(largest: int) -> tuple[str, float]:
    """The unit an axis of sizes up to `largest` bytes reads best in, and its bytes."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if largest >= scale:
            return unit, scale
    return "bytes", 1.0


# Space around the axes' labels and between the axes of a row (inches; the constrained layout
# engine's default pad).
PAD = 3 / 72
BAR_EDGE = 0.25  # space between the outer bars and the axes (in bars), as pandas leaves it


def _new_figure(width: float, height: float, columns: int) -> tuple[Figure, tuple[Axes, ...]]:
    """A figure with `columns` axes side by side (sharing their y axis)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    if columns == 1:
        return figure, (figure.add_subplot(),)
    return figure, tuple(figure.subplots(1, columns, sharey=True))


# The figures `prepare` made ahead, by chart id, each taken by the next chart of that id.
_prepared: dict[str, tuple[Figure, tuple[Axes, ...]]] = {}


def _figure(
    chart_id: str, width: float, height: float, columns: int = 1
) -> tuple[Figure, tuple[Axes, ...]]:
    """A figure of `width` x `height` inches with `columns` axes side by side: the one made
    ahead for `chart_id` (`prepare`) if there is one, else a new one. Drawn the same either
    way (tests/test_report_charts.py compares the SVGs)."""
    made = _prepared.pop(chart_id, None)
    if made is None or len(made[1]) != columns:
        return _new_figure(width, height, columns)
    figure, axes = made
    if tuple(figure.get_size_inches()) != (width, height):
        figure.set_size_inches(width, height)
    return figure, axes


@dataclass(frozen=True, slots=True)
class Around:
    """What a chart draws around its axes that the layout cannot read from the axes without
    drawing them: month labels standing on end, bar labels past the bars, a legend on the
    right, tick labels left to a neighbour."""

    rotated_x: bool = False
    bars: tuple[tuple[float, str], ...] = ()  # (value, label) of each bar label, 7 pt
    legend: tuple[str, ...] = ()  # the legend's labels, 8 pt, right of the axes
    y_labels: bool = True  # False: the y tick labels are shown by the axes on the left


@functools.cache
def _measure(dpi: float) -> Any:
    """A renderer that only measures texts: Agg's, as matplotlib's own layout measures (its
    hinted glyphs are a little wider than the outlines at these sizes)."""
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(1, 1, dpi)  # type: ignore[no-untyped-call]


def _text(text: str, size: Any, weight: Any = "normal") -> tuple[float, float]:
    """(width, height) in points of one line of text as matplotlib sets it (the height of a
    line: at least that of "lp", as its layout does)."""
    import matplotlib as mpl

    rc = mpl.rcParams
    fonts = (
        rc["font.size"],
        tuple(rc["font.family"]),
        tuple(rc["font.sans-serif"]),
        rc["figure.dpi"],
    )
    width, height = _extent(text, size, weight, fonts)
    return width, max(height, _extent("lp", size, weight, fonts)[1])


@functools.lru_cache(maxsize=4096)
def _extent(text: str, size: Any, weight: Any, fonts: tuple[Any, ...]) -> tuple[float, float]:
    """(width, height) in points of `text` in the font of `fonts` (the settings it depends
    on: font size, families, sans-serif fonts, dpi). Kept: setting a text costs matplotlib 3.11 ~0.4
    ms (text shaping), and the charts measure the same tick labels, "lp" and names over and
    over (a tenth of their drawing's time)."""
    from matplotlib.font_manager import FontProperties

    dpi = fonts[-1]
    prop = FontProperties(size=size, weight=weight)
    width, height, _ = _measure(dpi).get_text_width_height_descent(text, prop, ismath=False)
    return width * 72 / dpi, height * 72 / dpi


def _ticks(axis: Any, low: float, high: float) -> list[tuple[float, str]]:
    """The (position, label) of the ticks an axis will draw between `low` and `high`: from its
    locator and formatter, as drawing asks them (nothing is drawn)."""
    locator, formatter = axis.get_major_locator(), axis.get_major_formatter()
    span = abs(high - low) * 1e-9
    ticks = [t for t in locator.tick_values(low, high) if low - span <= t <= high + span]
    formatter.set_locs(ticks)
    return [(t, formatter(t, i)) for i, t in enumerate(ticks)]


def _sticks_out(ax: Axes, around: Around) -> tuple[float, float, float, float, float]:
    """(left, right, bottom, top) in points beyond the axes' frame, from the sizes of the
    texts drawn there, and the widest bar label's share to place on the right (`_fit`)."""
    import matplotlib as mpl

    rc = mpl.rcParams
    x_low, x_high = ax.get_xlim()
    y_low, y_high = ax.get_ylim()
    x_ticks = _ticks(ax.xaxis, x_low, x_high)
    y_ticks = _ticks(ax.yaxis, y_low, y_high)
    tick_size = rc["xtick.labelsize"]
    x_sizes = [_text(label, tick_size) for _, label in x_ticks if label]
    y_sizes = [_text(label, rc["ytick.labelsize"]) for _, label in y_ticks if label]
    x_tick = rc["xtick.major.size"] + rc["xtick.major.pad"]
    y_tick = rc["ytick.major.size"] + rc["ytick.major.pad"]
    line = _text("lp", rc["axes.labelsize"])[1] + rc["axes.labelpad"]
    left = rc["ytick.major.size"]
    if around.y_labels:
        left = y_tick + max((w for w, _ in y_sizes), default=0.0)
    left += line if ax.get_ylabel() else 0.0
    if around.rotated_x:
        bottom = x_tick + max((w for w, _ in x_sizes), default=0.0)
    else:
        bottom = x_tick + max((h for _, h in x_sizes), default=0.0)
    bottom += line if ax.get_xlabel() else 0.0
    top = 0.0
    if ax.get_title():
        top = _text(ax.get_title(), rc["axes.titlesize"], rc["axes.titleweight"])[1]
        top += rc["axes.titlepad"]
    right = 0.0
    # A tick label on the frame's left or right edge is centred on it: half sticks out.
    if x_ticks and x_sizes and not around.rotated_x:
        if abs(x_ticks[0][0] - x_low) <= abs(x_high - x_low) * 1e-6:
            left = max(left, x_sizes[0][0] / 2)
        if abs(x_ticks[-1][0] - x_high) <= abs(x_high - x_low) * 1e-6:
            right = x_sizes[-1][0] / 2
    if around.legend:
        em = 8.0
        spaces = rc["legend.borderaxespad"] + 2 * rc["legend.borderpad"]
        spaces += rc["legend.handlelength"] + rc["legend.handletextpad"]
        right += spaces * em + max(_text(label, em)[0] for label in around.legend)
    return left, right, bottom, top, 0.0


def _bar_labels_right(ax: Axes, around: Around, room: float, dpi: float) -> float:
    """Pixels to leave right of the axes for the bar labels past the longest bars, when the
    axes, with that room taken, leave `room` pixels for the axes' width and it: solved for
    each bar (a label sits 3 points past its bar's end)."""
    low, high = ax.get_xlim()
    need = 0.0
    for value, label in around.bars:
        share = (value - low) / (high - low) if high > low else 1.0
        if share <= 0:
            continue
        width = (_text(label, 7)[0] + 3) * dpi / 72
        need = max(need, (width - (1 - share) * room) / share)
    return need


def _fit(
    figure: Figure,
    row: Sequence[tuple[Axes, Around]],
    title: Text | None = None,
) -> None:
    """Place a row of axes (one, or side by side) so that their tick labels, axis labels,
    titles, bar labels and legends fit in the figure, under the figure's `title` if any.

    From the sizes of the texts, without drawing: a measuring draw of the figure (what a
    layout engine does, or `get_tightbbox`) was two fifths of the charts' time, and the texts'
    sizes do not depend on where the axes are."""
    width, height = figure.bbox.width, figure.bbox.height
    dpi = figure.dpi
    pad = PAD * dpi
    sticks = [tuple(v * dpi / 72 for v in _sticks_out(ax, around)) for ax, around in row]
    left = sticks[0][0] + pad
    right = sticks[-1][1] + pad
    gaps = [a[1] + b[0] + pad for a, b in itertools.pairwise(sticks)]
    bottom = max(s[2] for s in sticks) + pad
    top = max(s[3] for s in sticks) + pad
    if title is not None:
        size = _text(title.get_text(), title.get_fontsize(), title.get_fontweight())[1]
        top += (1 - title.get_position()[1]) * height + size * dpi / 72
    last, around = row[-1]
    if around.bars:
        room = width - left - sum(gaps) - pad
        right = max(right, _bar_labels_right(last, around, room, dpi) + pad)
    each = (width - left - right - sum(gaps)) / len(row)
    x = left
    for (ax, _), gap in zip(row, [*gaps, 0.0], strict=True):
        ax.set_position(
            (x / width, bottom / height, each / width, (height - bottom - top) / height)
        )
        x += each + gap


def _barh(ax: Axes, labels: list[str], values: Sequence[float], colour: Any) -> BarContainer:
    """Horizontal bars, one per label, the first label at the bottom."""
    positions = range(len(labels))
    bars = ax.barh(positions, values, height=0.75, color=colour)
    ax.set_yticks(positions, labels)
    edge = 0.75 / 2 + BAR_EDGE
    ax.set_ylim(-edge, len(labels) - 1 + edge)
    return bars


def _whole_ticks(axis: Axis) -> None:
    """Ticks at whole numbers only, on an axis of counts."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _svg(figure: Figure, salt: str) -> str:
    """The figure as an SVG element (no XML prolog: it goes inline into HTML)."""
    import matplotlib

    out = io.StringIO()
    # A salt per chart: ids inside each SVG are unique on a page that inlines several.
    with matplotlib.rc_context({"svg.hashsalt": salt}):
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    return text[text.index("<svg") :]


def _draw(chart_id: str, width: float, height: float, draw: Callable[[Axes], Around]) -> str:
    import matplotlib

    with matplotlib.rc_context(_RC):
        figure, (ax,) = _figure(chart_id, width, height)
        _fit(figure, [(ax, draw(ax))])
        return _svg(figure, chart_id)


def _rows_height(rows: int) -> float:
    return max(1.6, 0.6 + 0.24 * rows)


def posts_per_month(months: pd.DataFrame, period: str = "month") -> Chart:
    """Posts per month (the months table's `period`; wider when there would be more than
    `MAX_PERIODS` bars), stacked by team (the largest ones; the rest as "other teams"), DMs and
    GMs apart."""
    if not months.empty:
        months, period = _widened(months, period)
    chart_id, title = MONTHS, f"Posts per {period}"
    caption = (
        f"Posts (not counting replies) by the {period} of their create_at, stacked by team; "
        "direct messages (DMs) and group messages (GMs) apart."
    )
    if months.empty or int(months["posts"].sum()) == 0:
        return Chart(chart_id, title, None, caption)
    import pandas as pd

    series = months.assign(
        series=[
            ("DMs" if kind == "DM" else "GMs" if kind == "GM" else f"team {team}")
            for team, kind in zip(months["team"], months["kind"], strict=True)
        ]
    )
    table = series.pivot_table(
        index="month", columns="series", values="posts", aggfunc="sum", fill_value=0, sort=False
    )
    teams = [c for c in table.columns if c.startswith("team ")]
    ranked = sorted(teams, key=lambda c: (-int(table[c].sum()), c))
    kept, rest = ranked[:TEAM_SERIES], ranked[TEAM_SERIES:]
    columns: dict[str, Any] = {short(c): table[c] for c in kept}
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(kept))]
    if rest:
        columns[f"{len(rest)} other teams"] = table[rest].sum(axis=1)
        colours.append(OTHER_COLOUR)
    for name, colour in (("DMs", DM_COLOUR), ("GMs", GM_COLOUR)):
        if name in table.columns:
            columns[name] = table[name]
            colours.append(colour)
    frame = pd.DataFrame(columns, index=table.index)

    def draw(ax: Axes) -> Around:
        import numpy as np

        positions = range(len(frame))
        below = np.zeros(len(frame))
        for (name, values), colour in zip(frame.items(), colours, strict=True):
            ax.bar(positions, values, 0.85, bottom=below, color=colour, label=name)
            below = below + values.to_numpy()
        # A tick (and label) every `every` months only: a tick is costly to draw (~2 ms each,
        # twice: measured, then drawn), and ten years of months would be 120 of them.
        every = max(1, len(frame) // 24)
        months = [str(month) for month in frame.index]
        ax.set_xticks(positions[::every], months[::every], rotation=90)
        edge = 0.85 / 2 + BAR_EDGE
        ax.set_xlim(-edge, len(frame) - 1 + edge)
        ax.set_xlabel(f"{period} (UTC)")
        ax.set_ylabel("posts")
        _whole_ticks(ax.yaxis)
        ax.set_title(title)
        ax.grid(visible=False)  # lines across stacked bars would read as series' edges
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return Around(rotated_x=True, legend=tuple(frame.columns))

    return Chart(chart_id, title, _draw(chart_id, 9.0, 3.6, draw), caption)


def _widened(months: pd.DataFrame, period: str) -> tuple[pd.DataFrame, str]:
    """The months table per the narrowest period that gives at most `MAX_PERIODS` bars."""
    from archivekit.check import periods

    level = periods.level(period)
    starts = [periods.parse(text) for text in months["month"]]
    wide = periods.fitting(starts, level, MAX_PERIODS)
    if wide == level:
        return months, period
    # Periods sort by their first day (labels of years past 9999 or before 0 do not sort as text).
    firsts = [periods.start(day, wide) for day in starts]
    order = {first: at for at, first in enumerate(sorted(set(firsts)))}
    labels = [periods.label(first, wide) for first in sorted(order)]
    regrouped = (
        months.assign(month=[labels[order[first]] for first in firsts])
        .groupby(["month", "team", "kind"], sort=False, as_index=False)["posts"]
        .sum()
    )
    return regrouped, periods.name(wide)


def _top_bars(
    chart_id: str,
    title: str,
    caption: str,
    labels: list[str],
    values: list[int],
    xlabel: str,
    ylabel: str,
    colours: list[str] | None = None,
    limit: int | None = None,
    limit_label: str = "",
) -> Chart:
    if not labels or not any(values):
        return Chart(chart_id, title, None, caption)
    # Largest first, at the top.
    names = [short(label) for label in labels[::-1]]

    def draw(ax: Axes) -> Around:
        bars = _barh(ax, names, values[::-1], (colours or [PALETTE[0]] * len(labels))[::-1])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if limit is not None:
            ax.axvline(limit, color=OVER_COLOUR, linestyle="--", linewidth=1.2)
            ax.set_xlim(0, max(limit, *values) * 1.12)
            ax.set_xlabel(f"{xlabel} (dashed line: {limit_label})")
        ax.bar_label(bars, fmt="{:,.0f}", padding=3, fontsize=7)
        _whole_ticks(ax.xaxis)  # counts: no tick at half a post or half a member
        return Around(bars=tuple((v, f"{v:,.0f}") for v in values))

    return Chart(chart_id, title, _draw(chart_id, 9.0, _rows_height(len(labels)), draw), caption)


def top_channels(channels: pd.DataFrame, directs: pd.DataFrame) -> Chart:
    """The channels (and DMs/GMs) with the most posts."""
    rows = [
        (int(posts), f"{team}/{name}")
        for team, name, posts in zip(
            channels["team"], channels["channel"], channels["posts"], strict=True
        )
    ]
    rows += [
        (int(posts), f"{kind} {members}")
        for kind, members, posts in zip(
            directs["kind"], directs["members"], directs["posts"], strict=True
        )
    ]
    top = sorted((r for r in rows if r[0] > 0), key=lambda r: (-r[0], r[1]))[:TOP]
    return _top_bars(
        CHANNELS,
        f"Top {len(top)} channels by posts" if top else "Top channels by posts",
        "Posts (not counting replies) per channel, team/channel; DMs and GMs by their members.",
        [name for _, name in top],
        [posts for posts, _ in top],
        "posts",
        "channel",
    )


def top_users(users: pd.DataFrame) -> Chart:
    """The users with the most posts (channel and direct posts, not replies)."""
    rows = [
        (int(posts), str(name))
        for name, posts in zip(users["user"], users["posts"], strict=True)
        if int(posts) > 0
    ]
    top = sorted(rows, key=lambda r: (-r[0], r[1]))[:TOP]
    return _top_bars(
        USERS,
        f"Top {len(top)} users by posts" if top else "Top users by posts",
        "Posts each user wrote (in channels and DMs/GMs; replies not counted).",
        [name for _, name in top],
        [posts for posts, _ in top],
        "posts",
        "user",
    )


def files_by_type(files: pd.DataFrame) -> Chart:
    """Attachments by file type: how many and how large."""
    chart_id, title = FILES, "Attachments by file type"
    caption = (
        "Attachments referenced by posts and replies, by file extension: how many (left) and "
        "their size in the archive (right); missing files count with no size."
    )
    if files.empty or int(files["files"].sum()) == 0:
        return Chart(chart_id, title, None, caption)
    ranked = files.assign(label=[f".{e}" if e else "(none)" for e in files["extension"]])
    ranked = ranked.sort_values(["bytes", "files", "label"], ascending=[False, False, True])
    top = ranked.head(TOP)[::-1]
    unit, scale = size_unit(int(top["bytes"].max()))
    names = [short(label) for label in top["label"]]

    def draw_both(figure: Figure, left: Axes, right: Axes) -> None:
        _barh(left, names, top["files"].tolist(), PALETTE[0])
        left.set_xlabel("files")
        _whole_ticks(left.xaxis)
        left.set_ylabel("file type")
        left.set_title("count")
        _barh(right, names, (top["bytes"] / scale).tolist(), PALETTE[1])
        right.set_xlabel(f"size ({unit})")
        right.set_title("size")
        _fit(
            figure,
            [(left, Around()), (right, Around(y_labels=False))],
            figure.suptitle(title, fontweight="bold", fontsize=10),
        )

    import matplotlib

    with matplotlib.rc_context(_RC):
        figure, (left, right) = _figure(chart_id, 9.0, _rows_height(len(names)) + 0.3, 2)
        draw_both(figure, left, right)
        svg = _svg(figure, chart_id)
    return Chart(chart_id, title, svg, caption)


def team_members(teams: pd.DataFrame, max_users_per_team: int | None) -> Chart:
    """Members of each team (from the users' team lists) against MaxUsersPerTeam."""
    rows = [
        (int(members), str(name))
        for name, members in zip(teams["team"], teams["members"], strict=True)
    ]
    top = sorted(rows, key=lambda r: (-r[0], r[1]))[:TOP]
    limit = max_users_per_team
    colours = [
        OVER_COLOUR if limit is not None and members > limit else PALETTE[2] for members, _ in top
    ]
    return _top_bars(
        TEAMS,
        "Team members against MaxUsersPerTeam",
        "Members each team gets from the archive's user lines; the dashed line is the target's "
        "TeamSettings.MaxUsersPerTeam (bars past it are over the limit).",
        [name for _, name in top],
        [members for members, _ in top],
        "members",
        "team",
        colours=colours,
        limit=limit,
        limit_label=f"MaxUsersPerTeam = {limit:,}" if limit is not None else "",
    )


def warm_up() -> None:
    """Import what drawing needs (pandas, matplotlib and its SVG writer) and load the fonts by
    drawing a throwaway chart of each kind, ahead of the data: the report does this in a
    process of its own while the archive is read. Changes nothing drawn later."""
    import pandas as pd

    posts_per_month(
        pd.DataFrame({"month": ["2000-01"], "team": ["t"], "kind": ["O"], "posts": [1]})
    )
    files_by_type(pd.DataFrame({"extension": ["txt"], "files": [1], "bytes": [1]}))
    _top_bars("warmup", "warm up", "", ["warm up"], [1], "x", "y", limit=1, limit_label="1")


# Each chart's figure as `prepare` makes it: its height (inches; the charts are 9 wide), its
# axes side by side, and the ticks to make on their x and y axes. Made while the archive is
# read, beside the pass's own threads on two cores: as many ticks as a chart commonly draws,
# not the most it can (a tick is ~0.7 ms; a tick made and not drawn is that much taken from
# the pass): posts per month about 24 months' ticks (it draws a tick every `len // 24` months:
# up to 47), bars `TOP`, values 11 (MaxNLocator's 10 bins). A guess that changes only the
# time: a chart of other height resizes the figure, one with more ticks makes the rest as it
# would without.
AHEAD: dict[str, tuple[float, int, int, int]] = {
    MONTHS: (3.6, 1, 24, 11),
    CHANNELS: (_rows_height(TOP), 1, 11, TOP),
    USERS: (_rows_height(TOP), 1, 11, TOP),
    FILES: (_rows_height(TOP) + 0.3, 2, 11, TOP),
    TEAMS: (_rows_height(TOP), 1, 11, TOP),
}


def prepare(chart_id: str) -> None:
    """Make the figure, axes and ticks of chart `chart_id` ahead of its data, for the next
    chart of that id to draw on (`AHEAD`): what does not depend on the data, a fifth of the
    drawing's time, done by the drawing process while the archive is read (after `warm_up`,
    whose charts would take them)."""
    import matplotlib

    height, columns, x_ticks, y_ticks = AHEAD[chart_id]
    # Under the charts' settings, as when drawing: a tick reads some of them when made.
    with matplotlib.rc_context(_RC):
        figure, axes = _new_figure(9.0, height, columns)
        for ax in axes:
            ax.xaxis.get_major_ticks(x_ticks)
            ax.yaxis.get_major_ticks(y_ticks)
    _prepared[chart_id] = figure, axes
