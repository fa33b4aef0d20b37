"""The old name of `publish.filecache.FileCache`, for code that still imports it from here.

Nothing in the package does any more: import `FileCache` from `publish.filecache`. This module
goes once no branch in flight uses the old name.
"""

from __future__ import annotations

from publish.filecache import FileCache as SharedFiles

__all__ = ["SharedFiles"]
