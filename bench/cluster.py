"""Several app instances on one PostgreSQL behind HAProxy, on 127.0.0.1: the pieces that the
fault test (tests/fault) and the balanced deadline rush (bench/deadline_rush_balanced.py)
share. A fresh database that is dropped afterwards, instances started as separate machines
would be (each its own VAR_DIR; the keys shared through the environment), HAProxy in front
(roundrobin, health check on /healthz), the job worker (`python -m app worker`), and an
SMTP server that keeps what it receives.

Anything missing (PostgreSQL, /usr/sbin/haproxy) raises: a fault test that cannot run fails.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.deadline_rush import free_port, peak_memory_mb, start  # noqa: E402

HAPROXY = Path("/usr/sbin/haproxy")
# Where fresh databases are created and dropped: the server's maintenance database.
ADMIN_URL = os.environ.get(
    "POSTGRES_ADMIN_URL",
    f"postgresql://postgres@{os.environ.get('PGHOST', '127.0.0.1')}:"
    f"{os.environ.get('PGPORT', '5432')}/postgres",
)


@contextmanager
def fresh_database(prefix: str, admin_url: str = ADMIN_URL) -> Iterator[str]:
    """A new, empty PostgreSQL database (its URL), dropped afterwards."""
    import psycopg

    name = f"{prefix}_{int(time.time())}_{os.getpid()}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as connection:
            connection.execute(f"CREATE DATABASE {name}")
    except psycopg.OperationalError as error:
        raise RuntimeError(f"PostgreSQL is not reachable at {admin_url}: {error}") from error
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def shared_keys() -> dict[str, str]:
    """What every instance of one installation must share when no disk is shared: the
    session key, the audit signing seed and the draw key (otherwise each makes its own)."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SIGNING_KEY_SEED": secrets.token_hex(32),
        "DRAW_SECRET_KEY": secrets.token_hex(32),
    }


@dataclass
class Instance:
    port: int
    process: subprocess.Popen[bytes]
    killed: bool = False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no finishing the requests in flight."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.killed = True


@dataclass
class Cluster:
    """App instances behind HAProxy; `base` is the balancer's address."""

    base: str
    instances: list[Instance]
    haproxy: subprocess.Popen[bytes]
    logs: Path
    peaks: dict[str, float] = field(default_factory=dict)

    def peak_memory(self) -> dict[str, float]:
        """Peak memory (VmHWM, MB) of each process still running, and the last one read of
        a killed instance."""
        for number, instance in enumerate(self.instances):
            if not instance.killed:
                self.peaks[f"instance {number + 1}"] = peak_memory_mb(instance.process.pid)
        self.peaks["haproxy"] = peak_memory_mb(self.haproxy.pid)
        return dict(self.peaks)

    def wait_until_down(self, instance: Instance, timeout: float = 15) -> None:
        """Until HAProxy's health check has taken the instance out (its stats say DOWN)."""
        deadline = time.monotonic() + timeout
        name = f"instance{self.instances.index(instance) + 1}"
        while time.monotonic() < deadline:
            stats = httpx.get(f"{self.base}/haproxy-stats;csv", timeout=5).text
            for line in stats.splitlines():
                fields = [*line.split(","), *[""] * 18]
                if fields[0] == "app" and fields[1] == name and fields[17].startswith("DOWN"):
                    return
            time.sleep(0.2)
        raise RuntimeError(f"HAProxy still sends requests to {name}")


def haproxy_config(listen: int, ports: list[int]) -> str:
    servers = "\n".join(
        f"    server instance{n + 1} 127.0.0.1:{port} check" for n, port in enumerate(ports)
    )
    # Long client and server timeouts: a 4 MB upload in a rush of 200 takes tens of seconds.
    # A refused connection (an instance that is gone) is retried on the other one; a request
    # already sent is not (HAProxy answers 502), since it may have had its effect.
    return f"""global
    maxconn 2000

defaults
    mode http
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    # A check waits its turn behind the requests in the instance's thread pool: with the
    # default (the check interval, 500 ms) a rush of logins or uploads takes every instance
    # out and HAProxy answers 503. An instance that is gone refuses the check at once.
    timeout check 10s
    retries 2
    option redispatch 1

frontend balancer
    bind 127.0.0.1:{listen}
    stats enable
    stats uri /haproxy-stats
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 1
{servers}
"""


@contextmanager
def cluster(
    work: Path,
    env: dict[str, str],
    *,
    instances: int = 2,
    app: str = "app.main:create_app",
    factory: bool = True,
) -> Iterator[Cluster]:
    """`instances` uvicorn processes of `app` (one process each, so that SIGKILL takes the
    whole instance) and HAProxy in front of them; all stopped afterwards."""
    if not HAPROXY.exists():
        raise RuntimeError(f"{HAPROXY} is missing: apt-get install haproxy")
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started: list[Instance] = []
    balancer: subprocess.Popen[bytes] | None = None
    try:
        for number in range(instances):
            port = free_port()
            var_dir = work / f"instance{number + 1}"
            var_dir.mkdir(exist_ok=True)
            # Keep-alive longer than HAProxy keeps an idle server connection for reuse: with
            # uvicorn's 5 s, uvicorn could close one just as HAProxy sent a POST on it, and the
            # client got a disconnect (seen once in CI, before any instance was killed).
            command = [sys.executable, "-m", "uvicorn", app, *(["--factory"] if factory else []),
                       "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                       "--timeout-keep-alive", "75"]  # fmt: skip
            process = start(command, {**env, "VAR_DIR": str(var_dir)}, port,
                            logs / f"instance{number + 1}.log")  # fmt: skip
            started.append(Instance(port, process))
        listen = free_port()
        config = work / "haproxy.cfg"
        config.write_text(haproxy_config(listen, [i.port for i in started]))
        check = subprocess.run([HAPROXY, "-c", "-q", "-f", config], capture_output=True)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy rejects {config}: {check.stderr.decode()}")
        balancer = start([str(HAPROXY), "-db", "-f", str(config)], env, listen,
                         logs / "haproxy.log")  # fmt: skip
        result = Cluster(f"http://127.0.0.1:{listen}", started, balancer, logs)
        wait_until_up(result)
        yield result
    finally:
        for process in [*(i.process for i in started), *([balancer] if balancer else [])]:
            stop(process, timeout=20)


def wait_until_up(balanced: Cluster, timeout: float = 15) -> None:
    """Until HAProxy's health check has found every instance up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = httpx.get(f"{balanced.base}/haproxy-stats;csv", timeout=5).text
        states = [
            fields[17]
            for fields in (line.split(",") for line in stats.splitlines())
            if len(fields) > 17 and fields[0] == "app" and fields[1].startswith("instance")
        ]
        if len(states) == len(balanced.instances) and all(s.startswith("UP") for s in states):
            return
        time.sleep(0.2)
    raise RuntimeError("HAProxy did not find every instance up")


@contextmanager
def worker(work: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m app worker` (the jobs: mail, the clock), with a VAR_DIR of its own;
    stopped afterwards as a deployment stops it (SIGTERM: the job in hand is finished)."""
    var_dir = work / "worker"
    var_dir.mkdir(parents=True, exist_ok=True)
    (work / "logs").mkdir(exist_ok=True)
    with (work / "logs" / "worker.log").open("ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "app", "worker"], cwd=ROOT,
                                   env={**env, "VAR_DIR": str(var_dir)}, stdout=log, stderr=log)  # fmt: skip
    try:
        yield process
    finally:
        stop(process, timeout=30)


def stop(process: subprocess.Popen[bytes], *, timeout: float) -> None:
    """SIGTERM, and SIGKILL when it has not ended within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps every message it is given."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, _server: object, _session: object, envelope: object) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[attr-defined]
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def received(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.messages)


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    sink = SmtpSink(free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
