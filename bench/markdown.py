"""Markdown rendering cost (issue 15): every text of the pathological corpus, at the largest size a field takes,
at a quarter of it and cut where it has as much markup as still goes through Markdown (MARKUP_MAX pieces, the
costliest each kind of text can be), through community.core.markdown.render as saving a post or the preview calls it.

    .venv/bin/python bench/markdown.py

Progress goes to stderr; the last line of stdout is one JSON object: for each input its size, the best of three
timings in milliseconds at full and at quarter size, and their ratio (about 4 when the cost is linear in the
length, 16 when quadratic), and at the markup budget; then the slowest and which exceeded 100 ms at any size.
"""

import json
import platform
import sys
import time
from pathlib import Path

# The project instead of bench/, whose markdown.py would otherwise hide the Markdown package itself.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from community.core.markdown import MARKUP, MARKUP_MAX, render  # noqa: E402
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


def at_budget(text):
    """The longest start of `text` with at most MARKUP_MAX pieces of markup."""
    pieces = list(MARKUP.finditer(text))
    return text if len(pieces) <= MARKUP_MAX else text[: pieces[MARKUP_MAX].start()]


def main():
    quarter = dict(corpus(SIZE // 4))
    inputs = {}
    for name, text in corpus(SIZE):
        full_ms, quarter_ms = best_ms(text), best_ms(quarter[name])
        budget_text = at_budget(text)
        budget_ms = best_ms(budget_text)
        inputs[name] = {
            "chars": len(text),
            "ms": full_ms,
            "quarter_ms": quarter_ms,
            "growth": round(full_ms / quarter_ms, 1) if quarter_ms else None,
            "at_budget_chars": len(budget_text),
            "at_budget_ms": budget_ms,
            "worst_ms": max(full_ms, quarter_ms, budget_ms),
        }
        print(
            f"{name:20} {len(text):6} chars {full_ms:8.1f} ms (quarter {quarter_ms:.1f} ms, "
            f"{len(budget_text)} chars at the markup budget {budget_ms:.1f} ms)",
            file=sys.stderr,
        )
    slowest = max(inputs, key=lambda name: inputs[name]["worst_ms"])
    figures = {
        "python": platform.python_version(),
        "budget_ms": BUDGET_MS,
        "inputs": inputs,
        "markup_max": MARKUP_MAX,
        "slowest": {"name": slowest, "ms": inputs[slowest]["worst_ms"]},
        "over_budget": sorted(name for name, figure in inputs.items() if figure["worst_ms"] > BUDGET_MS),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
