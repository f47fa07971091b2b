"""Authentication as AXIS OS devices do it (vapix-wire.md §4.1)."""

from __future__ import annotations

import base64
import random
import re
import time

import pytest
from yarl import URL

from axisim.auth import NONCE_LIFETIME
from axisim.digest_client import authorization
from tests.conftest import DeviceClientFactory

LIST = "/axis-cgi/param.cgi?action=list&group=root.Brand.ProdNbr"


async def test_digest_challenge_shape(device_client: DeviceClientFactory) -> None:
    # §4.1 [REC]: Digest realm="AXIS_<serial>", Apache-style nonce, algorithm=MD5, qop="auth"; 381-byte page
    client = await device_client("S3008")
    response = await client.client.get(LIST)
    assert response.status == 401
    challenges = response.headers.getall("WWW-Authenticate")
    assert len(challenges) == 1  # policy "recommended" on HTTP: Digest only
    match = re.fullmatch(
        r'Digest realm="AXIS_([0-9A-F]{12})", nonce="([A-Za-z0-9+/]{11}=[0-9a-f]{40})", algorithm=MD5, qop="auth"',
        challenges[0],
    )
    assert match and match.group(1) == client.device.serial
    stamp = int.from_bytes(base64.b64decode(match.group(2)[:12]), "little") / 1e6
    assert abs(stamp - time.time()) < 5
    assert response.headers["Content-Type"] == "text/html; charset=iso-8859-1"
    body = await response.read()
    assert len(body) == 381 and b"<title>401 Unauthorized</title>" in body


async def test_digest_login_and_nonce_reuse_with_any_nc(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    challenge = (await client.client.get(LIST)).headers["WWW-Authenticate"]
    for nc in (1, 2, 2, 1, 7):  # Apache default: AuthDigestNcCheck Off
        header = authorization(challenge, user="root", password="pass", method="GET", uri=LIST, nc=nc)
        response = await client.client.get(LIST, headers={"Authorization": header})
        assert response.status == 200
        assert await response.text() == "root.Brand.ProdNbr=S3008\n"


async def test_strict_mode_refuses_replayed_nc(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008", strict_nc=True)
    challenge = (await client.client.get(LIST)).headers["WWW-Authenticate"]
    header = authorization(challenge, user="root", password="pass", method="GET", uri=LIST, nc=1, cnonce="abc")
    assert (await client.client.get(LIST, headers={"Authorization": header})).status == 200
    assert (await client.client.get(LIST, headers={"Authorization": header})).status == 401
    header = authorization(challenge, user="root", password="pass", method="GET", uri=LIST, nc=2, cnonce="abc")
    assert (await client.client.get(LIST, headers={"Authorization": header})).status == 200


async def test_expired_nonce_is_stale(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    old = client.device.digest.nonce(now=time.time() - NONCE_LIFETIME - 5)
    challenge = f'Digest realm="{client.device.identity.realm}", nonce="{old}", algorithm=MD5, qop="auth"'
    header = authorization(challenge, user="root", password="pass", method="GET", uri=LIST)
    response = await client.client.get(LIST, headers={"Authorization": header})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].endswith(", stale=true")
    # a wrong password on the same stale nonce is plainly refused, not stale
    header = authorization(challenge, user="root", password="wrong", method="GET", uri=LIST)
    response = await client.client.get(LIST, headers={"Authorization": header})
    assert response.status == 401 and "stale" not in response.headers["WWW-Authenticate"]


async def test_wrong_password_unknown_user_forged_nonce(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    challenge = (await client.client.get(LIST)).headers["WWW-Authenticate"]
    for user, password in (("root", "nope"), ("ghost", "pass")):
        header = authorization(challenge, user=user, password=password, method="GET", uri=LIST)
        assert (await client.client.get(LIST, headers={"Authorization": header})).status == 401
    forged = challenge.replace(challenge.split('nonce="')[1][:52], "AAAAAAAAAAA=" + "0" * 40)
    header = authorization(forged, user="root", password="pass", method="GET", uri=LIST)
    assert (await client.client.get(LIST, headers={"Authorization": header})).status == 401


async def test_uri_must_be_the_request_target(device_client: DeviceClientFactory) -> None:
    # the full request-target (query included) is hashed; Apache answers a mismatch with 400
    client = await device_client("S3008")
    challenge = (await client.client.get(LIST)).headers["WWW-Authenticate"]
    header = authorization(challenge, user="root", password="pass", method="GET", uri="/axis-cgi/param.cgi")
    response = await client.client.get(LIST, headers={"Authorization": header})
    assert response.status == 400


async def test_uri_matching_after_percent_decoding(device_client: DeviceClientFactory) -> None:
    # Apache compares unescaped path and query when the strings differ; absolute URIs are allowed
    client = await device_client("S3008")
    sent = "/axis-cgi/param.cgi?action=list&group=Brand.ProdNbr%2CBrand.Brand"
    for hashed in (
        "/axis-cgi/param.cgi?action=list&group=Brand.ProdNbr,Brand.Brand",
        "http://127.0.0.1/axis-cgi/param.cgi?action=list&group=Brand.ProdNbr%2CBrand.Brand",
    ):
        challenge = (await client.client.get(sent)).headers["WWW-Authenticate"]
        header = authorization(challenge, user="root", password="pass", method="GET", uri=hashed)
        response = await client.client.get(URL(sent, encoded=True), headers={"Authorization": header})
        assert (response.status, await response.text()) == (200, "Brand.ProdNbr=S3008\nBrand.Brand=AXIS\n")
    challenge = (await client.client.get(sent)).headers["WWW-Authenticate"]
    header = authorization(challenge, user="root", password="pass", method="GET", uri=sent + "&x=1")
    assert (await client.client.get(URL(sent, encoded=True), headers={"Authorization": header})).status == 400


async def test_policy_switches_accepted_schemes(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    basic = {"Authorization": "Basic " + base64.b64encode(b"root:pass").decode()}
    assert (await client.client.get(LIST, headers=basic)).status == 401  # recommended: Digest only on HTTP
    update = "/axis-cgi/param.cgi?action=update&Network.HTTP.AuthenticationPolicy=basic_digest"
    assert await client.text("GET", update) == "OK"
    response = await client.client.get(LIST)
    assert [h.split(" ")[0] for h in response.headers.getall("WWW-Authenticate")] == ["Digest", "Basic"]
    assert (await client.client.get(LIST, headers=basic)).status == 200
    update = "/axis-cgi/param.cgi?action=update&Network.HTTP.AuthenticationPolicy=basic"
    assert await client.text("GET", update) == "OK"
    response = await client.client.get(LIST)
    assert response.headers.getall("WWW-Authenticate") == [f'Basic realm="AXIS_{client.device.serial}"']
    assert (await client.client.get(LIST, headers=basic)).status == 200
    challenge = client.device.digest.challenge()
    digest = authorization(challenge, user="root", password="pass", method="GET", uri=LIST)
    assert (await client.client.get(LIST, headers={"Authorization": digest})).status == 401


async def test_broken_authorization_headers_get_401(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    for value in (
        "Digest",
        "Digest garbage",
        'Digest username="root"',
        'Digest username="root", realm=, nonce="x", uri="/", response="y"',
        "Digest " + "a=" * 2000,
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Bearer token",
        'Digest username="root", realm="AXIS_000000000000", nonce="n", uri="/", response="r"',
    ):
        response = await client.client.get(LIST, headers={"Authorization": value})
        assert response.status in (400, 401), value
    assert client.device.params.value("Brand.ProdNbr") == "S3008"


async def test_anonymous_endpoints(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    for path, method in (("/axis-cgi/apidiscovery.cgi", "getApiList"), ("/axis-cgi/systemready.cgi", "systemready")):
        response = await client.client.post(path, json={"apiVersion": "1.0", "method": method})
        assert response.status == 200, path
    response = await client.client.post(
        "/axis-cgi/basicdeviceinfo.cgi", json={"apiVersion": "1.0", "method": "getAllUnrestrictedProperties"}
    )
    assert response.status == 200
    response = await client.client.post(
        "/axis-cgi/basicdeviceinfo.cgi", json={"apiVersion": "1.0", "method": "getAllProperties"}
    )
    assert response.status == 401


async def test_unknown_path_is_apache_404(device_client: DeviceClientFactory) -> None:
    client = await device_client("S4000")  # a recorder without a PoE switch has no nvr/poe
    for path in ("/axis-cgi/nosuch.cgi", "/axis-cgi/nvr/poe/getportstatuses.cgi", "/x"):
        response = await client.client.get(path)
        assert response.status == 404
        assert response.headers["Content-Type"] == "text/html; charset=iso-8859-1"
        assert b"<title>404 Not Found</title>" in await response.read()


async def test_anonymous_viewing_when_allowed(device_client: DeviceClientFactory) -> None:
    # System.BoaProtViewer (bool anonymous/password): "Allow anonymous viewing" in the manuals
    client = await device_client("C1410MkII")
    assert (await client.client.get(LIST)).status == 401
    assert await client.text("GET", "/axis-cgi/param.cgi?action=update&System.BoaProtViewer=anonymous") == "OK"
    response = await client.client.get(LIST)
    assert (response.status, await response.text()) == (200, "root.Brand.ProdNbr=C1410 Mk II\n")
    assert await (await client.client.get("/axis-cgi/usergroup.cgi")).text() == "anonymous\nanonymous viewer\n"
    # viewing only: updates still need an operator
    response = await client.client.get("/axis-cgi/param.cgi?action=update&Network.SSH.Enabled=yes")
    assert response.status == 401
    assert client.device.params.value("Network.SSH.Enabled") == "no"


async def test_quoted_and_unquoted_parameter_styles(device_client: DeviceClientFactory) -> None:
    # clients differ: newer axis releases quote algorithm="MD5"; requests quotes qop="auth"
    client = await device_client("S3008")
    challenge = (await client.client.get(LIST)).headers["WWW-Authenticate"]
    header = authorization(challenge, user="root", password="pass", method="GET", uri=LIST)
    variants = (
        header.replace("algorithm=MD5", 'algorithm="MD5"'),
        header.replace("qop=auth", 'qop="auth"'),
        header.replace(", ", ","),
    )
    for variant in variants:
        response = await client.client.get(LIST, headers={"Authorization": variant})
        assert response.status == 200, variant


async def test_spacing_and_escapes_clients_may_send(device_client: DeviceClientFactory) -> None:
    # RFC 7616 §3.4 / Apache's parser: spaces around "=" and ",", tabs, backslash escapes in quoted
    # values; and a header cut short keeps only the pairs before the cut (here: no response, 401)
    client = await device_client("S3008")
    challenge = (await client.client.get(LIST)).headers["WWW-Authenticate"]
    header = authorization(challenge, user="root", password="pass", method="GET", uri=LIST)
    accepted = (
        header,
        header.replace(", ", " ,  "),
        re.sub(r"\b(username|realm|nonce|uri|response|algorithm|cnonce|qop|nc)=", r"\1 = ", header),
        header.replace(", ", ",\t"),
        header.replace('username="root"', 'username="r\\oot"'),
        header + " ",
    )
    for variant in accepted:
        response = await client.client.get(LIST, headers={"Authorization": variant})
        assert (response.status, await response.text()) == (200, "root.Brand.ProdNbr=S3008\n"), variant
    cut = header.replace(", response=", ", response ")
    assert (await client.client.get(LIST, headers={"Authorization": cut})).status == 401


def test_the_plain_digest_reader_agrees_with_the_general_one() -> None:
    """parse_digest_params reads a learnt shape with one match, the usual shape with one split and
    falls back to the scanner for anything else: on real headers and on thousands of damaged ones
    (seeded, bounded), all agree, the second pass reading through the shapes the first one taught."""
    from axisim.auth import DigestAuthority, _parse_general, parse_digest_params

    challenge = DigestAuthority("AXIS_ACCC8E000000").challenge()
    header = authorization(challenge, user="root", password="pass", method="GET", uri=LIST + ",a&b=c")
    pieces = ["a", "Z", "9", "-", "_", "=", ",", " ", '"', "\\", "\t", "\n", "\xa0", "é", ", ", '="', '", ']
    rng = random.Random("digest")
    texts = [header.partition(" ")[2], 'a="", b=, c="x, y", d=e=f', ""]
    for _ in range(20_000):
        chars = list(texts[0])
        for _ in range(rng.randrange(1, 4)):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(pieces))
            del chars[rng.randrange(len(chars))]
        texts.append("".join(chars))
        texts.append("".join(rng.choice(pieces) for _ in range(rng.randrange(12))))
    for _ in range(2):
        for text in texts:
            assert parse_digest_params(text) == _parse_general(text), text
    assert parse_digest_params(texts[0])["uri"] == LIST + ",a&b=c"


def test_a_clients_header_shape_is_learnt_and_the_table_stays_small(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shapes real clients send (requests, httpx, curl and axisim's own client order their fields
    differently) are each read by their own pattern after the first header; odd shapes cannot grow
    the table past MAX_SHAPES, and a header that only looks like a shape (a quote or a backslash in a
    value) is still read by the general rules."""
    from axisim import auth

    shapes = {
        "requests": 'username="{u}", realm="R", nonce="N", uri="/a?b=c", response="{r}", algorithm="MD5", '
                    'qop="auth", nc=00000001, cnonce="c1"',
        "httpx": 'username="{u}", realm="R", nonce="N", uri="/a?b=c", response="{r}", algorithm=MD5, qop=auth, '
                 'nc=00000001, cnonce="c1"',
        "curl": 'username="{u}", realm="R", nonce="N", uri="/a?b=c", cnonce="c1", nc=00000001, qop=auth, '
                'response="{r}", algorithm=MD5',
    }  # fmt: skip
    auth._SHAPES.clear()
    monkeypatch.setattr(auth, "LEARN_INTERVAL", 0.0)
    for name, shape in shapes.items():
        first = auth.parse_digest_params(shape.format(u="root", r="0" * 32))
        learnt = len(auth._SHAPES)
        again = auth.parse_digest_params(shape.format(u="operator", r="f" * 32))
        assert len(auth._SHAPES) == learnt  # the second header of a shape teaches nothing
        assert auth._SHAPES[0][0].fullmatch(shape.format(u="operator", r="f" * 32)), name
        assert again == first | {"username": "operator", "response": "f" * 32}
        assert again == auth._parse_general(shape.format(u="operator", r="f" * 32))
    assert len(auth._SHAPES) == 3
    odd = 'username="a\\b", realm="R", nonce="N", uri="/a?b=c", response="r", algorithm=MD5, qop=auth, nc=1, cnonce="c"'
    assert auth.parse_digest_params(odd) == auth._parse_general(odd)
    assert auth.parse_digest_params(odd)["username"] == "ab"
    fields = sorted(auth.DIGEST_FIELDS)
    for number in range(3 * auth.MAX_SHAPES):
        auth.parse_digest_params(", ".join(f'{key}="v"' for key in fields[number % 5 :] + fields[: number % 5]))
        auth.parse_digest_params(", ".join(f"{key}=v" for key in fields[number % 7 :] + fields[: number % 7]))
    assert len(auth._SHAPES) == auth.MAX_SHAPES
    auth._SHAPES.clear()
    auth.parse_digest_params('username="u", realm="r", x' + "y" * 4000 + '="v"')  # not Digest's: never a pattern
    assert auth._SHAPES == []


def test_a_client_sending_a_new_shape_each_time_makes_one_pattern_per_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A compile costs about 250 µs: a stream of ever-new shapes learns at most one per
    LEARN_INTERVAL, and each header is still read right (by the split)."""
    from axisim import auth

    auth._SHAPES.clear()
    monkeypatch.setattr(auth, "_learnt_at", float("-inf"))
    monkeypatch.setattr(auth, "LEARN_INTERVAL", 3600.0)
    fields = sorted(auth.DIGEST_FIELDS)
    rng = random.Random("shapes")
    for _ in range(200):
        rng.shuffle(fields)
        text = ", ".join(f'{key}="{rng.randrange(10**6)}"' if rng.random() < 0.5 else f"{key}=x" for key in fields)
        assert auth.parse_digest_params(text) == auth._parse_general(text)
    assert len(auth._SHAPES) == 1


def test_a_granted_result_follows_the_account_it_names() -> None:
    """DigestAuthority keeps one OK result per account (and each request line's HA2): a changed
    password refuses the old one at once, and an account removed and added again is the new one."""
    from axisim.accounts import AccountStore
    from axisim.auth import DigestAuthority, Outcome

    realm = "AXIS_ACCC8E000001"
    authority = DigestAuthority(realm)
    accounts = AccountStore(realm)
    accounts.add("root", "pass", frozenset({"admin", "operator", "viewer"}))
    accounts.add("op", "first", frozenset({"operator", "viewer"}))
    uri = "/axis-cgi/param.cgi?action=list"

    def check(user: str, password: str) -> object:
        header = authorization(authority.challenge(), user=user, password=password, method="GET", uri=uri)
        return authority.verify(header.partition(" ")[2], "GET", uri, accounts)

    first = check("op", "first")
    assert first.outcome is Outcome.OK and first.account is accounts.get("op")
    assert check("op", "first") is first  # made once
    accounts.update("op", password="second")
    assert check("op", "first").outcome is Outcome.INVALID
    assert check("op", "second").outcome is Outcome.OK
    accounts.remove("op")
    assert check("op", "second").outcome is Outcome.INVALID
    accounts.add("op", "third", frozenset({"viewer"}))
    again = check("op", "third")
    assert again.outcome is Outcome.OK and again.account is accounts.get("op") and again is not first
    assert again.account.role < first.account.role  # type: ignore[union-attr]
