"""What the firmware checks of a value beyond the type `listdefinitions` declares.

Real definitions are loose: `Network.HostName` is `string maxlen=63` and `Network.DNSUpdate.TTL`
a plain `string` (param-trees.md §3, the fixtures), yet the device refuses a host name the manuals
do not allow and a TTL that is not a number. These checks ride on the parameter's `ParamType`
(attached when a fixture is parsed, never rendered), so every path that writes a value
(param.cgi, the native APIs, the control API, a state directory being loaded) refuses it alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .numbers import whole_number


@dataclass(frozen=True, slots=True)
class Check:
    """One parameter's extra rule: a pattern, a whole-number range, set-once, or a setting it turns
    off when it changes to a value."""

    pattern: re.Pattern[str] | None = None
    low: int | None = None
    high: int | None = None
    once: bool = False  # settable while empty only; a factory default empties it again
    marks: str | None = None  # a yes/no parameter that says it was set (set to its true word with it)
    turns_off: str | None = None  # a yes/no parameter set to its false word when this one changes to `when`
    when: str | None = None

    def accepts(self, value: str) -> bool:
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return False
        if self.low is not None or self.high is not None:
            return whole_number(value, low=self.low, high=self.high) is not None
        return True


# a DNS name (RFC 1123 labels of 1-63 letters, digits and inner hyphens; 253 characters in all): the
# one rule for Network.DomainName and the network settings API's domain name and search domains
DOMAIN_NAME = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*")

CHECKS: dict[str, Check] = {
    # every manual, Network > Hostname: "Allowed characters are A–Z, a–z, 0–9 and -"; maxlen 63 is the
    # declared type's; an empty name is refused [GUESS: the manuals give no minimum]
    "Network.HostName": Check(pattern=re.compile(r"[A-Za-z0-9-]+")),
    # Network > Hostname > Register DNS name: "Allowed characters are A–Z, a–z, 0–9 and –" (empty: none)
    "Network.DNSUpdate.DNSName": Check(pattern=re.compile(r"[A-Za-z0-9-]*")),
    # Network > DNS servers: the static domain name is a DNS name, or empty
    "Network.DomainName": Check(pattern=re.compile(f"(?:{DOMAIN_NAME.pattern})?")),
    # Network > DNS update > TTL: seconds; "numeric" per issue 20, range [GUESS]: RFC 2181 §8's 0..2^31-1
    "Network.DNSUpdate.TTL": Check(low=0, high=2**31 - 1),
    # every manual, SNMP v3: "The SNMP v3 password can only be set once ... To set the password again,
    # you must reset the device to factory default settings"; InitialUserPasswdSet reports it
    "SNMP.InitialUserPasswd": Check(once=True, marks="SNMP.InitialUserPasswdSet"),
    # every manual, SNMP v1 and v2c: "Traps are automatically turned off if you change to SNMP v3 or turn
    # off SNMP" (the web interface's version choice sets SNMP.V3; SNMP off is SNMP.Enabled=no)
    "SNMP.V3": Check(turns_off="SNMP.Trap.Enabled", when="yes"),
    "SNMP.Enabled": Check(turns_off="SNMP.Trap.Enabled", when="no"),
}
