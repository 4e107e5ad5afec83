"""The rule bench/run.py judges every goal by (issue 25): the median of the rounds against
the target, and "inconclusive" whenever the rounds spread wider than the margin to it; and
the rule `--repeat` applies to say whether two runs reproduce a figure (within ±10 %)."""

from __future__ import annotations

import pytest

from bench.measure import (
    INCONCLUSIVE,
    MET,
    MISSED,
    agree,
    p99,
    p99_ratios,
    parse_rounds,
    rounds_line,
    spread,
    verdict,
)
from bench.run import Row, compare


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


def test_runs_agree_when_the_larger_is_within_ten_percent_of_the_smaller():
    assert agree([1.00, 1.10])
    assert agree([0.97, 1.02])
    assert agree([0.85, 0.85, 0.90])
    assert not agree([1.00, 1.11])
    assert not agree([3.38, 0.55])  # issue 25's P2 in two runs
    assert not agree([1.00, 1.05, 1.12])  # three runs: every pair must agree
    assert agree([0.0, 0.0])
    assert not agree([0.0, 0.01])
    assert agree([1.0, 1.2], tolerance=0.25)


def test_agreement_needs_two_runs_and_figures_that_are_not_negative():
    with pytest.raises(ValueError):
        agree([1.0])
    with pytest.raises(ValueError):
        agree([-1.0, -1.05])


def test_a_p99_needs_a_hundred_values_and_is_the_one_percent_slowest():
    values = [float(v) for v in range(1, 1001)]
    assert 990 <= p99(values) <= 991
    with pytest.raises(ValueError):
        p99(values[:99])


def _row(figure: str, value: float, what: str = "a figure") -> Row:
    return Row(figure, what, f"{value}x", "<= 1x", MET, value)


def test_repeated_runs_are_compared_figure_by_figure():
    first = [_row("P1", 0.85), _row("P2", 3.38), _row("P3", 0.37, "SQLite")]
    second = [_row("P1", 0.92), _row("P2", 0.55), _row("P3", 0.35, "SQLite")]
    found = compare([first, second])
    assert [(row.figure, values, ok) for row, values, ok in found] == [
        ("P1", [0.85, 0.92], True),
        ("P2", [3.38, 0.55], False),
        ("P3", [0.37, 0.35], True),
    ]
    assert found[0][0] is second[0]  # the last run's rows, as the table shows them


def test_runs_of_different_figures_are_not_compared():
    with pytest.raises(ValueError):
        compare([[_row("P1", 1.0)], [_row("P2", 1.0)]])
    with pytest.raises(ValueError):
        compare([[_row("P3", 1.0, "SQLite")], [_row("P3", 1.0, "PostgreSQL")]])
    with pytest.raises(ValueError):
        compare([[_row("P1", 1.0), _row("P2", 1.0)], [_row("P1", 1.0)]])
    with pytest.raises(ValueError):
        compare([[_row("P1", 1.0)]])


def test_p99_ratios_are_taken_round_by_round_and_pooled_per_side():
    base = [[1.0] * 99 + [2.0], [1.0] * 100]
    other = [[1.0] * 99 + [4.0], [2.0] * 100]
    ratios, base_p99, other_p99 = p99_ratios(base, other)
    assert ratios == [p99(other[0]) / p99(base[0]), 2.0]
    assert (base_p99, other_p99) == (p99(base[0] + base[1]), p99(other[0] + other[1]))
    with pytest.raises(ValueError):
        p99_ratios(base, other[:1])
