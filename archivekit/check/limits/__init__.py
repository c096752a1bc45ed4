"""The target server's limits: what the archive needs from it, and the verdicts.

``needs`` simulates what the import asks of the server (members per team, channels per team,
file sizes, image resolutions, message lengths) from the engine's facts; ``verdicts`` compares
that with the target configuration (issues and the limits table); ``commands`` words the
``mmctl config set`` commands that make the import pass. Imports nothing above check/.
"""

from archivekit.check.limits.needs import MAX_OFFENDERS_PER_KIND, Needs, Offender
from archivekit.check.limits.verdicts import (
    DEFAULT_BANDWIDTH_BPS,
    FIXED_LIMITS,
    LimitsResult,
    check_limits,
)

__all__ = [
    "DEFAULT_BANDWIDTH_BPS",
    "FIXED_LIMITS",
    "MAX_OFFENDERS_PER_KIND",
    "LimitsResult",
    "Needs",
    "Offender",
    "check_limits",
]
