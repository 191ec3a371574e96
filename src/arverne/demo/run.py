"""``arverne demo``: generate the demo territory, compile it, and show what it holds."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from arverne.network.build import build_network


def run_demo(out_dir: Path, console: Console) -> None:
    """Write the demo territory into ``out_dir``, build its network and print a summary."""
    from arverne.demo.territory import write_territory

    out_dir = Path(out_dir)
    territory = write_territory(out_dir / "territory")
    console.print(f"[bold]Demo territory[/bold] written to {territory.folder}")
    network = build_network([territory.gtfs], territory.osm, out_dir / "network")
    table = Table("what", "count", title="Compiled network")
    for key, value in network.summary().items():
        if key != "path":
            table.add_row(key, str(value))
    console.print(table)
    console.print(f"network directory: {network.path}")
