"""The review report (成果审查报告): what the build checked and what it found, as review.json,
a printable review.html, and the findings as XLSX and GeoPackage; and the terminal's summary.

inputs     ReportInputs: the catalog, the layers as built, when, the release (or refused)
inventory  what was checked: layers, rules, control lines, tools (always, passed or refused)
places     where each finding is: layer title, feature name, viewer link, a small map image
exports    findings.xlsx and findings.gpkg
report     the folder: review.json, review.html (+ exports), read back by read_review
page       the look shared with the release diff's page
terminal   the lines the build prints
"""
