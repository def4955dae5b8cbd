"""Service logs in, one row per record out.

The pipeline (:mod:`.read`): resolve the sources (:mod:`.sources`: files,
globs, gzip, a command, a URL), detect each one's format, parse it
(:mod:`.json`, :mod:`.text`), normalise fields and times (:mod:`.fields`,
:mod:`.times`) into the columns of :data:`whyloop.schema.LOG_COLUMNS`.
"""

from whyloop.ingest.logs.read import FORMATS, read_logs

__all__ = ["FORMATS", "read_logs"]
