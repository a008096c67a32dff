"""``spar3d verify``: a second, independent computation of every sample, that flags (never drops)
what it cannot confirm. See ``docs/verify.md`` for the checks and their tolerances.
"""

from spar3d.verify.checks import FLAGS, Flag, VerifyParams
from spar3d.verify.run import VerifyResult, read_flagged_keys, verify, write_result

__all__ = [
    "FLAGS",
    "Flag",
    "VerifyParams",
    "VerifyResult",
    "read_flagged_keys",
    "verify",
    "write_result",
]
