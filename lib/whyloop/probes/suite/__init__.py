"""Probe suites: a YAML file of checks (:mod:`.spec`) run against a target (:mod:`.run`).

Network checks live in :mod:`.checks` and :mod:`.load`; their verdicts are
pure (:mod:`.verdicts`, :mod:`.load_stats`).
"""
