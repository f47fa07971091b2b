"""A minimal RFC 2617 client side: answer a device's Digest challenge.

For tests, benchmarks and the pytest plugin, which talk to devices without a client library.
"""

from __future__ import annotations

import hashlib
import os

from .auth import parse_digest_params


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def authorization(
    challenge: str, *, user: str, password: str, method: str, uri: str, nc: int = 1, cnonce: str | None = None
) -> str:
    """The Authorization header value answering a `WWW-Authenticate: Digest ...` challenge."""
    scheme, _, rest = challenge.partition(" ")
    if scheme != "Digest":
        raise ValueError(f"not a Digest challenge: {challenge!r}")
    params = parse_digest_params(rest)
    cnonce = cnonce or os.urandom(8).hex()
    ha1 = md5(f"{user}:{params['realm']}:{password}")
    ha2 = md5(f"{method}:{uri}")
    ncs = f"{nc:08x}"
    response = md5(f"{ha1}:{params['nonce']}:{ncs}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{user}", realm="{params["realm"]}", nonce="{params["nonce"]}", uri="{uri}", '
        f'response="{response}", algorithm=MD5, cnonce="{cnonce}", qop=auth, nc={ncs}'
    )
