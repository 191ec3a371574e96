"""``arverne serve``: uvicorn with several worker processes, each building its own app."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.service.conftest import TOKEN


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_with_two_workers(demo_net: Path, tmp_path: Path) -> None:
    """`arverne serve NET --workers 2` on loopback answers /v1/status with writes enabled by
    $ARVERNE_TOKEN, refuses a write without it, and stops on SIGTERM."""
    port = _free_port()
    env = {**os.environ, "ARVERNE_TOKEN": TOKEN}
    code = "from arverne.cli import main; main()"
    args = ["serve", str(demo_net), "--port", str(port), "--workers", "2", "--jobs", str(tmp_path)]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        start_new_session=True,
        stderr=subprocess.PIPE,
    )
    try:
        status = None
        deadline = time.monotonic() + 60
        while status is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=2) as r:
                    status = json.loads(r.read())
            except OSError:
                time.sleep(0.3)
        assert status is not None, "the service did not answer within 60 s"
        assert status["writes_enabled"] and status["jobs"]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/tours", data=b"{}", method="POST",
            headers={"content-type": "application/json"},
        )  # fmt: skip
        try:
            urllib.request.urlopen(request, timeout=5)
            raise AssertionError("a write without the token was accepted")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode is not None
