"""The build: catalog → checks → tiles and features → release."""
