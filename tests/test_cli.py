"""The `jasa` command, run for real: serve on a fresh data dir, worker, manage."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _env(data_dir: Path) -> dict[str, str]:
    # the embedded default, whatever the CI pass points the test database at
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTEST") and k not in {"DATABASE_URL", "REDIS_URL", "JASA_QUEUE_URL",
                                                      "DJANGO_SETTINGS_MODULE", "JASA_TEST_DATABASE_NAME"}}
    return {**env, "JASA_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _jasa(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jasa.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A data dir with every migration applied once, copied by the tests that do not test migrating."""
    data = tmp_path_factory.mktemp("migrated")
    done = _jasa("manage", "migrate", "-v0", env=_env(data), timeout=300)
    assert done.returncode == 0, done.stderr
    return data


def _copy(data: Path, to: Path) -> Path:
    shutil.copytree(data, to)
    return to


def test_serve_migrates_loads_demo_serves_and_stops_on_ctrl_c(tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jasa.cli", "serve", "--port", str(port), "--processes", "2"],
            cwd=ROOT, env=_env(tmp_path / "data"), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
    try:
        body: dict = {}
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text()[-3000:]
            try:
                status, raw = _get(f"{base}/healthz")
                body = json.loads(raw)
                if status == 200:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(1)
        # every part ok, including the embedded worker's heartbeat and the periodic sweep
        assert body.get("status") == "ok", (body, log_path.read_text()[-3000:])
        assert {body[k] for k in ("database", "queue", "migrations", "cache", "sweep")} == {"ok"}

        assert _get(f"{base}/")[0] == 200
        status, page = _get(f"{base}/demo/")
        assert status == 200 and b"<html" in page.lower()
        assert _get(f"{base}/static/vendor/htmx-2.0.11.min.js")[0] == 200

        output = log_path.read_text()
        assert "applying database migrations" in output and "Applying core.0001_initial... OK" in output
        assert "Demo logins" in output and "collecting static files" in output
        # with no EMAIL_HOST the demo's emails (receipts) land as files, not on a missing SMTP server
        assert "emails are written as files" in output
        mail = tmp_path / "data" / "mail"
        deadline = time.monotonic() + 60
        while not (mail.exists() and any(mail.iterdir())) and time.monotonic() < deadline:
            time.sleep(1)
        assert mail.exists() and any(mail.iterdir()), log_path.read_text()[-3000:]
        # links and the sandbox's webhooks go to where this server listens, not to the default port
        assert "127.0.0.1:8000" not in log_path.read_text()
    finally:
        # Ctrl-C: the terminal sends SIGINT to the whole foreground group
        os.killpg(proc.pid, signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert code == 0, log_path.read_text()[-2000:]
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _group_alive(proc.pid), "jasa serve left children running"
    with pytest.raises(OSError):
        _get(f"{base}/healthz")


def test_sigterm_stops_serve_and_its_children(tmp_path, migrated):
    port = _free_port()
    env = _env(_copy(migrated, tmp_path / "data"))
    with open(tmp_path / "serve.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jasa.cli", "serve", "--port", str(port), "--processes", "1", "--no-demo"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if _get(f"http://127.0.0.1:{port}/healthz")[0] in (200, 503):
                    break
            except OSError:
                time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)  # systemd / docker stop: only the main process
        assert proc.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _group_alive(proc.pid), "children left running after SIGTERM"
        assert "Demo logins" not in (tmp_path / "serve.log").read_text()
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)


def test_manage_and_help(tmp_path):
    env = _env(tmp_path / "data")
    check = _jasa("manage", "check", env=env)
    assert check.returncode == 0, check.stderr
    assert "no issues" in check.stdout
    helped = _jasa("worker", "--help", env=env)
    assert helped.returncode == 0 and "--no-periodic" in helped.stdout
    served = _jasa("serve", "--help", env=env)
    for option in ("--host", "--port", "--no-demo", "--processes"):
        assert option in served.stdout


def test_demo_loads_and_refreshes(tmp_path, migrated):
    env = _env(_copy(migrated, tmp_path / "data"))
    first = _jasa("demo", env=env, timeout=180)
    assert first.returncode == 0, first.stderr
    assert "owner@demo.jasa.local" in first.stdout
    again = _jasa("demo", env=env, timeout=180)
    assert again.returncode == 0, again.stderr
    assert "refreshing the demo workspace" in again.stdout
