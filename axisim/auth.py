"""HTTP authentication as AXIS OS does it (Apache mod_auth_digest defaults), without HTTP objects.

- Digest MD5, `qop="auth"`, realm `AXIS_<serial>`, nonces in Apache's form:
  base64 of an 8-byte microsecond timestamp (12 characters ending in `=`) then
  the hex SHA-1 of a per-boot secret, the realm and that timestamp. Stateless:
  any nonce the device issued is good, on any request, with any `nc`
  (AuthDigestNcCheck Off) until it is older than the nonce lifetime (300 s,
  AuthDigestNonceLifetime), then the reply says `stale=true`.
- Strict mode (`--strict-nonce`, AuthDigestNcCheck On) refuses every replay within a
  nonce's lifetime in bounded memory: a table of the highest `nc` per nonce in use;
  when it is full the nonce first used longest ago is dropped and a floor rises to
  its issue time, and any nonce issued at or before the floor that is not in the
  table is answered `stale=true` (the client asks again and gets a fresh nonce). So
  a dropped nonce is unusable, never forgotten. A request without `qop` (RFC 2069,
  no `nc`) uses its nonce once.
- The `uri` of the Authorization header must be the request-target; Apache
  answers a mismatch with 400.
- Basic where `Network.HTTP.AuthenticationPolicy` allows it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum
from urllib.parse import unquote

from .accounts import Account, AccountStore

NONCE_LIFETIME = 300.0
MAX_KNOWN_NONCES = 1024
MAX_KNOWN_A2 = 64  # request lines whose HA2 is kept: a client polls a few paths (~150 bytes each)
NC_TABLE_SIZE = 4096  # strict mode: nonces whose highest nc is remembered; older ones go stale
_ONCE = 1 << 32  # the nc recorded for a qop-less request: above any 8-hex-digit nc
_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("[^"\\]*(?:\\.[^"\\]*)*"|[^,]*?)\s*(?:,|$)')  # unrolled: fast
# one item of the plain shape: key (where a key may begin: linear on a long run of letters), the
# opening quote (or None), the value; a quoted value closes
_PLAIN_ITEM = re.compile(r'(?<![A-Za-z0-9_-])([A-Za-z0-9_-]+)=(")?((?(2)[^"\\]*|[^",\s\\]*))(?(2)")')
_NONCE = re.compile(r"^([A-Za-z0-9+/]{11}=)([0-9a-f]{40})$")
_REQUIRED = ("username", "realm", "nonce", "uri", "response")  # a Digest header without one is malformed
_NC = re.compile(r"^[0-9a-fA-F]{8}$")
_ESCAPE = re.compile(r"\\(.)")
# header shapes clients sent (`_learn`), newest first: (anchored pattern, lower-case keys in order)
_SHAPES: list[tuple[re.Pattern[str], tuple[str, ...]]] = []
MAX_SHAPES = 8
LEARN_INTERVAL = 0.1  # seconds between two shapes learnt, whatever clients send
_learnt_at = float("-inf")
# the fields of a Digest Authorization header (RFC 7616 §3.4), the only ones a learnt shape may name
DIGEST_FIELDS = frozenset(
    {"username", "realm", "nonce", "uri", "response", "algorithm", "cnonce", "opaque", "qop", "nc", "userhash"}
)


class Outcome(Enum):
    OK = "ok"
    MISSING = "missing"  # no credentials, or a scheme the policy does not accept
    INVALID = "invalid"  # wrong user, password, realm, nonce or malformed header
    STALE = "stale"  # right credentials on an expired nonce
    BAD_REQUEST = "bad_request"  # digest uri does not name this request


@dataclass(frozen=True, slots=True)
class AuthResult:
    outcome: Outcome
    account: Account | None = None
    username: str = ""
    reason: str = ""  # why a failure failed, as the access log records it


@dataclass(frozen=True, slots=True)
class Schemes:
    """Which schemes a policy offers and accepts on one listener."""

    digest: bool
    basic: bool


def schemes_for(policy: str, https: bool) -> Schemes:
    """`recommended` is Digest on HTTP and Basic (and Digest) on HTTPS, per the VAPIX docs."""
    if policy == "basic":
        return Schemes(digest=False, basic=True)
    if policy == "basic_digest":
        return Schemes(digest=True, basic=True)
    if policy == "recommended" and https:
        return Schemes(digest=True, basic=True)
    return Schemes(digest=True, basic=False)


def parse_digest_params(text: str) -> dict[str, str]:
    """Parse `k=v, k="v"` pairs; malformed input yields what could be read (the pairs before
    the first one that does not parse). Every Digest request pays for this, so a header in the
    shape its client sent before is read with one match of that shape, a plain one with one split,
    and anything else by the general scanner."""
    for pattern, names in _SHAPES:
        match = pattern.fullmatch(text)
        if match is not None:
            return dict(zip(names, match.groups(), strict=True))
    plain = _parse_plain(text)
    return plain if plain is not None else _parse_general(text)


def _parse_plain(text: str) -> dict[str, str] | None:
    """`k="v"` and `k=v` items joined by exactly `", "`, no backslash, unquoted values without
    whitespace: what clients send. One C-level split; None for anything else, so that
    `_parse_general` decides it (this reads a header exactly as the scanner would, or not at all).
    Its shape (the keys in order, each quoted or not) is learnt for the next header."""
    parts = _PLAIN_ITEM.split(text)  # ["", key, quote, value, ", ", key, quote, value, ..., ""]
    count = len(parts) // 4
    if not count or parts[0] or parts[-1] or parts[4:-1:4].count(", ") != count - 1:
        return None
    params = dict(zip(map(str.lower, parts[1::4]), parts[3::4], strict=True))
    global _learnt_at
    if len(params) == count and DIGEST_FIELDS.issuperset(params):  # no key twice, no key of unbounded length
        now = time.monotonic()
        if now - _learnt_at >= LEARN_INTERVAL:
            _learnt_at = now
            _learn(tuple(zip(parts[1::4], map(bool, parts[2::4]), strict=True)))
    return params


def _learn(shape: tuple[tuple[str, bool], ...]) -> None:
    """Remember a client's header shape as one anchored pattern: the same keys in the same order,
    each value quoted or not, with `_PLAIN_ITEM`'s value classes, so it reads exactly the headers
    `_parse_plain` reads alike, about three times faster (literal keys, no split, no lookbehind).
    Clients keep one shape (each library writes its fields in a fixed order). A compile costs about
    250 µs, so shapes are learnt only of Digest's own fields (a bounded pattern) and at most one
    per LEARN_INTERVAL: a client sending a new shape each time cannot spend more than that; its
    headers are read by the split, as before. The table is small, the newest shape first."""
    quoted_value, plain_value = r'"([^"\\]*)"', r'([^",\s\\]*)'  # _PLAIN_ITEM's two value classes
    items = (f"{re.escape(key)}={quoted_value if quoted else plain_value}" for key, quoted in shape)
    pattern = re.compile(", ".join(items))
    _SHAPES.insert(0, (pattern, tuple(key.lower() for key, _ in shape)))
    del _SHAPES[MAX_SHAPES:]


def _parse_general(text: str) -> dict[str, str]:
    """Any header: one regular expression per pair, escapes undone, stopping at the first pair
    that does not parse."""
    params: dict[str, str] = {}
    position, end = 0, len(text)
    while position < end:
        match = _PARAM.match(text, position)  # anchored: a scan for a later pair would be quadratic
        if match is None:
            break
        key, value = match.group(1).lower(), match.group(2)
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = value[1:-1]
            if "\\" in value:
                value = _ESCAPE.sub(r"\1", value)
        params[key] = value
        position = match.end()
    return params


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8", "surrogateescape")).hexdigest()


class DigestAuthority:
    """Issues and checks nonces for one device boot."""

    def __init__(
        self, realm: str, *, strict_nc: bool = False, lifetime: float = NONCE_LIFETIME,
        nc_table_size: int = NC_TABLE_SIZE,
    ) -> None:  # fmt: skip
        self.realm = realm
        self.strict_nc = strict_nc
        self.lifetime = lifetime
        self.nc_table_size = max(1, nc_table_size)
        self._secret = os.urandom(20)
        self._seen_nc: OrderedDict[str, tuple[float, int]] = OrderedDict()  # nonce -> (issued, highest nc)
        self._floor = float("-inf")  # strict: nonces issued at or before this and not in the table are stale
        self._known: dict[str, float] | None = None  # nonces checked this boot -> when issued (lazy: fleets)
        self._ha2: dict[str, str] | None = None  # "method:uri" -> its MD5: a client asks the same few (lazy: fleets)
        self._granted: dict[str, AuthResult] | None = None  # user -> the OK result (frozen: one per account)

    def new_secret(self) -> None:
        """A reboot: nonces issued before it are no longer valid."""
        self._secret = os.urandom(20)
        self._seen_nc.clear()
        self._floor = float("-inf")
        self._known = None

    def _nonce_hash(self, stamp: str) -> str:
        return hmac.digest(self._secret, f"{self.realm}:{stamp}".encode(), "sha1").hex()

    def nonce(self, now: float | None = None) -> str:
        micros = int((time.time() if now is None else now) * 1_000_000)
        stamp = base64.b64encode(micros.to_bytes(8, "little")).decode()
        return stamp + self._nonce_hash(stamp)

    def challenge(self, stale: bool = False) -> str:
        header = f'Digest realm="{self.realm}", nonce="{self.nonce()}", algorithm=MD5, qop="auth"'
        return header + (", stale=true" if stale else "")

    def _nonce_issued(self, nonce: str) -> float | None:
        """When the nonce was issued (epoch seconds), or None if this boot did not issue it.
        A client sends one nonce with many requests, so a checked nonce is remembered."""
        known = self._known
        issued = known.get(nonce) if known is not None else None
        if issued is None:
            issued = self._issued_at(nonce)
            if issued is None:
                return None
            if known is None or len(known) >= MAX_KNOWN_NONCES:
                known = self._known = {}
            known[nonce] = issued
        return issued

    def _issued_at(self, nonce: str) -> float | None:
        match = _NONCE.match(nonce)
        if not match or not hmac.compare_digest(match.group(2), self._nonce_hash(match.group(1))):
            return None
        try:
            micros = int.from_bytes(base64.b64decode(match.group(1), validate=True), "little")
        except (binascii.Error, ValueError):
            return None
        return micros / 1_000_000

    def verify(self, header_params: str, method: str, target: str, accounts: AccountStore) -> AuthResult:
        params = parse_digest_params(header_params)
        get = params.get  # each field read once: every Digest request comes through here
        username, realm, nonce, uri, response = map(get, _REQUIRED)
        if not (username and realm and nonce and uri and response):
            return AuthResult(Outcome.INVALID, username=username or "", reason="malformed Digest credentials")
        if uri != target and not _same_target(uri, target):
            return AuthResult(Outcome.BAD_REQUEST, username=username, reason="uri mismatch")
        if realm != self.realm or get("algorithm", "MD5").upper() != "MD5":
            return AuthResult(Outcome.INVALID, username=username, reason="realm or algorithm mismatch")
        account = accounts.get(username)
        if account is None:
            return AuthResult(Outcome.INVALID, username=username, reason="user not found")
        issued = self._nonce_issued(nonce)
        if issued is None:
            return AuthResult(Outcome.INVALID, username=username, reason="invalid nonce")
        qop = get("qop")
        ha1 = account.ha1  # MD5(user:realm:password), all the device keeps of a password
        ha2 = self._hash_a2(f"{method}:{uri}")
        if qop is None:
            expected = _md5(f"{ha1}:{nonce}:{ha2}")
        elif qop == "auth" and _NC.match(nc := get("nc", "")) and (cnonce := get("cnonce")):
            expected = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        else:
            return AuthResult(Outcome.INVALID, username=username, reason="invalid qop, nc or cnonce")
        if not hmac.compare_digest(expected, response.lower()):
            return AuthResult(Outcome.INVALID, username=username, reason="password mismatch")
        age = time.time() - issued
        if age > self.lifetime or age < -60:
            return AuthResult(Outcome.STALE, username=username)
        if self.strict_nc:
            return self._strict(nonce, issued, int(nc, 16) if qop else None, account, username)
        return self._grant(account, username)

    def _hash_a2(self, a2: str) -> str:
        memo = self._ha2
        if memo is None or len(memo) >= MAX_KNOWN_A2:
            memo = self._ha2 = {}
        ha2 = memo.get(a2)
        if ha2 is None:
            ha2 = memo[a2] = _md5(a2)
        return ha2

    def _grant(self, account: Account, username: str) -> AuthResult:
        """The OK result for an account: made once (a frozen dataclass costs more to make than the
        rest of a check), made again when the account was replaced (a new password, a reset)."""
        granted = self._granted
        if granted is None:
            granted = self._granted = {}  # one per account that ever logged in: bounded by the accounts
        result = granted.get(username)
        if result is None or result.account is not account:
            result = granted[username] = AuthResult(Outcome.OK, account=account, username=username)
        return result

    def _strict(self, nonce: str, issued: float, nc: int | None, account: Account, username: str) -> AuthResult:
        """Each nc of a nonce once, increasing; a nonce the bounded table let go is stale, not new."""
        seen = self._seen_nc.get(nonce)
        if seen is None:
            if issued <= self._floor:
                return AuthResult(Outcome.STALE, username=username)
            self._seen_nc[nonce] = (issued, _ONCE if nc is None else nc)
            while len(self._seen_nc) > self.nc_table_size:
                _, (dropped, _) = self._seen_nc.popitem(last=False)
                self._floor = max(self._floor, dropped)
            return self._grant(account, username)
        if nc is None:  # a qop-less request has no count: its nonce served once; ask for a new one
            return AuthResult(Outcome.STALE, username=username)
        if nc <= seen[1]:
            return AuthResult(Outcome.INVALID, username=username, reason="nonce count replayed")
        self._seen_nc[nonce] = (seen[0], nc)
        return self._grant(account, username)


def _same_target(uri: str, target: str) -> bool:
    """Apache's second chance: path and query equal once percent-decoded, absolute URIs allowed.

    mod_auth_digest compares the unescaped components when the strings differ, so a
    client that hashed `?group=a,b` for a request sent as `?group=a%2Cb` is accepted.
    """
    absolute = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*(.*)$", uri)
    if absolute:
        uri = absolute.group(1) or "/"

    def parts(text: str) -> tuple[str, str | None]:
        path, sep, query = text.partition("?")
        return unquote(path), (unquote(query) if sep else None)

    return parts(uri) == parts(target)


def verify_basic(token: str, accounts: AccountStore) -> AuthResult:
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return AuthResult(Outcome.INVALID, reason="malformed Basic credentials")
    username, sep, password = decoded.partition(":")
    account = accounts.get(username)
    if not sep or account is None:
        return AuthResult(Outcome.INVALID, username=username, reason="user not found")
    if not account.password_matches(password):
        return AuthResult(Outcome.INVALID, username=username, reason="password mismatch")
    return AuthResult(Outcome.OK, account=account, username=username)


NO_CREDENTIALS = AuthResult(Outcome.MISSING)


def authenticate(
    authorization: str | None,
    *,
    method: str,
    target: str,
    schemes: Schemes,
    digest: DigestAuthority,
    accounts: AccountStore,
) -> AuthResult:
    """Check one Authorization header value against the accepted schemes."""
    if not authorization:
        return NO_CREDENTIALS
    scheme, _, rest = authorization.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "digest" and schemes.digest:
        return digest.verify(rest, method, target, accounts)
    if scheme == "basic" and schemes.basic:
        return verify_basic(rest, accounts)
    return AuthResult(Outcome.MISSING)
