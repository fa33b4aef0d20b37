"""The old name of `publish.filecache.FileCache`, kept while code still imports it from here.

Import `FileCache` from `publish.filecache` instead; this module goes once nothing uses it.
"""

from __future__ import annotations

from publish.filecache import FileCache as SharedFiles

__all__ = ["SharedFiles"]
