"""Run the Procfile's processes together and keep them up: the embedded default's supervisor.

    bin/supervise.py web worker beat

Each process runs in a process group of its own. One that exits is started again after a pause
that doubles with each quick crash (1 s up to 30 s) and resets once it has stayed up for a minute;
each restart is one log line. SIGINT or SIGTERM stops every group: SIGTERM first, SIGKILL for
whatever is left after a short grace, so nothing outlives the supervisor. Standard library only.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRACE_SECONDS = 3.0  # SIGTERM, then SIGKILL: the whole stop stays under 5 s
FIRST_PAUSE, LONGEST_PAUSE = 1.0, 30.0
STABLE_SECONDS = 60.0  # a process up this long is healthy again: its next crash waits FIRST_PAUSE
PR_SET_PDEATHSIG = 1


def log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} run-embedded: {message}", file=sys.stderr, flush=True)  # noqa: T201 (its log is stderr)


def _die_with_parent() -> None:
    """In the child before exec: if the supervisor itself is killed, the kernel sends SIGTERM."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    def __init__(self, name: str):
        self.name = name
        self.popen: subprocess.Popen | None = None
        self.started_at = 0.0
        self.pause = FIRST_PAUSE
        self.restart_at: float | None = None

    def start(self) -> None:
        self.popen = subprocess.Popen(  # noqa: S603 (our own script)
            [str(ROOT / "bin" / "proc"), self.name],
            cwd=ROOT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # no threads here, so preexec_fn is safe
        )
        self.started_at = time.monotonic()
        self.restart_at = None

    def signal_group(self, sig: int) -> None:
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, sig)

    def check(self, now: float) -> None:
        """Notice an exit and schedule the restart; start it again when its pause is over."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                log(f"starting {self.name} again")
                self.start()
            return
        code = self.popen.poll()
        if code is None:
            return
        self.signal_group(signal.SIGKILL)  # what it left behind in its group (pool processes)
        if now - self.started_at >= STABLE_SECONDS:
            self.pause = FIRST_PAUSE
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        log(f"{self.name} {how}; starting it again in {self.pause:g} s")
        self.restart_at = now + self.pause
        self.pause = min(self.pause * 2, LONGEST_PAUSE)

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


def main(names: list[str]) -> int:
    stop_signal: list[int] = []

    def on_signal(number, _frame):
        stop_signal.append(number)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    # Whoever started us (make, a shell) may be stopped without passing the signal on: when it
    # goes, we stop too, by its death signal or, failing that, by noticing we were orphaned.
    _die_with_parent()
    parent = os.getppid()

    children = [Child(name) for name in names]
    for child in children:
        child.start()
    while not stop_signal:
        if os.getppid() != parent:
            log("the process that started run-embedded has gone")
            stop_signal.append(signal.SIGTERM)
            break
        now = time.monotonic()
        for child in children:
            child.check(now)
        time.sleep(0.2)

    log("stopping " + ", ".join(names))
    for child in children:
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline and any(child.running() for child in children):
        time.sleep(0.05)
    for child in children:
        if child.running():
            log(f"{child.name} did not stop within {GRACE_SECONDS:g} s; killing it")
        child.signal_group(signal.SIGKILL)
        if child.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.popen.wait(timeout=1)
    return 128 + stop_signal[0]


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: bin/supervise.py NAME [NAME ...] (names from the Procfile)")
    sys.exit(main(sys.argv[1:]))
