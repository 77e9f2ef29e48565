"""A real HTTP receiver on loopback, started by a test: it records what it gets and answers as told."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """How to answer one request: a status, headers, a body, and optionally a pause before, or a trickle."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0  # seconds before answering at all
    trickle: float = 0.0  # seconds between chunks of the body (the head goes out at once)
    chunk: int = 65536  # bytes per chunk of the body
    hang_up: bool = False  # close the connection after the answer without saying so (no Connection: close)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    peer: tuple = ()  # the sender's address and port: one per connection


class Receiver:
    """Answers each request with the next queued ``Reply`` (then ``default``); ``received`` lists the requests."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.default = Reply()
        self.received: list[Received] = []
        self.answered = threading.Event()  # set once a reply was sent whole
        self.in_flight = 0  # requests being answered now
        self.most_in_flight = 0  # the most ever answered at once
        self.lock = threading.Lock()
        self.url = ""

    def reply(self, *replies: Reply) -> None:
        with self.lock:
            self.replies.extend(replies)

    def next_reply(self) -> Reply:
        with self.lock:
            return self.replies.pop(0) if self.replies else self.default


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, self.client_address)
                )
                receiver.in_flight += 1
                receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
            reply = receiver.next_reply()
            time.sleep(reply.delay)
            with receiver.lock:  # counted until the answer starts: the sender may go on once it has it
                receiver.in_flight -= 1
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                for start in range(0, len(reply.body), reply.chunk):
                    self.wfile.write(reply.body[start : start + reply.chunk])
                    self.wfile.flush()
                    time.sleep(reply.trickle)
                receiver.answered.set()
                self.close_connection = self.close_connection or reply.hang_up
            except OSError:
                pass  # the sender hung up

        do_GET = do_POST  # the benchmarks' load clients GET (tests/benchmarks/test_api.py)

        def log_message(self, *args) -> None:
            pass

    return Handler


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A receiver on an ephemeral loopback port, stopped after the block."""
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
