"""One Map planning publishing server: catalog → checks → tiles and features → release → server."""

__version__ = "0.1.0"
