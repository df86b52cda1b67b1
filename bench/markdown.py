"""Markdown rendering cost (issue 15): every text of the pathological corpus, at the largest size a field takes
and at a quarter of it, through community.core.markdown.render as saving a post or the preview calls it.

    .venv/bin/python bench/markdown.py

Progress goes to stderr; the last line of stdout is one JSON object: for each input its size, the best of three
timings in milliseconds at full and at quarter size, and their ratio (about 4 when the cost is linear in the
length, 16 when quadratic); then the slowest input and how many exceeded the 100 ms budget.
"""

import json
import platform
import sys
import time
from pathlib import Path

# The project instead of bench/, whose markdown.py would otherwise hide the Markdown package itself.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from community.core.markdown import render  # noqa: E402
from tests.security.markdown_corpus import SIZE, corpus  # noqa: E402

BUDGET_MS = 100
RUNS = 3


def best_ms(text):
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        render(text)
        timings.append((time.perf_counter() - start) * 1000)
    return round(min(timings), 1)


def main():
    quarter = dict(corpus(SIZE // 4))
    inputs = {}
    for name, text in corpus(SIZE):
        full_ms, quarter_ms = best_ms(text), best_ms(quarter[name])
        inputs[name] = {
            "chars": len(text),
            "ms": full_ms,
            "quarter_ms": quarter_ms,
            "growth": round(full_ms / quarter_ms, 1) if quarter_ms else None,
        }
        print(f"{name:20} {len(text):6} chars {full_ms:8.1f} ms (quarter {quarter_ms:.1f} ms)", file=sys.stderr)
    slowest = max(inputs, key=lambda name: inputs[name]["ms"])
    figures = {
        "python": platform.python_version(),
        "budget_ms": BUDGET_MS,
        "inputs": inputs,
        "slowest": {"name": slowest, "ms": inputs[slowest]["ms"]},
        "over_budget": sorted(name for name, figure in inputs.items() if figure["ms"] > BUDGET_MS),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
