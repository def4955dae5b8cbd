"""Ingest: test result files and service logs into pandas DataFrames.

``tests/`` reads result files (one module per format family, a shared
contract and frame builder); ``logs/`` reads service logs (sources pull
bytes from files, commands and URLs; the parsers are pure). Ingest imports
nothing from analysis, probes, the store or the CLI.
"""
