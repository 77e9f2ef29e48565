"""The newcomer's first minutes, as CI sees them.

Clones the committed tree into a temporary folder, lets ``bin/run`` install the
runtime requirements alone into a fresh virtualenv, starts it on a free port
(the embedded default, then with ``REDIS_URL``), and checks that every read of
the API tours (the README's and the longer ones in ``docs/``) answers 200, that a
dry run answers 200 and that an async run reaches ``succeeded``. Then it stops
``bin/run`` with SIGTERM and checks that no process it started is left behind.

Usage: python3 .ci/newcomer_smoke.py [--redis-url redis://127.0.0.1:6379/15]
Standard library only: it runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 900  # the first start installs the runtime requirements
RUN_TIMEOUT = 180
STOP_TIMEOUT = 60
# The pages whose ``sh``/``bash`` blocks are a tour a reader runs as printed.
TOUR_PAGES = ("README.md", "docs/api.md", "docs/operations.md")
ENV_DROP = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "VIRTUAL_ENV", "CERTHUB_ENV", "DJANGO_ENV", "DEBUG")


class SmokeFailure(AssertionError):
    """A check the newcomer would have tripped over."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(url: str, *, method: str = "GET", token: str | None = None, body: dict | None = None):
    """(status, parsed JSON or text) of one request; never raises for an HTTP status."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def tour_reads(readme: str) -> list[tuple[str, bool]]:
    """The GET URLs of a page's ``sh`` blocks (the curl lines with no method and no -w),
    each with whether it sends the token."""
    urls = []
    for block in re.findall(r"```(?:sh|bash)\n(.*?)```", readme, flags=re.S):
        for line in block.splitlines():
            line = line.strip()
            if not line.startswith("curl -s ") or " -X " in line or " -w " in line or "-d " in line:
                continue
            match = re.search(r'"([^"]+)"|(\$\S+)', line[len("curl -s ") :])
            if match:
                sends_key = re.search(r"Authorization: (Bearer|Token) \$TOKEN", line) is not None
                urls.append((match.group(1) or match.group(2), sends_key))
    return urls


def expand(url: str, *, origin: str, cert_id: str, run_id: str, mentor_id: str) -> str:
    api = f"{origin}/api/v1/certifications"
    # The README names the default address; the smoke's server listens on a free port.
    url = url.replace("http://127.0.0.1:8000", origin).replace("http://localhost:8000", origin)
    url = url.replace("$API", api).replace("$BASE", f"{api}/expiry-job").replace("$CERT", cert_id)
    url = url.replace("$MENTORS", f"{origin}/api/v1/mentors")
    url = re.sub(r"job_\d{2}[A-Z]{3}\d{4}_\d{2,}", run_id, url)
    # The tour's mentor exists once its create commands ran; the smoke reads a demo mentor instead.
    url = re.sub(r"/mentors/mntr_[0-9A-Z]{8,26}", f"/mentors/{mentor_id}", url)
    if "$" in url:
        raise SmokeFailure(f"a tour reads an unknown variable: {url}")
    return url


def wait_until_healthy(origin: str, proc: subprocess.Popen, log: Path) -> tuple[int, dict | str]:
    """/healthz's answer once the server answers 200, or once it has answered for 30 s after start-up."""
    deadline = time.monotonic() + START_TIMEOUT
    settle = deadline
    while time.monotonic() < deadline:
        if settle == deadline and log.exists() and "CertHub is starting." in log.read_text():
            settle = time.monotonic() + 30
        if proc.poll() is not None:
            raise SmokeFailure(f"bin/run exited with {proc.returncode} before serving:\n{log.read_text()[-4000:]}")
        try:
            status, body = request(f"{origin}/healthz")
        except OSError:
            time.sleep(1)
            continue
        if status == 200 or time.monotonic() > settle:
            return status, body
        # Answering but not healthy yet: the worker may still be connecting.
        time.sleep(1)
    raise SmokeFailure(f"bin/run did not serve /healthz within {START_TIMEOUT}s:\n{log.read_text()[-4000:]}")


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)
    print(f"  ok  {message}")


def processes_in(folder: Path) -> list[str]:
    """``pid command`` of every process whose working directory is ``folder`` (bin/run cds there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) == folder:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{entry.name} {command.strip()}")
        except OSError:
            continue
    return found


def stop(proc: subprocess.Popen, clone: Path) -> None:
    """SIGTERM to bin/run, as Ctrl-C or a process manager would; then nothing of it may be left."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise SmokeFailure(f"bin/run did not stop within {STOP_TIMEOUT}s of SIGTERM") from None
    finally:
        deadline = time.monotonic() + 10
        while (left := processes_in(clone)) and time.monotonic() < deadline:
            time.sleep(0.5)
        for line in left:
            with contextlib.suppress(OSError):
                os.kill(int(line.split()[0]), signal.SIGKILL)
    if left:
        raise SmokeFailure("processes of bin/run were left behind after SIGTERM:\n" + "\n".join(left))
    print("  ok  bin/run stopped on SIGTERM and left no process behind")


def smoke(clone: Path, *, redis_url: str | None, var_dir: Path) -> None:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ENV_DROP}
    env.update(PORT=str(port), CERTHUB_VAR_DIR=str(var_dir))
    if redis_url:
        env["REDIS_URL"] = redis_url
    log = var_dir.parent / f"bin-run-{'redis' if redis_url else 'embedded'}.log"
    print(f"== newcomer smoke: bin/run on {origin} ({'REDIS_URL' if redis_url else 'embedded default'})")
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bin/run"], cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        status, health = wait_until_healthy(origin, proc, log)
        broker = "redis" if redis_url else "filesystem"
        check(
            status == 200 and isinstance(health, dict) and health.get("broker") == broker,
            f"/healthz answers 200 on {broker} ({status}: {health})",
        )
        match = re.search(r"\(key: (chk_[\w-]+)\)", log.read_text())
        check(match is not None, "bin/run printed an API key")
        token = match.group(1)
        api = f"{origin}/api/v1/certifications"

        status, listing = request(f"{api}?limit=1")
        check(status == 200 and listing["data"], f"GET {api}?limit=1 answers 200 with the demo data")
        cert_id = listing["data"][0]["certification_id"]
        mentor_id = listing["data"][0]["mentor_id"]
        status, runs = request(f"{api}/expiry-job/runs")
        check(status == 200 and runs["data"], f"GET {api}/expiry-job/runs answers 200 with the demo runs ({status})")
        run_id = runs["data"][0]["job_run_id"]

        for url, with_token in (read for page in TOUR_PAGES for read in tour_reads((clone / page).read_text())):
            full = expand(url, origin=origin, cert_id=cert_id, run_id=run_id, mentor_id=mentor_id)
            status, body = request(full, token=token if with_token else None)
            check(status == 200, f"GET {full} answers 200 ({status}{'' if status == 200 else f': {body}'})")
        for path in ("/api/schema/", "/api/docs/", "/admin/login/"):
            status, _ = request(origin + path)
            check(status == 200, f"GET {path} answers 200 ({status})")

        status, body = request(f"{api}/expiry-job/run", method="POST", token=token, body={"dry_run": True})
        check(status == 200 and body.get("dry_run") is True, f"a dry run answers 200 ({status}: {body})")

        status, body = request(f"{api}/expiry-job/run", method="POST", token=token, body={"async": True})
        check(status == 202 and body.get("state") == "queued", f"an async run answers 202 queued ({status}: {body})")
        run_url = f"{api}/expiry-job/runs/{body['job_run_id']}"
        deadline = time.monotonic() + RUN_TIMEOUT
        state = body["state"]
        while state in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(1)
            state = request(run_url)[1].get("state")
        check(state == "succeeded", f"the async run {body['job_run_id']} reaches succeeded on {broker} ({state})")
    except BaseException:
        print(log.read_text()[-6000:], file=sys.stderr)
        raise
    finally:
        stop(proc, clone.resolve())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default=None, help="Also run with this REDIS_URL (a database of its own).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="certhub-newcomer-") as tmp:
        clone = Path(tmp) / "certhub"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        try:
            smoke(clone, redis_url=None, var_dir=Path(tmp) / "var-embedded")
            if args.redis_url:
                subprocess.run(["redis-cli", "-u", args.redis_url, "FLUSHDB"], check=False, capture_output=True)
                smoke(clone, redis_url=args.redis_url, var_dir=Path(tmp) / "var-redis")
        except SmokeFailure as exc:
            print(f"newcomer smoke FAILED: {exc}", file=sys.stderr)
            return 1
    print("newcomer smoke passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
