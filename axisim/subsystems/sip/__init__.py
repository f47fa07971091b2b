"""SIP accounts, calls and DTMF on the C1410 Mk II.

The package is the feature: `SUBSYSTEM` is what a model's manifest word `sip` names."""

from .plugin import SipSubsystem

SUBSYSTEM = SipSubsystem

__all__ = ["SUBSYSTEM", "SipSubsystem"]
