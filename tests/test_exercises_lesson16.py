"""Lesson 16's checkers name each typical wrong answer with its own hint. (That every reference solution passes and an
unattempted exercise says "not attempted" is tested for all lessons in tests/test_exercises_all.py.)"""

import numpy as np

from exercise_harness import Lesson, failed
from gradlab.exercises import lesson16

LESSON = Lesson("16_distributed")
solution = LESSON.solution


# distributed.block_of ---------------------------------------------------------------------------------------


def test_block_of_round_robin():
    message = failed("distributed.block_of", lambda users, items, n, nu, ni: (users % n, items % n))
    assert "round-robin" in message


def test_block_of_overshoots_when_n_does_not_divide():
    message = failed("distributed.block_of", lambda users, items, n, nu, ni: (users // (nu // n), items // (ni // n)))
    assert "are outside 0…" in message and "index // (count // n) overshoots" in message


def test_block_of_swapped():
    def wrong(users, items, n, nu, ni):
        rows, cols = lesson16.reference_block_of(users, items, n, nu, ni)
        return cols, rows

    assert "swapped" in failed("distributed.block_of", wrong)


def test_block_of_one_array_only():
    message = failed("distributed.block_of", lambda users, items, n, nu, ni: users * n // nu)
    assert "return two arrays" in message


def test_block_of_one_based_indices():
    message = failed("distributed.block_of", lambda users, items, n, nu, ni: ((users + 1) * n // nu, items * n // ni))
    assert "the indices are 0-based" in message


def test_block_of_wrong_rounding():
    def wrong(users, items, n, nu, ni):
        return np.round(users * n / nu).astype(int).clip(0, n - 1), items * n // ni

    message = failed("distributed.block_of", wrong)
    assert "the row blocks" in message and "expected" in message


def test_reference_blocks_are_contiguous_and_nearly_equal():
    rows, _ = lesson16.reference_block_of(np.arange(943), np.zeros(943, dtype=int), 4, 943, 1)
    assert np.all(np.diff(rows) >= 0) and set(rows) == {0, 1, 2, 3}
    sizes = np.bincount(rows)
    assert sizes.max() - sizes.min() <= 1


# distributed.strata ----------------------------------------------------------------------------------------


def test_strata_sharing_a_column():
    message = failed("distributed.strata", lambda n: [[(b, s) for b in range(n)] for s in range(n)])
    assert "share column block" in message and "items' q_i" in message


def test_strata_sharing_a_row():
    message = failed("distributed.strata", lambda n: [[(s, b) for b in range(n)] for s in range(n)])
    assert "share row block" in message and "users' p_u" in message


def test_strata_missing_sub_epochs():
    message = failed("distributed.strata", lambda n: [[(b, (b + s) % n) for b in range(n)] for s in range(n - 1)])
    assert "sub-epochs" in message


def test_strata_block_visited_twice():
    def wrong(n):
        epoch = [[(b, (b + s) % n) for b in range(n)] for s in range(n)]
        if n > 1:
            epoch[-1] = epoch[0]  # a permutation of each row, but one stratum twice and one never
        return epoch

    message = failed("distributed.strata", wrong)
    assert "is visited 2 times" in message or "is visited never" in message


def test_strata_block_out_of_range():
    message = failed("distributed.strata", lambda n: [[(b + 1, (b + s) % n + 1) for b in range(n)] for s in range(n)])
    assert "does not exist" in message


def test_strata_too_few_blocks_per_sub_epoch():
    message = failed("distributed.strata", lambda n: [[(0, s)] for s in range(n)])
    assert "one per worker" in message or "visited never" in message


def test_any_latin_square_passes_not_only_the_reference():
    """The checker tests the properties, not one answer: the schedule (b, (s − b) mod n) passes too."""
    source = (
        "def strata(n):\n"
        "    return [[(b, (s - b) % n) for b in range(n)] for s in range(n)]\n\n\n"
        'check("distributed.strata", strata)\n'
    )
    result = LESSON.run_cell("distributed.strata", source)
    assert result.status == "passed", result.message


# distributed.stale_sgd -------------------------------------------------------------------------------------


def test_stale_sgd_fresh_gradients():
    message = failed(
        "distributed.stale_sgd", lambda grad, x0, lr, steps, k: lesson16.reference_stale_sgd(grad, x0, lr, steps, 0)
    )
    assert "your gradients are fresh" in message


def test_stale_sgd_delay_off_by_one():
    message = failed(
        "distributed.stale_sgd", lambda grad, x0, lr, steps, k: lesson16.reference_stale_sgd(grad, x0, lr, steps, k + 1)
    )
    assert "off by one" in message


def test_stale_sgd_skips_the_first_steps():
    message = failed("distributed.stale_sgd", lesson16._skipping_start)
    assert "do not skip those steps" in message


def test_stale_sgd_uphill():
    message = failed(
        "distributed.stale_sgd", lambda grad, x0, lr, steps, k: lesson16.reference_stale_sgd(grad, x0, -lr, steps, k)
    )
    assert "uphill" in message


def test_stale_sgd_without_x0():
    message = failed(
        "distributed.stale_sgd", lambda grad, x0, lr, steps, k: lesson16.reference_stale_sgd(grad, x0, lr, steps, k)[1:]
    )
    assert "x_0 first" in message


def test_the_stability_edge_of_the_delayed_recurrence_is_levin_and_mays():
    """The lesson states η·L < 2 sin(π/(2(2k+1))) for x_(t+1) = x_t − ηL·x_(t−k); the reference path, run just
    inside and just outside that edge, shrinks and grows."""
    for k in (0, 1, 2, 5):
        edge = 2 * np.sin(np.pi / (2 * (2 * k + 1)))
        inside = lesson16.reference_stale_sgd(lambda x: x, np.array([1.0]), 0.97 * edge, 3000, k)
        outside = lesson16.reference_stale_sgd(lambda x: x, np.array([1.0]), 1.03 * edge, 3000, k)
        assert np.abs(inside[-k - 1 :]).max() < 1e-3, k
        assert np.abs(outside[-k - 1 :]).max() > 1e3, k
