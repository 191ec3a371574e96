"""Field parsers against plain Python references."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.feeds._parse import format_hms, parse_date

DATES = st.one_of(
    st.tuples(st.integers(0, 9999), st.integers(0, 14), st.integers(0, 33)).map(
        lambda t: f"{t[0]:04d}{t[1]:02d}{t[2]:02d}"
    ),
    st.sampled_from(["", " ", " 20240229 ", "\t20240101", "20240101\v", "2024-1-1", "+2024011"]),
    st.text("0123456789 \t\vx", max_size=10),
)


def _reference(text: str) -> tuple[np.datetime64, bool, bool]:
    """(date, missing, invalid) of one field: eight digits YYYYMMDD with ASCII spaces around
    (not vertical tabs) and a real calendar day; blanks of up to four characters are missing."""
    nat = np.datetime64("NaT")
    if text == "" or (len(text) <= 4 and text.isspace()):
        return nat, True, False
    match = re.fullmatch(r"[ \t\n\f\r]*([0-9]{8})[ \t\n\f\r]*", text)
    if match is None:
        return nat, False, True
    digits = match.group(1)
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    try:  # Python has no year 0; in the proleptic calendar it is a leap year, like 2000
        dt.date(year or 2000, month, day)
    except ValueError:
        return nat, False, True
    return np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D"), False, False


@settings(max_examples=300, deadline=None)
@given(st.lists(DATES, max_size=20))
def test_parse_date_matches_a_calendar(texts: list[str]) -> None:
    """YYYYMMDD fields become dates exactly when the calendar has that day (year 0 to 9999);
    blank fields are missing, everything else invalid."""
    values, missing, invalid = parse_date(pa.array(texts, pa.string()))
    for i, text in enumerate(texts):
        date, is_missing, is_invalid = _reference(text)
        assert (bool(missing[i]), bool(invalid[i])) == (is_missing, is_invalid), text
        assert (np.isnat(values[i]) and np.isnat(date)) or values[i] == date, text


@given(st.lists(st.integers(0, 200 * 3600), max_size=20))
def test_format_hms_matches_python(seconds: list[int]) -> None:
    """Seconds print as HH:MM:SS with hours past 23 (and past 99) kept; no seconds, no strings."""
    got = format_hms(np.array(seconds, dtype=np.int64)).tolist()
    assert got == [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in seconds]
