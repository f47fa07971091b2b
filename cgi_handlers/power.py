"""`POST /axis-cgi/power-settings.cgi` (`id=power-settings`, vapix-wire.md §6.1): the W401's power.

JSON, HTTP 200 for errors too. Served: getSupportedVersions, getCapabilities,
get/setDelayedPowerDownMode (`delayTime` in seconds; the manual's 1-60 minutes are
60-3600 s, error 301 outside them) and getPowerStatus, for operators. The API's other
methods answer their documented 300 "... is not supported." (the W401 has none of
those features). The API documents no code for invalid JSON or an unknown method:
axisim answers 4002, its "type of a provided JSON parameter was incorrect".
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from axisim.subsystems.power import PowerError, PowerStatus, PowerSubsystem
from param_tree import Role

from .ajr import REQUIRED, Params, ajr_call
from .api_errors import ApiError
from .request_context import require, subsystem_of
from .routing import Api, Route

ERRORS = {
    100: "The requested API version is not supported.",
    4001: "Mandatory input parameters was not found in the input.",
    4002: "The type of a provided JSON parameter was incorrect.",
    8000: "Internal error",
}
CAPABILITIES = (
    "powerSavingSupport", "delayedPowerDownSupport", "powerProfileSupport", "powerConsumerSupport",
    "powerStatusSupport", "powerConfigurationSupport", "dynamicPowerModeSupport", "powerHistorySupport",
    "disablePowerWarningOverlaySupport", "ioPortPowerSupport",
)  # fmt: skip
SUPPORTED = {"delayedPowerDownSupport", "powerStatusSupport"}
# methods of features the W401 lacks -> (least role, the documented 300 message)
UNSUPPORTED = {
    "getPowerSavingMode": (Role.OPERATOR, "Power saving mode is not supported."),
    "setPowerSavingMode": (Role.OPERATOR, "Power saving mode is not supported."),
    "getPowerConsumers": (Role.ADMIN, "Power consumers is not supported."),
    "setPowerConsumer": (Role.ADMIN, "Power consumers is not supported."),
    "getPowerProfiles": (Role.ADMIN, "Power profiles is not supported."),
    "setPowerProfile": (Role.ADMIN, "Power profiles is not supported."),
    "getPowerConfigurations": (Role.ADMIN, "Power configurations are not supported."),
    "getActivePowerConfiguration": (Role.ADMIN, "Power configurations are not supported."),
    "setActivePowerConfiguration": (Role.ADMIN, "Power configurations are not supported."),
    "getDynamicPowerMode": (Role.ADMIN, "Dynamic power mode is not supported."),
    "setDynamicPowerMode": (Role.ADMIN, "Dynamic power mode is not supported."),
    "getPowerHistory": (Role.ADMIN, "Power history is not supported."),
    "getPowerWarningOverlay": (Role.ADMIN, "Disable Power Warning Overlay is not supported."),
    "setPowerWarningOverlay": (Role.ADMIN, "Disable Power Warning Overlay is not supported."),
    "getIoPortPower": (Role.ADMIN, "IO Port Power is not supported."),
    "setIoPortPower": (Role.ADMIN, "IO Port Power is not supported."),
}



def _power_status(status: PowerStatus) -> dict[str, Any]:
    """getPowerStatus's `data` (research §2): -1 where a value is not available."""
    draw = status.draw_w
    return {
        "usage": {"currentPower": draw, "averagePower": draw, "maxPower": draw},
        "psePoeClass": -1 if status.pse_class is None else status.pse_class,
        "lldpPoeClass": -1 if status.lldp_class is None else status.lldp_class,
        "powerRequested": -1 if status.requested_w is None else status.requested_w,
    }

def power_of(request: web.Request) -> PowerSubsystem:
    power = subsystem_of(request, PowerSubsystem)
    return power


def _version(request: web.Request) -> str:
    return POWER_SETTINGS.version


def _dispatch(request: web.Request, document: dict[str, Any]) -> Any:
    power = power_of(request)
    method = document.get("method")
    if method == "getSupportedVersions":
        return {"apiVersions": [_version(request)]}
    version = document.get("apiVersion")
    if version is None:
        raise ApiError(4001)
    if not isinstance(version, str) or version.split(".")[0] != "1":
        raise ApiError(100)
    params = Params.of(document, missing=4001, invalid=4002)
    if method == "getCapabilities":
        return {name: name in SUPPORTED for name in CAPABILITIES}
    if method == "getDelayedPowerDownMode":
        return {"delayedPowerDownMode": power.enabled, "delayTime": power.delay_s}
    if method == "setDelayedPowerDownMode":
        enabled, delay = params.flag("delayedPowerDownMode", REQUIRED), params.integer("delayTime")
        try:
            power.set_delayed_power_down(enabled, delay)
        except PowerError as exc:
            raise ApiError(301, "Unable to set delayed power down mode.") from exc
        return {}
    if method == "getPowerStatus":
        return _power_status(power.power_status())
    if isinstance(method, str) and method in UNSUPPORTED:
        role, message = UNSUPPORTED[method]
        require(request, role)
        raise ApiError(300, message)
    raise ApiError(4002)


async def power_settings_cgi(request: web.Request) -> web.Response:
    return await ajr_call(request, _version(request), ERRORS, 4002, lambda document: _dispatch(request, document))


ROUTES = [Route("/axis-cgi/power-settings.cgi", power_settings_cgi, Role.OPERATOR, ("POST",), PowerSubsystem.name)]
POWER_SETTINGS = Api("power-settings", "1.8", "Power Settings")
APIS = [POWER_SETTINGS]
