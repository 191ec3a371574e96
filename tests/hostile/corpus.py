"""A corpus of hostile inputs, made by code at test time: damaged feeds, streets, networks, tour
and dial-a-ride files, command lines and output paths, each with the outcome a user must get.

Every case is a function of a scratch folder and the shared clean inputs (:class:`Bases`) that
writes its damaged input and returns the command line to run and what must come of it.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.feeds.gtfs_fixtures import BASE, write_feed

REFUSED = 3
"""Exit code of an input refused with a one-sentence reason."""
BAD_COMMAND_LINE = 2
NOTICES = 1
"""validate: notices at or above ERROR; plan: nothing found."""


@dataclass(frozen=True)
class Bases:
    """Clean inputs shared by every case (never damaged in place: cases copy them)."""

    feed_dir: Path
    network: Path
    problem: Path
    darp: Path
    osm: Path


@dataclass(frozen=True)
class Run:
    """A command line and its expected outcome."""

    argv: list[str]
    exit: frozenset[int]
    must_keep: tuple[Path, ...] = ()
    """Files that must still exist, unchanged, after the run (inputs, a user's files)."""
    says: str | None = None
    """A word the output must contain (the reason), case-insensitive."""


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path, Bases], Run]
    tags: tuple[str, ...] = field(default=())


def _exit(*codes: int) -> frozenset[int]:
    return frozenset(codes)


# --------------------------------------------------------------------------- GTFS damage
def _replace_row(text: str, row: int, column: str, value: str) -> str:
    """``text`` with the field ``column`` of data row ``row`` (1 = first after the header)."""
    lines = text.splitlines()
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    lines[row] = ",".join(cells)
    return "\n".join(lines) + "\n"


# (file, column, bad value): each row-level damage quarantines a row or a value with an ERROR
# notice, and the rest of the feed loads (validate exits 1, build still builds).
_BAD_VALUES: list[tuple[str, str, str]] = [
    *[
        ("stop_times.txt", col, v)
        for col in ("arrival_time", "departure_time")
        for v in ("25:61:00", "-1:00:00", "abc", "8:0", "99999999:00:00", "１０:00:00", "nan")
    ],
    *[("stop_times.txt", "stop_sequence", v) for v in ("-1", "x", "1e99", "9" * 40, "2.5")],
    *[("stop_times.txt", "stop_id", v) for v in ("NOPE", "")],
    *[("stop_times.txt", "pickup_type", v) for v in ("-999", "7", "x")],
    *[("stops.txt", "stop_lat", v) for v in ("999", "nan", "inf", "-91", "x", "")],
    *[("stops.txt", "stop_lon", v) for v in ("181", "-inf", "1e308", "x")],
    *[("stops.txt", "location_type", v) for v in ("9", "-1", "x")],
    *[("routes.txt", "route_type", v) for v in ("-3", "x", "99999999999999999999")],
    *[("routes.txt", "agency_id", v) for v in ("NOPE",)],
    *[("trips.txt", "route_id", v) for v in ("NOPE", "")],
    *[("trips.txt", "service_id", v) for v in ("NOPE",)],
    *[("calendar.txt", "monday", v) for v in ("2", "x", "")],
    *[("calendar.txt", "start_date", v) for v in ("20241301", "2024-01-01", "x", "00000000")],
    *[("calendar.txt", "end_date", v) for v in ("20231231", "99999999")],
    *[("calendar_dates.txt", "date", v) for v in ("20240230", "x")],
    *[("calendar_dates.txt", "exception_type", v) for v in ("3", "x")],
]


_ENUMERATIONS = {"pickup_type", "location_type", "route_type", "monday"}
"""Columns whose out-of-spec integers are unexpected_enum_value: a WARNING, as in the canonical
validator (validate exits 0), where other bad values are ERRORs (exit 1). An exception_type
outside 1 and 2 is an ERROR: the exception cannot be applied, its row is quarantined."""


def _bad_value_case(file: str, column: str, value: str, command: str) -> Case:
    def make(tmp: Path, bases: Bases) -> Run:
        feed = write_feed(tmp, {file: _replace_row(BASE[file], 1, column, value)})
        if command == "validate":
            warning = column in _ENUMERATIONS and value.lstrip("-").isdigit() and len(value) < 10
            return Run(["validate", str(feed)], _exit(0 if warning else NOTICES), (feed,))
        return Run(["build", "--gtfs", str(feed), "-o", str(tmp / "net")], _exit(0, REFUSED))

    return Case(f"gtfs-{command}-{file}-{column}={value[:12]!r}", make, ("gtfs",))


# Whole-file damage: what each file becomes, and whether validate refuses the feed (exit 3)
# or reports notices (exit 1). A feed without a usable required file is refused.
_REQUIRED = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
_FILE_DAMAGE: dict[str, Callable[[str], bytes]] = {
    "empty": lambda t: b"",
    "header-only": lambda t: t.splitlines()[0].encode() + b"\n",
    "no-header-newline": lambda t: t.splitlines()[0].encode(),
    "binary": lambda t: bytes(range(256)) * 40,
    "latin1": lambda t: t.replace("One", "Gérard").encode("latin-1"),
    "utf16": lambda t: t.encode("utf-16"),
    "nul-bytes": lambda t: t.encode().replace(b",", b"\x00,", 3),
    "crlf-mixed": lambda t: t.replace("\n", "\r\n", 2).encode(),
    "unterminated-quote": lambda t: t.replace(",", ',"', 1).encode(),
    "extra-field": lambda t: (t.rstrip("\n") + ",extra,extra\n").encode(),
    "short-row": lambda t: (t + "X\n").encode(),
    "duplicate-rows": lambda t: (t + "\n".join(t.splitlines()[1:]) + "\n").encode(),
    "header-missing-first-column": lambda t: (
        ",".join(["renamed", *t.splitlines()[0].split(",")[1:]])
        + "\n"
        + "\n".join(t.splitlines()[1:])
        + "\n"
    ).encode(),
    "long-field-1MB": lambda t: (t.rstrip("\n") + "x" * 1_000_000 + "\n").encode(),
    "million-blank-lines": lambda t: t.encode() + b"\n" * 1_000_000,
    "control-chars": lambda t: t.replace("A", "\x1b[31m[/x][bold]", 1).encode(),
}
_REFUSES: dict[str, set[str]] = {
    # damage kinds after which a required file cannot be used at all: its header is gone
    # (empty, binary, a quote left open or NUL bytes in it), or its only row is (agency.txt and
    # routes.txt hold one row, which an extra field quarantines)
    "empty": set(_REQUIRED),
    "header-only": set(_REQUIRED),
    "no-header-newline": set(_REQUIRED),
    "binary": set(_REQUIRED),
    "unterminated-quote": set(_REQUIRED),
    "nul-bytes": set(_REQUIRED) - {"agency.txt"},  # its time zone column is still readable
    "extra-field": {"agency.txt", "routes.txt"},
    "header-missing-first-column": {"stops.txt", "routes.txt", "trips.txt", "stop_times.txt"},
}
_EITHER = {"long-field-1MB"}
"""A field past the length bound: its row quarantined with a notice, or its file refused."""


def _file_damage_case(file: str, kind: str) -> Case:
    def make(tmp: Path, bases: Bases) -> Run:
        feed = write_feed(tmp, {file: _FILE_DAMAGE[kind](BASE[file])}, as_zip=True)
        refused = file in _REFUSES.get(kind, set())
        expect = _exit(REFUSED) if refused else _exit(0, NOTICES)
        return Run(
            ["validate", str(feed)],
            _exit(NOTICES, REFUSED) if kind in _EITHER else expect,
            must_keep=(feed,),
        )

    return Case(f"gtfs-file-{file}-{kind}", make, ("gtfs",))


def _zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def _base_members() -> dict[str, bytes]:
    return {k: v.encode() for k, v in BASE.items()}


_ARCHIVES: dict[str, tuple[Callable[[], bytes], int]] = {
    "not-a-zip": (lambda: b"PK\x03\x04 this is not a zip archive" * 10, REFUSED),
    "empty-file": (lambda: b"", REFUSED),
    "empty-zip": (lambda: _zip_bytes({}), REFUSED),
    "truncated-zip": (lambda: _zip_bytes(_base_members())[:300], REFUSED),
    "truncated-tail": (lambda: _zip_bytes(_base_members())[:-30], REFUSED),
    "zip-of-unrelated": (lambda: _zip_bytes({"readme.md": b"hello"}), REFUSED),
    "stored-members": (lambda: _zip_bytes(_base_members(), zipfile.ZIP_STORED), 0),
    "bomb-2GB-stop-times": (lambda: b"", REFUSED),  # written in pieces by _bomb_make
    "zip-in-zip": (lambda: _zip_bytes({"inner.zip": _zip_bytes(_base_members())}), REFUSED),
    "gzip-not-zip": (lambda: gzip.compress(BASE["stops.txt"].encode()), REFUSED),
    "member-names-traversal": (
        lambda: _zip_bytes({**_base_members(), "../../evil.txt": b"x"}),
        0,
    ),
    "duplicate-member": (
        lambda: _zip_bytes({**_base_members(), "stops.txt ": BASE["stops.txt"].encode()}),
        0,
    ),
}


def _bomb_make(tmp: Path) -> Path:
    """A 2.2 GB stop_times.txt written to the zip in pieces (never whole in memory)."""
    path = tmp / "bomb.zip"
    row = b"T1,08:00:00,08:00:00,S1,1,0,0\n" * 100_000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in BASE.items():
            if name != "stop_times.txt":
                archive.writestr(name, text)
        with archive.open("stop_times.txt", "w", force_zip64=True) as member:
            member.write(BASE["stop_times.txt"].encode())
            for _ in range(2_200_000_000 // len(row)):
                member.write(row)
    return path


def _archive_case(kind: str) -> Case:
    def make(tmp: Path, bases: Bases) -> Run:
        make_bytes, code = _ARCHIVES[kind]
        if kind.startswith("bomb"):
            path = _bomb_make(tmp)
        else:
            path = tmp / "feed.zip"
            path.write_bytes(make_bytes())
        return Run(["validate", str(path)], _exit(code) if code else _exit(0, NOTICES), (path,))

    return Case(
        f"gtfs-archive-{kind}", make, ("gtfs", "slow-input") if "bomb" in kind else ("gtfs",)
    )


def _path_kind_cases() -> Iterator[Case]:
    def fifo(tmp: Path, bases: Bases) -> Run:
        path = tmp / "feed.zip"
        os.mkfifo(path)
        return Run(["validate", str(path)], _exit(REFUSED))

    def fifo_member(tmp: Path, bases: Bases) -> Run:
        feed = write_feed(tmp, {"stops.txt": None})
        os.mkfifo(feed / "stops.txt")
        return Run(["validate", str(feed)], _exit(REFUSED))

    def device(tmp: Path, bases: Bases) -> Run:
        return Run(["validate", "/dev/zero"], _exit(REFUSED))

    def missing(tmp: Path, bases: Bases) -> Run:
        return Run(["validate", str(tmp / "nope.zip")], _exit(REFUSED))

    def empty_dir(tmp: Path, bases: Bases) -> Run:
        (tmp / "feed").mkdir()
        return Run(["validate", str(tmp / "feed")], _exit(REFUSED))

    def symlink_loop(tmp: Path, bases: Bases) -> Run:
        (tmp / "a").symlink_to(tmp / "b")
        (tmp / "b").symlink_to(tmp / "a")
        return Run(["validate", str(tmp / "a")], _exit(REFUSED))

    def unreadable_member(tmp: Path, bases: Bases) -> Run:
        feed = write_feed(tmp)
        (feed / "stops.txt").unlink()
        (feed / "stops.txt").mkdir()  # a folder where a file should be
        return Run(["validate", str(feed)], _exit(REFUSED))

    for fn in (fifo, fifo_member, device, missing, empty_dir, symlink_loop, unreadable_member):
        yield Case(f"gtfs-path-{fn.__name__}", fn, ("gtfs",))


def _calendar_span_case(tmp: Path, bases: Bases) -> Run:
    """4,000 services each running daily from 1900 to 2999 (4.9 GB builds before the bound)."""
    services = [f"S{i}" for i in range(4000)]
    cal = (
        BASE["calendar.txt"].splitlines()[0]
        + "\n"
        + "".join(f"{s},1,1,1,1,1,1,1,19000101,29991231\n" for s in services)
    )
    trips = (
        BASE["trips.txt"].splitlines()[0]
        + "\n"
        + "".join(f"R1,{s},T{i},East,0,,\n" for i, s in enumerate(services[:50]))
    )
    stop_times = (
        BASE["stop_times.txt"].splitlines()[0]
        + "\n"
        + "".join(
            f"T{i},08:00:00,08:00:00,S1,1,,\nT{i},08:10:00,08:10:00,S2,2,,\n" for i in range(50)
        )
    )
    feed = write_feed(
        tmp,
        {
            "calendar.txt": cal,
            "trips.txt": trips,
            "stop_times.txt": stop_times,
            "calendar_dates.txt": None,
        },
        as_zip=True,
    )
    return Run(["build", "--gtfs", str(feed), "-o", str(tmp / "net")], _exit(REFUSED), (feed,))


def _huge_agency_name_case(tmp: Path, bases: Bases) -> Run:
    """A 300 MB agency_name (validate used 4.4 GB on a 1 GiB one)."""
    path = tmp / "feed.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in BASE.items():
            if name != "agency.txt":
                archive.writestr(name, text)
        with archive.open("agency.txt", "w", force_zip64=True) as member:
            member.write(b"agency_id,agency_name,agency_url,agency_timezone\nA,")
            chunk = b"N" * 1_000_000
            for _ in range(300):
                member.write(chunk)
            member.write(b",https://example.org,Europe/Paris\n")
    return Run(["validate", str(path)], _exit(NOTICES, REFUSED), (path,))


def _many_notices_case(tmp: Path, bases: Bases) -> Run:
    """A million bad times: validate must keep a bounded number of notices per code."""
    rows = "".join(f"T1,25:61:00,25:61:00,S1,{i},,\n" for i in range(2, 1_000_000))
    feed = write_feed(tmp, {"stop_times.txt": BASE["stop_times.txt"] + rows}, as_zip=True)
    return Run(["validate", str(feed), "--json", str(tmp / "r.json")], _exit(NOTICES), (feed,))


def gtfs_cases() -> Iterator[Case]:
    for file, column, value in _BAD_VALUES:
        yield _bad_value_case(file, column, value, "validate")
    for file, column, value in _BAD_VALUES[::4]:
        yield _bad_value_case(file, column, value, "build")
    for file in BASE:
        for kind in _FILE_DAMAGE:
            yield _file_damage_case(file, kind)
    for kind in _ARCHIVES:
        yield _archive_case(kind)
    yield from _path_kind_cases()
    yield Case("gtfs-calendar-span-1900-2999", _calendar_span_case, ("gtfs", "slow-input"))
    yield Case("gtfs-agency-name-300MB", _huge_agency_name_case, ("gtfs", "slow-input"))
    yield Case("gtfs-million-notices", _many_notices_case, ("gtfs", "slow-input"))


# --------------------------------------------------------------------------- OSM damage
_OSM_HEAD = "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='t'>\n"


def _osm_text(nodes: str, ways: str) -> str:
    return _OSM_HEAD + nodes + ways + "</osm>\n"


_GOOD_NODES = (
    "<node id='1' lat='45.7770' lon='3.0820'/>\n"
    "<node id='2' lat='45.7790' lon='3.0920'/>\n"
    "<node id='3' lat='45.7810' lon='3.1020'/>\n"
)
_GOOD_WAY = (
    "<way id='10'><nd ref='1'/><nd ref='2'/><nd ref='3'/><tag k='highway' v='residential'/></way>\n"
)

# (name, OSM text, expected exit of a build with it). In XML, libosmium's parser stops at the
# first element it cannot read (a coordinate of 999, nan, inf or text, an id past its range, a
# tag over 1,024 bytes): the file is refused (3) with its reason (README, Limits); elements it
# reads but Arverne cannot use are skipped with a notice and the build goes on (0).
_OSM_CASES: list[tuple[str, str, int]] = [
    ("lat-999", _osm_text(_GOOD_NODES.replace("45.7790", "999"), _GOOD_WAY), REFUSED),
    ("lat-nan", _osm_text(_GOOD_NODES.replace("45.7790", "nan"), _GOOD_WAY), REFUSED),
    ("lon-inf", _osm_text(_GOOD_NODES.replace("3.0920", "inf"), _GOOD_WAY), REFUSED),
    ("lat-text", _osm_text(_GOOD_NODES.replace("45.7790", "north"), _GOOD_WAY), REFUSED),
    (
        "way-repeats-node",
        _osm_text(_GOOD_NODES, _GOOD_WAY.replace("<nd ref='2'/>", "<nd ref='1'/><nd ref='1'/>")),
        0,
    ),
    # a way of one node is no street: with nothing else, the extract has no street (refused)
    (
        "way-one-node",
        _osm_text(
            _GOOD_NODES, "<way id='10'><nd ref='1'/><tag k='highway' v='residential'/></way>\n"
        ),
        REFUSED,
    ),
    ("way-missing-node", _osm_text(_GOOD_NODES, _GOOD_WAY.replace("ref='3'", "ref='99'")), 0),
    (
        "id-2^63-1",
        _osm_text(
            _GOOD_NODES.replace("id='3'", "id='9223372036854775807'"),
            _GOOD_WAY.replace("ref='3'", "ref='9223372036854775807'"),
        ),
        REFUSED,
    ),
    (
        "id-negative",
        _osm_text(
            _GOOD_NODES.replace("id='3'", "id='-3'"), _GOOD_WAY.replace("ref='3'", "ref='-3'")
        ),
        0,
    ),
    (
        "tag-10MB",
        _osm_text(
            _GOOD_NODES,
            _GOOD_WAY.replace(
                "v='residential'/>", "v='residential'/><tag k='name' v='" + "n" * 10_000_000 + "'/>"
            ),
        ),
        REFUSED,
    ),
    (
        "maxspeed-garbage",
        _osm_text(
            _GOOD_NODES, _GOOD_WAY.replace("/></way>", "/><tag k='maxspeed' v='-1e308'/></way>")
        ),
        0,
    ),
    (
        "oneway-garbage",
        _osm_text(_GOOD_NODES, _GOOD_WAY.replace("/></way>", "/><tag k='oneway' v='[/x]'/></way>")),
        0,
    ),
    ("no-ways", _osm_text(_GOOD_NODES, ""), REFUSED),
    ("empty-osm", _osm_text("", ""), REFUSED),
    ("not-xml", "this is not xml at all\n", REFUSED),
    ("truncated-xml", _osm_text(_GOOD_NODES, _GOOD_WAY)[:150], REFUSED),
    (
        "billion-laughs",
        "<?xml version='1.0'?>\n<!DOCTYPE lolz [<!ENTITY lol 'lol'>"
        + "".join(
            f"<!ENTITY lol{i} '{('&lol' + (str(i - 1) if i > 1 else '') + ';') * 10}'>"
            for i in range(1, 10)
        )
        + "]>\n<osm version='0.6'><node id='1' lat='45' lon='3'><tag k='name' v='&lol9;'/></node></osm>\n",
        REFUSED,
    ),
    (
        "external-entity",
        "<?xml version='1.0'?>\n<!DOCTYPE osm [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n<osm version='0.6'><node id='1' lat='45' lon='3'><tag k='name' v='&x;'/></node></osm>\n",
        REFUSED,
    ),
]


def _osm_case(name: str, text: str, code: int, suffix: str = ".osm") -> Case:
    def make(tmp: Path, bases: Bases) -> Run:
        osm = tmp / f"streets{suffix}"
        data = text.encode()
        osm.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
        argv = ["build", "--gtfs", str(bases.feed_dir), "--osm", str(osm), "-o", str(tmp / "net")]
        return Run(argv, _exit(code), (osm, bases.feed_dir))

    return Case(f"osm{suffix}-{name}", make, ("osm",))


def osm_cases() -> Iterator[Case]:
    for name, text, code in _OSM_CASES:
        yield _osm_case(name, text, code)
    for name, text, code in _OSM_CASES[::3]:
        yield _osm_case(name, text, code, ".osm.gz")

    def pbf_garbage(tmp: Path, bases: Bases) -> Run:
        osm = tmp / "streets.osm.pbf"
        osm.write_bytes(b"\x00\x00\x00\x0d" + os.urandom(2000))
        return Run(
            ["build", "--gtfs", str(bases.feed_dir), "--osm", str(osm), "-o", str(tmp / "n")],
            _exit(REFUSED),
        )

    def pbf_truncated(tmp: Path, bases: Bases) -> Run:
        osm = tmp / "streets.osm.pbf"
        osm.write_bytes(bases.osm.read_bytes()[:200])
        return Run(
            ["build", "--gtfs", str(bases.feed_dir), "--osm", str(osm), "-o", str(tmp / "n")],
            _exit(REFUSED),
        )

    def osm_fifo(tmp: Path, bases: Bases) -> Run:
        osm = tmp / "streets.osm.pbf"
        os.mkfifo(osm)
        return Run(
            ["build", "--gtfs", str(bases.feed_dir), "--osm", str(osm), "-o", str(tmp / "n")],
            _exit(REFUSED),
        )

    def osm_unknown_suffix(tmp: Path, bases: Bases) -> Run:
        osm = tmp / "streets.txt"
        osm.write_text("hello")
        return Run(
            ["build", "--gtfs", str(bases.feed_dir), "--osm", str(osm), "-o", str(tmp / "n")],
            _exit(REFUSED),
        )

    for fn in (pbf_garbage, pbf_truncated, osm_fifo, osm_unknown_suffix):
        yield Case(f"osm-{fn.__name__}", fn, ("osm",))


# --------------------------------------------------------------------------- network damage
def _copy_network(bases: Bases, tmp: Path) -> tuple[Path, Path]:
    """A private copy of the clean network, pointer and version alike; returns (the path to
    give, the folder of the version it points at)."""
    dst = tmp / "net"
    shutil.copytree(bases.network, dst, symlinks=True)
    current = dst / "current"
    return dst, (current.resolve() if current.exists() else dst)


def _arrays(real: Path) -> list[Path]:
    return sorted(real.rglob("*.npy"))


def _npy_damage(kind: str, index: int) -> Callable[[Path, Bases], Run]:
    def make(tmp: Path, bases: Bases) -> Run:
        import numpy as np

        net, real = _copy_network(bases, tmp)
        arrays = _arrays(real)
        if kind in ("wrong-shape", "out-of-range"):  # values to shift: numbers, not text,
            # in arrays that hold some, and not labels where any value is legal (route types)
            arrays = [
                a
                for a in arrays
                if np.load(a).dtype.kind in "iuf" and np.load(a).size and a.stem != "route_type"
            ]
        target = arrays[index % len(arrays)]
        data = target.read_bytes()
        if kind == "truncated":
            target.write_bytes(data[: max(len(data) - 8, 10)])
        elif kind == "zero-bytes":
            target.write_bytes(b"")
        elif kind == "header-garbage":
            target.write_bytes(b"\x93NUMPY garbage" + data[14:])
        elif kind == "wrong-dtype":
            arr = np.load(target)
            if arr.dtype.kind in "US":  # text: numbers of its length instead
                np.save(target, np.zeros(arr.shape, np.int8))
            else:
                np.save(target, arr.astype(np.float32 if arr.dtype.kind in "iu" else np.int8))
        elif kind == "wrong-shape":  # one row short (three rows where there were none)
            arr = np.load(target)
            np.save(target, arr[:-1] if len(arr) else np.zeros(3, arr.dtype))
        elif kind == "out-of-range":
            arr = np.load(target)
            if arr.dtype.kind in "iu" and arr.size:
                arr = arr.copy()
                arr.flat[arr.size // 2] = np.iinfo(arr.dtype).max // 2
            elif arr.dtype.kind == "f" and arr.size:
                arr = arr.copy()
                arr.flat[0] = np.nan
            np.save(target, arr)
        elif kind == "replaced-by-fifo":
            target.unlink()
            os.mkfifo(target)
        elif kind == "replaced-by-dir":
            target.unlink()
            target.mkdir()
        elif kind == "object-array":
            np.save(target, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        return Run(["info", str(net)], _exit(REFUSED))

    return make


_NPY_KINDS = (
    "truncated",
    "zero-bytes",
    "header-garbage",
    "wrong-dtype",
    "wrong-shape",
    "out-of-range",
    "replaced-by-fifo",
    "replaced-by-dir",
    "object-array",
)


def _manifest_damage(kind: str) -> Callable[[Path, Bases], Run]:
    def make(tmp: Path, bases: Bases) -> Run:
        net, real = _copy_network(bases, tmp)
        manifest = real / "manifest.json"
        doc = json.loads(manifest.read_text())
        text: str
        if kind == "not-json":
            text = "{not json"
        elif kind == "array":
            text = "[1, 2, 3]"
        elif kind == "empty":
            text = ""
        elif kind == "schema-999":
            text = json.dumps({**doc, "schema_version": 999})
        elif kind == "schema-string":
            text = json.dumps({**doc, "schema_version": "1"})
        elif kind == "parts-list":
            text = json.dumps({**doc, "parts": [1]})
        elif kind == "counts-negative":
            text = json.dumps({**doc, "counts": {k: -1 for k in doc.get("counts", {})}})
        elif kind == "missing-parts":
            text = json.dumps({k: v for k, v in doc.items() if k != "parts"})
        elif kind == "timezone-bogus":
            doc["parts"]["timetable"]["timezone"] = "Mars/Olympus"
            text = json.dumps(doc)
        elif kind == "first-date-bogus":
            doc["parts"]["timetable"]["first_date"] = "2024-13-45"
            text = json.dumps(doc)
        elif kind == "n-days-huge":
            doc["parts"]["timetable"]["n_days"] = 10**12
            text = json.dumps(doc)
        elif kind == "deep-nesting":
            text = "[" * 100_000 + "]" * 100_000
        else:  # removed
            manifest.unlink()
            return Run(["info", str(net)], _exit(REFUSED))
        manifest.write_text(text)
        return Run(["info", str(net)], _exit(REFUSED))

    return make


_MANIFEST_KINDS = (
    "not-json",
    "array",
    "empty",
    "schema-999",
    "schema-string",
    "parts-list",
    "counts-negative",
    "missing-parts",
    "timezone-bogus",
    "first-date-bogus",
    "n-days-huge",
    "deep-nesting",
    "removed",
)


def network_cases() -> Iterator[Case]:
    for kind in _NPY_KINDS:
        for index in range(3):
            yield Case(f"network-npy-{kind}-{index}", _npy_damage(kind, index * 7), ("network",))
    for kind in _MANIFEST_KINDS:
        yield Case(f"network-manifest-{kind}", _manifest_damage(kind), ("network",))

    def a_file(tmp: Path, bases: Bases) -> Run:
        (tmp / "net").write_text("not a network")
        return Run(["info", str(tmp / "net")], _exit(REFUSED))

    def empty_dir(tmp: Path, bases: Bases) -> Run:
        (tmp / "net").mkdir()
        return Run(["info", str(tmp / "net")], _exit(REFUSED))

    def a_feed(tmp: Path, bases: Bases) -> Run:
        return Run(["info", str(bases.feed_dir)], _exit(REFUSED))

    def plan_on_damaged(tmp: Path, bases: Bases) -> Run:
        run = _npy_damage("out-of-range", 0)(tmp, bases)
        return Run(
            [
                "plan",
                run.argv[1],
                "--from",
                "45.777,3.082",
                "--to",
                "45.783,3.112",
                "--at",
                "2024-01-08 07:55",
            ],
            _exit(REFUSED),
        )

    for fn in (a_file, empty_dir, a_feed, plan_on_damaged):
        yield Case(f"network-{fn.__name__}", fn, ("network",))


# --------------------------------------------------------------------------- tour problems
_UNSERVED = [(("places", 1, "lat"), 999)]
"""Damage after which the problem is still valid but a visit cannot be served: a latitude of
999 is a legal planar coordinate, 1,000 km from the others, so the visit is reported unassigned
with its reason (never served)."""


def _problem_damage(path: tuple[str | int, ...], value: object) -> Callable[[Path, Bases], Run]:
    def make(tmp: Path, bases: Bases) -> Run:
        doc = json.loads(bases.problem.read_text())
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        problem = tmp / "problem.json"
        problem.write_text(json.dumps(doc))
        argv = ["tours", str(bases.network), str(problem), "--time", "1", "-o", str(tmp / "out")]
        if any(path == p and value == v for p, v in _UNSERVED):
            return Run(argv, _exit(0), says="unassigned visit p1")
        return Run(argv, _exit(REFUSED))

    return make


_PROBLEM_DAMAGE: list[tuple[tuple[str | int, ...], object]] = [
    (("vehicles", 0, "capacity"), True),
    (("vehicles", 0, "capacity"), [1e300]),
    (("vehicles", 0, "capacity"), [-1]),
    (("vehicles", 0, "capacity"), ["ten"]),
    (("vehicles", 0, "capacity"), [1, 2, 3]),
    (("vehicles", 0, "shift"), ["16:00", "08:00"]),
    (("vehicles", 0, "shift"), "all day"),
    (("vehicles", 0, "start_depot"), "nowhere"),
    (("vehicles", 0, "profile"), "rocket"),
    (("vehicles", 0, "max_duration"), "-1:00"),
    (("vehicles",), []),
    (("vehicles",), {"id": "n1"}),
    (("visits", 0, "windows"), 5),
    (("visits", 0, "windows"), [["12:00", "08:00"]]),
    (("visits", 0, "windows"), [["8", "x"]]),
    (("visits", 0, "service"), "-0:20"),
    (("visits", 0, "service"), "forever"),
    (("visits", 0, "demand"), [1e300]),
    (("visits", 0, "demand"), ["NaN"]),
    (("visits", 0, "place"), "nowhere"),
    (("visits", 0, "priority"), "high"),
    (("visits", 0, "penalty"), -5),
    (("visits", 1, "id"), "p1"),
    (("places", 1, "lat"), 999),  # see _UNSERVED: coordinates may be planar
    (("places", 1, "lon"), "east"),
    (("places", 1, "lat"), None),
    (("places",), "none"),
    (("depots", 0, "open"), "25:99"),
    (("dimensions",), [1, 2]),
]


def _raw_problem(name: str, text: bytes, suffix: str = ".json") -> Callable[[Path, Bases], Run]:
    def make(tmp: Path, bases: Bases) -> Run:
        problem = tmp / f"problem{suffix}"
        problem.write_bytes(text)
        argv = ["tours", str(bases.network), str(problem), "--time", "1", "-o", str(tmp / "out")]
        return Run(argv, _exit(REFUSED))

    return make


_RAW_PROBLEMS: dict[str, bytes] = {
    "deep-nesting": b"[" * 100_000 + b"]" * 100_000,
    "digits-5000": b'{"vehicles": [{"capacity": [' + b"9" * 5000 + b"]}]}",
    "nan-literal": b'{"vehicles": NaN}',
    "not-json": b"{this is not json",
    "empty": b"",
    "binary": bytes(range(256)),
    "top-level-list": b"[1, 2, 3]",
    "utf16": json.dumps({"name": "t"}).encode("utf-16"),
}


def _csv_problem(tmp: Path, bases: Bases, visits: bytes) -> Path:
    folder = tmp / "problem"
    folder.mkdir()
    (folder / "places.csv").write_text("id,lon,lat\nc,3.08,45.77\nh1,3.09,45.78\n")
    (folder / "depots.csv").write_text("id,place,open,close\nbase,c,07:00,20:00\n")
    (folder / "vehicles.csv").write_text(
        "id,start_depot,shift_start,shift_end,capacity_kits\nn1,base,08:00,16:00,10\n"
    )
    (folder / "visits.csv").write_bytes(visits)
    return folder


def _csv_case(visits: bytes, expect: int) -> Callable[[Path, Bases], Run]:
    def make(tmp: Path, bases: Bases) -> Run:
        folder = _csv_problem(tmp, bases, visits)
        argv = ["tours", str(bases.network), str(folder), "--time", "1", "-o", str(tmp / "out")]
        return Run(argv, _exit(expect))

    return make


_CSV_VISITS: dict[str, tuple[bytes, int]] = {
    "windows-1252": (
        "id,place,service,demand_kits\nVisite chez Mme Bérénice,h1,600,1\n".encode("cp1252"),
        0,
    ),
    "semicolons": (b"id;place;service;demand_kits\np1;h1;600;1\n", 0),
    "demand-nan": (b"id,place,service,demand_kits\np1,h1,600,nan\n", REFUSED),
    "demand-inf": (b"id,place,service,demand_kits\np1,h1,600,inf\n", REFUSED),
    "service-1e300": (b"id,place,service,demand_kits\np1,h1,1e300,1\n", REFUSED),
    "window-garbage": (b"id,place,service,windows\np1,h1,600,08:00-\n", REFUSED),
    "place-unknown": (b"id,place,service\np1,nowhere,600\n", REFUSED),
    "lonlat-nan": (b"id,lon,lat,service\np1,nan,nan,600\n", REFUSED),
    "missing-id": (b"place,service\nh1,600\n", REFUSED),
    "binary": (bytes(range(256)) * 4, REFUSED),
    "empty": (b"", 0),  # no visits: nothing to plan, said so
    "markup-id": (b"id,place,service\n[/x][bold]p1,h1,600\n", 0),
}


def tour_cases() -> Iterator[Case]:
    for path, value in _PROBLEM_DAMAGE:
        name = ".".join(map(str, path)) + "=" + json.dumps(value)[:20]
        yield Case(f"tours-json-{name}", _problem_damage(path, value), ("tours",))
    for name, text in _RAW_PROBLEMS.items():
        yield Case(f"tours-raw-{name}", _raw_problem(name, text), ("tours",))
    for name, (visits, code) in _CSV_VISITS.items():
        yield Case(f"tours-csv-{name}", _csv_case(visits, code), ("tours",))

    def far_visit(tmp: Path, bases: Bases) -> Run:
        """A visit at 0,0 — 5,000 km from everything: refused (3) or unassigned with a reason
        (0, and the output says so), never served."""
        doc = json.loads(bases.problem.read_text())
        doc["places"].append({"id": "nowhere", "lon": 0.0, "lat": 0.0})
        doc["visits"].append({"id": "far", "place": "nowhere", "service": 60})
        problem = tmp / "problem.json"
        problem.write_text(json.dumps(doc))
        argv = ["tours", str(bases.network), str(problem), "--time", "1", "-o", str(tmp / "out")]
        return Run(argv, _exit(0, REFUSED), says="far")

    yield Case("tours-visit-5000-km-away", far_visit, ("tours",))


# --------------------------------------------------------------------------- dial-a-ride
def _darp_case(name: str, damage: Callable[[list[str]], list[str]]) -> Case:
    def make(tmp: Path, bases: Bases) -> Run:
        lines = bases.darp.read_text().splitlines()
        path = tmp / "instance.txt"
        path.write_text("\n".join(damage(lines)) + "\n", encoding="utf-8", errors="surrogateescape")
        return Run(["darp", str(path), "--time", "1"], _exit(REFUSED))

    return Case(f"darp-{name}", make, ("darp",))


def _set_field(row: int, col: int, value: str) -> Callable[[list[str]], list[str]]:
    def damage(lines: list[str]) -> list[str]:
        cells = lines[row].split()
        cells[col] = value
        return [*lines[:row], " ".join(cells), *lines[row + 1 :]]

    return damage


def darp_cases() -> Iterator[Case]:
    for value in ("nan", "inf", "1e300", "9" * 5000, "-1", "x", "0"):
        yield _darp_case(f"header-vehicles={value[:8]}", _set_field(0, 0, value))
        yield _darp_case(f"header-capacity={value[:8]}", _set_field(0, 3, value))
    for value in ("nan", "inf", "1e300", "9" * 5000, "x"):
        yield _darp_case(f"node-x={value[:8]}", _set_field(2, 1, value))
        yield _darp_case(f"node-window-end={value[:8]}", _set_field(2, 6, value))
    yield _darp_case("empty", lambda lines: [])
    yield _darp_case("header-only", lambda lines: lines[:1])
    yield _darp_case("short-row", lambda lines: [*lines[:3], "1 2", *lines[4:]])
    yield _darp_case("cp1252", lambda lines: [*lines, "é\udce9"])
    yield _darp_case("unbalanced-loads", _set_field(2, 4, "5"))


# --------------------------------------------------------------------------- command lines
def _plan(bases: Bases, *extra: str, at: str = "2024-01-08 07:55") -> list[str]:
    return [
        "plan",
        str(bases.network),
        "--from",
        "45.777,3.082",
        "--to",
        "45.783,3.112",
        "--at",
        at,
        *extra,
    ]


def cli_cases() -> Iterator[Case]:
    bad_dates = [
        "0001-01-01 00:00",
        "9999-12-31 23:59",
        "2024-02-30 08:00",
        "2024-01-08 25:00",
        "yesterday",
        "",
        "2024-01-08T07:55",
        "1900-01-01 00:00",
    ]
    for at in bad_dates:
        yield Case(
            f"cli-plan-at={at!r}",
            lambda t, b, at=at: Run(_plan(b, at=at), _exit(REFUSED, NOTICES)),
            ("cli",),
        )
    bad_points = ["999,999", "nan,nan", "inf,3", "45.7", "a,b", "45.7;3.0", "-91,0", ""]
    for point in bad_points:

        def make(t: Path, b: Bases, point: str = point) -> Run:
            argv = _plan(b)
            argv[argv.index("--from") + 1] = point
            return Run(argv, _exit(REFUSED))

        yield Case(f"cli-plan-from={point!r}", make, ("cli",))
    for window in ("-5", "100000000", "x"):
        code = BAD_COMMAND_LINE if window == "x" else REFUSED
        yield Case(
            f"cli-plan-window={window}",
            lambda t, b, w=window, c=code: Run(_plan(b, "--window", w), _exit(c)),
            ("cli",),
        )
    for value in ("nan", "inf", "-1", "-inf", "1e400", "x"):

        def tours(t: Path, b: Bases, value: str = value) -> Run:
            argv = ["tours", str(b.network), str(b.problem), "--time", value, "-o", str(t / "o")]
            return Run(argv, _exit(BAD_COMMAND_LINE))

        def darp(t: Path, b: Bases, value: str = value) -> Run:
            return Run(["darp", str(b.darp), "--time", value], _exit(BAD_COMMAND_LINE))

        yield Case(f"cli-tours-time={value}", tours, ("cli",))
        yield Case(f"cli-darp-time={value}", darp, ("cli",))
    for option, value in (
        ("--footpath-radius-m", "nan"),
        ("--footpath-radius-m", "-1"),
        ("--max-snap-m", "inf"),
        ("--max-snap-m", "-5"),
    ):

        def build(t: Path, b: Bases, option: str = option, value: str = value) -> Run:
            argv = ["build", "--gtfs", str(b.feed_dir), "-o", str(t / "n"), option, value]
            return Run(argv, _exit(BAD_COMMAND_LINE, REFUSED))

        yield Case(f"cli-build{option}={value}", build, ("cli",))


# --------------------------------------------------------------------------- output paths
def output_cases() -> Iterator[Case]:
    def user_dir(tmp: Path, bases: Bases) -> Run:
        out = tmp / "mine"
        out.mkdir()
        (out / "thesis.txt").write_text("years of work")
        return Run(
            ["build", "--gtfs", str(bases.feed_dir), "-o", str(out)],
            _exit(REFUSED),
            must_keep=(out / "thesis.txt",),
        )

    def into_input(tmp: Path, bases: Bases) -> Run:
        feed = write_feed(tmp)
        return Run(
            ["build", "--gtfs", str(feed), "-o", str(feed)],
            _exit(REFUSED),
            must_keep=(feed / "stops.txt",),
        )

    def inside_input(tmp: Path, bases: Bases) -> Run:
        feed = write_feed(tmp)
        return Run(
            ["build", "--gtfs", str(feed), "-o", str(feed / "net")],
            _exit(REFUSED),
            must_keep=(feed / "stops.txt",),
        )

    def onto_file(tmp: Path, bases: Bases) -> Run:
        out = tmp / "file"
        out.write_text("keep me")
        return Run(
            ["build", "--gtfs", str(bases.feed_dir), "-o", str(out)],
            _exit(REFUSED),
            must_keep=(out,),
        )

    def onto_dot(tmp: Path, bases: Bases) -> Run:
        return Run(["build", "--gtfs", str(bases.feed_dir), "-o", "."], _exit(REFUSED))

    def onto_root(tmp: Path, bases: Bases) -> Run:
        return Run(["build", "--gtfs", str(bases.feed_dir), "-o", "/"], _exit(REFUSED))

    def json_onto_dir(tmp: Path, bases: Bases) -> Run:
        (tmp / "report").mkdir()
        return Run(["validate", str(bases.feed_dir), "--json", str(tmp / "report")], _exit(REFUSED))

    def json_into_missing_dir(tmp: Path, bases: Bases) -> Run:
        return Run(
            ["validate", str(bases.feed_dir), "--json", str(tmp / "no" / "r.json")], _exit(REFUSED)
        )

    def tours_out_onto_file(tmp: Path, bases: Bases) -> Run:
        out = tmp / "o"
        out.write_text("keep me")
        argv = ["tours", str(bases.network), str(bases.problem), "--time", "1", "-o", str(out)]
        return Run(argv, _exit(REFUSED), must_keep=(out,))

    def rebuild_over_network(tmp: Path, bases: Bases) -> Run:
        out, _ = _copy_network(bases, tmp)
        return Run(["build", "--gtfs", str(bases.feed_dir), "-o", str(out), "--force"], _exit(0))

    for fn in (
        user_dir,
        into_input,
        inside_input,
        onto_file,
        onto_dot,
        onto_root,
        json_onto_dir,
        json_into_missing_dir,
        tours_out_onto_file,
        rebuild_over_network,
    ):
        yield Case(f"output-{fn.__name__}", fn, ("output",))


def all_cases() -> list[Case]:
    cases = [
        *gtfs_cases(),
        *osm_cases(),
        *network_cases(),
        *tour_cases(),
        *darp_cases(),
        *cli_cases(),
        *output_cases(),
    ]
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases
