"""Sums, products and closed forms for power sums (Faulhaber's formula).

summation(term, start, stop) = Σ_{i=start}^{stop} term(i)   (both ends included, as in Σ notation)
product(term, start, stop)   = Π_{i=start}^{stop} term(i)
With terms that return Python integers or Fractions the results are exact.

Faulhaber: for every whole p ≥ 0,
    Σ_{k=1}^{m} k^p = 1/(p+1) · Σ_{j=0}^{p} C(p+1, j) · B_j · m^(p+1-j)
with the Bernoulli numbers B_0 = 1, B_1 = +1/2, B_2 = 1/6, B_3 = 0, B_4 = -1/30, ...
(for p = 1: m(m+1)/2; p = 2: m(m+1)(2m+1)/6; p = 3: (m(m+1)/2)²).
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from math import comb

__all__ = ["bernoulli_numbers", "faulhaber_coefficients", "power_sum", "product", "summation"]


def _bounds(start, stop):
    if not (isinstance(start, int) and isinstance(stop, int)):
        raise TypeError(f"start and stop must be whole numbers, got {start!r} and {stop!r}")
    return range(start, stop + 1)


def summation(term, start: int, stop: int):
    """Σ_{i=start}^{stop} term(i); 0 when stop < start (the empty sum)."""
    total = 0
    for i in _bounds(start, stop):
        total = total + term(i)
    return total


def product(term, start: int, stop: int):
    """Π_{i=start}^{stop} term(i); 1 when stop < start (the empty product)."""
    total = 1
    for i in _bounds(start, stop):
        total = total * term(i)
    return total


@cache
def _bernoulli(n: int) -> tuple[Fraction, ...]:
    """B_0..B_n with B_1 = +1/2, from Σ_{j=0}^{m} C(m+1, j) B_j = m + 1 (that convention's recurrence)."""
    numbers = [Fraction(1)]
    for m in range(1, n + 1):
        known = sum(comb(m + 1, j) * numbers[j] for j in range(m))
        numbers.append((Fraction(m + 1) - known) / (m + 1))
    return tuple(numbers)


def bernoulli_numbers(n: int) -> list[Fraction]:
    """[B_0, B_1, ..., B_n] as exact fractions, with B_1 = +1/2 (the convention Faulhaber's formula uses here)."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a whole number >= 0, got {n!r}")
    return list(_bernoulli(n))


def faulhaber_coefficients(p: int) -> list[Fraction]:
    """c with Σ_{k=1}^{m} k^p = Σ_i c[i]·m^i for i = 0..p+1 (c[0] = 0): the closed form's polynomial."""
    if not isinstance(p, int) or p < 0:
        raise ValueError(f"the power p must be a whole number >= 0, got {p!r}")
    b = _bernoulli(p)
    coefficients = [Fraction(0)] * (p + 2)
    for j in range(p + 1):
        coefficients[p + 1 - j] = Fraction(comb(p + 1, j)) * b[j] / (p + 1)
    return coefficients


def power_sum(m: int, p: int) -> int:
    """Σ_{k=1}^{m} k^p exactly, by Faulhaber's closed form (no loop over k)."""
    if not isinstance(m, int) or m < 0:
        raise ValueError(f"m must be a whole number >= 0, got {m!r}")
    value = sum(c * m**i for i, c in enumerate(faulhaber_coefficients(p)))
    if value.denominator != 1:
        raise ArithmeticError("internal error: Faulhaber's formula gave a fraction")  # it never does
    return int(value)
