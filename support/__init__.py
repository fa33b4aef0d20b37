"""What the tests and the benchmarks share: free ports, the browser launch, a throwaway PostGIS.

A top-level package beside `publish/`, `tests/` and `bench/`, never installed (pyproject's
packages are `publish*`): it serves development only. Both sides import it with the repository
root on sys.path (pytest puts it there for the `tests` package; each bench script adds it), so
bench/ never imports tests/ and tests/ never import bench/. It needs nothing beyond the `dev`
extra.
"""
