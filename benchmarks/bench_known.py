"""Known causes: a new failure looked up among 100, 1,000 and 10,000 past analyses.

The history is made of real five-whys files (the format :mod:`whyloop.whys.files`
writes, loaded back by it): each analysis has one why with a failure
signature drawn from a vocabulary (so signatures differ but share words),
its cluster id, 3 tests of a pool of 2,000, a failing stage, 3 cited log
lines of a pool of 3,000 shapes, a confirmed root cause and a verified
countermeasure. The files are written once into ``benchmarks/.cache/known/``
(git-ignored) and reused by later runs: writing 10,000 takes minutes.

Measured at each size, best of :data:`REPEAT`:

- **cold**: :func:`whyloop.known.load_index` with an empty cache: every
  file parsed (libyaml) and the cache written;
- **open**: the same with the cache there: a directory walk, a stat per
  file and one JSON read;
- **lookup**: the mean time to match one failure (of 20: half seen before,
  half new) with the inverted index;
- **search**: open + one lookup, what ``whyloop known`` costs on a history
  whose files did not change (target: under 1 s at 10,000 analyses);
- baselines in the same run: **linear scan**, the same matching applied to
  every entry with no index; **load every file**, what a lookup costs without
  index or cache (:func:`whyloop.whys.load` on each file, the pure-Python
  reader; at 10,000 files it is timed on the first 1,000 and the figure
  scaled by 10, as the table says).

``main()`` prints the table and returns the figures.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from whyloop import known, whys
from whyloop.known import Failure
from whyloop.known.index import Candidate

HISTORY = Path(__file__).resolve().parent / ".cache" / "known"
SIZES = (100, 1_000, 10_000)
REPEAT = 3
QUERIES = 20
TARGET_S = 1.0
FULL_LOAD_MAX = 1_000  # files read with whys.load in the baseline before scaling
_EXC = ("TimeoutError", "ConnectionError", "AssertionError", "KeyError", "HTTPError", "OSError")
_STAGES = ("dns", "tcp", "tls", "upgrade", "auth", "welcome", "echo", "request", "first_byte")


def _vocabulary(rng: random.Random, n: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return sorted(
        {"".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(n)}
    )


def _signature(rng: random.Random, words: list[str]) -> str:
    picked = rng.sample(words, 5)
    return f"{rng.choice(_EXC)}: {picked[0]} {picked[1]} after <n> s waiting for {picked[2]} ({picked[3]} {picked[4]})"


def _cluster(signature: str) -> str:
    return hashlib.sha1(signature.encode()).hexdigest()[:12]


def make_history(folder: Path, n: int, seed: int = 7) -> list[Failure]:
    """``n`` analysis files under ``folder``; returns the failures each one is about.

    Files already written by an earlier run (``folder/.complete``) are kept.
    """
    done = folder / ".complete"
    write = not done.is_file()
    rng = random.Random(seed)
    words = _vocabulary(rng, 600)
    tests = [f"tests/test_{rng.choice(words)}.py::test_{i}" for i in range(2_000)]
    lines = [
        f"{rng.choice(words)} {rng.choice(words)} failed with <n> on {rng.choice(words)}"
        for _ in range(3_000)
    ]
    failures = []
    for i in range(n):
        sig = _signature(rng, words)
        chosen = rng.sample(tests, 3)
        stage = rng.choice(_STAGES)
        logs = rng.sample(lines, 3)
        a = whys.Analysis(
            f"loop{i % 50}-{i}",
            f"iteration {i}",
            f"In iteration {i}, 3 tests failed.",
            loop=f"loop{i % 50}",
            iterations=[str(i // 50 + 1)],
            clusters=[_cluster(sig)],
            created=f"2026-{1 + i % 12:02d}-01T00:00:00+00:00",
        )
        why = a.add_why(
            f"Why did 3 tests fail with '{sig}'?", tests=chosen, clusters=[_cluster(sig)]
        )
        b = why.because(f"the {stage} stage breaks", stage=stage)
        b.attach(
            *(
                whys.Evidence(
                    whys.EvidenceKind.LOG,
                    text=f"2026-01-01T00:00:00.000Z svc ERROR {line.replace('<n>', str(i))}",
                )
                for line in logs
            )
        )
        b.confirm(f"probe:{stage}", by="bench")
        root = b.mark(whys.CausalRole.ROOT_CAUSE)
        c = a.add_countermeasure(
            f"fix the {stage} stage", addresses=[root.id], owner="bench", probes=[stage]
        )
        c.verified = whys.Verification(
            True,
            str(i // 50 + 2),
            "1 of 1 named probes passed",
            "2026-01-02T00:00:00+00:00",
            "bench",
        )
        if write:
            folder.joinpath(a.loop).mkdir(parents=True, exist_ok=True)
            a.save(folder / a.loop / f"{a.id}.yaml", replace=True)
        failures.append(
            Failure(
                [_cluster(sig)],
                sig,
                chosen,
                [stage],
                [known.keys.log_key(x) for x in logs],
                loop="later",
                iteration="1",
            )
        )
    done.write_text(str(n))
    return failures


def _queries(rng: random.Random, seen: list[Failure]) -> list[Failure]:
    words = _vocabulary(random.Random(99), 600)
    out = rng.sample(seen, min(QUERIES // 2, len(seen)))
    for _ in range(QUERIES - len(out)):
        sig = _signature(rng, words)
        out.append(
            Failure(
                [_cluster(sig)],
                sig,
                [f"tests/test_new.py::test_{rng.randint(0, 99)}"],
                [rng.choice(_STAGES)],
            )
        )
    return out


def _best(fn: Callable[[], Any]) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(REPEAT):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def _linear(index: known.KnownIndex, failure: Failure) -> list[known.Match]:
    from whyloop.known.keys import signature_words

    mine = signature_words(failure.signature)
    every = [Candidate(n, len(mine & w)) for n, w in enumerate(index.words)]
    return known.match(index, failure, every)


def _load_every_file(root: Path, limit: int | None) -> tuple[float, int]:
    files = known.analysis_files([root])
    part = files[:limit] if limit else files
    start = time.perf_counter()
    for path in part:
        whys.load(path)
    took = time.perf_counter() - start
    return took * (len(files) / len(part)), len(part)


def main() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    rng = random.Random(1)
    print(
        f"{'analyses':>9} {'cold s':>8} {'open s':>8} {'lookup ms':>10} {'search s':>9} {'linear ms':>10} {'load-all s':>11}  matched"
    )
    with tempfile.TemporaryDirectory(prefix="whyloop-known-") as tmp:
        for n in SIZES:
            root = HISTORY / str(n)
            seen = make_history(root, n)
            queries = _queries(rng, seen)
            cache = Path(tmp) / f"cache-{n}.json"

            def cold(root: Path = root, cache: Path = cache) -> known.KnownIndex:
                cache.unlink(missing_ok=True)
                return known.load_index(root, cache=cache)

            cold_s, _ = _best(cold)
            open_s, index = _best(
                lambda root=root, cache=cache: known.load_index(root, cache=cache)
            )
            assert len(index) == n and not index.skipped
            lookups, linear, matched = [], [], 0
            for q in queries:
                took, found = _best(lambda q=q, index=index: known.match(index, q))
                lin, slow = _best(lambda q=q, index=index: _linear(index, q))
                assert [m.entry.key for m in found] == [m.entry.key for m in slow]
                lookups.append(took)
                linear.append(lin)
                matched += bool(found)
            limit = FULL_LOAD_MAX if n > FULL_LOAD_MAX else None
            load_all_s, loaded = _load_every_file(root, limit)
            lookup_s = statistics.mean(lookups)
            row = {
                "analyses": n,
                "cold_build_s": round(cold_s, 3),
                "open_cached_s": round(open_s, 3),
                "lookup_ms": round(lookup_s * 1000, 3),
                "search_s": round(open_s + lookup_s, 3),
                "linear_scan_ms": round(statistics.mean(linear) * 1000, 3),
                "load_every_file_s": round(load_all_s, 2),
                "load_every_file_measured_on": loaded,
                "queries_matched": f"{matched} of {len(queries)}",
                "target_met": open_s + lookup_s < TARGET_S,
            }
            figures[str(n)] = row
            scaled = "" if loaded == n else f" (x{n // loaded} of {loaded})"
            print(
                f"{n:>9} {row['cold_build_s']:>8.3f} {row['open_cached_s']:>8.3f} {row['lookup_ms']:>10.3f} "
                f"{row['search_s']:>9.3f} {row['linear_scan_ms']:>10.3f} {row['load_every_file_s']:>11.2f}{scaled}  "
                f"{row['queries_matched']}"
            )
    big = figures[str(SIZES[-1])]
    print(
        f"\nsearch at {SIZES[-1]:,} analyses: {big['search_s']:.3f} s (target < {TARGET_S} s): "
        f"{'met' if big['target_met'] else 'NOT met'}; lookup {big['lookup_ms']:.2f} ms with the index "
        f"vs {big['linear_scan_ms']:.2f} ms scanning every entry"
    )
    return figures


if __name__ == "__main__":
    main()
