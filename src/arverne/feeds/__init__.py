"""Outside formats in: GTFS (declared once in _spec.py, read and validated with notices), OSM
through pyosmium, street profiles as data; reading only, no routing.
"""
