"""The Bluetooth beacon's events. No recording, document or API names them (param-trees.md: "Bluetooth
beacon: no VAPIX parameter or API found"): both are [GUESS]es in the AXIS style, named after the
W401 manual's condition "Bluetooth beacon signal received" and action "Broadcast signal", with its
fields "System ID" and "Message type"."""

from __future__ import annotations

from ...events import Item, TopicDecl

# a body worn camera's beacon arrives: a pulse, selected by the body worn system's ID
BEACON_RECEIVED_DECL = TopicDecl(
    "tns1:Device/tnsaxis:Bluetooth/BeaconReceived", False,
    source=(Item("SystemID", "xsd:string", nice="System ID"),),
    data=(Item("MessageType", "xsd:int", nice="Message type"),),
    nice="Bluetooth beacon signal received",
)  # fmt: skip

# the kit broadcasts a beacon (while a rule's "Broadcast signal" action runs): a property
BROADCAST_DECL = TopicDecl(
    "tns1:Device/tnsaxis:Bluetooth/Broadcast", True,
    data=(Item("active", key=True, nice="Active"), Item("SystemID", "xsd:string", nice="System ID"),
          Item("MessageType", "xsd:int", nice="Message type")),
    nice="Bluetooth beacon signal broadcast",
)  # fmt: skip
