"""The order of the scores, descending, as a permutation: the one sort per data set.

``np.argsort`` of 10M float64 scores takes 1.2 s (quicksort) to 2.7 s (stable) of one core
and polars' sort of the score with the columns that follow it 1.4 s wall; numpy's SIMD sort
of a plain ``uint64`` array takes 0.19 s. So each score becomes one ``uint64`` key: the
order-preserving bit pattern of the float (inverted for descending), shifted down so that
its top bits keep the score and its low bits hold the row's index; one ``np.sort`` of the
keys, the index read back from the low bits. Scores that differ only in the bits the shift
dropped (147 of 10M scores drawn from a continuous distribution) land in runs ordered by
index; each such run is put in the exact order again (a small ``np.lexsort``). Equal scores
keep their data order (a stable descending sort).

Measured on the 10M scores of benchmarks/performance.py (2026-12-02, load 1): keys 0.12 s,
sort 0.19 s, index 0.07 s, repair under 0.01 s: 0.4 s of one core against 1.2 s for
``np.argsort(-x)``; tests/unit/test_performance_sort.py checks it against
``np.argsort(-x, kind="stable")`` on ties, negative numbers, zeros and near-equal scores.
"""

from __future__ import annotations

import numpy as np

SMALL = 1 << 16  # below this, np.argsort is as fast: no key
_SIGN = np.uint64(1 << 63)


def descending(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices ordering finite ``x`` descending, equal values in data order, and ``x`` in
    that order (the gather the caller needs anyway, which also finds the rows to repair)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    n = x.size
    if n < SMALL:
        order = np.argsort(-x, kind="stable")
        return order, x[order]
    exact = _descending_key(x)
    lo = int(exact.min())
    span = int(exact.max()) - lo
    index_bits = (n - 1).bit_length()
    shift = max(0, span.bit_length() - (64 - index_bits))
    key = exact - np.uint64(lo)
    key >>= np.uint64(shift)
    key <<= np.uint64(index_bits)
    key |= np.arange(n, dtype=np.uint64)
    key.sort()
    order = (key & np.uint64((1 << index_bits) - 1)).astype(np.intp)
    values = x[order]
    if shift:
        key >>= np.uint64(index_bits)
        _repair(order, values, key, x)
    return order, values


def _descending_key(x: np.ndarray) -> np.ndarray:
    """uint64 keys whose ascending order is ``x``'s descending order: a float's bits with
    the sign bit set (non-negative) or all bits flipped (negative) sort as the floats do;
    flipping all bits again reverses that."""
    bits = x.view(np.uint64)
    negative = bits > _SIGN  # -0.0 (the sign bit alone) keys as 0.0 does: equal scores
    return np.where(negative, bits, ~(bits | _SIGN))


def _repair(order: np.ndarray, values: np.ndarray, truncated: np.ndarray,
            x: np.ndarray) -> None:
    """Put the runs of equal truncated keys whose values are out of order (a larger value
    after a smaller one) in order, in place; runs of equal values are in data order
    already, so heavily tied scores cost one comparison pass."""
    rising = values[1:] > values[:-1]
    if not rising.any():
        return
    same = truncated[1:] == truncated[:-1]
    member = np.zeros(order.size, bool)
    member[1:] = same
    member[:-1] |= same
    at = np.flatnonzero(member)
    first = np.ones(at.size, bool)
    first[1:] = ~same[at[1:] - 1]
    run = np.cumsum(first)
    bad_runs = np.unique(run[np.searchsorted(at, np.flatnonzero(rising))])
    pick = np.isin(run, bad_runs)
    at, run = at[pick], run[pick]
    rows = order[at]
    moved = rows[np.lexsort((rows, -x[rows], run))]
    order[at] = moved
    values[at] = x[moved]
