"""The monitoring dashboard (实施监督): its page at /dashboard and /internal/dashboard, and the
indicator data it draws from at /indicators/{audience}.json, .csv and .xlsx.

The data is what each release carries (its `monitoring/<audience>.json` and
`conflicts/<audience>.json`, named by the manifest): the current release's figures, and the
trend read from every kept release's own file — nothing is recomputed here."""
