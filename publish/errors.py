"""Exceptions raised by the domain code. One place (the server's error table) maps them to HTTP."""


class PublishError(Exception):
    """Base class: every error the product raises on purpose."""


class CatalogError(PublishError):
    """The layer catalog is missing, unreadable or invalid. The message names file, layer and key."""


class SourceError(PublishError):
    """A layer's source cannot be read as declared (missing file, no CRS, bad encoding)."""


class NoCrsError(SourceError):
    """A layer's source has no CRS and the catalog declares none."""


class BuildError(PublishError):
    """The build could not produce a release (tool failure, archive check failed)."""


class ReviewFailedError(BuildError):
    """The review found blocking findings: nothing is published."""


class ReleaseError(PublishError):
    """A release is missing, incomplete or cannot be switched to."""


class DiffError(PublishError):
    """Two releases cannot be compared (different cities, a table that cannot be read)."""


class ModelError(CatalogError):
    """The indicator model (indicators.yml) or its values CSV is missing, unreadable or invalid.
    The message names the file, the indicator and the key."""


class DeployError(PublishError):
    """A deployment's configuration cannot be made from the arguments (a bad node address, URL,
    path or size). The message names the argument."""
