"""The indicator model (指标模型) and implementation monitoring (实施监督).

* :mod:`publish.indicators.model`: indicators.yml, checked against the catalog.
* :mod:`publish.indicators.values`: the model's values CSV (figures not from layers).
* :mod:`publish.indicators.formulas`: the formula vocabulary and its safe parser.
* :mod:`publish.indicators.rules`: target rules and statuses (ok / warning / breach).
* :mod:`publish.indicators.scopes`: the city, county and township units.
* :mod:`publish.indicators.compute`: a model evaluated on a build's layers, per unit.
* :mod:`publish.indicators.document`: monitoring/<audience>.json.
* :mod:`publish.indicators.tables`: the `indicators` and `indicators_map` feature-store tables.
* :mod:`publish.indicators.reuse`: figures taken over from the replaced release when their
  inputs did not change.
* :mod:`publish.indicators.conflicts`: the conflict analysis (规划分析评价) of the current and
  planned use against the control lines.

The release outputs are publish.release.outputs.monitoring and .conflicts.
"""
