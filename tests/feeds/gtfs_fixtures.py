"""Tiny GTFS feeds written by tests into tmp_path (as folders or zips)."""

from __future__ import annotations

import zipfile
from pathlib import Path

BASE: dict[str, str] = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
    "A,Agency,https://example.org,Europe/Paris\n",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,wheelchair_boarding\n"
    "ST,Station,45.7780,3.0870,1,,1\n"
    "S1,One,45.7770,3.0820,0,ST,1\n"
    "S2,Two,45.7790,3.0920,0,,2\n"
    "S3,Three,45.7810,3.1020,0,,\n"
    "S4,Four,45.7830,3.1120,0,,\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type,route_color\n"
    "R1,A,1,Line one,3,FF0000\n",
    "trips.txt": "route_id,service_id,trip_id,trip_headsign,direction_id,block_id,wheelchair_accessible\n"
    "R1,WK,T1,East,0,B1,1\n"
    "R1,WK,T2,East,0,B1,\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type\n"
    "T1,08:00:00,08:00:00,S1,1,0,0\n"
    "T1,08:05:00,08:06:00,S2,2,0,0\n"
    "T1,08:10:00,08:10:00,S3,3,0,0\n"
    "T1,08:15:00,08:15:00,S4,4,0,1\n"
    "T2,25:00:00,25:00:00,S1,1,,\n"
    "T2,25:10:00,25:10:00,S4,2,,\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
    "start_date,end_date\n"
    "WK,1,1,1,1,1,0,0,20240101,20240131\n",
    "calendar_dates.txt": "service_id,date,exception_type\nWK,20240101,2\nWK,20240106,1\n",
}
"""A clean five-stop, two-trip feed (Monday-Friday in January 2024)."""


def write_feed(
    root: Path,
    files: dict[str, str | bytes | None] | None = None,
    *,
    as_zip: bool = False,
    name: str = "feed",
) -> Path:
    """Write BASE updated with ``files`` (None removes a file) as a folder or a zip.

    Parameters
    ----------
    root
        Directory to write into (tmp_path).
    files
        File name -> text or bytes, or None to leave a BASE file out.
    as_zip
        Write ``<name>.zip`` instead of the folder ``<name>``.
    name
        Folder or zip stem.

    Returns
    -------
    Path
        The folder or the zip.
    """
    content: dict[str, str | bytes | None] = dict(BASE)
    content.update(files or {})
    data = {k: (v.encode("utf-8") if isinstance(v, str) else v) for k, v in content.items()}
    if as_zip:
        path = root / f"{name}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for file, raw in data.items():
                if raw is not None:
                    archive.writestr(file, raw)
        return path
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    for file, raw in data.items():
        if raw is not None:
            (path / file).write_bytes(raw)
    return path
