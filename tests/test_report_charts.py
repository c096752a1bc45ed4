"""The triage page's charts drawn on figures made ahead of their data (`charts.prepare`, done by
the drawing process while the archive is read, issue 13): the same SVG, byte for byte, as on
figures made when drawing; and the ticks made ahead are the ones drawn (the time it saves
rests on matplotlib keeping an axis's ticks until it is cleared)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from report_archives import busy_archive

from archivekit.report import charts
from archivekit.report.charts import AHEAD, CHANNELS, FILES, MONTHS, TEAMS, TOP, USERS, Chart
from archivekit.report.html import draw_charts
from archivekit.triage import triage

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def nothing_made_ahead() -> Iterator[None]:
    charts._prepared.clear()
    yield
    charts._prepared.clear()


def _months(count: int, teams: int = 3) -> pd.DataFrame:
    rows = [
        (f"{2000 + m // 12:04d}-{m % 12 + 1:02d}", f"team{t}", "O", (m + 1) * (t + 2))
        for m in range(count)
        for t in range(teams)
    ]
    rows += [(rows[0][0], "", "DM", 5), (rows[-1][0], "", "GM", 7)]
    return pd.DataFrame(rows, columns=["month", "team", "kind", "posts"])


def _named(count: int, column: str, value: str) -> pd.DataFrame:
    return pd.DataFrame({column: [f"{column} {i}" for i in range(count)], value: range(count)})


def _channels(count: int) -> Chart:
    channels = pd.DataFrame(
        {
            "team": ["eng"] * count,
            "channel": [f"c{i}" for i in range(count)],
            "posts": [i * 37 for i in range(count)],
        }
    )
    directs = pd.DataFrame({"kind": ["DM", "GM"], "members": ["a, b", "a, b, c"], "posts": [3, 9]})
    return charts.top_channels(channels, directs)


def _files(count: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "extension": [f"x{i}" for i in range(count - 1)] + [""],
            "files": [i + 1 for i in range(count)],
            "bytes": [(i + 1) * 123_456 for i in range(count)],
        }
    )


# Each chart with little data (a figure of another height than made ahead, few ticks) and with
# the most it shows (the height made ahead, every tick made ahead used).
DRAWINGS: dict[str, list[Callable[[], Chart]]] = {
    MONTHS: [
        lambda: charts.posts_per_month(_months(2, teams=1)),
        lambda: charts.posts_per_month(_months(47, teams=9)),
        lambda: charts.posts_per_month(_months(300)),  # per quarter, then per year
    ],
    CHANNELS: [lambda: _channels(2), lambda: _channels(40)],
    USERS: [
        lambda: charts.top_users(_named(3, "user", "posts")),
        lambda: charts.top_users(_named(TOP + 5, "user", "posts")),
    ],
    FILES: [lambda: charts.files_by_type(_files(2)), lambda: charts.files_by_type(_files(TOP))],
    TEAMS: [
        lambda: charts.team_members(_named(2, "team", "members"), None),
        lambda: charts.team_members(_named(TOP, "team", "members"), 9),  # bars past the limit
    ],
}


@pytest.mark.parametrize(
    ("chart_id", "draw"),
    [(chart_id, draw) for chart_id, draws in DRAWINGS.items() for draw in draws],
)
def test_a_chart_drawn_on_a_figure_made_ahead_is_the_same(
    chart_id: str, draw: Callable[[], Chart]
) -> None:
    fresh = draw()
    charts.prepare(chart_id)
    ahead = draw()
    assert chart_id not in charts._prepared  # taken by the chart
    assert fresh.svg is not None
    assert ahead == fresh
    assert draw() == fresh  # and the next one, on a new figure


def test_the_page_s_charts_are_the_same_drawn_on_figures_made_ahead(tmp_path: Path) -> None:
    for archive in [
        busy_archive(tmp_path / "busy.zip"),
        *sorted(REPO.glob("sample_exports/*.zip")),
    ]:
        tables = triage(archive, workers=1).tables
        fresh = draw_charts(tables, 3)
        for chart_id in AHEAD:
            charts.prepare(chart_id)
        assert draw_charts(tables, 3) == fresh, archive.name
        assert not charts._prepared


@pytest.mark.parametrize(
    ("chart_id", "draw"),
    [(chart_id, draw) for chart_id, draws in DRAWINGS.items() for draw in draws],
)
def test_the_ticks_made_ahead_are_the_ones_drawn(chart_id: str, draw: Callable[[], Chart]) -> None:
    # matplotlib makes an axis's ticks when first asked for them and keeps them until the axis
    # is cleared: setting ticks, labels, limits, locators or a grid reuses them. Were that to
    # change, drawing would make its ticks again (the time `prepare` saves) and this fails.
    charts.prepare(chart_id)
    _, axes = charts._prepared[chart_id]
    made = [(list(ax.xaxis.majorTicks), list(ax.yaxis.majorTicks)) for ax in axes]
    draw()
    assert chart_id not in charts._prepared
    assert all(ax.patches for ax in axes)  # the bars are drawn on the axes made ahead
    for ax, (x_ticks, y_ticks) in zip(axes, made, strict=True):
        # The same tick objects (more made while drawing only past those made ahead).
        for now, ahead in ((ax.xaxis.majorTicks, x_ticks), (ax.yaxis.majorTicks, y_ticks)):
            assert len(now) >= len(ahead)
            assert all(a is b for a, b in zip(now, ahead, strict=False))


def test_the_drawing_process_imports_neither_pyarrow_nor_the_3d_axes() -> None:
    # What the chart process imports before drawing (triage._drawing_imports): the 3D axes
    # matplotlib registers on import (~0.1 s of CPU on the core the pass counts its tables
    # with) and pyarrow (~60 MB) are left unfound, silently, and the charts draw as before.
    code = """
        import sys, warnings
        warnings.simplefilter("error")
        from archivekit import triage
        triage._drawing_imports()
        from archivekit.report import charts
        charts.warm_up()
        loaded = [name for name in sys.modules if name.startswith(triage.UNUSED_IMPORTS)]
        print(sorted(name for name in loaded if sys.modules[name] is not None))
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    assert (done.stdout, done.stderr) == ("[]\n", "")
