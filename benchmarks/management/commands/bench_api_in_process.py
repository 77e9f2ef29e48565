"""``manage.py bench_api_in_process``: what a DRF request costs beside its bare twin, in this process.

``bench_api``'s four scenarios (the same paths, mentors and records sampled from
the data set in place) sent through Django's ``WSGIHandler`` called in a loop,
with no server, socket or client around it, each DRF request beside its bare
view's. Three measures per scenario and side: Python function calls per request
(``cProfile``'s count: exact, whatever the machine's load), CPU time per
request (``time.process_time``; ``--rounds`` rounds of ``--requests`` requests
per side, DRF and bare alternating, the median round), and the garbage
collector's collections and time per request over those rounds, with the
start-up heap frozen as a server process has it (``certhub.heap``). The
throttles stay on, at ``bench_api``'s per-second rates unless the environment
sets others.

Run it with the benchmark's settings, which route the bare views::

    DJANGO_SETTINGS_MODULE=benchmarks.settings manage.py bench_api_in_process --json
"""

from __future__ import annotations

import cProfile
import gc
import io
import json
import os
import pstats
import statistics
import sys
import time

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand, CommandError, CommandParser

from benchmarks.management.commands.bench_api import Command as BenchApi
from certhub.heap import startup_heap_frozen


def _environ(path: str) -> dict:
    """A GET of ``path`` from 127.0.0.1, as gunicorn hands it to Django."""
    path_info, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT": "*/*",
        "HTTP_CONNECTION": "keep-alive",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


class CollectorWatch:
    """The garbage collector's collections and their time while ``on`` (a ``gc.callbacks`` entry)."""

    def __init__(self) -> None:
        self.on, self.collections, self.seconds, self._started = False, 0, 0.0, 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if not self.on:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.collections += 1
            self.seconds += time.perf_counter() - self._started


class Command(BaseCommand):
    help = "Python calls and CPU time per request of the certification API against its bare views, in process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1, help="bench_api's sample of mentors and records.")
        parser.add_argument("--requests", type=int, default=120, help="Requests per side and round.")
        parser.add_argument("--rounds", type=int, default=5, help="Rounds of CPU time, DRF and bare alternating.")
        parser.add_argument("--profiled", type=int, default=200, help="Requests per side counted by cProfile.")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def handle(self, *args, **options) -> None:
        if settings.ROOT_URLCONF != "benchmarks.urls":
            raise CommandError("Run with DJANGO_SETTINGS_MODULE=benchmarks.settings (the bare views' routes).")
        handler = WSGIHandler()

        def call(path: str) -> None:
            status = []
            body = handler(_environ(path), lambda s, headers, exc_info=None: status.append(s))
            for _ in body:
                pass
            body.close()
            if not status[0].startswith("200"):
                raise CommandError(f"{path} answered {status[0]}")

        scenarios = BenchApi()._scenarios(options["seed"])
        watch = CollectorWatch()
        with startup_heap_frozen():  # as every server process has it (config/wsgi.py)
            gc.callbacks.append(watch)
            try:
                results = {name: self._measure(call, paths, watch, options) for name, paths in scenarios.items()}
            finally:
                gc.callbacks.remove(watch)
        for name, r in results.items():
            self.stdout.write(
                f"  {name:<20} calls {r['calls_drf']:>6} / {r['calls_bare']:>6} ({r['calls_ratio']:.3f}x)  "
                f"CPU {r['cpu_us_drf']:>6} / {r['cpu_us_bare']:>6} us ({r['cpu_ratio']:.3f}x)  "
                f"collections {r['collections_drf']:.3f} / {r['collections_bare']:.3f} a request, "
                f"{r['gc_us_drf']:.1f} / {r['gc_us_bare']:.1f} us"
            )
        if options["json"]:
            self.stdout.write(json.dumps({"load": os.getloadavg()[0], "scenarios": results}))

    @staticmethod
    def _measure(call, scenario: tuple[list[str], list[str]], watch: CollectorWatch, options: dict) -> dict:
        """One scenario's figures: calls (cProfile), then CPU and the collector's share, sides alternating."""
        sides = dict(zip(("drf", "bare"), scenario, strict=True))
        for paths in sides.values():  # warm: imports, plans, connections
            for i in range(50):
                call(paths[i % len(paths)])
        calls = {}
        for side, paths in sides.items():
            profile = cProfile.Profile()
            profile.enable()
            for i in range(options["profiled"]):
                call(paths[i % len(paths)])
            profile.disable()
            calls[side] = pstats.Stats(profile).total_calls / options["profiled"]
        rounds: dict[str, list[float]] = {"drf": [], "bare": []}
        collected = {"drf": [0, 0.0], "bare": [0, 0.0]}
        for r in range(options["rounds"]):
            for side, paths in sides.items():
                watch.collections, watch.seconds, watch.on = 0, 0.0, True
                started = time.process_time()
                for i in range(options["requests"]):
                    call(paths[(r * options["requests"] + i) % len(paths)])
                rounds[side].append((time.process_time() - started) / options["requests"] * 1e6)
                watch.on = False
                collected[side][0] += watch.collections
                collected[side][1] += watch.seconds
        cpu = {side: statistics.median(values) for side, values in rounds.items()}
        requests = options["rounds"] * options["requests"]
        return {
            "calls_drf": round(calls["drf"]),
            "calls_bare": round(calls["bare"]),
            "calls_ratio": round(calls["drf"] / calls["bare"], 3),
            "cpu_us_drf": round(cpu["drf"]),
            "cpu_us_bare": round(cpu["bare"]),
            "cpu_ratio": round(cpu["drf"] / cpu["bare"], 3),
            "collections_drf": round(collected["drf"][0] / requests, 3),
            "collections_bare": round(collected["bare"][0] / requests, 3),
            "gc_us_drf": round(collected["drf"][1] / requests * 1e6, 1),
            "gc_us_bare": round(collected["bare"][1] / requests * 1e6, 1),
        }
