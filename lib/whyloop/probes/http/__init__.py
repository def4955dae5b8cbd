"""The HTTP probe: one request timed phase by phase (:mod:`.probe`), judged by a pure :mod:`.judge`."""
