"""A minimal webhook receiver for the benchmarks: ``python -m benchmarks.receiver`` prints its port, answers 204.

It runs in a process of its own, so that neither contender shares its
interpreter with the server it posts to. It notes every POST by path and
``webhook-id`` (one endpoint a path: one delivery a key) with the time it
arrived; ``GET /stats`` answers, per path, the POSTs received, the distinct
keys among them and the first and last arrival (``time.time()``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Tally:
    """POSTs per (path, webhook-id), and each path's first and last arrival."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[tuple[str, str], int] = {}
        self.paths: dict[str, dict] = {}

    def note(self, path: str, key: str) -> None:
        now = time.time()
        with self.lock:
            self.seen[path, key] = self.seen.get((path, key), 0) + 1
            figures = self.paths.setdefault(path, {"received": 0, "distinct": 0, "first": now, "last": now})
            figures["received"] += 1
            figures["distinct"] += self.seen[path, key] == 1
            figures["last"] = now

    def stats(self) -> dict[str, dict]:
        with self.lock:
            return {path: dict(figures) for path, figures in self.paths.items()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.tally.note(self.path, self.headers.get("webhook-id", ""))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        body = json.dumps(self.server.tally.stats()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the sender opens up to 25 connections at once

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tally = Tally()


def main(argv: list[str] | None = None) -> int:
    """Serve on a free loopback port (printed first), at the CPU niceness ``--nice`` (its threads inherit it)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--nice", type=int, default=0)
    os.nice(parser.parse_args(argv).nice)
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
