"""The GTFS reference as data: one :class:`FileSpec` per file (partridge's config is the model).

Over 600 lines because it is the reference itself, one declaration per file; no logic lives here.

A file's spec declares its columns, which of them are required, how each is typed and checked
(ranges, enumerations, defaults, whether a bad value quarantines the row), its primary key, its
foreign keys and the columns of the typed table the reader gives. The generic loader
(``feeds/_load.py``) reads these tables; only rules that cross fields are written by hand.

``Field`` lists follow the order in which the loader parses the columns (a field whose
requirement depends on another comes after it); ``columns`` is the reference's column list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "int", "real", "time", "date"]

INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class Field:
    """One checked column of a GTFS file.

    Attributes
    ----------
    name
        Column name in the file.
    kind
        ``text`` (kept as strings), ``int``, ``real``, ``time`` (seconds) or ``date``.
    required
        An empty value is a ``missing_required_field``.
    required_when
        ``(column, values)``: required only on rows whose integer ``column`` is in ``values``.
    quarantine
        A row whose value fails a check is left out (otherwise it is kept and noticed).
    default
        Value of an absent or empty integer field.
    enum
        Allowed values of an integer field (``unexpected_enum_value`` otherwise).
    enum_error
        A value outside ``enum`` is an ERROR that quarantines the row (else a WARNING).
    lo, hi
        Allowed range (``number_out_of_range`` otherwise).
    bad_as_default
        An integer failing a check reads as ``default`` (else its parsed value is kept).
    dtype
        Its dtype in the typed table (``None``: not in the typed table, or text).
    out
        Its name in the typed table when it differs (``arrival_time`` gives ``arrival_s``).
    scan
        The reader of a big file may parse it on the way (see ``_csv.read_csv_table``).
    """

    name: str
    kind: Kind = "text"
    required: bool = False
    required_when: tuple[str, tuple[int, ...]] | None = None
    quarantine: bool = False
    default: int = 0
    enum: tuple[int, ...] | None = None
    enum_error: bool = False
    lo: float | None = None
    hi: float | None = None
    bad_as_default: bool = True
    dtype: str | None = None
    out: str | None = None
    scan: bool = False

    @property
    def table_name(self) -> str:
        """Its column name in the typed table."""
        return self.out or self.name


@dataclass(frozen=True)
class ForeignKey:
    """A column whose non-empty values must be ids of another file.

    Attributes
    ----------
    column
        The referring column.
    parent
        The file whose ids it refers to (its primary key); ``service`` stands for the service
        ids of calendar.txt and calendar_dates.txt together.
    quarantine
        A row referring to an unknown id is left out (else kept and noticed); a row whose
        parent row was quarantined is left out in both cases.
    """

    column: str
    parent: str
    quarantine: bool = True


@dataclass(frozen=True)
class FileSpec:
    """One GTFS file: its reference columns, checks, keys and typed table.

    Attributes
    ----------
    file
        File name (``stops.txt``).
    columns
        Every column of the GTFS reference, in reference order.
    required_columns
        Columns whose absence is a ``missing_required_column``.
    fields
        Checked columns, in parse order.
    primary_key
        Columns whose values are unique together (``duplicate_key`` otherwise).
    foreign_keys
        References to other files.
    output
        Columns of the typed table, in order (names after ``Field.out``); None: every column
        of the file as text.
    """

    file: str
    columns: tuple[str, ...]
    required_columns: tuple[str, ...] = ()
    fields: tuple[Field, ...] = ()
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    output: tuple[str, ...] | None = None

    @property
    def table(self) -> str:
        """Name of the typed table (the file name without ``.txt``)."""
        return self.file.removesuffix(".txt")

    def field(self, name: str) -> Field:
        """The checked field of that column name (a plain text field when unchecked)."""
        for f in self.fields:
            if f.name == name:
                return f
        return Field(name)

    def output_field(self, column: str) -> Field:
        """The field giving one column of the typed table."""
        for f in self.fields:
            if f.table_name == column:
                return f
        return Field(column)

    def scan_types(self) -> dict[str, str]:
        """``{column: kind}`` of the columns the reader may parse on the way."""
        return {f.name: f.kind for f in self.fields if f.scan}


def _days() -> tuple[Field, ...]:
    return tuple(
        Field(d, "int", required=True, quarantine=True, enum=(0, 1), dtype="int8") for d in DAYS
    )


PICKUP = (0, 1, 2, 3)
"""Values of pickup_type, drop_off_type, continuous_pickup and continuous_drop_off."""
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LOCATED = ("location_type", (0, 1, 2))
"""Stops, stations and entrances: the locations that must have a position and a name."""

AGENCY = FileSpec(
    "agency.txt",
    columns=(
        "agency_id",
        "agency_name",
        "agency_url",
        "agency_timezone",
        "agency_lang",
        "agency_phone",
        "agency_fare_url",
        "agency_email",
        "cemv_support",
    ),
    required_columns=("agency_name", "agency_url", "agency_timezone"),
    fields=(
        Field("agency_name", required=True),
        Field("agency_url", required=True),
        Field("agency_timezone", required=True),
        Field("cemv_support", "int", enum=(0, 1, 2)),
    ),
    primary_key=("agency_id",),
    output=("agency_id", "agency_name", "agency_timezone"),
)

STOPS = FileSpec(
    "stops.txt",
    columns=(
        "stop_id",
        "stop_code",
        "stop_name",
        "tts_stop_name",
        "stop_desc",
        "stop_lat",
        "stop_lon",
        "zone_id",
        "stop_url",
        "location_type",
        "parent_station",
        "stop_timezone",
        "wheelchair_boarding",
        "level_id",
        "platform_code",
        "stop_access",
    ),
    required_columns=("stop_id", "stop_lat", "stop_lon"),
    fields=(
        Field("stop_id", required=True, quarantine=True),
        Field("location_type", "int", enum=(0, 1, 2, 3, 4), dtype="int8"),
        Field("stop_lat", "real", required_when=LOCATED, quarantine=True, lo=-90, hi=90),
        Field("stop_lon", "real", required_when=LOCATED, quarantine=True, lo=-180, hi=180),
        Field("wheelchair_boarding", "int", enum=(0, 1, 2), dtype="int8"),
        Field("stop_access", "int", enum=(0, 1)),
    ),
    primary_key=("stop_id",),
    foreign_keys=(
        ForeignKey("parent_station", "stops.txt", quarantine=False),
        ForeignKey("level_id", "levels.txt", quarantine=False),
    ),
    output=(
        "stop_id",
        "stop_name",
        "stop_code",
        "parent_station",
        "zone_id",
        "stop_lat",
        "stop_lon",
        "location_type",
        "wheelchair_boarding",
        "level_id",
    ),
)

ROUTES = FileSpec(
    "routes.txt",
    columns=(
        "route_id",
        "agency_id",
        "route_short_name",
        "route_long_name",
        "route_desc",
        "route_type",
        "route_url",
        "route_color",
        "route_text_color",
        "route_sort_order",
        "continuous_pickup",
        "continuous_drop_off",
        "network_id",
        "cemv_support",
    ),
    required_columns=("route_id", "route_type"),
    fields=(
        Field("route_id", required=True, quarantine=True),
        Field(
            "route_type",
            "int",
            required=True,
            quarantine=True,
            default=-1,
            hi=32767,
            bad_as_default=False,
            dtype="int16",
        ),
        Field("continuous_pickup", "int", default=1, enum=PICKUP),
        Field("continuous_drop_off", "int", default=1, enum=PICKUP),
        Field("cemv_support", "int", enum=(0, 1, 2)),
    ),
    primary_key=("route_id",),
    foreign_keys=(ForeignKey("agency_id", "agency.txt", quarantine=False),),
    output=(
        "route_id",
        "agency_id",
        "route_short_name",
        "route_long_name",
        "route_color",
        "route_type",
    ),
)

TRIPS = FileSpec(
    "trips.txt",
    columns=(
        "route_id",
        "service_id",
        "trip_id",
        "trip_headsign",
        "trip_short_name",
        "direction_id",
        "block_id",
        "shape_id",
        "wheelchair_accessible",
        "bikes_allowed",
        "cars_allowed",
        "safe_duration_factor",
        "safe_duration_offset",
        "mean_duration_factor",
        "mean_duration_offset",
    ),
    required_columns=("route_id", "service_id", "trip_id"),
    fields=(
        Field("trip_id", required=True, quarantine=True),
        Field("route_id", required=True, quarantine=True),
        Field("service_id", required=True, quarantine=True),
        Field("direction_id", "int", default=-1, enum=(0, 1), dtype="int8"),
        Field("wheelchair_accessible", "int", enum=(0, 1, 2), dtype="int8"),
        Field("bikes_allowed", "int", enum=(0, 1, 2)),
        Field("cars_allowed", "int", enum=(0, 1, 2)),
    ),
    primary_key=("trip_id",),
    foreign_keys=(
        ForeignKey("route_id", "routes.txt"),
        ForeignKey("service_id", "service"),
        ForeignKey("shape_id", "shapes.txt", quarantine=False),
    ),
    output=(
        "trip_id",
        "route_id",
        "service_id",
        "trip_headsign",
        "block_id",
        "shape_id",
        "direction_id",
        "wheelchair_accessible",
    ),
)

STOP_TIMES = FileSpec(
    "stop_times.txt",
    columns=(
        "trip_id",
        "arrival_time",
        "departure_time",
        "stop_id",
        "location_group_id",
        "location_id",
        "stop_sequence",
        "stop_headsign",
        "start_pickup_drop_off_window",
        "end_pickup_drop_off_window",
        "pickup_type",
        "drop_off_type",
        "continuous_pickup",
        "continuous_drop_off",
        "shape_dist_traveled",
        "timepoint",
        "pickup_booking_rule_id",
        "drop_off_booking_rule_id",
        "mean_duration_factor",
        "mean_duration_offset",
        "safe_duration_factor",
        "safe_duration_offset",
    ),
    required_columns=("trip_id", "stop_sequence"),
    fields=(
        Field("trip_id", required=True, quarantine=True),
        Field(
            "stop_sequence",
            "int",
            required=True,
            quarantine=True,
            default=-1,
            lo=0,
            hi=INT32_MAX,
            bad_as_default=False,
            dtype="int32",
            scan=True,
        ),
        Field("arrival_time", "time", quarantine=True, dtype="int32", out="arrival_s", scan=True),
        Field(
            "departure_time", "time", quarantine=True, dtype="int32", out="departure_s", scan=True
        ),
        Field("pickup_type", "int", enum=PICKUP, dtype="int8", scan=True),
        Field("drop_off_type", "int", enum=PICKUP, dtype="int8", scan=True),
        Field("continuous_pickup", "int", default=1, enum=PICKUP, scan=True),
        Field("continuous_drop_off", "int", default=1, enum=PICKUP, scan=True),
        Field("timepoint", "int", default=1, enum=(0, 1), dtype="int8", scan=True),
        Field("shape_dist_traveled", "real", lo=0, dtype="float64", scan=True),
    ),
    primary_key=("trip_id", "stop_sequence"),
    foreign_keys=(ForeignKey("trip_id", "trips.txt"), ForeignKey("stop_id", "stops.txt")),
    output=(
        "trip_id",
        "stop_id",
        "stop_sequence",
        "arrival_s",
        "departure_s",
        "pickup_type",
        "drop_off_type",
        "timepoint",
        "shape_dist_traveled",
    ),
)

CALENDAR = FileSpec(
    "calendar.txt",
    columns=("service_id", *DAYS, "start_date", "end_date"),
    required_columns=("service_id", *DAYS, "start_date", "end_date"),
    fields=(
        Field("service_id", required=True, quarantine=True),
        *_days(),
        Field("start_date", "date", required=True, quarantine=True),
        Field("end_date", "date", required=True, quarantine=True),
    ),
    primary_key=("service_id",),
    output=("service_id", *DAYS, "start_date", "end_date"),
)

CALENDAR_DATES = FileSpec(
    "calendar_dates.txt",
    columns=("service_id", "date", "exception_type"),
    required_columns=("service_id", "date", "exception_type"),
    fields=(
        Field("service_id", required=True, quarantine=True),
        Field("date", "date", required=True, quarantine=True),
        Field(
            "exception_type",
            "int",
            required=True,
            quarantine=True,
            enum=(1, 2),
            enum_error=True,
            bad_as_default=False,
            dtype="int8",
        ),
    ),
    primary_key=("service_id", "date"),
    output=("service_id", "date", "exception_type"),
)

FREQUENCIES = FileSpec(
    "frequencies.txt",
    columns=("trip_id", "start_time", "end_time", "headway_secs", "exact_times"),
    required_columns=("trip_id", "start_time", "end_time", "headway_secs"),
    fields=(
        Field("trip_id", required=True, quarantine=True),
        Field("start_time", "time", required=True, quarantine=True, dtype="int32", out="start_s"),
        Field("end_time", "time", required=True, quarantine=True, dtype="int32", out="end_s"),
        Field(
            "headway_secs",
            "int",
            required=True,
            quarantine=True,
            lo=1,
            hi=86_400 * 7,
            bad_as_default=False,
            dtype="int32",
            out="headway_s",
        ),
        Field("exact_times", "int", enum=(0, 1), dtype="int8"),
    ),
    primary_key=("trip_id", "start_time"),
    foreign_keys=(ForeignKey("trip_id", "trips.txt"),),
    output=("trip_id", "start_s", "end_s", "headway_s", "exact_times"),
)

TRANSFERS = FileSpec(
    "transfers.txt",
    columns=(
        "from_stop_id",
        "to_stop_id",
        "from_route_id",
        "to_route_id",
        "from_trip_id",
        "to_trip_id",
        "transfer_type",
        "min_transfer_time",
    ),
    required_columns=("transfer_type",),
    fields=(
        Field(
            "transfer_type",
            "int",
            quarantine=True,
            lo=0,
            hi=5,
            bad_as_default=False,
            dtype="int8",
        ),
        Field("min_transfer_time", "int", default=-1, lo=0, hi=INT32_MAX, dtype="int32"),
    ),
    foreign_keys=(
        ForeignKey("from_stop_id", "stops.txt"),
        ForeignKey("to_stop_id", "stops.txt"),
        ForeignKey("from_route_id", "routes.txt"),
        ForeignKey("to_route_id", "routes.txt"),
        ForeignKey("from_trip_id", "trips.txt"),
        ForeignKey("to_trip_id", "trips.txt"),
    ),
    output=(
        "from_stop_id",
        "to_stop_id",
        "from_route_id",
        "to_route_id",
        "from_trip_id",
        "to_trip_id",
        "transfer_type",
        "min_transfer_time",
    ),
)

FEED_INFO = FileSpec(
    "feed_info.txt",
    columns=(
        "feed_publisher_name",
        "feed_publisher_url",
        "feed_lang",
        "default_lang",
        "feed_start_date",
        "feed_end_date",
        "feed_version",
        "feed_contact_email",
        "feed_contact_url",
    ),
    required_columns=("feed_publisher_name", "feed_publisher_url", "feed_lang"),
)
"""Its typed table holds every column of the file, as text (``output`` None)."""

SHAPES = FileSpec(
    "shapes.txt",
    columns=(
        "shape_id",
        "shape_pt_lat",
        "shape_pt_lon",
        "shape_pt_sequence",
        "shape_dist_traveled",
    ),
    required_columns=("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"),
    fields=(
        Field("shape_id", required=True, quarantine=True),
        Field(
            "shape_pt_lat",
            "real",
            required=True,
            quarantine=True,
            lo=-90,
            hi=90,
            dtype="float64",
            scan=True,
        ),
        Field(
            "shape_pt_lon",
            "real",
            required=True,
            quarantine=True,
            lo=-180,
            hi=180,
            dtype="float64",
            scan=True,
        ),
        Field(
            "shape_pt_sequence",
            "int",
            required=True,
            quarantine=True,
            default=-1,
            lo=0,
            hi=INT32_MAX,
            dtype="int32",
            scan=True,
        ),
        Field("shape_dist_traveled", "real", lo=0, dtype="float64", scan=True),
    ),
    primary_key=("shape_id", "shape_pt_sequence"),
    output=(
        "shape_id",
        "shape_pt_lat",
        "shape_pt_lon",
        "shape_pt_sequence",
        "shape_dist_traveled",
    ),
)

LEVELS = FileSpec(
    "levels.txt",
    columns=("level_id", "level_index", "level_name"),
    required_columns=("level_id", "level_index"),
    fields=(
        Field("level_id", required=True, quarantine=True),
        Field("level_index", "real", required=True, quarantine=True, dtype="float64"),
    ),
    primary_key=("level_id",),
    output=("level_id", "level_index", "level_name"),
)

PATHWAYS = FileSpec(
    "pathways.txt",
    columns=(
        "pathway_id",
        "from_stop_id",
        "to_stop_id",
        "pathway_mode",
        "is_bidirectional",
        "length",
        "traversal_time",
        "stair_count",
        "max_slope",
        "min_width",
        "signposted_as",
        "reversed_signposted_as",
    ),
    required_columns=(
        "pathway_id",
        "from_stop_id",
        "to_stop_id",
        "pathway_mode",
        "is_bidirectional",
    ),
    fields=(
        Field("pathway_id", required=True, quarantine=True),
        Field("from_stop_id", required=True, quarantine=True),
        Field("to_stop_id", required=True, quarantine=True),
        Field(
            "pathway_mode",
            "int",
            required=True,
            quarantine=True,
            enum=(1, 2, 3, 4, 5, 6, 7),
            enum_error=True,
            bad_as_default=False,
            dtype="int8",
        ),
        Field(
            "is_bidirectional",
            "int",
            required=True,
            quarantine=True,
            enum=(0, 1),
            enum_error=True,
            bad_as_default=False,
            dtype="int8",
        ),
        Field("length", "real", lo=0, dtype="float64"),
        Field("traversal_time", "int", default=-1, lo=1, hi=INT32_MAX, dtype="int32"),
        Field("stair_count", "int", lo=-100_000, hi=100_000, dtype="int32"),
        Field("max_slope", "real", dtype="float64"),
        Field("min_width", "real", lo=0, dtype="float64"),
    ),
    primary_key=("pathway_id",),
    foreign_keys=(ForeignKey("from_stop_id", "stops.txt"), ForeignKey("to_stop_id", "stops.txt")),
    output=(
        "pathway_id",
        "from_stop_id",
        "to_stop_id",
        "pathway_mode",
        "is_bidirectional",
        "length",
        "traversal_time",
        "stair_count",
        "max_slope",
        "min_width",
        "signposted_as",
        "reversed_signposted_as",
    ),
)
"""Paths inside stations; ``traversal_time`` is -1 and ``stair_count`` 0 when not given."""

SPEC: dict[str, FileSpec] = {
    s.file: s
    for s in (
        AGENCY,
        STOPS,
        ROUTES,
        TRIPS,
        STOP_TIMES,
        CALENDAR,
        CALENDAR_DATES,
        FREQUENCIES,
        TRANSFERS,
        FEED_INFO,
        SHAPES,
        LEVELS,
        PATHWAYS,
    )
}
"""Every file Arverne reads into a typed table, by file name."""

OTHER_SPEC_FILES = frozenset(
    {
        "fare_attributes.txt",
        "fare_rules.txt",
        "timeframes.txt",
        "rider_categories.txt",
        "fare_media.txt",
        "fare_products.txt",
        "fare_leg_rules.txt",
        "fare_leg_join_rules.txt",
        "fare_transfer_rules.txt",
        "areas.txt",
        "stop_areas.txt",
        "networks.txt",
        "route_networks.txt",
        "translations.txt",
        "attributions.txt",
    }
)
"""Files of the GTFS reference that Arverne accepts without reading (fares, ...)."""

FLEX_FILES = (
    "booking_rules.txt",
    "location_groups.txt",
    "location_group_stops.txt",
    "locations.geojson",
)
"""GTFS-Flex files, kept verbatim for the on-demand layer."""

REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
"""Files without which a feed is refused (plus calendar.txt or calendar_dates.txt)."""
