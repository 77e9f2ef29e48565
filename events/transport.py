"""One webhook POST: to a checked address, no redirects, a hard deadline, the first 1 KB of the answer.

The connection goes to an address ``netguard`` has just checked (the TLS
name and ``Host`` stay the URL's host), so a resolution made after the check
cannot send the request elsewhere. The whole attempt (connect, send, the
answer's head and its first kilobyte) ends by the deadline whatever the
receiver does: a watchdog shuts the socket down at the deadline, so a
receiver that never answers or trickles 10 MB holds a worker no longer.

The status line decides the outcome (as most webhook senders do): a 2xx head
within the deadline is delivered even when the body that follows is cut off at
the deadline; the answer then says so (``error``), for the attempt's record.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from events.netguard import UnresolvedHost, UnsafeUrl, url_addresses

BODY_KEPT = 1024


@dataclass
class Answer:
    """What one attempt got: a status (None if none came), headers, the first 1 KB, an error, the latency.

    ``refused`` is set when the URL itself may not be called (not a passing DNS failure): sending again cannot help.
    """

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str = ""
    latency_ms: int = 0
    refused: bool = False


def _connected(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to the checked address, without Nagle's delay (as ``http.client`` connects)."""
    sock = socket.create_connection((address, port), timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = _connected(self.address, self.port, self.timeout)


class _PinnedTLSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = _connected(self.address, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST ``body`` to ``url`` once; never raises for anything the network or the receiver does."""
    clock = time.monotonic()
    answer = Answer()
    try:
        addresses = url_addresses(url)
    except UnsafeUrl as exc:
        answer.error = f"refused: {exc.message}"
        answer.refused = not isinstance(exc, UnresolvedHost)
        return answer
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kind = _PinnedTLSConnection if parts.scheme == "https" else _PinnedConnection
    port = parts.port or (443 if parts.scheme == "https" else 80)
    connection = kind(parts.hostname, port, address=addresses[0], timeout=timeout)
    watchdog = threading.Timer(timeout, _cut, args=(connection,))
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        answer.status = response.status
        answer.headers = {name.lower(): value for name, value in response.getheaders()}
        declared = response.length  # the Content-Length (None if chunked); read() counts it down
        try:
            answer.body = response.read(BODY_KEPT)
        except (OSError, http.client.HTTPException) as exc:
            answer.error = f"answer cut off: {type(exc).__name__}"
        else:
            if declared is not None and len(answer.body) < min(BODY_KEPT, declared):
                answer.error = f"answer cut off at the deadline after {len(answer.body)} of {declared} bytes"
    except (OSError, http.client.HTTPException, ValueError) as exc:
        timed_out = time.monotonic() - clock >= timeout
        answer.error = f"timed out after {timeout:g} s" if timed_out else f"{type(exc).__name__}: {exc}"
    finally:
        watchdog.cancel()
        connection.close()
        answer.latency_ms = round((time.monotonic() - clock) * 1000)
    return answer


def _cut(connection: http.client.HTTPConnection) -> None:
    """The deadline passed: end the blocked read or write at once."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
