"""The site compliance check (用地合规性检查): is a site inside a control line, does it conform to the
plan, what surrounds it. `inputs` parses a request, `store` reads a release's features, `check`
computes the report, `process` is the pygeoapi process plugin."""
