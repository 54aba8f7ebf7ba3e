"""The producer side of Guardian's decision log: the helper a policy engine calls once per decision.

Installed as `healthdeck.guardian`; it writes exactly the record `healthdeck.collectors.guardian` reads.
"""

from .producer import DecisionLogger, GuardianMetrics

__all__ = ["DecisionLogger", "GuardianMetrics"]
