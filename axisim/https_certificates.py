"""What the device's HTTPS listener presents: the certificate its store chooses, from the next
handshake on, under its cryptographic policy.

The server's own certificate is supplied (`--cert`, kept as is) or self-signed, renewed by a
factory default (manuals: "all certificates are deleted") and kept in the state directory; it is
installed into the device's certificate store (axisim/certificates.py) as the built-in one. The
listener keeps one SSL context for the device's life (its "front"): the policy's ciphers are set on
it (and on the context it switches to), and its SNI callback, which OpenSSL calls for every
handshake (with or without a server name), switches the connection to the context of the
certificate the store has chosen at that moment.
A handshake under way, and connections already open, keep what they had.
"""

from __future__ import annotations

import logging
import ssl

from .device import Device
from .persistence import StateDir
from .tls import Certificate, CertificateError, apply_policy, self_signed, server_context, tls12_ciphers

LOG = logging.getLogger("axisim")


class Certificates:
    """One device's HTTPS certificates, from the listener's side."""

    def __init__(self, device: Device, supplied: Certificate | None, state: StateDir | None) -> None:
        self.device = device
        self.supplied = supplied
        self.state = state
        self._current = supplied or (state.certificate() if state else None)
        self._front: ssl.SSLContext | None = None  # built once, reused by every reboot
        self._default_ciphers = ""
        self._chosen: tuple[bytes, ssl.SSLContext] | None = None  # the chosen certificate's context
        if self._current is None:
            self.renew()
        else:
            self._install()
        device.certificates.on_tls_change.append(self._tls_changed)

    @property
    def current(self) -> Certificate:
        """The built-in certificate (supplied or self-signed)."""
        assert self._current is not None
        return self._current

    @property
    def context(self) -> ssl.SSLContext:
        """The listener's context (CertificateError when the built-in pair is unusable)."""
        if self._front is None:
            front = server_context(self.current)
            self._default_ciphers = tls12_ciphers(front)
            apply_policy(front, self.device.certificates.policy, self._default_ciphers)
            front.sni_callback = self._pick
            self._front = front
        return self._front

    def presented(self) -> Certificate:
        """What the next handshake presents."""
        chosen = self.device.certificates.https()
        return self.current if chosen is None else Certificate(chosen.cert_pem, chosen.key_pem)

    def _pick(self, connection: ssl.SSLObject, _server_name: str | None, _front: ssl.SSLContext) -> None:
        try:
            connection.context = self._context_for(self.presented())
        except (CertificateError, ssl.SSLError, ValueError) as exc:  # never a traceback in a handshake
            LOG.warning("%s: HTTPS certificate unusable, the built-in one is presented: %s", self.device.serial, exc)

    def _context_for(self, certificate: Certificate) -> ssl.SSLContext:
        if self._chosen is None or self._chosen[0] != certificate.cert_pem:
            context = server_context(certificate)
            apply_policy(context, self.device.certificates.policy, self._default_ciphers)  # OpenSSL reads both
            self._chosen = (certificate.cert_pem, context)
        return self._chosen[1]

    def _tls_changed(self) -> None:
        self._chosen = None
        if self._front is not None:
            apply_policy(self._front, self.device.certificates.policy, self._default_ciphers)

    def _install(self) -> None:
        self.device.certificates.install_builtin(self.current.cert_pem, self.current.key_pem)

    def renew(self) -> None:
        """After a factory default: a new self-signed certificate (a supplied one stays)."""
        if self.supplied is None:
            self._current = self_signed(self.device.hostname, self.device.identity.ip, self.device.clock.wall())
            if self.state is not None:
                self.state.save_certificate(self._current)
        self._install()
