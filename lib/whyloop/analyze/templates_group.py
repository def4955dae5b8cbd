"""The second step of log template mining: masked messages grouped into templates.

Pure Python over the *distinct* masked messages (a few thousand, however many
lines), see :mod:`whyloop.analyze.templates` for the whole method. Here:

1. **Tokens.** A masked message splits on whitespace. A token holding a
   marker is a *value* (``<*>``) unless it is a word ending in one digit
   (``eth0``, ``ext4``: kept, as a name) or a key with a value
   (``acpi_id[0x01]``, ``lr:00004ed0``, ``depth.....0``: the key is kept, the
   value masked). Repeats of one token with a value in it, and runs of values,
   become one: lists of any length give one template.
2. **Single-position merge.** Messages of one length that differ at one
   position only (never the first) are one template when that position takes
   at least :data:`MIN_VALUES` different words, or holds a value in messages
   with at least half of the lines (``LOCAL(0)`` among IP addresses is one
   more address; a word as common as the values is a template of its own).
3. **Clusters.** Within each (length, first token), a message joins the most
   similar cluster when at least :data:`SIMILARITY` of its tokens equal the
   cluster's template, as in Drain. (Past :data:`CROWDED` messages, the
   position with the most different words is made a value first.)
4. **Split.** Each cluster is split, recursively, on the position with the
   fewest different words, while some position other than the first is not
   a variable by the rule of step 2 (and the first position takes more than
   one word): few words that recur are the constants telling templates
   apart; many words are a variable.
5. Step 2 again, on the templates.

Every step visits messages in a fixed order (most lines first, then by text),
so the same lines give the same templates whatever their order.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from whyloop.analyze.templates_mask import DIGIT, VALUE

__all__ = ["MIN_VALUES", "SIMILARITY", "group_masked", "render", "tokens"]

#: A position taking this many different words (the rest of the message
#: equal) is a variable; fewer, and each word makes its own template.
MIN_VALUES = 4
#: The share of tokens a message must share with a cluster's template to join it.
SIMILARITY = 0.6
#: Clusters of one (length, first token) a message is compared with, at most:
#: keeps pathological input (thousands of unrelated short messages) linear.
MAX_CANDIDATES = 200
#: Messages of one (length, first token) past which the position with the most
#: different words becomes a value before clustering, until they are fewer.
CROWDED = 2000

_STRIP = "([{<'\"`)]}>,.;:!?"
# a name with single digits after two letters: eth0, ext4, md5, sqlite3.OperationalError, log4j
_SOFT_DIGIT = re.compile(rf"[A-Za-z_.\-]*(?:[A-Za-z]{{2}}{DIGIT}[A-Za-z_.\-]*)+")
# key, separator, value: "lr:V", "acpi_id[V", "depth....D", "rV=V" (digits of a key end it)
_KEYED = re.compile(rf"([A-Za-z_][A-Za-z_.\-]*[{VALUE}{DIGIT}]*?)(=|:|\[|\(|\.{{2,}})(.+)", re.S)
_LETTER = re.compile(r"[^\W\d_]")

Seq = tuple[str, ...]


def _value_part(value: str) -> str:
    """A key's value: one VALUE when it holds a marker and no letter, else as it is."""
    core = value.strip(_STRIP)
    if core and _LETTER.search(core.replace(VALUE, "").replace(DIGIT, "")) is None:
        start = value.find(core)
        return value[:start] + VALUE + value[start + len(core) :]
    return value


def _classify(token: str) -> str:
    """A token with its value masked whole (see the module docstring, step 1)."""
    core = token.strip(_STRIP)
    if not core or (VALUE not in core and DIGIT not in core) or _SOFT_DIGIT.fullmatch(core):
        return token
    start = token.find(core)
    head, tail = token[:start], token[start + len(core) :]
    keyed = _KEYED.fullmatch(core)
    if keyed:
        key, sep, value = keyed.groups()
        return head + key + sep + _value_part(value) + tail
    return head + VALUE + tail


def _is_value(token: str) -> bool:
    return token.strip(_STRIP) == VALUE


def tokens(masked: str) -> Seq:
    """The tokens of one masked message, values masked whole and repeats folded."""
    out: list[str] = []
    for raw in masked.split():
        token = _classify(raw)
        if out:
            prev = out[-1]
            if token == prev and (VALUE in token or DIGIT in token):
                continue
            if _is_value(token) and _is_value(prev):
                # a run of values is one value, whatever their punctuation: "(a b):" -> "(<*>):"
                out[-1] = prev[: prev.find(VALUE)] + VALUE + token[token.find(VALUE) + 1 :]
                continue
        out.append(token)
    return tuple(out)


def render(template: Iterable[str]) -> str:
    """A template as text: tokens joined by a space, every marker as ``<*>``."""
    return " ".join(template).replace(VALUE, "<*>").replace(DIGIT, "<*>")


def _patterns(values: Sequence[str]) -> dict[str, str]:
    """Each value's representative: a plain word an instance of a masked word joins it.

    ``chdir(pwd)`` is an instance of ``chdir(<*>)``: one word, not two.
    """
    masked = sorted(v for v in values if (VALUE in v or DIGIT in v) and not _is_value(v))
    rep = {v: v for v in values}
    if not masked:
        return rep
    rxs = [
        (m, re.compile(".+?".join(map(re.escape, m.replace(DIGIT, VALUE).split(VALUE))), re.S))
        for m in masked
    ]
    for v in values:
        if v not in masked:
            rep[v] = next((m for m, rx in rxs if rx.fullmatch(v)), v)
    return rep


def _words(values: Sequence[str], weights: Sequence[int]) -> tuple[bool, dict[str, str]]:
    """``(variable, representative of each value)`` for the words at one position.

    ``weights`` are the lines behind each value. A value among words makes the
    position a variable when the words are the exception (fewer lines than the
    values): ``LOCAL(0)`` among 500 IP addresses is one more address, but a
    word as common as the values is a template of its own.
    """
    distinct = sorted(set(values))
    if len(distinct) > 8 * MIN_VALUES:  # patterns cannot bring it under MIN_VALUES
        return True, {}
    hard = sum(w for v, w in zip(values, weights, strict=True) if _is_value(v))
    if hard and 2 * hard >= sum(weights):
        return True, {}
    rep = _patterns(distinct)
    return len(set(rep.values())) >= MIN_VALUES, rep


def _common_start(texts: Sequence[str]) -> str:
    """The longest start all ``texts`` share, character by character."""
    first = min(texts, default="")
    last = max(texts, default="")
    for i, (a, b) in enumerate(zip(first, last, strict=False)):
        if a != b:
            return first[:i]
    return first


def _generalize(values: Iterable[str]) -> str:
    """A value standing for ``values``, with the punctuation they all share: ``a,`` ``b(1),`` -> ``<*>,``."""
    values = list(values)
    heads = [v[: len(v) - len(v.lstrip(_STRIP))] for v in values]
    tails = [v[len(v.rstrip(_STRIP)) :][::-1] for v in values]
    return _common_start(heads) + VALUE + _common_start(tails)[::-1]


def _template_of(seqs: Sequence[Seq]) -> Seq:
    first = seqs[0]
    return tuple(
        t if all(s[i] == t for s in seqs) else _generalize(s[i] for s in seqs)
        for i, t in enumerate(first)
    )


def _merge_single_position(
    groups: dict[Seq, list[int]], lines: Sequence[int]
) -> dict[Seq, list[int]]:
    """Step 2: templates equal but at one position (not the first) that is a variable merge.

    ``groups`` maps each template to its messages, ``lines`` gives each message's lines.
    """
    weight = {t: sum(lines[m] for m in members) for t, members in groups.items()}
    by_length: dict[int, dict[Seq, None]] = defaultdict(dict)
    for template in groups:
        by_length[len(template)][template] = None
    for n in sorted(by_length):
        live = by_length[n]
        changed = True
        while changed:  # a merge at one position can make two templates equal but at another
            changed = False
            for i in range(1, n):
                same_rest: dict[Seq, list[Seq]] = defaultdict(list)
                for template in live:
                    same_rest[template[:i] + template[i + 1 :]].append(template)
                for alike in same_rest.values():
                    if len(alike) < 2:
                        continue
                    if not _words([t[i] for t in alike], [weight[t] for t in alike])[0]:
                        continue
                    merged = (*alike[0][:i], _generalize(t[i] for t in alike), *alike[0][i + 1 :])
                    members = [m for t in alike for m in groups.pop(t)]
                    total = sum(weight[t] for t in alike)
                    for t in alike:
                        del live[t]
                    groups[merged] = members
                    weight[merged] = total
                    live[merged] = None
                    changed = True
    return groups


def _thin_crowded(groups: dict[Seq, list[int]]) -> dict[Seq, list[int]]:
    """Before step 3: a (length, first token) with more than :data:`CROWDED` messages is thinned.

    The position (not the first) with the most different words becomes a
    value, again until the messages are few enough or no position has
    :data:`MIN_VALUES` words: free text with several words varying at once
    (``user alice did login on laptop``) would otherwise make a cluster per
    message, compared with every other.
    """
    buckets: dict[tuple[int, str], list[Seq]] = defaultdict(list)
    for template in groups:
        buckets[(len(template), template[0] if template else "")].append(template)
    out: dict[Seq, list[int]] = {}
    for (n, _), templates in buckets.items():
        now = {t: [t] for t in templates}
        while len(now) > CROWDED:
            counts = [len({t[i] for t in now}) for i in range(n)]
            i = max(range(1, n), key=lambda j: (counts[j], -j), default=0)
            if not i or counts[i] < MIN_VALUES:
                break
            thinned: dict[Seq, list[Seq]] = {}
            for t, originals in now.items():
                thinned.setdefault((*t[:i], VALUE, *t[i + 1 :]), []).extend(originals)
            now = thinned
        for t, originals in now.items():
            out.setdefault(t, []).extend(m for o in originals for m in groups[o])
    return out


def _cluster(seqs: Sequence[Seq], order: Sequence[int]) -> list[list[int]]:
    """Step 3: Drain-like clusters within each (length, first token)."""
    buckets: dict[tuple[int, str], list[tuple[list[str], list[int]]]] = defaultdict(list)
    for sid in order:
        seq = seqs[sid]
        clusters = buckets[(len(seq), seq[0] if seq else "")]
        best: tuple[list[str], list[int]] | None = None
        best_sim = SIMILARITY * len(seq)
        for cluster in clusters[:MAX_CANDIDATES]:
            same = sum(a == b for a, b in zip(cluster[0], seq, strict=True))
            if same > best_sim or (best is None and same >= best_sim):
                best, best_sim = cluster, same
        if best is None:
            clusters.append((list(seq), [sid]))
        else:
            template, members = best
            members.append(sid)
            for i, token in enumerate(seq):
                if template[i] != token:
                    template[i] = VALUE
    return [members for key in sorted(buckets) for _, members in buckets[key]]


def _split(members: list[int], seqs: Sequence[Seq], lines: Sequence[int]) -> list[list[int]]:
    """Step 4: split a cluster on its position with the fewest words while one has too few."""
    n = len(seqs[members[0]])
    best: tuple[tuple[int, int], int, dict[str, str]] | None = None
    for i in range(n):
        values = [seqs[m][i] for m in members]
        if len(set(values)) == 1:
            continue
        variable, rep = _words(values, [lines[m] for m in members])
        if not rep or (variable and i > 0):
            continue
        words = len(set(rep.values()))
        if words == 1:
            continue
        rank = (0 if i == 0 else 1, words)
        if best is None or rank < best[0]:
            best = (rank, i, rep)
    if best is None:
        return [members]
    _, i, rep = best
    parts: dict[str, list[int]] = {}
    for m in members:
        parts.setdefault(rep[seqs[m][i]], []).append(m)
    return [piece for part in parts.values() for piece in _split(part, seqs, lines)]


def group_masked(
    masked: Sequence[str | None], counts: Sequence[int]
) -> tuple[list[str], np.ndarray]:
    """``(templates, index)``: the templates of distinct masked messages, and each one's.

    ``counts`` are the lines behind each masked message (they set the order
    clusters form in). ``index[i]`` is the position in ``templates`` of
    ``masked[i]``'s template, -1 for a null. Templates are distinct texts.
    """
    seq_ids: dict[Seq, int] = {}
    seqs: list[Seq] = []
    weight: list[int] = []
    of_masked = np.full(len(masked), -1, dtype=np.int64)
    for i, text in enumerate(masked):
        if text is None:
            continue
        seq = tokens(text)
        sid = seq_ids.get(seq)
        if sid is None:
            sid = seq_ids[seq] = len(seqs)
            seqs.append(seq)
            weight.append(0)
        weight[sid] += int(counts[i])
        of_masked[i] = sid

    groups: dict[Seq, list[int]] = {}
    for sid in sorted(range(len(seqs)), key=lambda s: seqs[s]):
        groups.setdefault(seqs[sid], []).append(sid)
    groups = _thin_crowded(_merge_single_position(groups, weight))

    # the templates of step 2 are the messages of steps 3 and 4
    merged = list(groups)
    merged_weight = [sum(weight[m] for m in groups[t]) for t in merged]
    order = sorted(range(len(merged)), key=lambda j: (-merged_weight[j], merged[j]))
    regrouped: dict[Seq, list[int]] = {}
    for members in _cluster(merged, order):
        for part in _split(members, merged, merged_weight):
            template = _template_of([merged[j] for j in part])
            regrouped.setdefault(template, []).extend(m for j in part for m in groups[merged[j]])
    regrouped = _merge_single_position(regrouped, weight)

    texts: dict[str, int] = {}
    of_seq = np.empty(len(seqs), dtype=np.int64)
    for template in sorted(regrouped):
        at = texts.setdefault(render(template), len(texts))
        of_seq[regrouped[template]] = at
    index = np.where(of_masked >= 0, of_seq[np.maximum(of_masked, 0)] if len(seqs) else -1, -1)
    return list(texts), index
