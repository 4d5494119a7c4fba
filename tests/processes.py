"""Start the Procfile's real processes for tests: the same commands production runs."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


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
        }
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    env.update(overrides)
    return env
