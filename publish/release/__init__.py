"""Releases: the staging/releases/current folder, manifests, generated service configs."""
