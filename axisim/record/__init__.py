"""`axisim record`: capture a real device's read-only answers into a fixture folder that axisim serves.

A client on top of everything, like the CLI: it talks to the device with aiohttp's client only
(`client.py`) and imports nothing of the server side. `plan.py` says what is read (and guards that
nothing else is), `recording.py` reads the replies back, `anonymise.py` replaces the device's
identifiers, `quirks.py` notes where the firmware differs from axisim, `write.py` writes the folder
and `run.py` runs it all.
"""

from .run import Options, record

__all__ = ["Options", "record"]
