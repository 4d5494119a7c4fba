"""The room benchmarks still run end to end, at a tiny size: every socket connects, nothing is lost,
and the last line carries every key the targets are checked against. (The numbers themselves come
from full-size runs on a quiet machine: docs/performance.md.)"""

import json
import os
import subprocess
import sys

import pytest

from tests.processes import ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ROOM_KEYS = {
    "overhead_ratio_p50",
    "overhead_ratio_p99",
    "server_cpu_ms_per_change",
    "presence_writes_per_room_per_10s",
    "seconds_total",
    "rooms_advanced_more_than_once",
    "p50_ms",
    "p99_ms",
    "burst_p99_ms",
    "lost",
    "failed_connects",
}
SOAK_KEYS = {
    "minutes",
    "late_over_1s",
    "late_p99_ms",
    "late_max_ms",
    "redis_connections_start",
    "redis_connections_end",
    "rss_growth_pct",
    # What tells the server's lateness from the churn's and the client's.
    "late_over_1s_connected",
    "late_over_1s_connected_near_churn",
    "client_loop_lag_max_ms",
}


def run(module: str, *args: str) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_bench_room_runs_and_reports_every_target():
    result = run(
        "benchmarks.room",
        *("--rooms", "2", "--seconds", "4", "--rate", "2", "--quiet-seconds", "3", "--baseline-seconds", "3"),
    )
    assert set(result) >= ROOM_KEYS, ROOM_KEYS - set(result)
    assert (result["failed_connects"], result["lost"], result["rooms_advanced_more_than_once"]) == (0, 0, 0)
    assert result["p50_ms"] is not None and result["server_cpu_ms_per_change"] is not None


def test_bench_room_delivers_every_change_with_the_channel_layer_on_two_redis_servers():
    result = run(
        "benchmarks.room",
        *("--rooms", "4", "--seconds", "4", "--rate", "4", "--quiet-seconds", "0", "--skip-baseline"),
        "--second-redis",
    )
    assert (result["failed_connects"], result["lost"], result["rooms_advanced_more_than_once"]) == (0, 0, 0)
    assert len(result["channel_redis_shard_commands"]) == 2 and all(result["channel_redis_shard_commands"])


def test_bench_soak_runs_and_reports_every_target():
    result = run("benchmarks.soak", *("--rooms", "2", "--minutes", "0.5", "--churn-min", "5", "--churn-max", "10"))
    assert set(result) >= SOAK_KEYS, SOAK_KEYS - set(result)
    assert (result["failed_connects"], result["version_gaps_unrecovered"]) == (0, 0)
