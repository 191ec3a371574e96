"""The demo territory's bus lines as data: stops served and departures per service and direction."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineDef:
    """One route: its stops outbound, and departures (minutes after midnight) per service."""

    route_id: str
    short_name: str
    long_name: str
    color: str
    stops: tuple[str, ...]
    departures: dict[tuple[str, int], tuple[int, ...]]
    """(service_id, direction_id) -> departure minutes from the first stop of that direction."""
    wheelchair: int = 1
    loop: bool = False


def minutes(text: str) -> int:
    """Minutes after midnight of ``HH:MM``."""
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _deps(*times: str) -> tuple[int, ...]:
    return tuple(minutes(t) for t in times)


LINES = [
    LineDef(
        "L10",
        "10",
        "Vernac Gare routière – Chambourg – Saint-Vidal-d'Auze",
        "E2001A",
        ("GARE_A", "MARCHE", "SABLONS", "PCHAMB", "QROUTES", "CHAMB", "BERGERIE", "STVID"),
        {
            ("SEM", 0): _deps("06:40", "07:35", "08:45", "12:10", "16:30", "17:40", "18:45"),
            ("SEM", 1): _deps("06:05", "07:00", "07:50", "12:05", "13:30", "17:15", "18:25"),
            ("SAM", 0): _deps("08:30", "12:10", "17:30", "24:30"),
            ("SAM", 1): _deps("07:30", "10:00", "14:00", "18:30"),
            ("DIM", 0): _deps("09:30", "17:30"),
            ("DIM", 1): _deps("10:45", "18:45"),
        },
    ),
    LineDef(
        "L20",
        "20",
        "Vernac Gare routière – Les Fontilles – Pérignat-la-Forêt",
        "0072BC",
        ("GARE_B", "HOPITAL", "PFONT", "MOULIN", "FONT", "CHAMBON", "PERI"),
        {
            ("SEM", 0): _deps("06:50", "07:45", "12:20", "16:45", "18:10"),
            ("SEM", 1): _deps("06:15", "07:20", "13:15", "17:50"),
            ("SAM", 0): _deps("09:00", "17:00"),
            ("SAM", 1): _deps("10:15", "18:15"),
        },
    ),
    LineDef(
        "L30",
        "30",
        "Vernac Gare routière – Beaulieu-sur-Couze",
        "2E8B57",
        ("GARE_C", "HDV", "VIGNES", "PBEAU", "PONT", "BEAU"),
        {},  # run as vehicle blocks, see _blocks
    ),
    LineDef(
        "L40",
        "40",
        "Vernac Gare routière – Le Mas-de-Ribes",
        "8E44AD",
        ("GARE_A", "POSTE", "RIVAUX", "A89", "CBLANCHE", "MAS"),
        {
            ("SEM", 0): _deps("07:00", "12:30", "17:15"),
            ("SEM", 1): _deps("06:25", "08:00", "18:10"),
            ("SAM", 0): _deps(
                "10:00",
            ),
            ("SAM", 1): _deps(
                "11:00",
            ),
        },
        wheelchair=0,
    ),
    LineDef(
        "NAV",
        "N",
        "Navette du centre-ville de Vernac",
        "F39C12",
        ("GARE_C", "HOPITAL", "TILLEULS", "COLLEGE", "FOIRE", "CHAUMES", "VIGNES", "ZA", "GARE_C"),
        {("SEM", 0): _deps("07:00"), ("SAM", 0): _deps("09:00")},
        loop=True,
    ),
    LineDef(
        "S1",
        "S1",
        "Scolaire Pérignat-la-Forêt – Collège Jules-Ferry",
        "7F8C8D",
        ("COLLEGE", "ZA", "PPERI", "CPERI", "PERI"),
        {("SCO", 1): _deps("07:05"), ("SCO", 0): _deps("16:50")},
        wheelchair=2,
    ),
]
FREQUENCIES = {  # template trip -> (start, end, headway_s, exact_times)
    "NAV-SEM-0-0700": [("07:00", "09:00", 600, 1), ("09:00", "19:00", 1200, 0)],
    "NAV-SAM-0-0900": [("09:00", "18:00", 1800, 0)],
}
