"""Parameter-group plugins (PoE, storage, SIP, I/O, ...): one module each, attached per model manifest."""
