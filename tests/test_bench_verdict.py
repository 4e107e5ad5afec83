"""The rule bench/run.py judges every goal by (issue 25): the median of the rounds against
the target, and "inconclusive" whenever the rounds spread wider than the margin to it."""

from __future__ import annotations

import pytest

from bench.measure import INCONCLUSIVE, MET, MISSED, parse_rounds, rounds_line, spread, verdict


def test_a_floor_is_met_when_every_round_agrees():
    assert verdict([0.90, 0.95, 0.92], 0.8, at_least=True) == MET


def test_a_floor_is_missed_when_the_rounds_are_tight_below_it():
    assert verdict([0.40, 0.42, 0.41], 0.5, at_least=True) == MISSED


def test_a_ceiling_is_judged_the_other_way_round():
    assert verdict([2.7, 2.8, 2.75], 3.0, at_least=False) == MET
    assert verdict([3.3, 3.4, 3.35], 3.0, at_least=False) == MISSED


def test_rounds_wider_than_the_margin_are_inconclusive_on_either_side():
    # median 0.97 is 0.17 above the floor, but the rounds span 0.38-2.10: not a result.
    assert verdict([0.38, 0.97, 2.10], 0.8, at_least=True) == INCONCLUSIVE
    # median 0.45 misses 0.5 by 0.05, rounds span 0.1: another run could meet it.
    assert verdict([0.40, 0.45, 0.50], 0.5, at_least=True) == INCONCLUSIVE
    assert verdict([2.9, 2.95, 3.1], 3.0, at_least=False) == INCONCLUSIVE


def test_a_spread_equal_to_the_margin_still_counts():
    assert verdict([1.0, 1.5, 1.5], 2.0, at_least=False) == MET
    assert verdict([0.5], 0.5, at_least=True) == MET  # one round, exactly at the line


def test_no_rounds_is_an_error_not_a_verdict():
    with pytest.raises(ValueError):
        verdict([], 1.0, at_least=True)


def test_a_figure_reads_as_median_then_lowest_and_highest_round():
    assert spread([0.91, 1.02, 0.97]) == "0.97x (0.91–1.02x)"
    assert spread([515.2, 564.0], " µs", 0) == "540 µs (515–564 µs)"


def test_rounds_go_through_a_bench_module_output_intact():
    text = "[1] something\n" + rounds_line("P1.rate", [0.5, 1.25, 3e-05]) + "\nmore\n"
    assert parse_rounds(text, "P1.rate") == [0.5, 1.25, 3e-05]
    with pytest.raises(RuntimeError):
        parse_rounds(text, "P1.cpu")
