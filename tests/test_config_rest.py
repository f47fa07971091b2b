"""The Device Configuration APIs framework through the wire (developer.axis.com, VAPIX "Device
Configuration APIs": REST API — URL structure, operation mapping, error handling; Discovery), with an
API of the test's own registered for the test's duration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from axisim.accounts import AccountSpec
from axisim.device import DEFAULT_ACCOUNT
from cgi_handlers.config_rest import (
    Action,
    Call,
    Collection,
    ConfigApi,
    DcaError,
    Entity,
    Property,
    register,
    unregister,
    want_bool,
    want_int,
)
from param_tree import Role
from tests.conftest import DeviceClientFactory

VIEWER = ("watch", "wpass")
ACCOUNTS = [DEFAULT_ACCOUNT, AccountSpec(*VIEWER, "viewer")]


class Store:
    """The test API's state: a switch, a number and a map of named notes."""

    def __init__(self) -> None:
        self.on = False
        self.level = 3
        self.notes: dict[str, str] = {"a": "first"}

    def set_level(self, call: Call, value: Any) -> None:
        self.level = want_int(value, "level", 1, 10)

    def bump(self, call: Call, data: Any) -> Any:
        if data != {}:
            raise DcaError(100, "Bump takes no data.")
        self.level += 1
        return {"level": self.level}

    def add(self, call: Call, data: Any) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise DcaError.validation("name must be a string")
        self.notes[data["name"]] = str(data.get("text", ""))

    def note(self, call: Call, key: str) -> Entity | None:
        if key not in self.notes:
            return None
        return Entity({"text": Property(get=lambda c: self.notes[key])}, set=lambda c, data: self.edit(key, data))

    def edit(self, key: str, data: Any) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise DcaError.validation("text must be a string")
        self.notes[key] = data["text"]


@pytest.fixture
def store() -> Iterator[Store]:
    state = Store()
    api = ConfigApi(
        "axisim-test",
        1,
        "1.0.0-beta.2",
        state="beta",
        root=Entity(
            {
                "on": Property(get=lambda c: state.on, set=lambda c, v: setattr(state, "on", want_bool(v, "on"))),
                "hidden": Property(set=lambda c, v: None),
                "service": Entity(
                    {
                        "level": Property(
                            get=lambda c: state.level, set=state.set_level, role=Role.VIEWER, set_role=Role.OPERATOR
                        ),
                        "bump": Action(state.bump),
                    },
                    role=Role.VIEWER,
                ),
                "notes": Collection(
                    items=lambda c: [{"name": k, "text": v} for k, v in sorted(state.notes.items())],
                    item=state.note,
                    add=state.add,
                    remove=lambda c, k: state.notes.pop(k) and None,
                ),
            },
            role=Role.VIEWER,
        ),
    )
    register(api)
    yield state
    unregister(api)


BASE = "/config/rest/axisim-test/v1beta"


async def _json(response: Any) -> Any:
    return await response.json(content_type=None)


async def test_get_set_and_trigger(device_client: DeviceClientFactory, store: Store) -> None:
    client = await device_client("S3008")
    # "Get API data": the root entity, recursively, without actions or write-only properties
    reply = await client.get(BASE)
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/json"
    assert await _json(reply) == {
        "status": "success",
        "data": {"on": False, "service": {"level": 3}, "notes": [{"name": "a", "text": "first"}]},
    }
    # "Set a property": PATCH {"data": value} -> {"status": "success"}
    reply = await client.request("PATCH", f"{BASE}/on", json={"data": True})
    assert (reply.status, await _json(reply)) == (200, {"status": "success"})
    assert store.on is True
    reply = await client.get(f"{BASE}/on")
    assert await _json(reply) == {"status": "success", "data": True}
    # "Trigger an action": POST {"data": {}}
    reply = await client.post(f"{BASE}/service/bump", json={"data": {}})
    assert (reply.status, await _json(reply)) == (200, {"status": "success", "data": {"level": 4}})
    # an API's own error code
    reply = await client.post(f"{BASE}/service/bump", json={"data": {"x": 1}})
    assert reply.status == 400
    assert await _json(reply) == {"status": "error", "error": {"code": 100, "message": "Bump takes no data."}}
    assert store.level == 4


async def test_collections(device_client: DeviceClientFactory, store: Store) -> None:
    client = await device_client("S3008")
    reply = await client.post(f"{BASE}/notes", json={"data": {"name": "b", "text": "second"}})
    assert (reply.status, await _json(reply)) == (201, {"status": "success"})  # "Add an entity instance"
    reply = await client.get(f"{BASE}/notes/b/text")
    assert await _json(reply) == {"status": "success", "data": "second"}
    reply = await client.post(f"{BASE}/notes", json={"data": {"name": "x/y z", "text": "odd"}})
    assert reply.status == 201
    reply = await client.get(f"{BASE}/notes/x%2Fy%20z/text")  # a key with any character, percent-encoded
    assert await _json(reply) == {"status": "success", "data": "odd"}
    store.notes.pop("x/y z")
    reply = await client.request("PATCH", f"{BASE}/notes/b", json={"data": {"text": "edited"}})  # "Set an entity"
    assert (reply.status, store.notes["b"]) == (200, "edited")
    reply = await client.request("DELETE", f"{BASE}/notes/b")  # "Delete an entity instance"
    assert (reply.status, await _json(reply)) == (200, {"status": "success"})
    assert store.notes == {"a": "first"}
    reply = await client.get(f"{BASE}/notes/b")
    assert reply.status == 404 and (await _json(reply))["error"]["code"] == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/config/rest/nope/v1", None, 404, 1),  # an API the device does not have
        ("GET", "/config/rest/axisim-test/v1", None, 404, 1),  # a beta API is only at v1beta
        ("GET", f"{BASE}/missing", None, 404, 1),
        ("GET", f"{BASE}/on/deeper", None, 404, 1),
        ("GET", f"{BASE}//on", None, 404, 1),
        ("GET", "/config/rest/", None, 404, 1),
        ("GET", "/config/rest/axisim-test", None, 404, 1),
        ("GET", f"{BASE}/hidden", None, 405, 2),  # write-only
        ("PUT", f"{BASE}/on", b'{"data": true}', 405, 2),  # AXIS OS 11.10 and earlier only
        ("POST", f"{BASE}/on", b'{"data": true}', 405, 2),
        ("DELETE", f"{BASE}/on", None, 405, 2),
        ("PATCH", f"{BASE}/on", b"{not json", 400, 3),
        ("PATCH", f"{BASE}/on", b'{"value": true}', 400, 3),
        ("PATCH", f"{BASE}/on", b"[1e999]", 400, 3),
        ("PATCH", f"{BASE}/on", b'{"data": "true"}', 400, 5),
        ("PATCH", f"{BASE}/on", b'{"data": 1}', 400, 5),
        ("PATCH", f"{BASE}/service/level", b'{"data": 11}', 400, 5),
        ("PATCH", f"{BASE}/service/level", b'{"data": 2.0}', 400, 5),
        ("PATCH", f"{BASE}/on", b'{"data": "' + b"x" * 300_000 + b'"}', 413, 4),
    ],
)
async def test_errors_leave_state_untouched(
    device_client: DeviceClientFactory, store: Store, method: str, path: str, body: bytes | None, status: int, code: int
) -> None:
    # "Error handling": an HTTP error status and {"status": "error", "error": {code, message}}
    client = await device_client("S3008")
    reply = await client.request(method, path, data=body, headers={"Content-Type": "application/json"})
    document = await _json(reply)
    assert reply.status == status, document
    assert document["status"] == "error" and document["error"]["code"] == code
    assert isinstance(document["error"]["message"], str)
    assert (store.on, store.level, store.notes) == (False, 3, {"a": "first"})


async def test_roles(device_client: DeviceClientFactory, store: Store) -> None:
    client = await device_client("S3008", accounts=ACCOUNTS)
    anonymous = await client.get(BASE, auth=None)
    assert anonymous.status == 401  # authenticated, as every route above anonymous
    # a viewer reads what a viewer may, and is challenged for what needs an administrator
    reply = await client.get(f"{BASE}/service/level", auth=VIEWER)
    assert await _json(reply) == {"status": "success", "data": 3}
    reply = await client.request("PATCH", f"{BASE}/on", json={"data": True}, auth=VIEWER)
    assert reply.status == 401
    reply = await client.request("PATCH", f"{BASE}/service/level", json={"data": 5}, auth=VIEWER)
    assert reply.status == 401  # readable by a viewer, changed by an operator
    reply = await client.get(BASE, auth=VIEWER)  # the entity shows only what the viewer may read
    assert (await _json(reply))["data"] == {"service": {"level": 3}}
    assert store.on is False


async def test_discovery(device_client: DeviceClientFactory, store: Store) -> None:
    # "Discovery": /config/discover, /apis, /apis/<id>, /apis/<id>/v<major>
    client = await device_client("S3008")
    root = await _json(await client.get("/config/discover"))
    assert root["framework_version"] == "1.0.0"
    entry = root["apis"]["axisim-test"]["v1"]
    assert entry["rest_api"] == BASE and entry["state"] == "beta" and entry["version"] == "1.0.0-beta.2"
    assert entry["model"] == "/config/discover/apis/axisim-test/v1/model.json"
    assert (await _json(await client.get("/config/discover/apis")))["axisim-test"] == {"v1": entry}
    assert await _json(await client.get("/config/discover/apis/axisim-test")) == {"axisim-test": {"v1": entry}}
    assert await _json(await client.get("/config/discover/apis/axisim-test/v1")) == entry
    for missing in ("/config/discover/apis/nope", "/config/discover/apis/axisim-test/v9", "/config/discover/x"):
        reply = await client.get(missing)
        assert reply.status == 404 and (await _json(reply))["error"]["code"] == 1
