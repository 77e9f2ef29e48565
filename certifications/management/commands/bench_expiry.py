"""``manage.py bench_expiry``: the expiry job against its SQL floor and a per-row loop, on one data set.

Replaces the configured database's mentors and certifications (``--flush``
is required when it holds some). PostgreSQL only. Exits non-zero when the job
and the floor leave different results. With ``--json`` the last line of output
is one JSON object.
"""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from certifications.bench import expiry as bench
from certifications.bench import seed as seeding
from certifications.management.commands.seed_demo import parse_now

DEFAULT_NOW = "2026-03-26T01:00:00Z"


class Command(BaseCommand):
    help = (
        "Seed --certs records with --due due, then time (a) the real expiry job in its own process, "
        "(b) set-based SQL making the same changes and (c) a per-row save() loop, each on the same data; "
        "check that (a) and (b) leave identical rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--certs", type=int, default=100_000)
        parser.add_argument("--due", type=int, default=None, help="Due records (default 1%% of --certs).")
        parser.add_argument("--mentors", type=int, default=None)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--now", default=DEFAULT_NOW, help=f"The job's now (default {DEFAULT_NOW}).")
        parser.add_argument(
            "--naive-sample", type=int, default=1000, help="Due records the per-row loop processes (then scaled)."
        )
        parser.add_argument("--flush", action="store_true", help="Replace existing mentors and certifications.")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_expiry measures against PostgreSQL: set DATABASE_URL to a PostgreSQL database.")
        certs = options["certs"]
        due = options["due"] if options["due"] is not None else max(1, certs // 100)
        now = parse_now(options["now"])
        verbose = options["verbosity"] >= 1
        say = self.stdout.write if verbose else (lambda *_: None)
        spec = seeding.SeedSpec(certs=certs, due=due, mentors=options["mentors"], seed=options["seed"], now=now)

        started = time.perf_counter()
        try:
            data = seeding.seed(spec, show_progress=verbose, replace=options["flush"])
        except seeding.SeedError as exc:
            raise CommandError(str(exc)) from None
        seed_s = time.perf_counter() - started
        say(f"seeded {certs:,} certifications ({due:,} due) in {seed_s:.1f}s")

        try:
            bench.snapshot()
            bench.restore()
            say("(a) the expiry job (services.expiry_job_run, own process) ...")
            job = bench.run_in_subprocess(now=now, contender="job")
            bench.keep_result()

            bench.restore()
            say("(b) the SQL floor (own process) ...")
            floor = bench.run_in_subprocess(now=now, contender="floor")
            differences = bench.compare_results()

            bench.restore()
            sample = bench.due_sample(now=now, size=min(options["naive_sample"], due))
            say(f"(c) the per-row loop on {len(sample):,} of {due:,} due records ...")
            naive_sample_s = bench.naive_run(now=now, ids=sample) if sample else 0.0
            bench.restore()
        finally:
            bench.drop_work_tables()

        naive_s = naive_sample_s * due / len(sample) if sample else 0.0
        identical = not any(differences.values())
        expected = {
            "expired_found": data.expected_due,
            "marked_expired": data.expected_marked_expired,
            "auto_paused": data.expected_auto_paused,
            "mentors_scanned": data.expected_mentors_scanned,
        }
        counters_match = all(job[key] == value for key, value in expected.items())
        result = {
            "vendor": connection.vendor,
            "certs": certs,
            "due": due,
            "mentors": len(data.mentors),
            "seed": spec.seed,
            "now": options["now"],
            "batch_size": settings.EXPIRY_JOB_BATCH_SIZE,
            "seed_s": round(seed_s, 2),
            "job_s": round(job["seconds"], 4),
            "floor_s": round(floor["seconds"], 4),
            "naive_s": round(naive_s, 2),
            "naive_sample": len(sample),
            "naive_sample_s": round(naive_sample_s, 3),
            "naive_scaled": len(sample) < due,
            "ratio_vs_floor": round(job["seconds"] / floor["seconds"], 3) if floor["seconds"] else None,
            "speedup_vs_naive": round(naive_s / job["seconds"], 1) if job["seconds"] else None,
            "peak_rss_mb": job["peak_rss_mb"],
            "rss_baseline_mb": job["rss_baseline_mb"],
            "job_rss_growth_mb": round(job["peak_rss_mb"] - job["rss_baseline_mb"], 1),
            "floor_peak_rss_mb": floor["peak_rss_mb"],
            "expired_found": job["expired_found"],
            "auto_paused": job["auto_paused"],
            "marked_expired": job["marked_expired"],
            "mentors_scanned": job["mentors_scanned"],
            "failures": job["failures"],
            "identical": identical,
            "differences": differences,
            "counters_as_seeded": counters_match,
        }
        if verbose:
            self._summary(result)
        if options["json"]:
            self.stdout.write(json.dumps(result))
        if not identical:
            raise CommandError(f"The job and the SQL floor left different rows: {differences}")
        if not counters_match:
            got = {key: job[key] for key in expected}
            raise CommandError(f"The job's counters {got} differ from the data set's {expected}")
        if job["failures"]:
            raise CommandError(f"The job reported {job['failures']} failures")

    def _summary(self, r: dict) -> None:
        scaled = (
            f"measured on {r['naive_sample']:,} records in {r['naive_sample_s']:.2f}s, scaled to {r['due']:,}"
            if r["naive_scaled"]
            else "measured on the whole due set"
        )
        lines = [
            "",
            f"expiry job benchmark: {r['certs']:,} certifications, {r['mentors']:,} mentors, {r['due']:,} due "
            f"(seed {r['seed']}, now {r['now']}, batch {r['batch_size']}, {r['vendor']})",
            f"  counters          expired_found={r['expired_found']:,} auto_paused={r['auto_paused']:,} "
            f"marked_expired={r['marked_expired']:,} mentors_scanned={r['mentors_scanned']:,}",
            f"  (a) job           {r['job_s']:8.3f}s   peak RSS {r['peak_rss_mb']:.1f} MB "
            f"(process after setup {r['rss_baseline_mb']:.1f} MB, +{r['job_rss_growth_mb']:.1f} MB during the job)",
            f"  (b) SQL floor     {r['floor_s']:8.3f}s   job / floor = {r['ratio_vs_floor']}",
            f"  (c) per-row loop  {r['naive_s']:8.2f}s   ({scaled}); job is {r['speedup_vs_naive']}x faster",
            f"  (a) and (b) leave identical rows: {'yes' if r['identical'] else 'NO ' + str(r['differences'])}",
        ]
        self.stdout.write("\n".join(lines))
