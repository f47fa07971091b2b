"""The W401's I/O port model (axisim/subsystems/io_ports.py), step 1 of issue 7: no parameters or HTTP yet."""

from __future__ import annotations

import pytest

from axisim.subsystems.io.ports import CLOSED, OPEN, Port, PortError, parse_action, schedule


@pytest.mark.parametrize(
    ("normal", "circuit", "active"),
    [(OPEN, OPEN, False), (OPEN, CLOSED, True), (CLOSED, CLOSED, False), (CLOSED, OPEN, True)],
)
def test_active_when_the_circuit_differs_from_the_normal_state(normal: str, circuit: str, active: bool) -> None:
    # W401 manual, "I/O ports": "activated when the current state is different from the normal state"
    assert Port(0, normal=normal, loop=circuit).active is active


def test_window_sensor_example_input_normally_closed_is_active_when_the_window_opens() -> None:
    # manual, "Activate a lamp when the window is opened": Port 1 input, normal state closed circuit
    window = Port(0, direction="input", normal=CLOSED, loop=CLOSED, name="Window sensor")
    assert not window.active
    window.loop = OPEN  # the window opens: the contact breaks the loop
    assert window.active


def test_a_tampered_supervised_input_is_not_reported_active() -> None:
    port = Port(0, normal=OPEN, loop=CLOSED, supervised=True)
    assert port.active
    port.tamper = "cut"
    assert not port.active  # the tampering is what is reported, not the contact


@pytest.mark.parametrize(
    ("text", "port", "steps"),
    [
        ("2:/", 2, [(True, 0)]),
        ("2:\\", 2, [(False, 0)]),
        ("2:/300\\", 2, [(True, 0), (False, 300)]),  # vapix-wire.md §5.3: action=2%3A%2F300%5C
        ("9:/10000\\", 9, [(True, 0), (False, 10000)]),  # the manual's lock: active for 10 s
        ("/", 1, [(True, 0)]),  # port left out: output 1
        ("1:/100\\200/", 1, [(True, 0), (False, 100), (True, 200)]),
    ],
)
def test_port_cgi_actions_parse(text: str, port: int, steps: list[tuple[bool, int]]) -> None:
    assert parse_action(text) == (port, steps)


@pytest.mark.parametrize("text", ["", "2:", "2:x", "2:300", "2:/300", "2:/300 400\\", "a:/", "2:/70000\\", ":/"])
def test_malformed_actions_are_refused(text: str) -> None:
    with pytest.raises(PortError):
        parse_action(text)


def test_a_pulse_runs_on_the_clock_and_ends_at_the_normal_state() -> None:
    lock = Port(8, direction="output", normal=OPEN, drive=OPEN, name="Lock")
    schedule(lock, parse_action("9:/10000\\")[1], now=100.0)
    assert lock.active and lock.circuit == CLOSED
    assert lock.next_step() == pytest.approx(110.0)
    assert not lock.settle(109.9) and lock.active
    assert lock.settle(110.0) and not lock.active
    assert lock.next_step() is None


def test_a_new_sequence_replaces_the_pending_one_and_to_normal_drops_it() -> None:
    lamp = Port(1, direction="output", normal=OPEN)
    schedule(lamp, [(True, 0), (False, 5000)], now=0.0)
    schedule(lamp, [(True, 0)], now=1.0)
    lamp.settle(60.0)
    assert lamp.active  # the first sequence's deactivation was dropped
    lamp.to_normal()
    assert not lamp.active and lamp.steps == []


def test_only_outputs_take_sequences() -> None:
    with pytest.raises(PortError):
        schedule(Port(0, direction="input"), [(True, 0)], now=0.0)
