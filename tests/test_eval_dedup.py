"""Evaluation gate for story deduplication: precision and recall of "same story" on the labeled
pairs of eval/dedup (written for this project), through LSH candidates and the same-story rule.
The floors are ``benchmarks.eval_dedup.FLOORS``, which ``make eval`` prints."""

from __future__ import annotations

from benchmarks.eval_dedup import FLOORS, evaluate


def test_dedup_quality_floors() -> None:
    """Precision, recall and per-kind accuracy at or above FLOORS, on >= 150 pairs in French and English."""
    result = evaluate()
    assert result["pairs"] >= FLOORS["pairs"]
    assert result["precision"] >= FLOORS["precision"], result["errors"]
    assert result["recall"] >= FLOORS["recall"], result["errors"]
    # every kind of positive is found and every kind of hard negative kept apart
    weak = {kind: accuracy for kind, accuracy in result["accuracy_by_kind"].items()
            if accuracy < FLOORS["kind_accuracy"]}
    assert not weak, (weak, result["errors"])
