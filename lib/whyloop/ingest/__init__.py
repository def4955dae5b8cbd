"""Ingest: test result files and service logs into pandas DataFrames.

Parsers here are pure (bytes in, rows out); only ``sources`` touches files,
commands and the network.
"""
