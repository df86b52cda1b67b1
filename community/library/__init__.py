"""The library: case studies of practices the cities share, to browse, filter, cite and reuse."""
