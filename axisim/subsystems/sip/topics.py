"""The SIP subsystem's event topics (events.md §1.5 "Audio, speaker, SIP", §7).

`Source` names the device side of a call. The call service's documentation shows the
placeholder `[DoorStation]`, and a rule recorded on a D4200-VE network speaker filters
`NetworkSpeaker`: axisim sends `NetworkSpeaker` (a guess for the C1410 Mk II, a speaker).
The documented CallState values are Idle, Calling and Active; a recorded rule also uses
Ringing, which axisim sends while an incoming call rings (a guess).
"""

from __future__ import annotations

from axisim.events import Item, TopicDecl

CALL_SOURCE = "NetworkSpeaker"
IDLE, CALLING, RINGING, ACTIVE = "Idle", "Calling", "Ringing", "Active"
REASONS = ("Initiated", "NoAnswer", "Busy", "Denied", "Failed", "AcceptedByRemote", "AcceptedByDevice", "Terminated")

_STATES = tuple((v, None) for v in (IDLE, CALLING, RINGING, ACTIVE))
_SOURCE = Item("Source", "xsd:string", values=((CALL_SOURCE, None),))

CALL_STATE = TopicDecl(
    "tnsaxis:Call/State",
    stateful=True,
    source=(_SOURCE,),
    data=(Item("CallState", "xsd:string", key=True, values=_STATES),),
    nice="State",
)
CALL_STATE_CHANGE = TopicDecl(
    "tnsaxis:Call/StateChange",
    stateful=False,
    source=(_SOURCE,),
    data=(
        Item("Reason", "xsd:string", values=tuple((r, None) for r in REASONS)),
        Item("CallId", "xsd:string"),
        Item("RemoteURI", "xsd:string"),
        Item("DeviceURI", "xsd:string"),
    ),
)


def call_dtmf(events: list[tuple[str, str]]) -> TopicDecl:
    """`tnsaxis:Call/DTMF`: the source's values are the DTMF events' ids, nice names their names."""
    return TopicDecl(
        "tnsaxis:Call/DTMF",
        stateful=False,
        source=(Item("DTMFEventId", "xsd:string", values=tuple((i, name or None) for i, name in events)),),
        data=(Item("CallId", "xsd:string"),),
    )


CALL_DTMF = call_dtmf([])  # the topic as published (values are declared by `call_dtmf`)
