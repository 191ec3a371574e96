"""Typed tables out of checked files: the kept rows, the spec's columns and dtypes."""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from arverne.feeds._spec import SPEC, FileSpec
from arverne.feeds._table import Tab


def frame(tab: Tab, columns: dict[str, object]) -> pd.DataFrame:
    """DataFrame of the kept rows.

    Parameters
    ----------
    tab
        The table (its ``keep`` mask selects rows).
    columns
        ``{name: value}`` where a value is a column name of ``tab`` given as ``str`` (a string
        column, empty when absent) or a numpy array over all rows of ``tab``.

    Returns
    -------
    pandas.DataFrame
        One column per entry, in order.
    """
    data: dict[str, object] = {}
    mask = None if tab.keep.all() else pa.array(tab.keep)
    for name, value in columns.items():
        if isinstance(value, str):
            array = tab.s(value)
            if mask is not None:
                array = array.filter(mask)
            data[name] = array.to_pandas().array  # an array, not a Series: no index to align
        else:
            arr = np.asarray(value)
            data[name] = arr if mask is None else arr[tab.keep]
    return pd.DataFrame(data)


def typed_frame(tab: Tab, spec: FileSpec, parsed: Mapping[str, object]) -> pd.DataFrame:
    """The typed table of a file: its kept rows, the spec's output columns and dtypes.

    Parameters
    ----------
    tab
        The table (its ``keep`` mask selects rows).
    spec
        The file's spec.
    parsed
        Parsed values by column name (text columns are read from ``tab``).

    Returns
    -------
    pandas.DataFrame
        The spec's output columns; every column of the file as text when it declares none.
    """
    if spec.output is None:
        return frame(tab, {c: c for c in tab.column_names if not c.startswith("__")})
    columns: dict[str, object] = {}
    for column in spec.output:
        field = spec.output_field(column)
        if field.kind == "text":
            columns[column] = field.name
        elif field.kind == "date":
            columns[column] = to_dates(np.asarray(parsed[field.name]))
        else:
            values = np.asarray(parsed[field.name])
            columns[column] = values.astype(field.dtype) if field.dtype else values
    return frame(tab, columns)


def to_dates(values: np.ndarray) -> np.ndarray:
    """datetime64[D] array -> object array of datetime.date (None for NaT)."""
    out = np.empty(len(values), dtype=object)
    ok = ~np.isnat(values)
    out[ok] = values[ok].astype("datetime64[D]").astype(object)
    out[~ok] = None
    return out


def empty_table(table: str) -> pd.DataFrame:
    """Empty typed table of one file (``"stops"``), with the spec's columns and dtypes."""
    return _empty_template(table).copy()


@functools.cache
def _empty_template(table: str) -> pd.DataFrame:
    spec = SPEC[f"{table}.txt"]
    data: dict[str, pd.Series] = {}
    for column in spec.output if spec.output is not None else spec.required_columns:
        field = spec.output_field(column)
        if field.kind == "date":
            data[column] = pd.Series([], dtype=object)
        else:
            data[column] = pd.Series([], dtype=field.dtype or "str")
    return pd.DataFrame(data)
