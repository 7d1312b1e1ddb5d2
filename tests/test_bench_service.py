"""The load measurement of ``workbench bench service``: the ingest's overlap and the errors' texts."""

from workbench.bench.service import _covered, _error_texts, _paired


def test_the_overlap_counts_only_the_window_and_the_gaps_between_ingests():
    spans = [(0.0, 4.0), (4.5, 9.0), (9.0, 30.0)]
    assert _covered(spans, 2.0, 12.0) == 9.5    # 2-4, 4.5-9 and 9-12: the half second between runs is missing
    assert _covered([(0.0, 1.0)], 2.0, 12.0) == 0.0


def test_errors_are_reported_by_text_most_frequent_first():
    errors = ["ServiceUnavailable: down"] * 2 + ["AccessDenied: no"] + ["x" * 400]
    texts = _error_texts(errors)
    assert list(texts.items())[0] == ("ServiceUnavailable: down", 2)
    assert texts["AccessDenied: no"] == 1 and texts["x" * 300] == 1


def test_trajectory_sides_are_timed_in_alternation():
    """Each pair times both sides a moment apart, the order swapped every pair (after one warm call each)."""
    calls: list[str] = []
    first, second = _paired(lambda: calls.append("embedded"), lambda: calls.append("served"), 3)
    assert len(first) == len(second) == 3 and all(t >= 0 for t in first + second)
    assert calls == ["embedded", "served", "embedded", "served", "served", "embedded", "embedded", "served"]
