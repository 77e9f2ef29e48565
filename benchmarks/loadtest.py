"""Mixed-traffic load test of a running CertHub (standard library only).

    python benchmarks/loadtest.py --base-url http://127.0.0.1:8000 --token KEY \\
        [--requests 2000] [--clients 16] [--seed 1]

``--clients`` threads share ``--requests`` requests, drawn from a mix of reads
(list with filters, detail, logs, runs), creates (some with an
``Idempotency-Key`` and a retry of the same request), renewals, deletes,
synchronous expiry job triggers, mentor traffic (the mentor list, one
mentor, one mentor's eligibility, eligibility batches mixing known and unknown
ids, staff pauses and resumes) and the wave-2 reads and checks (the event
feed, the notifications, a record's and a mentor's history, the export, a dry
run import, the webhook deliveries). The token needs every API permission
(``view_mentor``, ``change_mentor``, ``view_event``, ``view_notification``,
``view_webhookdelivery`` included); the user's throttle rate must allow the
traffic (``API_THROTTLE_USER``).

Two mentor pools keep the expected outcome exact:

- *lapsed* creates (issued 2020, so already expired) each name a new mentor;
  they are due, and each must be paused exactly once by the job triggers. Some
  are renewed, which resumes their mentor (and they never lapse again).
- *current* creates (valid for years) are the ones renewed and deleted.

After the traffic the script runs the job once more and checks through the API:
every 201 is readable (404 only if the load deleted it), no certification has
more than one ``auto_pause`` log row, no expired certification is left
unpaused, and every paused one has exactly one row. During the load, every
eligibility batch must answer each id it asked about, in order, every
mentor named by a 201 must be readable, and a dry run import must apply
nothing. Afterwards the event feed, read to its end, must hold each event
once and one ``certification.created`` for exactly the records the load created. It prints the figures and
exits non-zero when a check fails or any answer was a 5xx.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

CERTS = "/api/v1/certifications"
MENTORS = "/api/v1/mentors"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MIX = (("read", 35), ("create", 25), ("renew", 13), ("delete", 7), ("job", 5), ("mentor", 10), ("wave2", 5))


@dataclass
class Result:
    """What the load saw and what the checks found."""

    requests: int = 0
    statuses: collections.Counter = field(default_factory=collections.Counter)
    by_kind: collections.Counter = field(default_factory=collections.Counter)
    server_errors: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    created: int = 0
    replays: int = 0
    unreadable: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    paused_certifications: int = 0
    duplicate_pauses: int = 0
    left_unpaused: int = 0
    events: int = 0  # events read from the feed after the load
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return not (
            self.server_errors
            or self.transport_errors
            or self.unreadable
            or self.problems
            or self.duplicate_pauses
            or self.left_unpaused
        )

    def lines(self) -> list[str]:
        lat = sorted(self.latencies) or [0.0]
        pct = {p: lat[min(len(lat) - 1, int(len(lat) * p / 100))] * 1000 for p in (50, 95, 99)}
        return [
            f"requests={self.requests} in {self.elapsed:.1f}s ({self.requests / max(self.elapsed, 1e-9):.0f}/s), "
            f"5xx={len(self.server_errors)}, transport errors={len(self.transport_errors)}",
            "statuses: " + ", ".join(f"{code}={n}" for code, n in sorted(self.statuses.items())),
            "kinds: " + ", ".join(f"{kind}={n}" for kind, n in sorted(self.by_kind.items())),
            f"latency ms: p50={pct[50]:.0f} p95={pct[95]:.0f} p99={pct[99]:.0f}",
            f"created={self.created} (idempotent replays={self.replays}), unreadable after the load="
            f"{len(self.unreadable)}",
            f"auto-paused certifications={self.paused_certifications}, duplicate auto-pause rows="
            f"{self.duplicate_pauses}, expired left unpaused={self.left_unpaused}",
            f"events read from the feed after the load={self.events}",
        ]


class Client:
    """A tiny JSON-over-HTTP client with a token."""

    def __init__(self, base_url: str, token: str, timeout: float = 60) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def call(self, method: str, path: str, body: object = None, headers: dict | None = None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)  # loopback target
        request.add_header("Authorization", f"Token {self.token}")
        request.add_header("Accept", "application/json")
        if data is not None and "Content-Type" not in (headers or {}):
            request.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            payload = json.loads(raw.decode() or "null")
        except ValueError:
            payload = raw.decode("utf-8", "replace")
        return status, payload


def _mentor_id(rng: random.Random) -> str:
    return "mntr_" + "".join(rng.choice(CROCKFORD.replace("U", "")) for _ in range(12))


class Load:
    """Shared state of one load run."""

    def __init__(self, client: Client, total: int, seed: int) -> None:
        self.client = client
        self.total = total
        self.seed = seed
        self.lock = threading.Lock()
        self.issued = 0
        self.result = Result()
        self.current: list[str] = []  # live certifications from the current pool
        self.lapsed: list[str] = []  # lapsed-pool certifications
        self.created: set[str] = set()
        self.deleted: set[str] = set()
        self.current_mentors = [_mentor_id(random.Random(seed * 1000 + n)) for n in range(40)]
        self.known_mentors: list[str] = []  # mentors named by a 201 (they exist from then on)

    def _take(self) -> bool:
        with self.lock:
            if self.issued >= self.total:
                return False
            self.issued += 1
            return True

    def _record(self, kind: str, status: int, payload: object, seconds: float) -> None:
        with self.lock:
            self.result.requests += 1
            self.result.statuses[status] += 1
            self.result.by_kind[kind] += 1
            self.result.latencies.append(seconds)
            if status >= 500:
                self.result.server_errors.append(f"{kind} {status} {str(payload)[:200]}")

    def _call(self, kind: str, method: str, path: str, body=None, headers=None):
        started = time.monotonic()
        try:
            status, payload = self.client.call(method, path, body, headers)
        except OSError as exc:
            with self.lock:
                self.result.requests += 1
                self.result.transport_errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            return None, None
        self._record(kind, status, payload, time.monotonic() - started)
        return status, payload

    def _created(self, payload: dict, pool: list[str]) -> None:
        with self.lock:
            self.created.add(payload["certification_id"])
            pool.append(payload["certification_id"])
            self.result.created += 1
            self.known_mentors.append(payload["mentor_id"])

    def _pick(self, rng: random.Random, pool: list[str]) -> str | None:
        with self.lock:
            return rng.choice(pool) if pool else None

    # --- request kinds ---

    def read(self, rng: random.Random) -> None:
        choice = rng.random()
        if choice < 0.4:
            query = rng.choice(
                ["", "?status=expired", "?auto_pause_applied=true", "?ordering=-expires_at&limit=50", "?page=2"]
            )
            self._call("read", "GET", CERTS + query)
        elif choice < 0.75:
            cert_id = self._pick(rng, self.current + self.lapsed)
            status, _ = self._call("read", "GET", f"{CERTS}/{cert_id or 'cert_00000000'}")
            if status == 404 and cert_id and cert_id not in self.deleted:
                with self.lock:
                    if cert_id not in self.deleted:
                        self.result.unreadable.append(f"{cert_id} 404 during the load")
        elif choice < 0.9:
            self._call("read", "GET", f"{CERTS}/expiry-job/logs?limit=20")
        else:
            self._call("read", "GET", f"{CERTS}/expiry-job/runs")

    def create(self, rng: random.Random) -> None:
        lapsed = rng.random() < 0.5
        if lapsed:
            body = {"mentor_id": _mentor_id(rng), "certification_type": "peer_mentor_basic", "issued_at": "2020-01-01"}
        else:
            day = rng.randrange(1, 28)
            body = {
                "mentor_id": rng.choice(self.current_mentors),
                "certification_type": rng.choice(["peer_mentor_basic", "peer_mentor_advanced"]),
                "issued_at": f"2025-{rng.randrange(1, 13):02d}-{day:02d}T{rng.randrange(24):02d}:"
                f"{rng.randrange(60):02d}:00Z",
            }
        headers = {}
        keyed = rng.random() < 0.3
        if keyed:
            headers["Idempotency-Key"] = f"load-{self.seed}-{rng.getrandbits(64):x}"
        status, payload = self._call("create", "POST", CERTS, body, headers)
        if status == 201:
            self._created(payload, self.lapsed if lapsed else self.current)
            if keyed:  # a client retry after a lost answer: must replay, not create
                again, replay = self._call("create", "POST", CERTS, body, headers)
                with self.lock:
                    if again == 201 and replay == payload:
                        self.result.replays += 1
                    else:
                        self.result.problems.append(f"idempotent retry answered {again}: {str(replay)[:120]}")

    def renew(self, rng: random.Random) -> None:
        pool = self.lapsed if rng.random() < 0.3 else self.current
        cert_id = self._pick(rng, pool)
        if cert_id is None:
            return self.read(rng)
        until = f"{rng.randrange(2030, 2040)}-{rng.randrange(1, 13):02d}-01T00:00:00Z"
        self._call("renew", "PUT", f"{CERTS}/{cert_id}", {"expires_at": until, "status": "valid"})

    def delete(self, rng: random.Random) -> None:
        cert_id = self._pick(rng, self.current)
        if cert_id is None:
            return self.read(rng)
        with self.lock:
            if cert_id in self.current:
                self.current.remove(cert_id)
            self.deleted.add(cert_id)
        self._call("delete", "DELETE", f"{CERTS}/{cert_id}")

    def mentor(self, rng: random.Random) -> None:
        choice = rng.random()
        known = self._pick(rng, self.known_mentors)
        if choice < 0.25 or known is None:
            self._call("mentor", "GET", MENTORS + rng.choice(["", "?status=paused", "?paused_by=auto", "?page=2"]))
        elif choice < 0.45:
            status, _ = self._call("mentor", "GET", f"{MENTORS}/{known}")
            if status != 200:
                with self.lock:
                    self.result.unreadable.append(f"mentor {known}: {status} during the load")
        elif choice < 0.6:
            self._call("mentor", "GET", f"{MENTORS}/{known}/eligibility")
        elif choice < 0.85:
            with self.lock:
                asked = rng.sample(self.known_mentors, min(len(self.known_mentors), rng.randrange(1, 30)))
            asked = list(dict.fromkeys(asked + [_mentor_id(rng) for _ in range(rng.randrange(0, 3))]))
            status, payload = self._call("mentor", "POST", f"{MENTORS}/eligibility", {"mentor_ids": asked})
            answered = [row["mentor_id"] for row in payload["data"]] if status == 200 else None
            if answered != asked:
                with self.lock:
                    self.result.problems.append(f"eligibility batch of {len(asked)} answered {status}: {answered}")
        else:
            # Staff pause a mentor of the current pool and resume them; the current pool never lapses.
            mentor_id = rng.choice(self.current_mentors)
            status, _ = self._call("mentor", "POST", f"{MENTORS}/{mentor_id}/pause", {"reason": "load test"})
            if status == 200:
                self._call("mentor", "POST", f"{MENTORS}/{mentor_id}/resume", {})

    def wave2(self, rng: random.Random) -> None:
        choice = rng.random()
        if choice < 0.2:
            self._call("wave2", "GET", f"/api/v1/events?limit={rng.randrange(1, 100)}")
        elif choice < 0.35:
            self._call(
                "wave2", "GET", "/api/v1/notifications" + rng.choice(["", "?kind=mentor_paused", "?state=queued"])
            )
        elif choice < 0.5:
            cert_id = self._pick(rng, self.current + self.lapsed)
            if cert_id is not None:
                self._call("wave2", "GET", f"{CERTS}/{cert_id}/history")
        elif choice < 0.6:
            mentor_id = self._pick(rng, self.known_mentors)
            if mentor_id is not None:
                self._call("wave2", "GET", f"{MENTORS}/{mentor_id}/history")
        elif choice < 0.7:
            self._call("wave2", "GET", f"{CERTS}/export.csv?status=expired&auto_pause_applied=true")
        elif choice < 0.85:
            rows = "mentor_id,certification_type,issued_at\n" + "".join(
                f"{_mentor_id(rng)},peer_mentor_basic,2026-0{rng.randrange(1, 10)}-01T00:00:00Z\n" for _ in range(3)
            )
            status, payload = self._call(
                "wave2",
                "POST",
                f"{CERTS}/import?dry_run=true",
                rows.encode(),
                {"Content-Type": "text/csv"},
            )
            if status != 200 or payload.get("applied") or payload.get("dry_run") is not True:
                with self.lock:
                    self.result.problems.append(f"dry run import answered {status}: {str(payload)[:160]}")
        else:
            self._call("wave2", "GET", "/api/v1/webhooks/deliveries")

    def job(self, rng: random.Random) -> None:
        body = {"dry_run": True} if rng.random() < 0.2 else {}
        self._call("job", "POST", f"{CERTS}/expiry-job/run", body)

    def worker(self, index: int) -> None:
        rng = random.Random(self.seed * 100 + index)
        kinds = [kind for kind, _ in MIX]
        weights = [weight for _, weight in MIX]
        while self._take():
            getattr(self, rng.choices(kinds, weights)[0])(rng)

    # --- checks after the load ---

    def _all(self, path: str) -> list[dict]:
        rows, page = [], 1
        while True:
            sep = "&" if "?" in path else "?"
            status, payload = self.client.call("GET", f"{path}{sep}limit=100&page={page}")
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}: {payload}")
            rows.extend(payload["data"])
            if page * 100 >= payload["pagination"]["total"]:
                return rows
            page += 1

    def verify(self) -> None:
        result = self.result
        for cert_id in sorted(self.created):
            status, _ = self.client.call("GET", f"{CERTS}/{cert_id}")
            expected = 404 if cert_id in self.deleted else 200
            if status != expected:
                result.unreadable.append(f"{cert_id}: {status}, expected {expected}")
        for _ in range(30):  # one last run applies whatever the load's runs left
            status, payload = self.client.call("POST", f"{CERTS}/expiry-job/run", {})
            if status == 200:
                break
            time.sleep(1)
        else:
            raise RuntimeError(f"the final job run never started: {payload}")
        pauses = collections.Counter(
            row["certification_id"] for row in self._all(f"{CERTS}/expiry-job/logs?event=auto_pause")
        )
        result.duplicate_pauses = sum(count - 1 for count in pauses.values() if count > 1)
        paused = self._all(f"{CERTS}?auto_pause_applied=true")
        result.paused_certifications = len(paused)
        result.left_unpaused = len(self._all(f"{CERTS}?status=expired&auto_pause_applied=false"))
        for row in paused:
            if pauses[row["certification_id"]] != 1:
                result.problems.append(f"{row['certification_id']} paused with {pauses[row['certification_id']]} rows")
        self._verify_feed()

    def _verify_feed(self) -> None:
        """The event feed read to its end: each event once, one ``certification.created`` per record created."""
        seen: collections.Counter = collections.Counter()
        created: collections.Counter = collections.Counter()
        cursor = ""
        while True:
            status, payload = self.client.call("GET", f"/api/v1/events?limit=500{'&after=' + cursor if cursor else ''}")
            if status != 200:
                raise RuntimeError(f"GET /api/v1/events answered {status}: {payload}")
            for event in payload["data"]:
                seen[event["event_id"]] += 1
                if event["type"] == "certification.created":
                    created[event["data"]["certification_id"]] += 1
            cursor = payload["next_cursor"] or cursor
            if not payload["has_more"]:
                break
        self.result.events = sum(seen.values())
        self.result.problems += [f"event {event_id} read {n} times" for event_id, n in seen.items() if n > 1]
        missing = self.created - set(created)
        extra = set(created) - self.created
        if missing or extra or any(n > 1 for n in created.values()):
            self.result.problems.append(
                f"certification.created events: {len(missing)} missing, {len(extra)} unexpected, "
                f"{sum(n > 1 for n in created.values())} repeated"
            )


def run_load(base_url: str, token: str, *, requests: int = 2000, clients: int = 16, seed: int = 1) -> Result:
    """Send the mixed traffic from ``clients`` threads, then run the checks; return the figures."""
    load = Load(Client(base_url, token), requests, seed)
    started = time.monotonic()
    threads = [threading.Thread(target=load.worker, args=(n,), name=f"client-{n}") for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.result.elapsed = time.monotonic() - started
    load.verify()
    return load.result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    result = run_load(args.base_url, args.token, requests=args.requests, clients=args.clients, seed=args.seed)
    for line in result.lines():
        print(line)
    for problem in (result.server_errors + result.transport_errors + result.unreadable + result.problems)[:20]:
        print("PROBLEM:", problem)
    print("OK" if result.ok else "FAILED")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
