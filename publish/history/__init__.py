"""Release history: what changed between two releases (the diff, 版本差异), for people and
machines.

* :mod:`publish.history.snapshot`: a release as the diff reads it (manifest, catalog, audiences).
* :mod:`publish.history.matching`: a layer's features matched by id, row pairs compared in SQLite.
* :mod:`publish.history.measure`: how much a geometry changed, in the city's CRS (tolerance).
* :mod:`publish.history.changes`: a layer's change table (one row per changed feature).
* :mod:`publish.history.totals`: totals by layer, county and land-use class; indicator deltas.
* :mod:`publish.history.diff`: the diff of two releases per audience and its JSON document.
* :mod:`publish.history.page`: diff.html; :mod:`publish.history.report`: the files and the
  terminal's summaries; :mod:`publish.history.command`: ``python -m publish release diff``.
"""
