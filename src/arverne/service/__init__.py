"""The HTTP API and the web map (floor 7): parse a request, call one library function, serialise."""
