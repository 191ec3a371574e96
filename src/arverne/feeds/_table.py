"""One GTFS file being validated: its string columns, a keep mask, and notice helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from arverne.feeds._csv import CsvTable, Notices, short, string_array
from arverne.feeds._parse import missing_mask, parse_date, parse_float, parse_int, parse_time
from arverne.feeds._scan import MISSING
from arverne.feeds._spec import Field, FileSpec
from arverne.feeds.notices import Severity

ERROR = Severity.ERROR
WARNING = Severity.WARNING
INFO = Severity.INFO


class Tab:
    """A file's table under validation: its columns, a keep mask, and notice helpers.

    Parameters
    ----------
    file
        File name.
    csv
        The file as read: text columns, and typed columns already parsed.
    notices
        Where notices go.
    """

    def __init__(self, file: str, csv: CsvTable, notices: Notices) -> None:
        self.file = file
        self.csv = csv
        self.rows = csv.rows
        self.n = len(csv.rows)
        self.notices = notices
        self.keep = np.ones(self.n, dtype=bool)
        self._encoded: dict[str, tuple[np.ndarray, pa.Array]] = {}

    @classmethod
    def empty(cls, file: str, columns: Sequence[str], notices: Notices) -> Tab:
        """An empty table with the given string columns."""
        table = pa.table({c: pa.array([], pa.string()) for c in columns})
        return cls(file, CsvTable(list(columns), table, np.zeros(0, np.int32)), notices)

    @property
    def column_names(self) -> list[str]:
        """Columns still held, in file order."""
        return [n for n in self.csv.names if self.has(n)]

    def has(self, name: str) -> bool:
        """Whether the column exists."""
        return name in self.csv.typed or name in self.csv.text.column_names

    def s(self, name: str) -> pa.Array:
        """A column as a string array; an absent column reads as all empty strings."""
        if name in self.csv.typed:  # parsed without keeping its text: read it again
            return self.csv.reread(name)
        array = string_array(self.csv.text, name)
        if array is None:
            return pa.nulls(self.n, pa.string()).fill_null("")
        return array

    def text_table(self) -> pa.Table:
        """Every column as text, in file order."""
        return pa.table({name: self.s(name) for name in self.column_names})

    def encoded(self, name: str) -> tuple[np.ndarray, pa.Array]:
        """Dictionary encoding of a column: (int32 codes per row, dictionary), cached."""
        if name not in self._encoded:
            encoded = pc.dictionary_encode(self.s(name))
            codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int32)
            self._encoded[name] = (codes, encoded.dictionary)
        return self._encoded[name]

    def release(self, *names: str) -> None:
        """Drop parsed columns, so a big file's text and values leave memory column by column."""
        self.csv.release(names)

    def member(self, name: str, value_set: pa.Array) -> np.ndarray:
        """True for rows whose value of ``name`` is in ``value_set`` (hashing distinct values)."""
        codes, dictionary = self.encoded(name)
        found = np.asarray(
            pc.is_in(dictionary, value_set=value_set).to_numpy(zero_copy_only=False), dtype=bool
        )
        return found[codes] if len(codes) else np.zeros(0, dtype=bool)

    def check_columns(self, known: Sequence[str], required: Sequence[str]) -> list[str]:
        """Notice unknown and missing required columns.

        Returns
        -------
        list[str]
            The required columns that are missing.
        """
        known_set = set(known)
        for name in self.column_names:
            if name.startswith("__"):
                continue
            if name not in known_set:
                self.notices.add(
                    "unknown_column",
                    INFO,
                    self.file,
                    1,
                    short(name),
                    f"{self.file} header: column {short(name)!r} is not in the GTFS reference; "
                    "it was ignored.",
                )
        absent = [c for c in required if not self.has(c)]
        for name in absent:
            self.notices.add(
                "missing_required_column",
                ERROR,
                self.file,
                1,
                name,
                f"{self.file} header: required column {name!r} is missing.",
            )
        return absent

    def flag(
        self,
        mask: np.ndarray,
        code: str,
        severity: Severity,
        field: str | None,
        text: str,
        *,
        values: pa.Array | str | None = None,
        quarantine: bool = False,
    ) -> None:
        """Notice every row where ``mask`` is True, optionally quarantining it.

        Parameters
        ----------
        mask
            Rows to flag.
        code, severity, field
            As in :class:`~arverne.feeds.notices.Notice`.
        text
            Message after ``"<file> row <r>: "``; ``{value}`` is replaced by the field value.
        values
            Column whose value is quoted as ``{value}`` (or its name, read only when needed).
        quarantine
            Drop the flagged rows.
        """
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        vals = None
        if values is not None and "{value}" in text:
            column = self.s(values) if isinstance(values, str) else values
            vals = column.take(pa.array(idx[: self.notices.per_code])).to_pylist()
        file = self.file
        self.notices.add_rows(
            code,
            severity,
            file,
            self.rows[idx],
            field,
            lambda r, v: f"{file} row {r}: " + text.replace("{value}", v),
            vals,
        )
        if quarantine:
            self.keep[idx] = False

    def flag_empty(self, mask: np.ndarray, name: str, *, quarantine: bool) -> None:
        """Give ``missing_required_field`` to the rows of ``mask`` (a required field left empty)."""
        self.flag(
            mask,
            "missing_required_field",
            ERROR,
            name,
            f"required field {name} is empty.",
            quarantine=quarantine,
        )

    def required_id(self, name: str, *, quarantine: bool = True) -> pa.Array:
        """A required text field: empty values get ``missing_required_field``."""
        array = self.s(name)
        if self.has(name):
            self.flag_empty(missing_mask(array), name, quarantine=quarantine)
        return array

    def integer(
        self,
        name: str,
        *,
        default: int,
        required: bool = False,
        allowed: Sequence[int] | None = None,
        lo: int | None = None,
        hi: int | None = None,
        quarantine: bool = False,
        bad_as_default: bool = True,
        enum_error: bool = False,
    ) -> np.ndarray:
        """Parse an integer field; missing -> ``default`` (``missing_required_field`` if required).

        Invalid values give ``invalid_integer``; values outside ``allowed`` give
        ``unexpected_enum_value`` (a WARNING, or with ``enum_error`` an ERROR that quarantines
        the rows still kept) and values outside ``[lo, hi]`` give ``number_out_of_range``.
        Flagged rows are quarantined when ``quarantine``; otherwise their value becomes
        ``default`` when ``bad_as_default``.
        """
        if not self.has(name):
            if not enum_error:
                return np.full(self.n, default, dtype=np.int64)
            values = np.full(self.n, default, dtype=np.int64)  # every row is checked below
            missing = invalid = np.zeros(self.n, dtype=bool)
        else:
            values, missing, invalid = self._parsed(name, parse_int, empty=0)
        if required:
            self.flag_empty(missing, name, quarantine=quarantine)
        self.flag(
            invalid,
            "invalid_integer",
            ERROR,
            name,
            f"{name} '{{value}}' is not an integer.",
            values=name,
            quarantine=quarantine,
        )
        bad = missing | invalid
        if allowed is not None:
            choices = np.asarray(allowed)
            if len(choices) and np.array_equal(choices, np.arange(choices[0], choices[-1] + 1)):
                outside = (values < choices[0]) | (values > choices[-1])
            else:
                outside = ~np.isin(values, choices)
            odd = ~bad & outside & (self.keep if enum_error else True)
            self.flag(
                odd,
                "unexpected_enum_value",
                ERROR if enum_error else WARNING,
                name,
                f"{name} '{{value}}' is not one of {list(allowed)}.",
                values=name,
                quarantine=enum_error,
            )
            bad |= odd
        if lo is not None or hi is not None:
            out = ~bad & (
                (values < (lo if lo is not None else -(2**62)))
                | (values > (hi if hi is not None else 2**62))
            )
            self.flag(
                out,
                "number_out_of_range",
                ERROR,
                name,
                f"{name} '{{value}}' is out of range.",
                values=name,
                quarantine=quarantine,
            )
            bad |= out
        if bad_as_default:
            values = np.where(bad, default, values)
        return values

    def real(
        self,
        name: str,
        *,
        required_mask: np.ndarray | None = None,
        lo: float | None = None,
        hi: float | None = None,
        quarantine: bool = False,
    ) -> np.ndarray:
        """Parse a float field; NaN when missing/invalid.

        ``required_mask`` marks rows where an empty value is an error (``missing_required_field``);
        invalid values give ``invalid_float`` and out-of-range ones ``number_out_of_range``;
        flagged rows are quarantined when ``quarantine`` (only rows in ``required_mask`` for the
        missing case).
        """
        if not self.has(name):
            values = np.full(self.n, np.nan)
            if required_mask is not None and quarantine:
                # column absent: already noticed as missing_required_column by the caller
                self.keep &= ~required_mask
            return values
        values, missing, invalid = self._parsed(name, parse_float)
        if required_mask is not None:
            self.flag_empty(missing & required_mask, name, quarantine=quarantine)
        self.flag(
            invalid,
            "invalid_float",
            ERROR,
            name,
            f"{name} '{{value}}' is not a number.",
            values=name,
            quarantine=quarantine,
        )
        if lo is not None or hi is not None:
            with np.errstate(invalid="ignore"):
                out = ~np.isnan(values) & (
                    (values < (lo if lo is not None else -np.inf))
                    | (values > (hi if hi is not None else np.inf))
                )
            self.flag(
                out,
                "number_out_of_range",
                ERROR,
                name,
                f"{name} '{{value}}' is out of range.",
                values=name,
                quarantine=quarantine,
            )
            values = np.where(out, np.nan, values)
        return values

    def parse(self, field: Field, parsed: Mapping[str, np.ndarray]) -> np.ndarray | pa.Array:
        """Check and parse one column as its spec says.

        Parameters
        ----------
        field
            The column's spec.
        parsed
            Columns parsed before it (a ``required_when`` condition reads its column there).

        Returns
        -------
        numpy.ndarray or pyarrow.Array
            Typed values over all rows (see :meth:`integer`, :meth:`real`, :meth:`time`,
            :meth:`date`), or the strings of a text column.
        """
        name = field.name
        if field.kind == "text":
            if field.required:
                return self.required_id(name, quarantine=field.quarantine)
            return self.s(name)
        if field.kind == "int":
            return self.integer(
                name,
                default=field.default,
                required=field.required,
                allowed=field.enum,
                lo=None if field.lo is None else int(field.lo),
                hi=None if field.hi is None else int(field.hi),
                quarantine=field.quarantine,
                bad_as_default=field.bad_as_default,
                enum_error=field.enum_error,
            )
        if field.kind == "real":
            required_mask = None
            if field.required:
                required_mask = np.ones(self.n, dtype=bool)
            elif field.required_when is not None:
                column, values = field.required_when
                required_mask = np.isin(parsed[column], values)
            return self.real(
                name,
                required_mask=required_mask,
                lo=field.lo,
                hi=field.hi,
                quarantine=field.quarantine,
            )
        if field.kind == "time":
            return self.time(name, required=field.required, quarantine=field.quarantine)
        return self.date(name, quarantine=field.quarantine)

    def parse_all(self, spec: FileSpec) -> dict[str, np.ndarray | pa.Array]:
        """Check the header and parse every field of ``spec``, in its order.

        Returns
        -------
        dict
            Column name -> parsed values (see :meth:`parse`).
        """
        parsed: dict[str, np.ndarray | pa.Array] = {}
        for field in spec.fields:
            parsed[field.name] = self.parse(field, parsed)
        return parsed

    def _parsed(
        self,
        name: str,
        parse: Callable[[pa.Array], tuple[np.ndarray, np.ndarray, np.ndarray]],
        *,
        empty: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(values, missing, invalid)`` of a column: ``parse`` of its text, or the values the
        read parsed (every one valid; empty fields then hold ``empty``, as ``parse`` gives).
        """
        typed = self.csv.typed.get(name)
        if typed is None:
            return parse(self.s(name))
        missing = np.isnan(typed) if typed.dtype.kind == "f" else typed == MISSING
        if empty is not None and missing.any():
            typed = np.where(missing, empty, typed)
        return typed, missing, np.zeros(self.n, dtype=bool)

    def time(self, name: str, *, required: bool, quarantine: bool) -> np.ndarray:
        """Parse a time field into int32 seconds (-1 when missing or invalid, ``invalid_time``)."""
        if not self.has(name):
            return np.full(self.n, -1, dtype=np.int32)
        values, missing, invalid = self._parsed(name, parse_time)
        if required:
            self.flag_empty(missing, name, quarantine=quarantine)
        self.flag(
            invalid,
            "invalid_time",
            ERROR,
            name,
            f"{name} '{{value}}' is not a time (H:MM:SS).",
            values=name,
            quarantine=quarantine,
        )
        return values

    def date(self, name: str, *, quarantine: bool = True) -> np.ndarray:
        """Parse a required date field (``missing_required_field`` / ``invalid_date``)."""
        if not self.has(name):
            if quarantine:  # already noticed as missing_required_column by the caller
                self.keep[:] = False
            return np.full(self.n, np.datetime64("NaT"), dtype="datetime64[D]")
        array = self.s(name)
        values, missing, invalid = parse_date(array)
        self.flag_empty(missing, name, quarantine=quarantine)
        self.flag(
            invalid,
            "invalid_date",
            ERROR,
            name,
            f"{name} '{{value}}' is not a date (YYYYMMDD).",
            values=array,
            quarantine=quarantine,
        )
        return values

    def foreign_key(
        self,
        name: str,
        parent_ids: pa.Array,
        parent_file: str,
        *,
        quarantine: bool = True,
        array: pa.Array | None = None,
    ) -> None:
        """``foreign_key_violation`` for non-empty values not among ``parent_ids``."""
        if not self.has(name):
            return
        array = self.s(name) if array is None else array
        present = pc.binary_length(array).to_numpy(zero_copy_only=False) > 0
        found = self.member(name, parent_ids)
        self.flag(
            present & ~found,
            "foreign_key_violation",
            ERROR,
            name,
            f"{name} '{{value}}' is not in {parent_file}.",
            values=array,
            quarantine=quarantine,
        )

    def duplicates(self, names: Sequence[str], *, quarantine: bool = True) -> None:
        """``duplicate_key`` for rows (still kept) repeating the key of an earlier kept row."""
        if self.n == 0 or not all(self.has(c) for c in names):
            return
        idx = np.flatnonzero(self.keep)
        if len(idx) == 0:
            return
        all_kept = len(idx) == self.n
        key = np.zeros(len(idx), dtype=np.int64)
        for c in names:
            codes, dictionary = self.encoded(c)
            key = key * (len(dictionary) + 1) + (codes if all_kept else codes[idx])
        dup = pd.Series(key).duplicated(keep="first").to_numpy()
        if not dup.any():
            return
        mask = np.zeros(self.n, dtype=bool)
        mask[idx[dup]] = True
        label = ", ".join(names)
        if len(names) == 1:
            values: pa.Array | None = self.s(names[0])
            text = f"{label} '{{value}}' repeats an earlier row's key."
        else:
            values = None
            text = f"({label}) repeats an earlier row's key."
        self.flag(mask, "duplicate_key", ERROR, label, text, values=values, quarantine=quarantine)

    def sorted_duplicates(
        self, idx: np.ndarray, codes: np.ndarray, seq: np.ndarray, key: Sequence[str]
    ) -> np.ndarray:
        """``duplicate_key`` (quarantined) for rows repeating the key of the row before them.

        Parameters
        ----------
        idx
            Rows in key order.
        codes, seq
            The key of each of those rows: id code and sequence number.
        key
            The key's column names, for the notice.

        Returns
        -------
        numpy.ndarray
            bool over ``idx``: the repeated rows (the later row in the file goes).
        """
        same = np.zeros(len(idx), dtype=bool)
        if len(idx) > 1:
            same[1:] = (codes[1:] == codes[:-1]) & (seq[1:] == seq[:-1])
        if same.any():
            mask = np.zeros(self.n, dtype=bool)
            mask[idx[same]] = True
            label = ", ".join(key)
            self.flag(
                mask,
                "duplicate_key",
                ERROR,
                label,
                f"({label}) repeats an earlier row's key.",
                quarantine=True,
            )
        return same

    def kept_strings(self, name: str) -> pa.Array:
        """Kept rows of a string column."""
        array = self.s(name)
        if self.keep.all():
            return array
        return array.filter(pa.array(self.keep))
