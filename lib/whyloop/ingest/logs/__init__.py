"""Service logs in, one row per record out.

The pipeline (:mod:`.read`): resolve the sources (:mod:`.sources`: files,
globs, gzip, a command, a URL), refuse binary ones and decode UTF-16/32
(:mod:`.encoding`), detect each one's format (for text, its line format:
:mod:`.formats`), parse it (:mod:`.json`, :mod:`.text`, :mod:`.logfmt`),
normalise fields and times (:mod:`.fields`, :mod:`.times`) into the columns
of :data:`whyloop.schema.LOG_COLUMNS`.
"""

from whyloop.ingest.logs.read import FORMATS, read_logs

__all__ = ["FORMATS", "read_logs"]
