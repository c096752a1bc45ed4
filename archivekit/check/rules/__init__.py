"""Per-line rules: the server's validator layer (first error only, the server's check order)
and the apply layer (what fails or is dropped when the server writes the line).

Contract: each function takes the canonical payload dict produced by
`archivekit.gosem.decode.decode_line` (keys lowercase and canonical, JSON types already checked,
absent == None, null elements of object arrays turned into {}), never prints, never raises
on data, and returns `Issue`s without member/line (the engine places them). Field paths
start with the payload key, e.g. ``post.replies[0].message``.
"""

from __future__ import annotations

from archivekit.check.rules.context import PasswordPolicy, RuleContext

__all__ = ["PasswordPolicy", "RuleContext"]
