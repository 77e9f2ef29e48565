"""``manage.py bench_webhooks``: delivery throughput to a loopback receiver, product against a bare loop.

Writes ``--deliveries`` events for one endpoint on a receiver process, then
(a) starts a real Celery worker with its default settings, wakes it with one
sweep and times until every delivery is ``delivered`` (claim, sign, POST,
attempt row, state, per delivery); (b) signs and POSTs the same payloads in
one process, one after the other. Needs PostgreSQL and a broker (``REDIS_URL``).
Removes its endpoint, events and deliveries after. With ``--json`` the last
line of output is one JSON object.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from benchmarks import webhooks
from benchmarks.expiry import postgres_url
from events.models import WebhookEndpoint


class Command(BaseCommand):
    help = "Webhook deliveries per second: a real worker with default settings against a bare sign-and-post loop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--deliveries", type=int, default=2000)
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
            raise CommandError("bench_webhooks needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL).")
        count = options["deliveries"]
        say = self.stdout.write if options["verbosity"] >= 1 else (lambda *_: None)
        webhooks.events_clear()
        with webhooks.receiver() as url, tempfile.TemporaryDirectory() as tmp:
            endpoint = webhooks.deliveries_write(count, url=url)
            try:
                say(f"{count:,} deliveries to {url}")
                with webhooks.worker(postgres_url(), Path(tmp) / "worker.log"):
                    say("(a) the product: a Celery worker with its default settings ...")
                    product_s = webhooks.product_deliver_all(count)
                say("(b) a bare loop signing and posting the same payloads in one process ...")
                bare_s, bare_ok = webhooks.bare_loop(url=url, secret=endpoint.secret)
            finally:
                webhooks.events_clear()
                WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
        result = {
            "deliveries": count,
            "cpus": os.cpu_count(),
            "product_s": round(product_s, 3),
            "bare_s": round(bare_s, 3),
            "bare_ok": bare_ok,
            "product_per_s": round(count / product_s, 1),
            "bare_per_s": round(count / bare_s, 1),
            "ratio": round(bare_s / product_s, 3),
        }
        say(
            f"\nwebhook delivery throughput, {count:,} deliveries, {result['cpus']} CPUs:\n"
            f"  (a) product    {result['product_per_s']:8.1f}/s  ({product_s:.2f}s)\n"
            f"  (b) bare loop  {result['bare_per_s']:8.1f}/s  ({bare_s:.2f}s)\n"
            f"  product / bare = {result['ratio']}"
        )
        if options["json"]:
            self.stdout.write(json.dumps(result))
