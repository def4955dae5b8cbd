"""Text columns of a tests frame as Arrow arrays, and compute on them that stays lean.

pyarrow allocates from mimalloc by default, which keeps what a compute
function frees resident: dictionary-encoding one 100,000-row text column
leaves 8 to 30 MB of RSS behind, more than the column itself. The kernels here
run on the system allocator instead (its large blocks go back to the OS, the
rest is reused by Python and numpy), and nothing here makes a Python string
per row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["POOL", "STR", "factorize", "text_array", "text_where"]

#: The pool for compute on whole columns (see the module docstring).
POOL = pa.system_memory_pool()
#: The dtype of text columns: what ``astype(str)`` gives (Arrow-backed).
STR = pd.StringDtype(na_value=np.nan)


def text_array(column: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A text column as Arrow strings, missing values as ``""`` (no copy for a tests frame).

    Chunked when the frame was concatenated from several files, or for a
    constant column (see :mod:`whyloop.ingest.tests.frame`).
    """
    if column.dtype != STR or column.hasnans:
        column = column.fillna("").astype(str)
    return pa.array(column.array, type=pa.large_string())


def factorize(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """``(codes, uniques)`` with ``values[i] == uniques[codes[i]]``.

    ``pd.factorize`` would make a Python string of every row first.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks(memory_pool=POOL)
    encoded = pc.dictionary_encode(values, memory_pool=POOL)
    return encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary.to_pylist()


def text_where(column: pd.Series, mask: np.ndarray) -> list[str]:
    """The values of a text column where ``mask`` is true, as Python strings."""
    return pc.filter(text_array(column), pa.array(mask), memory_pool=POOL).to_pylist()
