"""One webhook POST: to a checked address, no redirects, a hard deadline, the first 1 KB of the answer.

The connection goes to an address ``netguard`` has just checked (the TLS
name and ``Host`` stay the URL's host), so a resolution made after the check
cannot send the request elsewhere. The whole attempt (connect, send, the
answer's head and its first kilobyte) ends by the deadline whatever the
receiver does: a watchdog shuts the socket down at the deadline, so a
receiver that never answers or trickles 10 MB holds a worker no longer. One
watchdog thread per process keeps every attempt's deadline in a heap (no
thread per POST).

A ``Connections`` (one per lane of a message) keeps a connection open after a
complete answer, for the next POST to the same host, port and checked
address: every POST still resolves and checks the URL first, and a reused
connection is used only if the check gives its address again. An answer not
read to its end, an error or a cut closes it. A kept connection the receiver
closed in the meantime (no status line at all, the request not read) is
opened again once, inside the same deadline.

The status line decides the outcome (as most webhook senders do): a 2xx head
within the deadline is delivered even when the body that follows is cut off at
the deadline; the answer then says so (``error``), for the attempt's record.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import os
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


class Connections:
    """The open connections of one lane, by (scheme, host, port, checked address); ``close()`` when done."""

    def __init__(self) -> None:
        self.open: dict[tuple, http.client.HTTPConnection] = {}

    def take(self, key: tuple) -> http.client.HTTPConnection | None:
        return self.open.pop(key, None)

    def keep(self, key: tuple, connection: http.client.HTTPConnection) -> None:
        previous = self.open.pop(key, None)
        if previous is not None:
            previous.close()
        self.open[key] = connection

    def close(self) -> None:
        for connection in self.open.values():
            connection.close()
        self.open.clear()

    def __enter__(self) -> Connections:
        return self

    def __exit__(self, *_) -> None:
        self.close()


# A reused connection the receiver had already closed: the request was not read (no status line came back).
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


def post(
    url: str, *, body: bytes, headers: dict[str, str], timeout: float, connections: Connections | None = None
) -> Answer:
    """POST ``body`` to ``url`` once; never raises for anything the network or the receiver does.

    With ``connections``, a connection kept there for the same checked address is used, and the
    connection is kept there after a complete answer; without, it is closed after the answer.
    """
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
    key = (parts.scheme, parts.hostname, port, addresses[0])
    kept = connections.take(key) if connections is not None else None
    connection = kept or kind(parts.hostname, port, address=addresses[0], timeout=timeout)
    deadline = WATCHDOG.arm(clock + timeout, connection)
    reusable = False
    try:
        request_headers = {**headers, "Content-Length": str(len(body))}
        try:
            connection.request("POST", path, body=body, headers=request_headers)
            response = connection.getresponse()
        except _STALE:
            if kept is None or WATCHDOG.fired(deadline):
                raise
            connection.close()  # the kept connection was closed by the receiver: once more on a new one
            connection.timeout = max(clock + timeout - time.monotonic(), 0.001)
            connection.request("POST", path, body=body, headers=request_headers)
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
            reusable = response.isclosed() and not response.will_close and not answer.error
    except (OSError, http.client.HTTPException, ValueError) as exc:
        timed_out = time.monotonic() - clock >= timeout
        answer.error = f"timed out after {timeout:g} s" if timed_out else f"{type(exc).__name__}: {exc}"
    finally:
        cut = WATCHDOG.disarm(deadline)
        if connections is not None and reusable and not cut and connection.sock is not None:
            connections.keep(key, connection)
        else:
            connection.close()
        answer.latency_ms = round((time.monotonic() - clock) * 1000)
    return answer


class _Watchdog:
    """One thread per process that cuts every attempt still running at its deadline (a heap of deadlines)."""

    def __init__(self) -> None:
        self.counter = itertools.count()
        self._reset()
        # A process forked while a POST runs must not inherit the lock held: the child starts afresh.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self.lock = threading.Condition()
        self.heap: list[tuple[float, int, http.client.HTTPConnection]] = []
        self.armed: dict[int, bool] = {}  # attempt -> cut already
        self.pid = 0

    def arm(self, deadline: float, connection: http.client.HTTPConnection) -> int:
        """Watch ``connection`` until ``deadline`` (``time.monotonic()``); the handle for ``disarm``."""
        with self.lock:
            if self.pid != os.getpid():  # first use in this process (a forked worker inherits no thread)
                self.pid = os.getpid()
                threading.Thread(target=self._run, name="webhook-watchdog", daemon=True).start()
            handle = next(self.counter)
            self.armed[handle] = False
            heapq.heappush(self.heap, (deadline, handle, connection))
            if self.heap[0][1] == handle:
                self.lock.notify()
            return handle

    def fired(self, handle: int) -> bool:
        with self.lock:
            return self.armed.get(handle, True)

    def disarm(self, handle: int) -> bool:
        """Stop watching; whether the deadline had already cut the connection."""
        with self.lock:
            cut = self.armed.pop(handle, True)
            if len(self.heap) > 2 * len(self.armed) + 64:  # drop the disarmed entries (and their connections)
                self.heap = [entry for entry in self.heap if entry[1] in self.armed]
                heapq.heapify(self.heap)
            return cut

    def _run(self) -> None:
        lock = self.lock
        with lock:
            while self.lock is lock:
                while self.heap and self.heap[0][1] not in self.armed:
                    heapq.heappop(self.heap)  # disarmed
                if not self.heap:
                    self.lock.wait()
                    continue
                deadline, handle, connection = self.heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self.lock.wait(wait)
                    continue
                heapq.heappop(self.heap)
                self.armed[handle] = True
                _cut(connection)


WATCHDOG = _Watchdog()


def _cut(connection: http.client.HTTPConnection) -> None:
    """The deadline passed: end the blocked read or write at once."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
