"""The triage page's charts: pandas DataFrames drawn by matplotlib as inline SVG.

Why matplotlib (through pandas' plotting) and SVG: it renders offline with no browser, no
JavaScript and no fonts to ship; SVG with text kept as text (``svg.fonttype: none``) is small
(a few tens of KB a chart), sharp at any zoom and in print, and its labels use the page's own
font and stay searchable. Names from the archive reach the SVG only as text that matplotlib
escapes; math parsing (``$...$`` in a channel name) is switched off.

Every chart has labelled axes and a title, and reads in grey print: bars are outlined and the
few colours used differ in lightness as well as hue.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(figure: Figure, salt: str) -> str:
    """The figure as an SVG element (no XML prolog: it goes inline into HTML)."""
    import matplotlib

    out = io.StringIO()
    # A salt per chart: ids inside each SVG are unique on a page that inlines several.
    with matplotlib.rc_context({"svg.hashsalt": salt}):
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    return text[text.index("<svg") :]


def _draw(chart_id: str, width: float, height: float, draw: Any) -> str:
    import matplotlib

    with matplotlib.rc_context(_RC):
        figure = _figure(width, height)
        draw(figure.add_subplot())
        return _svg(figure, chart_id)


def _rows_height(rows: int) -> float:
    return max(1.6, 0.6 + 0.24 * rows)


def posts_per_month(months: pd.DataFrame) -> Chart:
    """Posts per month, stacked by team (the largest ones; the rest as "other teams"), DMs and
    GMs apart."""
    chart_id, title = MONTHS, "Posts per month"
    caption = (
        "Posts (not counting replies) by the month of their create_at, stacked by team; "
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
        index="month", columns="series", values="posts", aggfunc="sum", fill_value=0
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

    def draw(ax: Axes) -> None:
        frame.plot.bar(ax=ax, stacked=True, color=colours, width=0.85, legend=True)
        ax.set_xlabel("month (UTC)")
        ax.set_ylabel("posts")
        ax.set_title(title)
        ax.grid(axis="y")
        ax.grid(axis="x", visible=False)
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        every = max(1, len(frame) // 24)
        for i, label in enumerate(ax.get_xticklabels()):
            label.set_visible(i % every == 0)
            label.set_rotation(90)

    return Chart(chart_id, title, _draw(chart_id, 9.0, 3.6, draw), caption)


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
    import pandas as pd

    # Largest first, at the top.
    frame = pd.Series(values[::-1], index=[short(label) for label in labels[::-1]])

    def draw(ax: Axes) -> None:
        frame.plot.barh(ax=ax, color=(colours or [PALETTE[0]] * len(labels))[::-1], width=0.75)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if limit is not None:
            ax.axvline(limit, color=OVER_COLOUR, linestyle="--", linewidth=1.2)
            ax.set_xlim(0, max(limit, *values) * 1.12)
            ax.set_xlabel(f"{xlabel} (dashed line: {limit_label})")
        ax.bar_label(ax.containers[0], fmt="{:,.0f}", padding=3, fontsize=7)  # type: ignore[arg-type]

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
    import pandas as pd

    ranked = files.assign(label=[f".{e}" if e else "(none)" for e in files["extension"]])
    ranked = ranked.sort_values(["bytes", "files", "label"], ascending=[False, False, True])
    top = ranked.head(TOP)[::-1]
    unit, scale = size_unit(int(top["bytes"].max()))
    frame = pd.DataFrame(
        {"files": top["files"].tolist(), "size": (top["bytes"] / scale).tolist()},
        index=[short(label) for label in top["label"]],
    )

    def draw_both(figure: Figure) -> None:
        left, right = figure.subplots(1, 2, sharey=True)
        frame["files"].plot.barh(ax=left, color=PALETTE[0], width=0.75)
        left.set_xlabel("files")
        left.set_ylabel("file type")
        left.set_title("count")
        frame["size"].plot.barh(ax=right, color=PALETTE[1], width=0.75)
        right.set_xlabel(f"size ({unit})")
        right.set_title("size")
        figure.suptitle(title, fontweight="bold", fontsize=10)

    import matplotlib

    with matplotlib.rc_context(_RC):
        figure = _figure(9.0, _rows_height(len(frame)) + 0.3)
        draw_both(figure)
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
    """Import what drawing needs (pandas, its plotting, matplotlib and its SVG writer) and load
    the fonts by drawing a throwaway chart, ahead of the data: the report does this in a
    process of its own while the archive is read. Changes nothing drawn later."""
    _top_bars("warmup", "warm up", "", ["warm up"], [1], "x", "y")
