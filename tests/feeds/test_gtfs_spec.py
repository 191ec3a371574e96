"""The declarative GTFS spec is consistent, and the demo territory's writer follows it."""

from __future__ import annotations

import pytest

from arverne.demo._transit import gtfs_table
from arverne.feeds._frames import empty_table
from arverne.feeds._spec import SPEC


@pytest.mark.parametrize("file", sorted(SPEC))
def test_every_declared_name_is_a_column_of_its_file(file):
    """Fields, required columns, keys, foreign keys and typed-table columns of each file name
    columns of that file, and foreign keys name files of the spec."""
    spec = SPEC[file]
    columns = set(spec.columns)
    assert len(columns) == len(spec.columns)
    assert {f.name for f in spec.fields} <= columns
    assert set(spec.required_columns) <= columns
    assert set(spec.primary_key) <= columns
    for fk in spec.foreign_keys:
        assert fk.column in columns
        assert fk.parent in SPEC or fk.parent == "service"
        if fk.parent in SPEC:  # the id is the first column of the parent's key
            assert SPEC[fk.parent].primary_key
    for field in spec.fields:
        if field.required_when is not None:
            condition = spec.field(field.required_when[0])
            assert condition.kind == "int"
            assert [f.name for f in spec.fields].index(condition.name) < [
                f.name for f in spec.fields
            ].index(field.name)  # parsed before the field it conditions
        if field.enum is not None and field.bad_as_default:
            assert field.default in field.enum or field.default == -1
    for column in spec.output or ():
        assert spec.output_field(column).name in columns


@pytest.mark.parametrize("file", sorted(SPEC))
def test_empty_tables_have_the_typed_columns(file):
    """An absent file gives an empty table with the spec's typed columns and dtypes."""
    spec = SPEC[file]
    table = empty_table(spec.table)
    assert table.empty
    expected = spec.output if spec.output is not None else spec.required_columns
    assert list(table.columns) == list(expected)
    for column in expected:
        field = spec.output_field(column)
        if field.dtype is not None:
            assert table[column].dtype == field.dtype


def test_demo_writer_orders_columns_by_the_spec():
    """The demo's GTFS writer writes the columns its rows use in the reference's order and
    refuses a column the reference does not have."""
    header, rows = gtfs_table(
        "stops.txt", [{"stop_name": "Mairie", "stop_id": "M"}, {"stop_id": "G", "stop_lat": "45"}]
    )
    assert header == ["stop_id", "stop_name", "stop_lat"]
    assert rows == [["M", "Mairie", ""], ["G", "", "45"]]
    with pytest.raises(ValueError, match="stop_colour"):
        gtfs_table("stops.txt", [{"stop_id": "M", "stop_colour": "red"}])
