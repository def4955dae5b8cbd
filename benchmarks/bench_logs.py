"""Log ingest benchmark: whyloop.read_logs against pandas, pyarrow and DuckDB.

Generates (once, cached under ``benchmarks/.cache/``) 1,000,000 Cloud Run-shaped
JSON lines (~330 bytes each) and 1,000,000 plain text lines in the
``python-logging`` line format, then measures in the same run, best of a few:

* JSON: ``pandas.read_json(lines=True)`` (on the first 100,000 lines, scaled to
  the full file: the full file takes minutes and the rate is linear), pyarrow's
  ``pyarrow.json.read_json``, DuckDB ``read_json`` to Arrow, and
  ``whyloop.read_logs(format="json")``;
* text: a compiled-regex Python loop (the baseline every hand-written parser
  is) and ``whyloop.read_logs(format="text", line_format="python-logging")``;
* peak RSS increase of ``read_logs`` on each file, measured in a fresh child
  process, against the input size.

Targets: whyloop JSON at least 6x pandas and at most 2x the time of the
fastest columnar reader; text at least 500,000 lines/s; peak RSS increase under
3x the input size, for JSON and for text. ``main()`` prints each figure and
returns them as a dict.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

N_LINES = 1_000_000
PANDAS_LINES = 100_000
REPEAT = 3
CACHE = Path(__file__).resolve().parent / ".cache"
JSON_FILE = CACHE / "cloudrun_1m.jsonl"
TEXT_FILE = CACHE / "pylogging_1m.log"

_SEVERITIES = ["INFO"] * 12 + ["DEBUG"] * 4 + ["WARNING"] * 3 + ["ERROR", "DEFAULT", "NOTICE"]
_SERVICES = ["checkout", "cart", "payments", "frontend", "search", "auth"]
_PATHS = ["/api/items", "/api/cart", "/healthz", "/api/pay", "/login", "/api/search"]
_MESSAGES = [
    "request handled",
    "cache miss for key",
    "upstream timeout after retry",
    "connection reset by peer",
    "user session refreshed",
    "slow query detected",
]


def _json_line(i: int, rnd: random.Random) -> str:
    """One Cloud Run log entry: a request log, a jsonPayload or a textPayload line in turn."""
    svc = _SERVICES[i % len(_SERVICES)]
    sev = _SEVERITIES[rnd.randrange(len(_SEVERITIES))]
    sec = i // 50
    ts = f"2024-05-{1 + sec // 86400:02d}T{sec // 3600 % 24:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}.{rnd.randrange(10**9):09d}Z"
    entry: dict[str, Any] = {"insertId": f"{i:08x}{rnd.randrange(16**8):08x}"}
    if i % 3 == 0:
        entry["httpRequest"] = {
            "requestMethod": "GET" if i % 2 else "POST",
            "requestUrl": f"https://{svc}.a.run.app{_PATHS[i % 6]}/{rnd.randrange(1000)}",
            "status": 500 if sev == "ERROR" else 200,
            "latency": f"0.{rnd.randrange(1000):03d}s",
        }
    elif i % 3 == 1:
        entry["jsonPayload"] = {
            "message": f"{_MESSAGES[i % 6]} {rnd.randrange(10**6)}",
            "user_id": f"u-{rnd.randrange(10**5)}",
        }
    else:
        entry["textPayload"] = f"{_MESSAGES[i % 6]} id={rnd.randrange(10**6)}"
        entry["labels"] = {"instanceId": f"00bf{rnd.randrange(16**6):06x}"}
    entry["resource"] = {"labels": {"service_name": svc, "revision_name": f"{svc}-0000{i % 7}"}}
    entry["timestamp"] = ts
    entry["severity"] = sev
    entry["trace"] = f"projects/demo-proj/traces/{rnd.randrange(16**32):032x}"
    return json.dumps(entry, separators=(",", ":"))


def _text_line(i: int, rnd: random.Random) -> str:
    sec = i // 50
    level = ["INFO", "INFO", "DEBUG", "WARNING", "ERROR"][i % 5]
    return (
        f"2024-05-01 {sec // 3600 % 24:02d}:{sec // 60 % 60:02d}:{sec % 60:02d},{i % 1000:03d} "
        f"{level} app.{_SERVICES[i % 6]}: {_MESSAGES[i % 6]} {rnd.randrange(10**6)}"
    )


def _generate(path: Path, make: Callable[[int, random.Random], str]) -> Path:
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(42)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for start in range(0, N_LINES, 10_000):
            fh.write("\n".join(make(i, rnd) for i in range(start, start + 10_000)) + "\n")
    tmp.rename(path)
    return path


def json_file() -> Path:
    """Return the cached 1M-line Cloud Run JSON file, generating it first if needed."""
    return _generate(JSON_FILE, _json_line)


def text_file() -> Path:
    """Return the cached 1M-line python-logging text file, generating it first if needed."""
    return _generate(TEXT_FILE, _text_line)


def _best(runs: dict[str, Callable[[], object]], repeat: int = REPEAT) -> dict[str, float]:
    """Best wall time of each callable, run in turns so a change of machine load hits all alike."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def _duckdb_arrow(path: Path) -> object:
    import duckdb

    con = duckdb.connect()
    try:
        rel = con.sql(f"SELECT * FROM read_json('{path}')")
        return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
    finally:
        con.close()


def _pandas_subset(path: Path) -> object:
    import io

    import pandas as pd

    with path.open("rb") as fh:
        head = b"".join(next(fh) for _ in range(PANDAS_LINES))
    return lambda: pd.read_json(io.BytesIO(head), lines=True)


def _regex_loop(path: Path) -> Callable[[], object]:
    """The baseline a hand-written parser is: a compiled regex over every line, then a frame."""
    import pandas as pd

    from whyloop.ingest.logs.text import LINE_FORMATS

    rx = re.compile(LINE_FORMATS["python-logging"])

    def run() -> object:
        rows = []
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                m = rx.match(line.rstrip("\n"))
                if m:
                    rows.append(m.groups())
        return pd.DataFrame(rows, columns=list(rx.groupindex))

    return run


_RSS_CHILD = """
import resource, sys
from whyloop.ingest.logs.read import read_logs

def peak():
    # VmHWM is this process's own peak; ru_maxrss can carry the parent's across fork/exec.
    try:
        with open("/proc/self/status") as fh:
            return next(int(x.split()[1]) for x in fh if x.startswith("VmHWM:")) * 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

path, line_format = sys.argv[1], (sys.argv[2] or None)
before = peak()
df = read_logs(path, line_format=line_format)
print(peak() - before, len(df))
"""


def _rss_increase(path: Path, line_format: str = "") -> int:
    """Peak RSS growth of ``read_logs`` on ``path``, in bytes, measured in a fresh child process."""
    out = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, str(path), line_format],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.split()[0])


def main() -> dict[str, Any]:
    """Run the log ingest benchmark; print the figures and return them."""
    import pyarrow.json as pj

    from whyloop.ingest.logs.read import read_logs

    jpath, tpath = json_file(), text_file()
    jsize, tsize = jpath.stat().st_size, tpath.stat().st_size
    print(f"JSON: {N_LINES:,} Cloud Run lines, {jsize / 1e6:.0f} MB ({jsize / N_LINES:.0f} B/line)")
    pandas_run = _pandas_subset(jpath)
    pandas_t = _best({"pandas": pandas_run}, repeat=2)["pandas"] * (N_LINES / PANDAS_LINES)
    t = _best(
        {
            "pyarrow": lambda: pj.read_json(jpath),
            "duckdb": lambda: _duckdb_arrow(jpath),
            "whyloop": lambda: read_logs(jpath),
        }
    )
    fastest = min(t["pyarrow"], t["duckdb"])
    rate = {k: N_LINES / v for k, v in {**t, "pandas": pandas_t}.items()}
    print(
        f"  pandas.read_json(lines=True)  {rate['pandas']:>12,.0f} lines/s  (100k-line subset, scaled)"
    )
    print(f"  pyarrow.json.read_json        {rate['pyarrow']:>12,.0f} lines/s  {t['pyarrow']:.2f}s")
    print(f"  duckdb read_json -> arrow     {rate['duckdb']:>12,.0f} lines/s  {t['duckdb']:.2f}s")
    print(f"  whyloop read_logs             {rate['whyloop']:>12,.0f} lines/s  {t['whyloop']:.2f}s")
    vs_pandas = rate["whyloop"] / rate["pandas"]
    vs_fastest = t["whyloop"] / fastest
    print(f"  whyloop / pandas rate   {vs_pandas:5.1f}x   (target >= 6x)")
    print(f"  whyloop / fastest time  {vs_fastest:5.2f}x   (target <= 2x)")

    print(f"text: {N_LINES:,} python-logging lines, {tsize / 1e6:.0f} MB")
    loop = _regex_loop(tpath)
    tt = _best(
        {"loop": loop, "whyloop": lambda: read_logs(tpath, line_format="python-logging")}, repeat=2
    )
    text_rate = N_LINES / tt["whyloop"]
    loop_rate = N_LINES / tt["loop"]
    print(f"  compiled regex Python loop    {loop_rate:>12,.0f} lines/s  {tt['loop']:.2f}s")
    print(f"  whyloop read_logs             {text_rate:>12,.0f} lines/s  {tt['whyloop']:.2f}s")
    print(f"  whyloop / regex loop    {text_rate / loop_rate:5.1f}x   (target >= 500,000 lines/s)")

    jrss, trss = _rss_increase(jpath), _rss_increase(tpath, "python-logging")
    print(f"peak RSS increase: JSON {jrss / 1e6:4.0f} MB = {jrss / jsize:.2f}x input (target < 3x)")
    print(f"                   text {trss / 1e6:4.0f} MB = {trss / tsize:.2f}x input (target < 3x)")
    return {
        "json_lines": N_LINES,
        "json_bytes": jsize,
        "json_lines_per_s": {k: round(v) for k, v in rate.items()},
        "json_whyloop_vs_pandas": round(vs_pandas, 2),
        "json_whyloop_vs_fastest_columnar_time": round(vs_fastest, 2),
        "text_lines_per_s": {"regex_loop": round(loop_rate), "whyloop": round(text_rate)},
        "text_whyloop_vs_regex_loop": round(text_rate / loop_rate, 2),
        "rss_increase_bytes": {"json": jrss, "text": trss},
        "rss_increase_vs_input": {"json": round(jrss / jsize, 2), "text": round(trss / tsize, 2)},
        "targets_met": {
            "json_vs_pandas_6x": vs_pandas >= 6,
            "json_within_2x_fastest": vs_fastest <= 2,
            "text_500k_lines_per_s": text_rate >= 500_000,
            "json_rss_under_3x": jrss < 3 * jsize,
            "text_rss_under_3x": trss < 3 * tsize,
        },
    }


if __name__ == "__main__":
    main()
