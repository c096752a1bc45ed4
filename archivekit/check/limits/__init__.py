"""The target server's limits: what the archive needs from it, and the verdicts."""

from archivekit.check.limits.verdicts import (
    DEFAULT_BANDWIDTH_BPS,
    MAX_OFFENDERS_PER_KIND,
    LimitsResult,
    Needs,
    Offender,
    check_limits,
    parse_bandwidth,
)

__all__ = [
    "DEFAULT_BANDWIDTH_BPS",
    "MAX_OFFENDERS_PER_KIND",
    "LimitsResult",
    "Needs",
    "Offender",
    "check_limits",
    "parse_bandwidth",
]
