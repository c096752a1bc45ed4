"""An independent count of an archive's tables, for tests only.

Nothing is shared with `archivekit.check.table_counts` but the decoding of a line: the archive is
read with `zipfile`, every post, reply, reaction, file and membership becomes one row of a
pandas DataFrame (fine for test-sized archives), and each table is a groupby over those rows.
`expected_tables(path)` returns DataFrames shaped like `archivekit.tables(path)`'s.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from archivekit.gosem.decode import decode_line

DAY = 86_400_000


def low(name: str) -> str:
    return name.replace("\u0130", "i").lower()  # Go's ToLower: U+0130 becomes a plain i


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if n.endswith(".jsonl") and "/" not in n.strip("./")]
        with zf.open(names[0]) as fh:
            data = fh.read()
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    yield from enumerate(pieces, start=1)


def _sizes(path: Path) -> dict[str, int]:
    with zipfile.ZipFile(path) as zf:
        return {
            unicodedata.normalize("NFC", info.filename): info.file_size
            for info in zf.infolist()
            if not info.is_dir()
        }


def _decode(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return decode_line(raw)[0]


def _list(value: Any) -> list[Any]:
    return value if type(value) is list else []


def _objects(value: Any) -> list[dict[str, Any]]:
    return [v for v in _list(value) if type(v) is dict]


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


def _size(sizes: dict[str, int], path: str) -> int | None:
    joined = posixpath.normpath("data/" + path)
    if not joined.startswith("data/"):
        return None
    return sizes.get(unicodedata.normalize("NFC", joined))


def _ext(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    return low(ext) if dot and stem else ""


class Rows:
    """Every countable thing of the archive, one dict per row."""

    def __init__(self, path: Path) -> None:
        self.sizes = _sizes(path)
        self.lines: list[dict[str, Any]] = []
        self.posts: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []
        self.reactions: list[dict[str, Any]] = []
        self.files: list[dict[str, Any]] = []
        self.teams: list[dict[str, Any]] = []
        self.channels: list[dict[str, Any]] = []
        self.people: list[dict[str, Any]] = []
        self.team_members: list[dict[str, Any]] = []
        self.channel_members: list[dict[str, Any]] = []
        self.directs: list[dict[str, Any]] = []
        for number, raw in _lines(path):
            self.line(number, raw)

    def line(self, number: int, raw: bytes) -> None:
        record = _decode(raw) if len(raw) < 16_777_216 else None
        if type(record) is not dict:
            self.lines.append({"type": "(undecodable)", "bytes": len(raw)})
            return
        kind = record.get("type")
        self.lines.append({"type": kind if type(kind) is str else "(no type)", "bytes": len(raw)})
        body = record.get(kind) if type(kind) is str else None
        if type(body) is not dict:
            return
        if kind == "team" and type(body.get("name")) is str:
            self.teams.append({"team": low(body["name"]), "line": number, **_texts(body)})
        elif kind == "channel" and type(body.get("team")) is str and type(body.get("name")) is str:
            deleted = body.get("deleted_at")
            self.channels.append(
                {
                    "team": low(body["team"]),
                    "channel": low(body["name"]),
                    "line": number,
                    "archived": type(deleted) is int and deleted > 0,
                    **_texts(body),
                }
            )
        elif kind in ("user", "bot") and type(body.get("username")) is str:
            self.user(number, kind, body)
        elif kind == "direct_channel":
            if type(body.get("participants")) is list:
                names = [
                    p.get("username") if type(p) is dict else None for p in body["participants"]
                ]
            else:
                names = _list(body.get("members"))
            if names and all(type(n) is str for n in names):
                self.directs.append({"members": ",".join(sorted({low(n) for n in names}))})
        elif kind == "post" and type(body.get("team")) is str and type(body.get("channel")) is str:
            self.post(kind, body, low(body["team"]), low(body["channel"]), "channel")
        elif kind == "direct_post":
            names = _list(body.get("channel_members"))
            if names and all(type(n) is str for n in names):
                members = sorted({low(n) for n in names})
                self.post(kind, body, "", ",".join(members), "DM" if len(members) <= 2 else "GM")

    def user(self, number: int, kind: str, body: dict[str, Any]) -> None:
        name = low(body["username"])
        deleted = body.get("delete_at")
        self.people.append(
            {"user": name, "line": number, "kind": kind, "deactivated": _positive(deleted)}
        )
        for team in _objects(body.get("teams")):
            if type(team.get("name")) is not str:
                continue
            self.team_members.append({"team": low(team["name"]), "user": name})
            for channel in _objects(team.get("channels")):
                if type(channel.get("name")) is str:
                    self.channel_members.append(
                        {"team": low(team["name"]), "channel": low(channel["name"]), "user": name}
                    )

    def post(self, kind: str, body: dict[str, Any], team: str, place: str, group: str) -> None:
        where = {"line_type": kind, "team": team, "place": place, "kind": group}
        user = low(body["user"]) if type(body.get("user")) is str else None
        at = _int(body.get("create_at"))
        self.posts.append({**where, "user": user, "at": at})
        self.carrier(body, where, user, at)
        for reply in _objects(body.get("replies")):
            r_user = low(reply["user"]) if type(reply.get("user")) is str else None
            r_at = _int(reply.get("create_at"))
            self.replies.append({**where, "user": r_user, "at": r_at})
            self.carrier(reply, where, r_user, r_at)

    def carrier(self, body: dict[str, Any], where: dict[str, Any], user: Any, at: Any) -> None:
        for reaction in _objects(body.get("reactions")):
            who = low(reaction["user"]) if type(reaction.get("user")) is str else None
            self.reactions.append({**where, "user": who, "at": _int(reaction.get("create_at"))})
        for attachment in _objects(body.get("attachments")):
            path = attachment.get("path")
            if type(path) is str and path:
                size = _size(self.sizes, path)
                self.files.append(
                    {**where, "user": user, "at": at, "ext": _ext(path), "size": size}
                )


def _texts(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body.get(k) if type(body.get(k)) is str else None for k in ("display_name", "type")}


def _positive(value: Any) -> bool:
    return type(value) is int and value > 0


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


_WHERE = ["line_type", "team", "place", "kind", "user", "at"]


def _times(series: pd.Series) -> pd.Series:
    return pd.Series(pd.array(series, dtype="Int64")).astype("datetime64[ms]").dt.tz_localize("UTC")


def _day(at: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=at // DAY)).isoformat()


def expected_tables(path: Path) -> dict[str, pd.DataFrame]:
    rows = Rows(path)
    posts = _frame(rows.posts, _WHERE)
    replies = _frame(rows.replies, _WHERE)
    reactions = _frame(rows.reactions, _WHERE)
    files = _frame(rows.files, [*_WHERE, "ext", "size"])
    files["bytes"] = files["size"].fillna(0).astype("int64")
    return {
        "channels": _channels(rows, posts, replies, reactions, files),
        "teams": _teams(rows, posts, replies, reactions, files),
        "users": _users(rows, posts, replies, reactions, files),
        "directs": _directs(rows, posts, replies, reactions, files),
        "days": _periods(posts, replies, files, "day"),
        "months": _periods(posts, replies, files, "month"),
        "types": _types(rows, replies, reactions, files),
        "files": _files(files),
    }


def _activity(
    keys: list[str],
    posts: pd.DataFrame,
    replies: pd.DataFrame,
    reactions: pd.DataFrame,
    files: pd.DataFrame,
) -> pd.DataFrame:
    out = pd.concat(
        {
            "posts": posts.groupby(keys).size(),
            "replies": replies.groupby(keys).size(),
            "reactions": reactions.groupby(keys).size(),
            "files": files.groupby(keys).size(),
            "file_bytes": files.groupby(keys)["bytes"].sum(),
        },
        axis=1,
    )
    authors = pd.concat([posts[[*keys, "user"]], replies[[*keys, "user"]]]).dropna()
    out["authors"] = authors.drop_duplicates().groupby(keys).size()
    out["first_post_at"] = posts.dropna(subset=["at"]).groupby(keys)["at"].min()
    out["last_post_at"] = posts.dropna(subset=["at"]).groupby(keys)["at"].max()
    return out


def _counts(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    for name in names:
        frame[name] = frame[name].fillna(0).astype("int64")
    return frame


_COUNTS = ["posts", "replies", "reactions", "files", "file_bytes", "authors"]


def _last_definitions(rows: list[dict[str, Any]], keys: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values("line").groupby(keys).last()


def _channels(rows: Rows, posts: Any, replies: Any, reactions: Any, files: Any) -> pd.DataFrame:
    channel = [f[f["kind"] == "channel"] for f in (posts, replies, reactions, files)]
    out = _activity(["team", "place"], *channel)
    out.index.names = ["team", "channel"]
    members = pd.DataFrame(rows.channel_members, columns=["team", "channel", "user"])
    out = out.join(members.groupby(["team", "channel"]).size().rename("members"), how="outer")
    defined = _last_definitions(rows.channels, ["team", "channel"])
    if not defined.empty:
        out = out.join(defined[["type", "display_name", "archived"]], how="outer")
    else:
        out[["type", "display_name", "archived"]] = None
    out = _counts(out, [*_COUNTS, "members"]).reset_index()
    out["archived"] = out["archived"].fillna(False).astype(bool)
    for name in ("first_post_at", "last_post_at"):
        out[name] = _times(out[name])
    return out


def _teams(rows: Rows, posts: Any, replies: Any, reactions: Any, files: Any) -> pd.DataFrame:
    channel = [f[f["kind"] == "channel"] for f in (posts, replies, reactions, files)]
    out = _activity(["team"], *channel)
    members = pd.DataFrame(rows.team_members, columns=["team", "user"])
    out = out.join(members.groupby("team").size().rename("members"), how="outer")
    channels = pd.DataFrame(rows.channels, columns=["team", "channel"])
    out = out.join(channels.groupby("team").size().rename("channels"), how="outer")
    defined = _last_definitions(rows.teams, ["team"])
    if not defined.empty:
        out = out.join(defined[["display_name", "type"]], how="outer")
    else:
        out[["display_name", "type"]] = None
    out = _counts(out, [*_COUNTS, "members", "channels"]).reset_index()
    for name in ("first_post_at", "last_post_at"):
        out[name] = _times(out[name])
    return out


def _users(rows: Rows, posts: Any, replies: Any, reactions: Any, files: Any) -> pd.DataFrame:
    def by_user(frame: pd.DataFrame) -> pd.Series:
        return frame.dropna(subset=["user"]).groupby("user").size()

    out = pd.concat(
        {
            "posts": by_user(posts),
            "direct_posts": by_user(posts[posts["kind"] != "channel"]),
            "replies": by_user(replies),
            "reactions": by_user(reactions),
            "files": by_user(files),
        },
        axis=1,
    )
    out = out.join(
        pd.DataFrame(rows.team_members, columns=["team", "user"]).groupby("user").size()
        .rename("teams"), how="outer",
    )  # fmt: skip
    out = out.join(
        pd.DataFrame(rows.channel_members, columns=["team", "channel", "user"])
        .groupby("user").size().rename("channels"), how="outer",
    )  # fmt: skip
    # A user's DMs/GMs: distinct member sets, from direct_channel and direct_post lines alike.
    posted = set(posts.loc[posts["kind"] != "channel", "place"])
    sets = {d["members"] for d in rows.directs} | posted
    direct_members = [{"user": name} for members in sets for name in members.split(",")]
    out = out.join(
        pd.DataFrame(direct_members, columns=["user"]).groupby("user").size()
        .rename("direct_channels"), how="outer",
    )  # fmt: skip
    acts = pd.concat([f[["user", "at"]] for f in (posts, replies, reactions)]).dropna()
    out = out.join(acts.groupby("user")["at"].min().rename("first_activity_at"), how="outer")
    out = out.join(acts.groupby("user")["at"].max().rename("last_activity_at"), how="outer")
    defined = _last_definitions(rows.people, ["user"])
    if not defined.empty:
        out = out.join(defined[["kind", "deactivated"]], how="outer")
    else:
        out[["kind", "deactivated"]] = None
    names = ["posts", "direct_posts", "replies", "reactions", "files", "teams", "channels"]
    out = _counts(out, [*names, "direct_channels"]).reset_index()
    out["deactivated"] = out["deactivated"].fillna(False).astype(bool)
    for name in ("first_activity_at", "last_activity_at"):
        out[name] = _times(out[name])
    return out


def _directs(rows: Rows, posts: Any, replies: Any, reactions: Any, files: Any) -> pd.DataFrame:
    direct = [f[f["kind"] != "channel"] for f in (posts, replies, reactions, files)]
    out = _activity(["place"], *direct)
    out.index.names = ["members"]
    defined = pd.DataFrame(rows.directs, columns=["members"]).drop_duplicates()
    defined["defined"] = True
    out = out.join(defined.set_index("members"), how="outer")
    out = _counts(out, _COUNTS).reset_index()
    out["defined"] = out["defined"].fillna(False).astype(bool)
    out["member_count"] = out["members"].str.split(",").str.len().astype("int64")
    out["kind"] = ["DM" if n <= 2 else "GM" for n in out["member_count"]]
    for name in ("first_post_at", "last_post_at"):
        out[name] = _times(out[name])
    return out


def _periods(posts: Any, replies: Any, files: Any, unit: str) -> pd.DataFrame:
    def period(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.dropna(subset=["at"]).copy()
        days = [_day(int(at)) for at in frame["at"]]
        frame[unit] = [d[:7] for d in days] if unit == "month" else days
        return frame

    keys = [unit, "team", "kind"]
    f = period(files)
    out = pd.concat(
        {
            "posts": period(posts).groupby(keys).size(),
            "replies": period(replies).groupby(keys).size(),
            "files": f.groupby(keys).size(),
            "file_bytes": f.groupby(keys)["bytes"].sum(),
        },
        axis=1,
    )
    return _counts(out, ["posts", "replies", "files", "file_bytes"]).reset_index()


def _types(rows: Rows, replies: Any, reactions: Any, files: Any) -> pd.DataFrame:
    lines = pd.DataFrame(rows.lines, columns=["type", "bytes"])
    out = pd.concat(
        {
            "lines": lines.groupby("type").size(),
            "bytes": lines.groupby("type")["bytes"].sum(),
            "replies": replies.groupby("line_type").size(),
            "reactions": reactions.groupby("line_type").size(),
            "files": files.groupby("line_type").size(),
        },
        axis=1,
    )
    out.index.name = "type"
    out = out[out["lines"].notna()]
    return _counts(out, ["lines", "bytes", "replies", "reactions", "files"]).reset_index()


def _files(files: pd.DataFrame) -> pd.DataFrame:
    grouped = files.groupby("ext")
    out = pd.concat(
        {
            "files": grouped.size(),
            "bytes": grouped["bytes"].sum(),
            "missing": files[files["size"].isna()].groupby("ext").size(),
            "largest": grouped["bytes"].max(),
        },
        axis=1,
    )
    out.index.name = "extension"
    return _counts(out, ["files", "bytes", "missing", "largest"]).reset_index()
