"""The UPnP root description a device serves while `Network.UPnP.Enabled` is yes (events.md §6 SSDP).

Home Assistant's SSDP matcher reads `manufacturer` (AXIS) and then `presentationURL`, `serialNumber`
and `friendlyName` from it. The real device serves it from a separate UPnP port (51578 in the
recording); the simulator serves it on the device's HTTP port (one listener per device), which
the `LOCATION` of its SSDP messages names (axisim/discovery/ssdp.py).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from aiohttp import web

from axisim.device import Device
from param_tree import Role

from .apache_pages import apache_page
from .replies import text_reply
from .request_context import device_of
from .routing import Route

DESCRIPTION_PATH = "/rootdesc1.xml"
ENABLED = "Network.UPnP.Enabled"
FRIENDLY_NAME = "Network.UPnP.FriendlyName"


def udn(device: Device) -> str:
    return f"uuid:Upnp-BasicDevice-1_0-{device.serial}"


def description(device: Device, presentation_url: str) -> str:
    """rootdesc1.xml: device type Basic:1, the Axis BasicService (events.md §6)."""
    prod = device.param("Brand.ProdNbr", device.model.id)
    fields = {
        "deviceType": "urn:schemas-upnp-org:device:Basic:1",
        "friendlyName": device.param(FRIENDLY_NAME) or f"AXIS {prod} - {device.serial}",
        "manufacturer": "AXIS",
        "manufacturerURL": "http://www.axis.com/",
        "modelDescription": device.param("Brand.ProdFullName", f"AXIS {prod}"),
        "modelName": f"AXIS {prod}",
        "modelNumber": prod,
        "modelURL": "http://www.axis.com/",
        "serialNumber": device.serial,
        "UDN": udn(device),
        "presentationURL": presentation_url,
    }
    body = "".join(f"<{k}>{escape(v)}</{k}>\n" for k, v in fields.items())
    return (
        '<?xml version="1.0"?>\n<root xmlns="urn:schemas-upnp-org:device-1-0">\n'
        "<specVersion>\n<major>1</major>\n<minor>0</minor>\n</specVersion>\n"
        f"<device>\n{body}<serviceList>\n<service>\n"
        "<serviceType>urn:axis-com:service:BasicService:1</serviceType>\n"
        "<serviceId>urn:axis-com:serviceId:BasicServiceId</serviceId>\n"
        "<controlURL>/upnp/control/BasicServiceId</controlURL>\n"
        "<eventSubURL>/upnp/event/BasicServiceId</eventSubURL>\n"
        "<SCPDURL>/scpd_basic.xml</SCPDURL>\n"
        "</service>\n</serviceList>\n</device>\n</root>\n"
    )


async def rootdesc(request: web.Request) -> web.Response:
    device = device_of(request)
    if device.param(ENABLED, "no") != "yes":
        return apache_page(404)  # no UPnP daemon runs
    return text_reply(description(device, presentation_url(request)), content_type="text/xml")


def presentation_url(request: web.Request) -> str:
    """`http://<ip>:<port>/` with the address the client reached and the port always written, as the
    real device writes `http://<ip>:80/` (events.md §6): Home Assistant and the npm client take host and
    port from it (a `Host` header naming the device, or port 80 left out by URL rules, would lose them)."""
    sockname = request.transport.get_extra_info("sockname") if request.transport is not None else None
    host, port = (sockname[0], sockname[1]) if sockname else (request.url.host or "", request.url.port)
    host = host.removeprefix("::ffff:") if "." in host else host  # IPv4 reached on a dual-stack socket
    host = f"[{host}]" if ":" in host else host
    return f"{request.scheme}://{host}:{port}/"


ROUTES = [Route(DESCRIPTION_PATH, rootdesc, Role.ANONYMOUS, methods=("GET", "HEAD"))]
