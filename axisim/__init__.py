"""axisim: simulated Axis network devices that answer VAPIX as the real ones do."""

__version__ = "0.1.0"
