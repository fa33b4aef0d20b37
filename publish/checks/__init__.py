"""The review of a build (成果审查): per-layer and cross-layer checks, findings and the report.

Import from the modules (``publish.checks.layer`` etc.); nothing is imported here, so that
importing the package stays cheap.
"""
