"""``make bench``: run every benchmark and print its figures beside same-run baselines.

Each ``bench_*.py`` module has ``main() -> dict`` that prints its own table and
returns the figures; this runner collects them into ``benchmarks/latest.json``
so the README's performance section can quote the latest run.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in HERE.glob("bench_*.py"))
    results: dict[str, object] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        module = importlib.import_module(name)
        results[name] = module.main()
    (HERE / "latest.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nfigures written to {HERE / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
