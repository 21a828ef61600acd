"""Install, start, check and stop a single-node Apache Kafka 4.x (KRaft) on loopback.

Jars come from Maven Central through ``mvn`` and are cached per version; the broker's data
and logs live in a project-local, git-ignored folder. Readiness is an admin metadata request
that succeeds, never a sleep.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from confluent_kafka import KafkaException

from snapline.errors import BrokerError, BrokerUnreachableError
from snapline.kafka.clients import require_broker
from snapline.settings import BrokerSettings, KafkaSettings

KAFKA_MAIN = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class BrokerPaths:
    root: Path

    @property
    def pid(self) -> Path:
        return self.root / "broker.pid"

    @property
    def log_dir(self) -> Path:
        return self.root / "data"

    @property
    def properties(self) -> Path:
        return self.root / "server.properties"

    @property
    def log4j(self) -> Path:
        return self.root / "log4j2.properties"

    @property
    def broker_log(self) -> Path:
        return self.root / "broker.log"

    @property
    def console_log(self) -> Path:
        return self.root / "console.log"


class LocalBroker:
    def __init__(self, settings: BrokerSettings) -> None:
        self.settings = settings
        self.paths = BrokerPaths(settings.data_dir)

    @property
    def bootstrap(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def kafka_settings(self) -> KafkaSettings:
        return KafkaSettings(bootstrap_servers=self.bootstrap)

    # -- status ---------------------------------------------------------------------------
    def running_pid(self) -> int | None:
        """The pid recorded by ``start`` if that process is still alive."""
        try:
            pid = int(self.paths.pid.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _is_live_broker(pid) else None

    def is_ready(self, timeout_s: float = 2.0) -> bool:
        try:
            require_broker(self.kafka_settings(), timeout_s)
        except BrokerUnreachableError:
            return False
        return True

    # -- start ----------------------------------------------------------------------------
    def start(self) -> str:
        """Start the broker unless ours is already running; returns a one-line status."""
        pid = self.running_pid()
        if pid is not None and self.is_ready():
            return f"broker already running (pid {pid}) at {self.bootstrap}"
        _require_tools()
        self._require_free_ports()
        jars = self.ensure_jars()
        self._write_config()
        self._format_storage(jars)
        pid = self._launch(jars)
        self._wait_ready(pid)
        return f"broker started (pid {pid}) at {self.bootstrap}; logs in {self.paths.root}"

    def ensure_jars(self) -> Path:
        """The cached jar folder for this Kafka version, resolved with mvn on first use."""
        libs = self.settings.jars_dir / self.settings.kafka_version / "libs"
        marker = libs / ".complete"
        if marker.exists():
            return libs
        _require_tools()
        libs.mkdir(parents=True, exist_ok=True)
        with resources.as_file(resources.files("snapline.broker") / "pom.xml") as pom:
            cmd = [
                "mvn", "-B", "-q", "-f", str(pom),
                f"-Dkafka.version={self.settings.kafka_version}",
                "dependency:copy-dependencies", f"-DoutputDirectory={libs}",
                "-DincludeScope=runtime",
            ]  # fmt: skip
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = (result.stdout + result.stderr).strip().splitlines()[-15:]
            msg = "mvn could not resolve the Kafka jars:\n" + "\n".join(tail)
            raise BrokerError(msg)
        marker.touch()
        return libs

    def _require_free_ports(self) -> None:
        for port in (self.settings.port, self.settings.controller_port):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((self.settings.host, port))
                except OSError:
                    msg = (
                        f"port {port} on {self.settings.host} is taken by another process; "
                        "stop it, or choose other ports with SNAPLINE_BROKER__PORT / "
                        "SNAPLINE_BROKER__CONTROLLER_PORT"
                    )
                    raise BrokerError(msg) from None

    def _write_config(self) -> None:
        self.paths.root.mkdir(parents=True, exist_ok=True)
        template = (resources.files("snapline.broker") / "server.properties").read_text()
        s = self.settings
        self.paths.properties.write_text(
            template.format(
                host=s.host, port=s.port, controller_port=s.controller_port,
                log_dir=self.paths.log_dir,
            )
        )  # fmt: skip
        log4j = (resources.files("snapline.broker") / "log4j2.properties").read_text()
        self.paths.log4j.write_text(log4j)

    def _format_storage(self, jars: Path) -> None:
        if (self.paths.log_dir / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        cmd = [
            *self._java(jars), STORAGE_TOOL, "format", "--standalone",
            "-t", cluster_id, "-c", str(self.paths.properties),
        ]  # fmt: skip
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            msg = f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}"
            raise BrokerError(msg)

    def _java(self, jars: Path) -> list[str]:
        return [
            "java", f"-Xmx{self.settings.heap_mb}m", f"-Xms{self.settings.heap_mb // 2}m",
            f"-Dlog4j2.configurationFile={self.paths.log4j}",
            f"-Dsnapline.broker.log={self.paths.broker_log}",
            "-cp", f"{jars}/*",
        ]  # fmt: skip

    def _launch(self, jars: Path) -> int:
        # posix_spawn in a new session: the broker outlives the command that started it, and
        # no Popen object is left to complain when this process lets go of it.
        argv = [*self._java(jars), KAFKA_MAIN, str(self.paths.properties)]
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (
                os.POSIX_SPAWN_OPEN,
                1,
                str(self.paths.console_log),
                os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                0o644,
            ),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ]
        pid = os.posix_spawnp(argv[0], argv, dict(os.environ), file_actions=actions, setsid=True)
        self.paths.pid.write_text(str(pid))
        return pid

    def _wait_ready(self, pid: int) -> None:
        deadline = time.monotonic() + self.settings.start_timeout_s
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                msg = (
                    f"the broker exited with code {os.waitstatus_to_exitcode(status)} while "
                    f"starting; last lines of its logs:\n{self._log_tail()}"
                )
                raise BrokerError(msg)
            try:
                require_broker(self.kafka_settings(), 2.0)
            except (BrokerUnreachableError, KafkaException):
                continue
            return
        self.stop()
        msg = (
            f"the broker did not answer within {self.settings.start_timeout_s:g} s; "
            f"last lines of its logs:\n{self._log_tail()}"
        )
        raise BrokerError(msg)

    def _log_tail(self, lines: int = 20) -> str:
        chunks = []
        for path in (self.paths.console_log, self.paths.broker_log):
            if path.exists():
                chunks += path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(chunks)

    # -- stop -----------------------------------------------------------------------------
    def stop(self) -> str:
        pid = self.running_pid()
        if pid is None:
            self.paths.pid.unlink(missing_ok=True)
            return "broker not running"
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline and self.running_pid() is not None:
            time.sleep(0.2)
        if self.running_pid() is not None:
            os.kill(pid, signal.SIGKILL)
        self.paths.pid.unlink(missing_ok=True)
        return f"broker stopped (pid {pid})"

    def status(self) -> str:
        pid = self.running_pid()
        if pid is None:
            if self.is_ready():
                return f"a broker at {self.bootstrap} is ready, not one started from here"
            return f"broker not running (data in {self.paths.root})"
        state = "ready" if self.is_ready() else "not answering"
        return f"broker running (pid {pid}) at {self.bootstrap}: {state}"


def _is_live_broker(pid: int) -> bool:
    """True if ``pid`` is a running (not zombie) Kafka broker process."""
    proc = Path("/proc") / str(pid)
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    if state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap our own child so the pid can go
        return False
    return KAFKA_MAIN.encode() in cmdline


def _require_tools() -> None:
    for tool, package in (("java", "openjdk-17-jre-headless"), ("mvn", "maven")):
        if shutil.which(tool) is None:
            msg = (
                f"`{tool}` is not on PATH; the local broker needs Java 17+ and Maven "
                f"(Debian: apt-get install {package})"
            )
            raise BrokerError(msg)
