"""Start the Procfile's real processes for tests: the same commands production runs."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import redis
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
MARKER = "ATTUNEMENT_TEST_RUN"  # in the environment of every process of one EmbeddedRun


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database this test session uses, for server processes to share it."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


class Process:
    def __init__(self, name: str, env: dict[str, str], log_path: Path):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 (kept open for the process's lifetime)
        self.popen = subprocess.Popen(
            [str(ROOT / "bin" / "proc"), name],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, sig=signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def stop(self):
        if self.popen.poll() is None:
            self.kill(signal.SIGTERM)
        if self.popen.poll() is None:
            self.kill(signal.SIGKILL)
        self._log.close()

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")


class WebServer(Process):
    def __init__(self, env: dict[str, str], log_dir: Path, port: int | None = None):
        self.port = port or free_port()
        env = {"SITE_URL": f"http://127.0.0.1:{self.port}", **env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        super().__init__("web", env, log_dir / f"web-{self.port}.log")
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"web server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code in {200, 503}:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"web server did not answer within {timeout}s:\n{self.log()}")


def server_environment(var_dir: Path, **overrides) -> dict[str, str]:
    """The environment for a server process that shares this test session's database and Redis."""
    from django.conf import settings

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        {
            "DATABASE_URL": test_database_url(),
            "VAR_DIR": str(var_dir),
            "DEBUG": "true",
            "CHANNEL_LAYER_PREFIX": settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "attunement"),
            "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "CELERY_TASK_LOG_LEVEL": "INFO",  # the tests read Celery's lines for tasks sent and done
        }
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    env.update(overrides)
    return env


# The embedded default as one real process tree: `make run` with no DATABASE_URL or REDIS_URL.


def processes_of(run_id: str) -> dict[int, str]:
    """pid -> command line of every live process whose environment carries this run's marker."""
    found = {}
    needle = f"{MARKER}={run_id}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            status = (entry / "stat").read_text()
            if status.rsplit(")", 1)[1].split()[0] == "Z":
                continue  # a zombie has exited; its parent has yet to reap it
            found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    return found


def poll(condition, *, timeout: float, why=lambda: ""):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s\n{why()}")
        time.sleep(0.2)


class EmbeddedRun:
    def __init__(self, tmp_path: Path, **environ: str):
        self.run_id = uuid.uuid4().hex
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "make-run.log"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(tmp_path)),
            "LANG": "C.UTF-8",
            "VAR_DIR": str(tmp_path / "var"),
            "PORT": str(self.port),
            "SITE_URL": self.url,
            "CELERY_CONCURRENCY": "1",
            "CELERY_TASK_LOG_LEVEL": "INFO",  # wait_up reads beat's "Starting..." line
            MARKER: self.run_id,
            **environ,
        }
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (kept open while the run lasts)
        self.make = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 60) -> str:
        kept = [line for line in self.log().splitlines() if "celery.redirected" not in line]
        return "\n".join(kept[-lines:])

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def workers_ready(self) -> int:
        return len(re.findall(r"celery@\S+ ready\.", self.log()))

    def wait_up(self, timeout: float = 180):
        poll(
            lambda: self.healthy() and self.workers_ready() >= 1 and "beat: Starting..." in self.log(),
            timeout=timeout,
            why=self.tail,
        )

    def worker_pid(self) -> int:
        """The worker's main process: the leader of its own process group."""
        for pid, command in processes_of(self.run_id).items():
            if "celery" in command and " worker " in command and os.getpgid(pid) == pid:
                return pid
        raise AssertionError(f"no worker process\n{processes_of(self.run_id)}")

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def stop(self):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.make.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.make.wait(timeout=10)
        for pid in processes_of(self.run_id):  # never leave a test's processes behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._log.close()


class RedisServer:
    """A private redis-server on a free port, without persistence: stopping it loses every queued task."""

    def __init__(self, log_path: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_path
        self.popen = None
        self.start()

    def _answers(self) -> bool:
        try:
            return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1).ping()
        except redis.RedisError:
            return False

    def start(self):
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                [
                    *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        poll(self._answers, timeout=10, why=lambda: self.log_path.read_text())

    def stop(self):
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
