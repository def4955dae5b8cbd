"""Log templates: thousands of log lines read as tens of templates.

Pure. :func:`mine_templates` gives every message its template, the message
with its variable parts as ``<*>``::

    PacketResponder 1 for block blk_38865049064139660 terminating
    PacketResponder <*> for block <*> terminating

and a ``template_id``, a short hash of the template's text: the same template
has the same id in every run and every iteration, so ids can be compared and
stored (:func:`whyloop.analyze.templates_diff.template_table`).

How (no setting per system; the same method for every log):

1. **Distinct messages only.** Lines are dictionary-encoded first: a message
   that repeats is mined once.
2. **Masks** (:mod:`.templates_mask`), in C++ over the distinct messages: the
   caller's ``masks`` first, then built-in masks for what is certainly a
   value (URLs, UUIDs, timestamps, IP addresses and ports, MACs, numbers with
   units, hex, quoted ids, paths, ``key=value`` values), then every digit.
   Distinct *masked* messages are few: about 1,700 for a million lines drawn
   from eight different systems with fresh numbers on every line.
3. **Grouping** (:mod:`.templates_group`), in Python over the masked
   messages: tokens holding a digit or a mask are values (a word ending in
   one digit, such as ``eth0``, and the key of ``key:value`` stay words);
   lists of values fold into one; then messages differing at one position
   that takes many different words (at least 4) merge, Drain-like clusters
   (same length and first token, 60% of tokens equal) form, and each cluster
   splits on its positions that take few words: few words that recur tell
   templates apart, many words are a variable. The first word is never a
   variable unless it holds a value: it names the event.

Accuracy on the LogPAI loghub 2k samples (grouping accuracy, as in the loghub
benchmark) and speed are measured in ``benchmarks/bench_templates.py``, beside
drain3 run on the same lines. The two constants (4 words, 60%) are not fitted
to those files: with anything from 3 to 6 words and 50% to 70%, the average
stays at or above 0.98 and every system at or above drain3's.

Whitespace in a template is one space: a multi-line message (a traceback)
has a one-line template.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from whyloop.analyze.templates_group import group_masked
from whyloop.analyze.templates_mask import check_masks, mask_values
from whyloop.ingest.arrow import POOL

__all__ = ["TEMPLATE_COLUMNS", "mine_templates", "template_id"]

#: The columns :func:`mine_templates` returns.
TEMPLATE_COLUMNS: tuple[str, ...] = ("template_id", "template")

_STR = pd.StringDtype("pyarrow", na_value=np.nan)


def template_id(template: str) -> str:
    """The id of a template: 12 hex digits of a hash of its text, the same in every run."""
    return hashlib.blake2b(template.encode("utf-8"), digest_size=6).hexdigest()


def _strings(values: Sequence[object]) -> pa.Array:
    """Arrow strings; anything that is not a ``str`` (None, NaN, numbers, bytes) becomes null."""
    try:
        # inferred, not cast: a cast to string would decode bytes
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = None
    if arr is not None and (pa.types.is_string(arr.type) or pa.types.is_null(arr.type)):
        return arr.cast(pa.large_string())
    return pa.array([v if isinstance(v, str) else None for v in values], type=pa.large_string())


def _as_arrow(messages: object) -> tuple[pa.Array, pd.Index | None]:
    """The messages as one Arrow string array, and the Series' index if they came as one."""
    index = None
    if isinstance(messages, pd.Series):
        index = messages.index
        if isinstance(messages.dtype, pd.StringDtype):
            arr: pa.Array | pa.ChunkedArray = pa.array(messages.array)
        else:
            arr = _strings(messages.to_numpy(dtype=object))
    elif isinstance(messages, pa.ChunkedArray | pa.Array):
        arr = messages
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = _strings(arr.to_pylist())
    elif isinstance(messages, str | bytes):
        raise TypeError("mine_templates takes a sequence of messages, not one string")
    elif isinstance(messages, np.ndarray):
        arr = _strings(messages.astype(object))
    elif isinstance(messages, Iterable):
        arr = _strings(list(messages))
    else:
        raise TypeError(
            f"mine_templates takes a sequence of messages, not {type(messages).__name__}"
        )
    if pa.types.is_string(arr.type):  # 64-bit offsets: a column of more than 2 GB stays one array
        arr = arr.cast(pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks(memory_pool=POOL) if arr.num_chunks else pa.array([], arr.type)
    return arr, index


def mine_templates(
    messages: Iterable[object], *, masks: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per message, in order: its ``template_id`` and ``template``.

    ``messages`` is a sequence of strings: the ``message`` column of a logs
    frame (the text after the line format has been split off), a list, or an
    Arrow array. A Series keeps its index, so the result lines up with the
    logs frame row for row (``logs.join(mine_templates(logs.message))``).
    A message that is not a string (None, NaN, a number) gets a null template.

    ``masks`` are extra regexes for variable parts the built-in masks miss
    (``[r"blk_-?\\d+", r"core\\.\\d+"]``); each match becomes ``<*>``, before
    the built-in masks run. Raises ``ValueError`` for a mask that is not a
    valid regex or that matches the empty string.

    The same lines give the same templates whatever their order; a template's
    text, and so its id, can change when new lines show a word to be a
    variable (``removing chargen`` -> ``removing <*>``).
    """
    checked = check_masks(masks)
    arr, index = _as_arrow(messages)
    n = len(arr)
    encoded = pc.dictionary_encode(arr, memory_pool=POOL)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    masked = pc.dictionary_encode(mask_values(encoded.dictionary, checked), memory_pool=POOL)
    masked_of_raw = masked.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    present = codes >= 0
    counts = np.bincount(masked_of_raw[codes[present]], minlength=len(masked.dictionary))
    templates, template_of_masked = group_masked(masked.dictionary.to_pylist(), counts)

    per_line = np.full(n, -1, dtype=np.int64)
    if len(masked_of_raw):
        per_line[present] = template_of_masked[masked_of_raw[codes[present]]]
    missing = per_line < 0
    positions = pa.array(np.where(missing, 0, per_line), mask=missing)
    ids = pa.array([template_id(t) for t in templates], type=pa.large_string())
    texts = pa.array(templates, type=pa.large_string())
    table = pa.table(
        {
            "template_id": pc.take(ids, positions, memory_pool=POOL),
            "template": pc.take(texts, positions, memory_pool=POOL),
        }
    )
    frame = table.to_pandas(types_mapper={pa.large_string(): _STR}.get)
    if index is not None:
        frame.index = index
    return frame
