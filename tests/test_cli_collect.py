"""``auditor collect`` end to end: --once with CliRunner, --every in a child process stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from collect_support import SECRET, SECRET_ENV, config_for, new_server, read_lines, sessions_lines
from domain_api_server import Fault, SimInstance, fixed_sessions

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server():
    with new_server() as srv:
        yield srv


def add(server, name: str, **kwargs) -> SimInstance:
    return server.api.add(SimInstance(name, secret=SECRET, **kwargs))


def test_once_writes_a_line_per_instance_and_summarises(server, invoke, tmp_path: Path) -> None:
    add(server, "cli-a", sessions=fixed_sessions(3), page_size=2)
    add(server, "cli-b", faults=[Fault(500, body={"message": "down", "code": "E"})])
    config = config_for(server, tmp_path, ["cli-a", "cli-b"])
    out = tmp_path / "snapshots"
    result = invoke("collect", "--config", config, "--out", out, "--once", env={SECRET_ENV: SECRET})
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    errors = result.stderr.splitlines()
    assert errors[0].startswith("collect: cli-b ") and errors[0].endswith("sessions: HTTP 500 Internal Server Error: E: down")
    assert errors[-1] == f"collect: done: 2 poll(s), 1 failed; 1 audit-log read(s), 0 failed; 2 file(s) written under {out}"
    assert len(sessions_lines(out, "cli-a")[0]["rows"]) == 3
    assert SECRET not in result.stderr


def test_quiet_prints_nothing(server, invoke, tmp_path: Path) -> None:
    add(server, "cli-quiet", faults=[Fault(503, retry_after="600")])
    config = config_for(server, tmp_path, ["cli-quiet"])
    result = invoke("collect", "--config", config, "--out", tmp_path / "o", "--once", "--quiet", env={SECRET_ENV: SECRET})
    assert result.exit_code == 0 and result.stderr == "" and result.stdout == ""
    assert "error" in read_lines(tmp_path / "o", "cli-quiet")[0]


def test_bad_config_is_a_usage_error_with_file_and_line(invoke, tmp_path: Path) -> None:
    config = tmp_path / "collect.toml"
    config.write_text('[defaults]\nevery = "5m"\nclient_secret = "inline-secret"\n')
    result = invoke("collect", "--config", config, "--out", tmp_path / "o", "--once")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"auditor: error: {config}:3: a secret written in the configuration (client_secret) is refused")
    assert "inline-secret" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_once_and_every_together_is_a_usage_error(server, invoke, tmp_path: Path) -> None:
    config = config_for(server, tmp_path, ["x"])
    result = invoke("collect", "--config", config, "--out", tmp_path / "o", "--once", "--every", "5m")
    assert result.exit_code == 2 and "give --once or --every, not both" in result.stderr
    result = invoke("collect", "--config", config, "--out", tmp_path / "o", "--every", "never")
    assert result.exit_code == 2 and "'never' is not a duration" in result.stderr


def test_out_not_writable_is_exit_1(server, invoke, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    config = config_for(server, tmp_path, ["cli-a"])
    result = invoke("collect", "--config", config, "--out", tmp_path / "file" / "sub", "--once", env={SECRET_ENV: SECRET})
    assert result.exit_code == 1
    assert result.stderr.startswith(f"auditor: error: cannot write snapshot files under {tmp_path / 'file' / 'sub'}")


def test_a_write_refused_mid_run_is_exit_1_in_one_line(server, invoke, tmp_path: Path) -> None:
    add(server, "cli-blocked", sessions=fixed_sessions(1))
    add(server, "cli-fine", sessions=fixed_sessions(1))
    out = tmp_path / "o"
    out.mkdir()
    (out / "cli-blocked").write_text("a file where the instance's folder should be")
    config = config_for(server, tmp_path, ["cli-blocked", "cli-fine"])
    result = invoke("collect", "--config", config, "--out", out, "--once", env={SECRET_ENV: SECRET})
    assert result.exit_code == 1
    assert result.stderr.startswith(f"auditor: error: cannot write the snapshot of cli-blocked under {out}: ")
    assert len(result.stderr.splitlines()) == 1


def start(config: Path, out: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, SECRET_ENV: SECRET, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "auditor", "collect", "--config", str(config), "--out", str(out), *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def lines_so_far(out: Path, instance: str) -> list[str]:
    return [t for p in (out / instance).glob("*.jsonl") for t in p.read_text().splitlines()] if (out / instance).is_dir() else []


def wait_for(condition, proc: subprocess.Popen[str], limit: float = 60) -> None:
    """Wait (at most LIMIT seconds, the child must stay alive) until CONDITION holds."""
    deadline = time.monotonic() + limit
    while not condition():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def seconds(line: dict) -> float:
    return datetime.fromisoformat(line["polled_at"].replace("Z", "+00:00")).timestamp()


def test_every_holds_its_schedule_through_failures_and_stops_on_sigterm(server, tmp_path: Path) -> None:
    add(server, "ev-steady", sessions=fixed_sessions(2))
    add(server, "ev-flaky", sessions=fixed_sessions(1), faults=[Fault(429)] * 1000)
    config = config_for(server, tmp_path, ["ev-steady", "ev-flaky"], every="1m")
    out = tmp_path / "out"
    proc = start(config, out, "--every", "2s")
    wait_for(lambda: sum("CurrentSessions" in t for t in lines_so_far(out, "ev-steady")) >= 4, proc)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert stdout == "" and SECRET not in stderr
    steady = sessions_lines(out, "ev-steady")
    assert len(steady) >= 4 and all(len(line["rows"]) == 2 for line in steady)
    starts = [seconds(line) for line in steady]
    # On the boundaries (even seconds), one per boundary: no drift, none skipped.
    assert all(s % 2 < 0.5 for s in starts), starts
    assert [round(b - a) for a, b in zip(starts, starts[1:])] == [2] * (len(starts) - 1)
    flaky = sessions_lines(out, "ev-flaky")
    assert len(flaky) >= 3 and all(line["error"].startswith("HTTP 429") for line in flaky)
    assert all(seconds(line) % 2 < 0.5 for line in flaky)
    assert stderr.splitlines()[-1].startswith("collect: done: ")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_lets_the_poll_in_flight_finish_its_line(server, tmp_path: Path, sig: signal.Signals) -> None:
    inst = add(server, f"ev-inflight-{sig.name}", sessions=fixed_sessions(3), page_size=1, faults=[Fault(delay=0.0), Fault(delay=2.0)])
    config = config_for(server, tmp_path, [f"ev-inflight-{sig.name}"], timeout="10s")
    out = tmp_path / "out"
    proc = start(config, out, "--every", "5s")
    wait_for(lambda: len([r for r in inst.requests if r.method == "GET"]) >= 2, proc)
    time.sleep(0.5)  # the second page is being answered (2 s)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    (line,) = sessions_lines(out, f"ev-inflight-{sig.name}")
    assert len(line["rows"]) == 3
