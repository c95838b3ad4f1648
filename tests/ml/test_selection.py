import math

import numpy as np
import pytest

from veerdesk.ml.selection import SWITCH_CONFIDENCE, choose_weights, paired_bootstrap, selection_score


def _pages(rng, n_pages, curves, share):
    """Pages of R² values where about ``share`` of the curves reach 0.9."""
    return [list(np.where(rng.random(curves) < share, 0.99, 0.5)) for _ in range(n_pages)]


def test_score_is_the_mean_of_the_page_sets_pooled_shares_and_an_unrecovered_curve_fails():
    generated = [[0.95, 0.2], [0.99, math.nan, 0.91]]  # 3 of 5 curves >= 0.9
    foreign = [[0.999, 0.999, 0.5, 0.95]]  # 3 of 4
    assert selection_score([generated, foreign]) == pytest.approx(0.5 * (3 / 5 + 3 / 4))


def test_identical_candidates_tie_and_a_better_one_on_every_page_is_surely_ahead():
    rng = np.random.default_rng(1)
    base = [_pages(rng, 30, 5, 0.5), _pages(rng, 30, 5, 0.9)]
    same = paired_bootstrap(base, base)
    assert same.difference == 0 and same.p_ahead == 0.5 and same.low == same.high == 0
    # The challenger recovers one more curve on every generated page.
    better = [[[0.99] + page[1:] if page[0] < 0.9 else page for page in base[0]], base[1]]
    assert selection_score(better) > selection_score(base)
    result = paired_bootstrap(better, base)
    assert result.p_ahead > 0.99 and result.low > 0


def test_a_lead_of_one_curve_in_three_hundred_does_not_replace_the_incumbent():
    rng = np.random.default_rng(2)
    shipped = [_pages(rng, 32, 9, 0.45), _pages(rng, 30, 5, 0.95)]
    # The challenger wins two curves and loses one elsewhere: ahead on the point figure, within the noise.
    generated = [list(p) for p in shipped[0]]
    flips = [(p, c) for p, page in enumerate(generated) for c, r2 in enumerate(page)]
    lows = [(p, c) for p, c in flips if generated[p][c] < 0.9]
    highs = [(p, c) for p, c in flips if generated[p][c] >= 0.9]
    for p, c in lows[:2]:
        generated[p][c] = 0.99
    generated[highs[-1][0]][highs[-1][1]] = 0.5
    challenger = [generated, shipped[1]]
    assert selection_score(challenger) > selection_score(shipped)
    chosen, comparisons = choose_weights({"shipped": shipped, "new": challenger}, "shipped")
    assert chosen == "shipped"
    assert comparisons["new"]["p_ahead"] < SWITCH_CONFIDENCE and comparisons["new"]["difference"] > 0
    # Without an incumbent the point figures decide.
    assert choose_weights({"shipped": shipped, "new": challenger})[0] == "new"


def test_a_clearly_better_challenger_replaces_the_incumbent():
    rng = np.random.default_rng(3)
    shipped = [_pages(rng, 32, 9, 0.40), _pages(rng, 30, 5, 0.90)]
    strong = [_pages(rng, 32, 9, 0.70), _pages(rng, 30, 5, 0.97)]
    chosen, comparisons = choose_weights({"shipped": shipped, "strong": strong, "same": shipped}, "shipped")
    assert chosen == "strong"
    assert comparisons["strong"]["p_ahead"] >= SWITCH_CONFIDENCE and comparisons["same"]["p_ahead"] == 0.5


def test_candidates_must_be_scored_on_the_same_pages():
    with pytest.raises(ValueError, match="same pages"):
        paired_bootstrap([[[0.9, 0.9]]], [[[0.9]]])
    with pytest.raises(ValueError, match="page sets"):
        paired_bootstrap([[[0.9]]], [[[0.9]], [[0.9]]])
