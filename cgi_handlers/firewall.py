"""`/config/rest/firewall/v1` (VAPIX "Firewall configuration service", on the Device Configuration
APIs framework of `config_rest`): every model, administrators only [DOC: "Permissions: admin"].

    firewall.v1            GET: everything below
    ├── activated          GET, PATCH {"data": true|false}
    └── conf
        ├── setRules           POST {"data": {"rules": [...], "defaultPolicy": "ACCEPT"|"DROP", "fallbackTime": s}}
        ├── confirmRules       POST {"data": {}}
        ├── clearPendingRules  POST {"data": {}}
        └── rules          GET: activeRules, activeDefaultPolicy, pendingRules, pendingDefaultPolicy, testTimeLeft

The API's custom errors [DOC]: 100 "Invalid IP address", 101 "Invalid IP address range.", 103
"Invalid request." (two options of one layer, a filter rule without its filter, a test while the
firewall is off), 104 "Invalid port range."; HTTP 400 [GUESS]. A value that does not fit its data
type (port 0, an unknown protocol, a string for a boolean) is the framework's validation error.
GUESSes: version "1.0.0" in /config/discover; `fallbackTime` may be left out (0); the actions take
any object as their empty data.
"""

from __future__ import annotations

from typing import Any

from axisim.subsystems.firewall import FirewallError, FirewallSubsystem

from .config_rest import Action, Call, ConfigApi, DcaError, Entity, Property, register, want_bool, want_object

NAME = FirewallSubsystem.name


def _firewall(call: Call) -> FirewallSubsystem:
    subsystem = call.device.subsystems[NAME]  # the API is served only where the subsystem is
    assert isinstance(subsystem, FirewallSubsystem)
    return subsystem


def _refusal(error: FirewallError) -> DcaError:
    return DcaError.validation(error.message) if error.code is None else DcaError(error.code, error.message)


def _set_activated(call: Call, value: Any) -> None:
    _firewall(call).set_activated(want_bool(value, "activated"), call.actor)


def _set_rules(call: Call, data: Any) -> None:
    request = want_object(data, "data")
    unknown = set(request) - {"rules", "defaultPolicy", "fallbackTime"}
    if unknown:
        raise DcaError.validation(f"data has no field {sorted(unknown)[0]}")
    try:
        _firewall(call).set_rules(
            request.get("rules"), request.get("defaultPolicy"), request.get("fallbackTime", 0), call.actor
        )
    except FirewallError as error:
        raise _refusal(error) from None


def _confirm(call: Call, data: Any) -> None:
    want_object(data, "data")
    _firewall(call).confirm(call.actor)


def _clear(call: Call, data: Any) -> None:
    want_object(data, "data")
    _firewall(call).clear_pending(call.actor)


def _rule_property(member: str) -> Property:
    return Property(get=lambda call: _firewall(call).rules()[member])


API = register(
    ConfigApi(
        NAME,
        1,
        "1.0.0",
        subsystem=NAME,
        root=Entity(
            {
                "activated": Property(get=lambda call: _firewall(call).activated, set=_set_activated),
                "conf": Entity(
                    {
                        "clearPendingRules": Action(_clear),
                        "confirmRules": Action(_confirm),
                        "setRules": Action(_set_rules),
                        "rules": Entity(
                            {
                                member: _rule_property(member)
                                for member in (
                                    "activeDefaultPolicy",
                                    "activeRules",
                                    "pendingDefaultPolicy",
                                    "pendingRules",
                                    "testTimeLeft",
                                )
                            }
                        ),
                    }
                ),
            }
        ),
    )
)
