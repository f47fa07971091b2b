"""The simulator's own control surface (not VAPIX): journal, faults, physical events, reset."""
