"""``arverne plan --realtime`` and ``arverne realtime`` on a small saved network."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from arverne.cli import app
from tests.feeds import rt_messages as m
from tests.routing.test_cli_plan import _network

DAY0 = 1_709_506_800  # 2024-03-04 00:00 in Paris, a Monday of the scenario's calendar


def test_plan_with_realtime_and_report(tmp_path: Path) -> None:
    """``plan --realtime`` applies the message (its counts on stderr) and plans; ``realtime``
    reports the counts and the notices (an unknown trip id: E003); a missing file is refused.
    """
    net = _network(tmp_path)
    runner = CliRunner()
    plan = ["plan", str(net), "--from", "45.7705,3.0805", "--to", "45.7895,3.0805"]
    plan += ["--at", "2024-03-04 07:50"]
    tus = [m.trip_update(t, start_date="20240304", delay=120) for t in ("t1", "t2", "t3")]
    tus.append(m.trip_update("ghost", start_date="20240304", delay=60))
    path = tmp_path / "tu.pb"
    path.write_bytes(m.message(timestamp=DAY0, trip_updates=tus))
    live = runner.invoke(app, [*plan, "--realtime", str(path)])
    assert live.exit_code == 0, live.output
    assert 'real time: {"matched": 3' in live.output and "08:" in live.output
    report = runner.invoke(app, ["realtime", str(net), str(path), "--json"])
    assert report.exit_code == 0, report.output
    data = json.loads(report.output)
    assert (data["updated"], data["unmatched"], data["notices"]["E003"]) == (3, 1, 1)
    missing = runner.invoke(app, ["realtime", str(net), str(tmp_path / "nope.pb")])
    assert missing.exit_code != 0
