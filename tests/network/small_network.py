"""A small but complete network (streets, timetable with chained trips, shapes and transfers,
links) written as inline GTFS and OSM text: the base that store tests damage and swap."""

from __future__ import annotations

from pathlib import Path

from arverne.network.build import build_network
from tests.network.osm_text import write_osm
from tests.routing.gtfs_gen import write_feed

# A 4 x 4 street grid about 150 m apart, around four stops in Clermont-Ferrand.
LON0, LAT0, STEP = 3.0800, 45.7750, 0.002
GRID = {1 + i + 4 * j: (LON0 + i * STEP, LAT0 + j * STEP * 0.7) for i in range(4) for j in range(4)}
WAYS = [(100 + j, [1 + i + 4 * j for i in range(4)], {"highway": "residential"}) for j in range(4)]
WAYS += [(200 + i, [1 + i + 4 * j for j in range(4)], {"highway": "footway"}) for i in range(4)]

FEED = {
    "agency.txt": """
        agency_id,agency_name,agency_url,agency_timezone
        T2C,T2C,https://t2c.example,Europe/Paris
    """,
    "stops.txt": f"""
        stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station
        STA,Jaude,{LAT0 + 0.0007:.6f},{LON0 + 0.001:.6f},1,
        A,Jaude quai A,{LAT0 + 0.0007:.6f},{LON0 + 0.001:.6f},0,STA
        B,Gaillard,{LAT0 + 0.0007:.6f},{LON0 + 0.005:.6f},0,
        C,Delille,{LAT0 + 0.0035:.6f},{LON0 + 0.005:.6f},0,
        D,Carmes,{LAT0 + 0.0035:.6f},{LON0 + 0.001:.6f},0,
    """,
    "routes.txt": """
        route_id,agency_id,route_short_name,route_long_name,route_type
        R1,T2C,1,Jaude - Delille,3
        R2,T2C,2,Delille - Carmes,3
    """,
    "calendar.txt": """
        service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
        WK,1,1,1,1,1,0,0,20240304,20240308
    """,
    "trips.txt": """
        route_id,service_id,trip_id,block_id,shape_id
        R1,WK,T1,BL1,SH1
        R2,WK,T2,BL1,
        R1,WK,T3,,SH1
    """,
    "stop_times.txt": """
        trip_id,arrival_time,departure_time,stop_id,stop_sequence
        T1,08:00:00,08:00:00,A,1
        T1,08:05:00,08:05:00,B,2
        T1,08:10:00,08:10:00,C,3
        T2,08:12:00,08:12:00,C,1
        T2,08:20:00,08:20:00,D,2
        T3,09:00:00,09:00:00,A,1
        T3,09:05:00,09:05:00,B,2
        T3,09:10:00,09:10:00,C,3
    """,
    "shapes.txt": f"""
        shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence
        SH1,{LAT0 + 0.0007:.6f},{LON0 + 0.001:.6f},1
        SH1,{LAT0 + 0.0007:.6f},{LON0 + 0.005:.6f},2
        SH1,{LAT0 + 0.0035:.6f},{LON0 + 0.005:.6f},3
    """,
    "transfers.txt": """
        from_stop_id,to_stop_id,transfer_type,min_transfer_time
        B,C,2,120
    """,
}


def write_inputs(folder: Path) -> tuple[Path, Path]:
    """Write the feed folder and the OSM file under ``folder``; return (gtfs, osm)."""
    gtfs = write_feed(folder / "t2c", FEED)
    osm = write_osm(folder, GRID, WAYS, name="grid.osm")
    return gtfs, osm


def build_small(folder: Path, out: Path) -> Path:
    """Build the small network into ``out`` from inputs written under ``folder``."""
    gtfs, osm = write_inputs(folder)
    build_network([gtfs], osm, out)
    return out
