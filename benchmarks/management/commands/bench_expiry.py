"""``manage.py bench_expiry``: the expiry job against its SQL floor and a per-row loop, on one data set.

Replaces the configured database's mentors and certifications (``--flush``
is required when it holds some); each contender then runs on a fresh copy of
it (``benchmarks.copies``: two work databases named after it, dropped at the
end), so the seeded data set is left as seeded. PostgreSQL only, with a user
that may create databases. Exits non-zero when the job
and the floor leave different results. With ``--json`` the last line of output
is one JSON object.
"""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from benchmarks import copies, webhooks
from benchmarks import expiry as bench
from benchmarks.run_job import peak_rss_mb
from certifications.demo.layout import SeedError, SeedSpec
from certifications.demo.loader import seed
from certifications.management.commands.seed_demo import parse_now
from certifications.models import Certification, CertificationType
from events.models import WebhookEndpoint

DEFAULT_NOW = "2026-03-26T01:00:00Z"
# The type whose grace --grace-days sets (the other keeps the seeded policy).
GRACED_TYPE = "peer_mentor_basic"


def _median_by(rounds: list[dict], key) -> dict:
    """The round whose ``key`` is the median (the lower middle one for an even count)."""
    ordered = sorted(rounds, key=key)
    return ordered[(len(ordered) - 1) // 2]


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
        parser.add_argument(
            "--repeat",
            type=int,
            default=1,
            help="Rounds of the three contenders, interleaved; each figure is the median round's (default 1).",
        )
        parser.add_argument(
            "--grace-days",
            type=int,
            default=0,
            help="Grace of peer_mentor_basic during the rounds (default 0, the seeded policy; restored after).",
        )
        parser.add_argument(
            "--endpoints",
            type=int,
            default=0,
            help="Active webhook endpoints during the rounds (default 0; the job and the floor write the same "
            "events either way, and one delivery per event and endpoint; removed after).",
        )
        parser.add_argument("--flush", action="store_true", help="Replace existing mentors and certifications.")
        parser.add_argument("--json", action="store_true", help="End with one JSON line of the figures.")

    def handle(self, *args, **options) -> None:
        if options["repeat"] < 1:
            raise CommandError("--repeat must be at least 1.")
        if connection.vendor != "postgresql":
            raise CommandError("bench_expiry measures against PostgreSQL: set DATABASE_URL to a PostgreSQL database.")
        certs = options["certs"]
        due = options["due"] if options["due"] is not None else max(1, certs // 100)
        now = parse_now(options["now"])
        verbose = options["verbosity"] >= 1
        say = self.stdout.write if verbose else (lambda *_: None)
        spec = SeedSpec(certs=certs, due=due, mentors=options["mentors"], seed=options["seed"], now=now)

        started = time.perf_counter()
        try:
            data = seed(spec, show_progress=verbose, replace=options["flush"])
        except SeedError as exc:
            raise CommandError(str(exc)) from None
        seed_s = time.perf_counter() - started
        seed_rss_mb = peak_rss_mb()  # this process's peak so far: the streamed seeding's
        say(f"seeded {certs:,} certifications ({due:,} due) in {seed_s:.1f}s, peak RSS {seed_rss_mb:.1f} MB")

        repeat = options["repeat"]
        rounds: list[dict] = []
        differences = dict.fromkeys(bench.RESULT_QUERIES, 0)
        checkpointed = True
        grace_days = options["grace_days"]
        graced = CertificationType.objects.filter(code=GRACED_TYPE)
        seeded_grace = graced.values_list("grace_days", flat=True).first() or 0
        graced.update(grace_days=grace_days)
        if grace_days:
            due = Certification.objects.due(now=now).count()  # fewer than seeded: some are still in grace
            say(f"with grace_days={grace_days} on {GRACED_TYPE}: {due:,} due")
        endpoints = webhooks.endpoints_create(options["endpoints"])
        seeded = copies.seeded_name()
        job_db, floor_db = copies.work_names()
        results = {f"{bench.RESULT}{name}": query for name, query in bench.RESULT_QUERIES.items()}
        copy_s: list[float] = []
        try:
            bench.vacuum()  # once: every copy starts vacuumed and analyzed
            for number in range(1, repeat + 1):
                label = f" [round {number} of {repeat}]" if repeat > 1 else ""
                checkpointed &= self._fresh(job_db, seeded, copy_s)
                say(f"(a) the expiry job (services.expiry_job_run, own process) ...{label}")
                with copies.on_database(job_db):
                    job = bench.run_in_subprocess(now=now, contender="job")
                    bench.keep_result()

                checkpointed &= self._fresh(floor_db, seeded, copy_s)
                say(f"(b) the SQL floor (own process) ...{label}")
                with copies.on_database(floor_db):
                    floor = bench.run_in_subprocess(now=now, contender="floor")
                    copies.results_transfer(results, source=job_db)
                    for table, count in bench.compare_results().items():
                        differences[table] += count

                checkpointed &= self._fresh(job_db, seeded, copy_s)
                with copies.on_database(job_db):
                    sample = bench.due_sample(now=now, size=min(options["naive_sample"], due))
                    say(f"(c) the per-row loop on {len(sample):,} of {due:,} due records ...{label}")
                    naive_sample_s = bench.naive_run(now=now, ids=sample) if sample else 0.0
                rounds.append({"job": job, "floor": floor, "naive_sample_s": naive_sample_s})
        finally:
            copies.drop((job_db, floor_db))
            graced.update(grace_days=seeded_grace)
            WebhookEndpoint.objects.filter(pk__in=[endpoint.pk for endpoint in endpoints]).delete()
        total_s = time.perf_counter() - started

        # The median round of each contender (the figures of the only round when --repeat is 1).
        job = _median_by(rounds, lambda r: r["job"]["seconds"])["job"]
        floor = _median_by(rounds, lambda r: r["floor"]["seconds"])["floor"]
        naive_sample_s = _median_by(rounds, lambda r: r["naive_sample_s"])["naive_sample_s"]
        naive_s = naive_sample_s * due / len(sample) if sample else 0.0
        identical = not any(differences.values())
        expected = {
            "expired_found": data.expected_due,
            "marked_expired": data.expected_marked_expired,
            "auto_paused": data.expected_auto_paused,
            "mentors_scanned": data.expected_mentors_scanned,
        }
        if grace_days:
            # The data set's counters assume no grace; the floor, which states the rule with the
            # grace in its own SQL, is the check instead (identical rows), and the due count above.
            expected = {"expired_found": due, "mentors_scanned": data.expected_mentors_scanned}
        # Every round's job must match the data set, not only the median one.
        mismatch = next((r["job"] for r in rounds if any(r["job"][k] != v for k, v in expected.items())), None)
        counters_match = mismatch is None
        failures = max(r["job"]["failures"] for r in rounds)
        memory = max((r["job"] for r in rounds), key=lambda each: each["peak_rss_mb"])
        result = {
            "vendor": connection.vendor,
            "grace_days": grace_days,
            "endpoints": len(endpoints),
            "certs": certs,
            "due": due,
            "mentors": data.mentor_count,
            "seed": spec.seed,
            "now": options["now"],
            "batch_size": settings.EXPIRY_JOB_BATCH_SIZE,
            "seed_s": round(seed_s, 2),
            "seed_peak_rss_mb": round(seed_rss_mb, 1),
            "copy_s_median": round(sorted(copy_s)[(len(copy_s) - 1) // 2], 2),  # one fresh copy of the seeded database
            "copies": len(copy_s),
            "total_s": round(total_s, 1),  # the whole command, seeding included
            "job_s": round(job["seconds"], 4),
            "floor_s": round(floor["seconds"], 4),
            "naive_s": round(naive_s, 2),
            "naive_sample": len(sample),
            "naive_sample_s": round(naive_sample_s, 3),
            "naive_scaled": len(sample) < due,
            "ratio_vs_floor": round(job["seconds"] / floor["seconds"], 3) if floor["seconds"] else None,
            "speedup_vs_naive": round(naive_s / job["seconds"], 1) if job["seconds"] else None,
            "peak_rss_mb": memory["peak_rss_mb"],  # the highest of the rounds
            "rss_baseline_mb": memory["rss_baseline_mb"],
            "job_rss_growth_mb": round(memory["peak_rss_mb"] - memory["rss_baseline_mb"], 1),
            "floor_peak_rss_mb": max(r["floor"]["peak_rss_mb"] for r in rounds),
            "floor_log_ids_redrawn": sum(r["floor"]["log_ids_redrawn"] for r in rounds),
            "expired_found": job["expired_found"],
            "auto_paused": job["auto_paused"],
            "marked_expired": job["marked_expired"],
            "mentors_scanned": job["mentors_scanned"],
            "failures": failures,
            "identical": identical,
            "differences": differences,
            "counters_as_seeded": counters_match,
            "repeat": repeat,
            "checkpointed": checkpointed,
            "rounds": [
                {
                    "job_s": round(r["job"]["seconds"], 4),
                    "floor_s": round(r["floor"]["seconds"], 4),
                    "naive_s": round(r["naive_sample_s"] * due / len(sample), 2) if sample else 0.0,
                }
                for r in rounds
            ],
        }
        if verbose:
            self._summary(result)
        if options["json"]:
            self.stdout.write(json.dumps(result))
        if not identical:
            raise CommandError(f"The job and the SQL floor left different rows: {differences}")
        if not counters_match:
            got = {key: mismatch[key] for key in expected}
            raise CommandError(f"The job's counters {got} differ from the data set's {expected}")
        if failures:
            raise CommandError(f"The job reported {failures} failures")

    @staticmethod
    def _fresh(name: str, seeded: str, timings: list[float]) -> bool:
        """Make ``name`` a fresh copy of the seeded database, then checkpoint; False if the user may not."""
        started = time.perf_counter()
        copies.fresh_copy(name, source=seeded)
        timings.append(time.perf_counter() - started)
        with copies.on_database(name):
            return bench.checkpoint()

    def _summary(self, r: dict) -> None:
        scaled = (
            f"measured on {r['naive_sample']:,} records in {r['naive_sample_s']:.2f}s, scaled to {r['due']:,}"
            if r["naive_scaled"]
            else "measured on the whole due set"
        )
        lines = [
            "",
            f"expiry job benchmark: {r['certs']:,} certifications, {r['mentors']:,} mentors, {r['due']:,} due "
            f"(seed {r['seed']}, now {r['now']}, batch {r['batch_size']}, {r['vendor']}, "
            f"{r['endpoints']} webhook endpoints)",
            f"  counters          expired_found={r['expired_found']:,} auto_paused={r['auto_paused']:,} "
            f"marked_expired={r['marked_expired']:,} mentors_scanned={r['mentors_scanned']:,}",
            f"  (a) job           {r['job_s']:8.3f}s   peak RSS {r['peak_rss_mb']:.1f} MB "
            f"(process after setup {r['rss_baseline_mb']:.1f} MB, +{r['job_rss_growth_mb']:.1f} MB during the job)",
            f"  (b) SQL floor     {r['floor_s']:8.3f}s   job / floor = {r['ratio_vs_floor']} "
            f"(log ids redrawn after a collision: {r['floor_log_ids_redrawn']})",
            f"  (c) per-row loop  {r['naive_s']:8.2f}s   ({scaled}); job is {r['speedup_vs_naive']}x faster",
            f"  (a) and (b) leave identical rows: {'yes' if r['identical'] else 'NO ' + str(r['differences'])}",
            f"  seeding {r['seed_s']:.1f}s; a fresh copy of the seeded database {r['copy_s_median']:.1f}s "
            f"(median of {r['copies']}); the whole command {r['total_s']:.1f}s",
        ]
        if r["repeat"] > 1:
            lines.insert(2, f"  medians of {r['repeat']} rounds; each round's job / floor / loop:")
            for number, each in enumerate(r["rounds"], start=1):
                lines.insert(
                    2 + number,
                    f"    round {number}: {each['job_s']:.3f}s / {each['floor_s']:.3f}s / {each['naive_s']:.2f}s "
                    f"(job / floor = {each['job_s'] / each['floor_s']:.3f}, "
                    f"speed-up {each['naive_s'] / each['job_s']:.1f}x)",
                )
        if not r["checkpointed"]:
            lines.append("  (no CHECKPOINT before each contender: the database user may not run one)")
        self.stdout.write("\n".join(lines))
