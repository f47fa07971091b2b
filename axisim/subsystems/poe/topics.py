"""The PoE switch's event topic (events.md §1.5 "PoEFailure", §7): a fault per port, and the
budget exceeded as the aggregate port -1 (§7 proposes that use)."""

from __future__ import annotations

from ...events import Item, TopicDecl

POE_FAILURE = "tns1:Device/tnsaxis:HardwareFailure/PoEFailure"
ANY = -1
# reason codes: none documented [GUESS]; 0 no fault, 1 the budget cannot power the port's device
REASON_NONE, REASON_BUDGET = 0, 1
REASONS = {REASON_NONE: "", REASON_BUDGET: "Power budget exceeded"}


def poe_failure_decl(port_count: int) -> TopicDecl:
    values = ((str(ANY), "Any"), *((str(n), None) for n in range(1, port_count + 1)))
    source = (Item("port", "xsd:int", nice="Port Identifier", values=values),)
    data = (Item("reason", "xsd:int"), Item("reasonstr", "xsd:string"), Item("disruption", key=True))
    return TopicDecl(POE_FAILURE, True, source, data, nice="Power over ethernet failure")


def failure_data(failed: bool) -> dict[str, object]:
    reason = REASON_BUDGET if failed else REASON_NONE
    return {"reason": reason, "reasonstr": REASONS[reason], "disruption": failed}
