"""Anonymising a recording: every identifier of the recorded device, replaced consistently in every
file, and a final check that none is left (/work/record-format.md "Anonymisation").

`find(recording, user, password)` reads the identifiers out of the recording (`Found`): the serial,
every MAC, the device's own addresses and names, the other IPv4/IPv6 addresses and site host
names, the Digest realm, the account names, the basicdeviceinfo SoC serial and the secrets.
`Anonymiser.for_found(found)` maps them onto a placeholder identity derived as axisim derives its
own (`Identity.derive(oui, 0, seed="recorded")`): the serial, each MAC form (colons, dashes, bare,
either case, the IPv6 EUI-64), the host name, the realm and the address become the placeholder's,
so the replay can put each served device's own identity in their place; other addresses become
documentation addresses (198.51.100.0/24, 2001:db8::/32), other names `hostN.example.com`,
accounts `userN`, secrets nothing. `apply(data)` rewrites one file's bytes in three passes:
certificates (PEM blocks and base64 DER become a placeholder certificate, keys are emptied),
secret-named values blanked where they stand (JSON members, `name=value` lines, XML attributes and
elements, param.cgi definitions), then one regular-expression pass over every token (one pass, so
a replacement is never replaced again). `leaks(data)` finds any original still there.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..identity import AXIS_OUIS, Identity
from ..tls import self_signed
from .recording import Recording

PLACEHOLDER_SEED = "recorded"
PLACEHOLDER_IP = "192.168.0.90"
PLACEHOLDER_IPS = (PLACEHOLDER_IP, "192.168.2.90", "172.16.0.90", "10.0.0.90", "100.64.0.90")
DEFAULT_OUI = "ACCC8E"
SECRET_MIN = 6  # secrets shorter than this are blanked where they stand, not searched for everywhere

_SECRET_NAME = re.compile(
    rb"(?i)(passw(or)?d|passwd|passphrase|secret|token|psk|credential|private_?key|api_?key|shared_?key"
    rb"|(^|[._-])(key|pass|pwd)$|(?<=[a-z])(Key|Pass|Pwd)$)"
)
_NOT_SECRET_NAME = re.compile(rb"(?i)(policy|enabled|required|length|mode|type|status|strength|expir)")
_BENIGN = {b"", b"yes", b"no", b"true", b"false", b"on", b"off", b"none", b"null"}
_PUBLIC_NAMES = (b"axis.com", b"ntp.org", b"google.com", b"windows.com", b"apple.com", b"cloudflare.com",
                 b"example.com", b"example.net", b"example.org", b"localhost")  # fmt: skip
_IPV4 = re.compile(rb"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?!\.?\d)")
_IPV6 = re.compile(rb"(?<![0-9A-Za-z:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![0-9A-Za-z:])")
_MAC = re.compile(rb"(?<![0-9A-Fa-f:-])([0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\2){4}[0-9A-Fa-f]{2})(?![0-9A-Fa-f:-])")
_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----(.{0,200000}?)-----END \1-----", re.S)
_DER = re.compile(rb"(?<![A-Za-z0-9+/])MII[A-Za-z0-9+/]{60,}={0,2}")
_HOSTNAME = re.compile(rb"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*$")


def is_secret_name(name: bytes) -> bool:
    """A member, parameter or attribute whose value is a secret: password, passphrase, key, token..."""
    leaf = name.rsplit(b".", 1)[-1]
    return bool(_SECRET_NAME.search(leaf)) and not _NOT_SECRET_NAME.search(leaf)


def is_secret_value(value: bytes) -> bool:
    """A value worth blanking: not empty, not a yes/no word, not already masked (`*****`)."""
    return value.strip().lower() not in _BENIGN and value.strip(b"*") != b""


@dataclass
class Found:
    """The identifiers a recording holds, as found (originals)."""

    serial: str = ""
    macs: list[str] = field(default_factory=list)  # 12 upper-case hex digits, the device's own first
    own_ips: list[str] = field(default_factory=list)  # the device's addresses (first: its eth0 address)
    prefix_len: int = 24
    gateway: str = ""
    broadcast: str = ""
    ipv4: list[str] = field(default_factory=list)  # every other address
    ipv6: list[str] = field(default_factory=list)
    hostnames: list[str] = field(default_factory=list)  # the device's own names
    domains: list[str] = field(default_factory=list)  # the site's DNS domains
    names: list[str] = field(default_factory=list)  # other site host names
    realms: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    soc_serial: str = ""
    secrets: list[bytes] = field(default_factory=list)

    @property
    def oui(self) -> str:
        first = (self.macs[0] if self.macs else self.serial)[:6]
        return first if first in AXIS_OUIS else DEFAULT_OUI


# -- finding ------------------------------------------------------------------------------------

_OWN_IP_PARAMS = ("Network.eth0.IPAddress", "Network.IPAddress")
_MASK_PARAMS = ("Network.eth0.SubnetMask", "Network.SubnetMask")
_GATEWAY_PARAMS = ("Network.DefaultRouter", "Network.Routing.DefaultRouter")
_BROADCAST_PARAMS = ("Network.eth0.Broadcast", "Network.Broadcast")
_HOSTNAME_PARAMS = ("Network.HostName", "Network.VolatileHostName.HostName")
_DOMAIN_PARAMS = ("Network.DomainName", "Network.Resolver.Domain", "Network.Resolver.Search")
_SYSTEM_ACCOUNTS = re.compile(r"^(root|anonymous|www[a-z]*|admin|operator|viewer|ptz|users|digusers)$")


def find(recording: Recording, url_host: str, user: str = "", password: str = "") -> Found:
    """Every identifier in `recording` (see the module docstring)."""
    params = recording.params()
    document = recording.definitions()
    kinds = {d.name: d.type.kind for d in document.definitions} if document is not None else {}
    properties = recording.device_properties()
    bodies = recording.bodies()
    found = Found()
    found.serial = _hex12(params.get("Properties.System.SerialNumber") or properties.get("SerialNumber", ""))
    realms = re.findall(r'realm="([^"]*)"', recording.challenge)
    if not found.serial:
        found.serial = next((_hex12(r.rsplit("_", 1)[-1]) for r in realms if _hex12(r.rsplit("_", 1)[-1])), "")
    own_mac = _hex12(params.get("Network.eth0.MACAddress", ""))
    macs = [m for m in (own_mac, found.serial) if m]
    for body in bodies:
        macs += [_hex12(m.group(1).decode()) for m in _MAC.finditer(body)]
    found.macs = [m for m in dict.fromkeys(macs) if m and m not in ("000000000000", "FFFFFFFFFFFF")]
    # the device's own addresses and network
    own = [params.get(name, "") for name in _OWN_IP_PARAMS] + [url_host]
    found.own_ips = [ip for ip in dict.fromkeys(own) if _ipv4(ip)]
    mask = next((params[n] for n in _MASK_PARAMS if _ipv4(params.get(n, ""))), "")
    if mask:
        with contextlib.suppress(ValueError):
            found.prefix_len = ipaddress.ip_network(f"0.0.0.0/{mask}").prefixlen
    found.gateway = next((params[n] for n in _GATEWAY_PARAMS if _ipv4(params.get(n, ""))), "")
    found.broadcast = next((params[n] for n in _BROADCAST_PARAMS if _ipv4(params.get(n, ""))), "")
    versions = _version_values(params, bodies)
    taken = {*found.own_ips, found.gateway, found.broadcast}
    others: list[str] = []
    for body in bodies:
        for match in _IPV4.finditer(body):
            text = match.group(1).decode()
            cidr = body[match.end() : match.end() + 1] == b"/"
            if text not in taken and text not in versions and _site_ipv4(text) and not cidr and not _after_version(
                body, match
            ):
                others.append(text)
    found.ipv4 = list(dict.fromkeys(others))
    found.ipv6 = _ipv6_found(bodies)
    # names
    hostnames = [params.get(n, "") for n in _HOSTNAME_PARAMS]
    if url_host and not _ipv4(url_host) and not _is_ip(url_host):
        hostnames.append(url_host)
    found.hostnames = [h for h in dict.fromkeys(hostnames) if h and _HOSTNAME.match(h.encode()) and not _public(h)]
    found.domains = _names([params.get(n, "") for n in _DOMAIN_PARAMS], found.hostnames)
    hostnames_typed = [value for name, value in params.items() if kinds.get(name) == "hostname"]
    found.names = _names(hostnames_typed, found.hostnames + found.domains)
    found.realms = [r for r in realms if r]
    found.accounts = [a for a in [*recording.account_names(), user] if a and not _SYSTEM_ACCOUNTS.match(a)]
    found.accounts = list(dict.fromkeys(found.accounts))
    found.soc_serial = properties.get("SocSerialNumber", "")
    secrets = [v.encode() for n, v in params.items() if _param_secret(n, kinds.get(n, ""), v)]
    for body in bodies:
        secrets += _secrets_in(body)
    if password:
        secrets.append(password.encode())
    found.secrets = [s for s in dict.fromkeys(secrets) if _searchable_secret(s)]
    return found


def _names(values: list[str], known: list[str]) -> list[str]:
    """Dotted DNS names (not addresses, not public services) out of parameter values (lists split)."""
    split = (part for value in values for part in re.split(r"[\s,;]+", value))
    return [
        n for n in dict.fromkeys(split)
        if "." in n and _HOSTNAME.match(n.encode()) and not _is_ip(n) and not _public(n) and n not in known
    ]  # fmt: skip


def _searchable_secret(secret: bytes) -> bool:
    """A secret also replaced wherever else it appears: long enough and not a plain word (a password
    `password` or `enabled` would empty JSON keys); the others are blanked where they stand only."""
    return len(secret) >= SECRET_MIN and not secret.isalpha()


def _hex12(text: str) -> str:
    bare = re.sub(r"[:.-]", "", text.strip()).upper()
    return bare if re.fullmatch(r"[0-9A-F]{12}", bare) else ""


def _ipv4(text: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(text), ipaddress.IPv4Address)
    except ValueError:
        return False


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
        return True
    except ValueError:
        return False


def _site_ipv4(text: str) -> bool:
    """An address that says where the device is: a private, shared (CGNAT) or link-local host
    address. Not 0.x, loopback, multicast, masks, network numbers (x.x.x.0) or broadcasts (.255);
    public addresses other than the device's own are internet services (the vendor's dispatch
    servers in the factory defaults, public DNS): kept [GUESS]."""
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        return False
    if text.endswith((".0", ".255")):
        return False
    return address in _SHARED or address.is_link_local or (address.is_private and not address.is_loopback
                                                            and not address.is_unspecified and not address.is_reserved)


_SHARED = ipaddress.IPv4Network("100.64.0.0/10")


def _after_version(body: bytes, match: re.Match[bytes]) -> bool:
    """A dotted quad right after a word `version` (`"apiVersion": "1.2.3.4"`, `Version="9.80.2.2"`)."""
    return b"ersion" in body[max(0, match.start() - 40) : match.start()].lower()


def _version_values(params: dict[str, str], bodies: list[bytes]) -> set[str]:
    found = {v for n, v in params.items() if re.search(r"(?i)version|firmware|build", n.rsplit(".", 1)[-1])}
    for body in bodies:
        found.update(m.decode() for m in re.findall(rb'(?i)"[a-z]*version[a-z]*"\s*:\s*"([^"]{1,40})"', body))
    return found


def _public(name: str) -> bool:
    lowered = name.lower().encode()
    return any(lowered == p or lowered.endswith(b"." + p) for p in _PUBLIC_NAMES)


def _ipv6_found(bodies: list[bytes]) -> list[str]:
    """Global and unique-local IPv6 addresses (link-local ones are the MAC's EUI-64: their own token)."""
    found: list[str] = []
    for body in bodies:
        for match in _IPV6.finditer(body):
            text = match.group(1).decode()
            try:
                address = ipaddress.IPv6Address(text)
            except ValueError:
                continue
            if not (address.is_link_local or address.is_loopback or address.is_unspecified or address.is_multicast):
                found.append(text)
    return list(dict.fromkeys(found))


def _param_secret(name: str, kind: str, value: str) -> bool:
    if kind in ("bool", "enum", "int"):
        return False
    return (kind == "password" or is_secret_name(name.encode())) and is_secret_value(value.encode())


_JSON_MEMBER = re.compile(rb'"([A-Za-z0-9_.-]{1,64})"(\s*:\s*)"((?:[^"\\]|\\.){0,4096})"')
_TEXT_LINE = re.compile(rb"(?m)^([A-Za-z0-9_.\[\]-]{1,200})=([^\r\n]{0,4096})$")
_XML_ATTR = re.compile(rb'(?<=\s)([A-Za-z_:][A-Za-z0-9_.:-]{0,64})="([^"]{0,4096})"')
_XML_ELEMENT = re.compile(rb"<([A-Za-z_][A-Za-z0-9_.:-]{0,64})>([^<]{1,4096})</\1>")
_PARAM_ELEMENT = re.compile(rb'(<parameter name=")([^"]*)(" value=")([^"]*)("[^>]*>)(.{0,2000}?)(</parameter>)', re.S)


def _secrets_in(body: bytes) -> list[bytes]:
    found = [m.group(3) for m in _JSON_MEMBER.finditer(body) if is_secret_name(m.group(1))]
    found += [m.group(2) for m in _TEXT_LINE.finditer(body) if is_secret_name(m.group(1))]
    if body.lstrip()[:1] == b"<":
        found += [m.group(2) for m in _XML_ATTR.finditer(body) if is_secret_name(m.group(1))]
        found += [m.group(2) for m in _XML_ELEMENT.finditer(body) if is_secret_name(m.group(1))]
    return [s for s in found if is_secret_value(s)]


# -- replacing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    original: bytes
    replacement: bytes
    kind: str
    caseless: bool = False
    edge: bytes = rb"A-Za-z0-9"  # characters that may not touch the token (none for hex forms)


def _bounded(token: Token) -> bytes:
    body = re.escape(token.original)
    if token.caseless:
        body = b"(?i:" + body + b")"
    if not token.edge:
        return body
    return b"(?<![" + token.edge + b"])" + body + b"(?![" + token.edge + b"])"


def _mac_forms(mac: str) -> list[tuple[str, str]]:
    """(form name, text) of a MAC: colons and dashes in both cases, bare in both cases."""
    pairs = [mac[i : i + 2] for i in range(0, 12, 2)]
    return [("colon", ":".join(pairs)), ("colon_lower", ":".join(pairs).lower()), ("dash", "-".join(pairs)),
            ("dash_lower", "-".join(pairs).lower()), ("bare", mac), ("bare_lower", mac.lower())]  # fmt: skip


def eui64_forms(mac: str) -> dict[str, str]:
    """The interface identifier of the MAC's EUI-64 IPv6 address as it may be written, by form:
    zero-padded groups, groups without leading zeros, compressed as in `fe80::...`, each in lower
    and upper case (`aecc:8eff:fef7:de6b`)."""
    octets = bytes.fromhex(mac)
    eui = bytes([octets[0] ^ 0x02]) + octets[1:3] + b"\xff\xfe" + octets[3:]
    groups = [eui[i : i + 2].hex() for i in range(0, 8, 2)]
    padded = ":".join(groups)
    short = ":".join(g.lstrip("0") or "0" for g in groups)
    compressed = str(ipaddress.IPv6Address(b"\xfe\x80" + b"\x00" * 6 + eui)).removeprefix("fe80::")
    forms = {"padded": padded, "short": short, "compressed": compressed}
    forms.update({f"{name}_upper": text.upper() for name, text in list(forms.items())})
    return {name: text for name, text in forms.items() if text.count(":") >= 2}


class Anonymiser:
    """Rewrites a file's bytes so no identifier of `found` is left (module docstring)."""

    def __init__(self, found: Found, placeholder: Identity, tokens: list[Token]) -> None:
        self.found = found
        self.placeholder = placeholder
        unique = {t.original: t for t in tokens if t.original and t.original != t.replacement}
        self.tokens = list(unique.values())
        self._table = {t.original: t.replacement for t in self.tokens}
        self._caseless = {t.original.lower(): t.replacement for t in self.tokens if t.caseless}
        ordered = sorted(self.tokens, key=lambda t: -len(t.original))
        self._pattern = re.compile(b"|".join(_bounded(t) for t in ordered)) if ordered else None
        replacements = {t.replacement for t in self.tokens}
        self._checked = [t for t in ordered if t.original not in replacements]  # see leaks()
        self._check = re.compile(b"|".join(_bounded(t) for t in self._checked)) if self._checked else None
        cert = self_signed(placeholder.hostname, placeholder.ip)
        self._cert_body = b"".join(cert.cert_pem.split(b"\n")[1:-2])  # the base64 lines
        self._cert_fragments: list[bytes] = []

    @classmethod
    def for_found(cls, found: Found) -> Anonymiser:
        """The placeholder identity is `Identity.derive(oui, 0, seed="recorded")` at 192.168.0.90,
        unless the device itself has that serial or address (a recording of a recording, a device
        served on 0.0.0.0): then the next index, the next address, so no original stays as it was."""
        taken = {*found.macs, found.serial}
        serials = [Identity.derive(found.oui, i, seed=PLACEHOLDER_SEED).serial for i in range(5)]
        serial = next((s for s in serials if s not in taken), serials[-1])
        addresses = {a for a in (*found.own_ips, found.gateway, found.broadcast, *found.ipv4) if a}

        def free(ip: str) -> bool:
            return not set(Identity(serial, ip, found.prefix_len).placeholders().values()) & addresses

        ip = next((a for a in PLACEHOLDER_IPS if free(a)), PLACEHOLDER_IPS[-1])
        placeholder = Identity(serial, ip, found.prefix_len)
        return cls(found, placeholder, _tokens(found, placeholder))

    # -- the passes ------------------------------------------------------------------------------

    def apply(self, data: bytes) -> bytes:
        data = _PEM.sub(self._pem, data)
        data = _DER.sub(self._der, data)
        data = blank_secrets(data)
        if self._pattern is not None:
            data = self._pattern.sub(self._token, data)
        return data

    def _token(self, match: re.Match[bytes]) -> bytes:
        text = match.group(0)
        found = self._table.get(text)
        return found if found is not None else self._caseless[text.lower()]

    def _pem(self, match: re.Match[bytes]) -> bytes:
        kind, body = match.group(1), match.group(2)
        self._remember(body)
        newline = b"\n" if b"\n" in body else (b"\\n" if b"\\n" in body else (b"\r\n" if b"\r" in body else b""))
        inner = self._cert_body if kind.endswith(b"CERTIFICATE") else b""
        lines = [inner[i : i + 64] for i in range(0, len(inner), 64)]
        content = newline.join(lines)
        begin, end = b"-----BEGIN " + kind + b"-----", b"-----END " + kind + b"-----"
        return begin + newline + content + (newline if content else b"") + end

    def _der(self, match: re.Match[bytes]) -> bytes:
        self._remember(match.group(0))
        return self._cert_body

    def _remember(self, body: bytes) -> None:
        """Keep a fragment of each certificate body replaced, for the final check."""
        joined = re.sub(rb"\\n|\\r|\s", b"", body)
        if len(joined) >= 120 and joined not in self._cert_body:
            self._cert_fragments.append(joined[60:120])

    def leaks(self, data: bytes) -> list[str]:
        """The originals still in `data` (described, never quoted in full: they are identifiers)."""
        found: list[str] = []
        if self._check is not None:
            for match in self._check.finditer(data):
                found.append(self._describe(match.group(0)))
        found += ["a certificate" for fragment in self._cert_fragments if fragment in re.sub(rb"\\n|\s", b"", data)]
        return list(dict.fromkeys(found))

    def _describe(self, text: bytes) -> str:
        for token in self._checked:
            if token.original == text or (token.caseless and token.original.lower() == text.lower()):
                if token.kind == "secret":
                    return "a secret value"
                return f"{token.kind} {text.decode('utf-8', 'replace')}"
        return "an identifier"

    def replaced(self) -> dict[str, int]:
        """How many originals of each kind the anonymiser replaces (the fixture's README)."""
        counts: dict[str, int] = {}
        for token in self.tokens:
            counts[token.kind] = counts.get(token.kind, 0) + 1
        return counts


def _tokens(found: Found, placeholder: Identity) -> list[Token]:
    tokens: list[Token] = []
    add = tokens.append
    hexes = b"A-Fa-f0-9"  # bare hex forms may touch letters (AXIS_<serial>, axis-<serial>) but not hex digits
    # MACs: the device's own (and the serial) become the placeholder's; others derived MACs
    for index, mac in enumerate(found.macs):
        new = placeholder.serial if index == 0 or mac == found.serial else _other_mac(found, index)
        old_forms, new_forms = dict(_mac_forms(mac)), dict(_mac_forms(new))
        for name, text in old_forms.items():
            add(Token(text.encode(), new_forms[name].encode(), "MAC", edge=hexes if name.startswith("bare") else b""))
        new_eui = eui64_forms(new)
        for name, text in eui64_forms(mac).items():
            if name in new_eui:
                add(Token(text.encode(), new_eui[name].encode(), "MAC (IPv6 EUI-64)", edge=b""))
    if found.serial and found.serial not in found.macs:
        add(Token(found.serial.encode(), placeholder.serial.encode(), "serial", edge=hexes))
        add(Token(found.serial.lower().encode(), placeholder.serial.lower().encode(), "serial", edge=hexes))
    # addresses
    forms = placeholder.placeholders()
    ipv4_edge = b"0-9"
    for ip in found.own_ips:
        add(Token(ip.encode(), placeholder.ip.encode(), "IP address", edge=ipv4_edge))
    if found.gateway and found.gateway not in found.own_ips:
        add(Token(found.gateway.encode(), forms["gateway"].encode(), "IP address", edge=ipv4_edge))
    if found.broadcast and found.broadcast not in found.own_ips:
        add(Token(found.broadcast.encode(), forms["broadcast"].encode(), "IP address", edge=ipv4_edge))
    for index, ip in enumerate(found.ipv4, start=1):
        add(Token(ip.encode(), _doc_ipv4(index).encode(), "IP address", edge=ipv4_edge))
    for index, ip in enumerate(found.ipv6, start=1):
        add(Token(ip.encode(), f"2001:db8::{index:x}".encode(), "IPv6 address", edge=b"0-9A-Fa-f:"))
    # names
    for host in found.hostnames:
        add(Token(host.encode(), placeholder.hostname.encode(), "host name", caseless=True, edge=b"A-Za-z0-9-"))
    for index, name in enumerate(found.domains, start=1):
        add(Token(name.encode(), f"domain{index}.example.com".encode(), "domain", caseless=True, edge=b"A-Za-z0-9-"))
    for index, name in enumerate(found.names, start=1):
        add(Token(name.encode(), f"host{index}.example.com".encode(), "host name", caseless=True, edge=b"A-Za-z0-9-"))
    for realm in found.realms:
        add(Token(realm.encode(), placeholder.realm.encode(), "realm", edge=b"A-Za-z0-9_"))
    for index, account in enumerate(found.accounts, start=1):
        add(Token(account.encode(), f"user{index}".encode(), "account name", edge=b"A-Za-z0-9_"))
    if found.soc_serial:
        add(Token(found.soc_serial.encode(), placeholder.soc_serial.encode(), "SoC serial", edge=b"A-Za-z0-9"))
    for secret in found.secrets:
        add(Token(secret, b"", "secret", edge=b"A-Za-z0-9"))
    return tokens


def _other_mac(found: Found, index: int) -> str:
    mac = found.macs[index]
    oui = mac[:6] if mac[:6] in AXIS_OUIS else found.oui
    return Identity.derive(oui, index, seed=PLACEHOLDER_SEED + "-mac").serial


def _doc_ipv4(index: int) -> str:
    """The index-th documentation address (RFC 5737): 198.51.100.1-254, then 203.0.113.x."""
    net, host = divmod(index - 1, 254)
    return f"{('198.51.100', '203.0.113', '192.0.2')[net % 3]}.{host + 1}"


# -- secrets where they stand ----------------------------------------------------------------------


def blank_secrets(data: bytes) -> bytes:
    """Secret-named values emptied in place: JSON members, `name=value` lines, XML attributes and
    elements, and param.cgi definitions of secret-named or password-typed parameters."""
    data = _JSON_MEMBER.sub(_blank(1, 3), data)
    data = _TEXT_LINE.sub(_blank(1, 2), data)
    if data.lstrip()[:1] == b"<":
        data = _PARAM_ELEMENT.sub(_blank_parameter, data)
        data = _XML_ATTR.sub(_blank(1, 2), data)
        data = _XML_ELEMENT.sub(_blank(1, 2), data)
    return data


def _blank(name_group: int, value_group: int) -> Callable[[re.Match[bytes]], bytes]:
    def replace(match: re.Match[bytes]) -> bytes:
        if not is_secret_name(match.group(name_group)) or not is_secret_value(match.group(value_group)):
            return match.group(0)
        start, end = match.span(value_group)
        whole = match.group(0)
        return whole[: start - match.start()] + whole[end - match.start() :]

    return replace


def _blank_parameter(match: re.Match[bytes]) -> bytes:
    name, value, inner = match.group(2), match.group(4), match.group(6)
    typed = re.search(rb"<(bool|enum|int)\b", inner)
    secret = b"<password" in inner or is_secret_name(name)
    if typed or not secret or not is_secret_value(value):
        return match.group(0)
    return match.group(1) + name + match.group(3) + match.group(5) + inner + match.group(7)
