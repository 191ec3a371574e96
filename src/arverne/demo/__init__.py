"""The demo territory: an invented Auvergne market town and its villages, generated as real
OSM and GTFS files, and `arverne demo` end to end.
"""
