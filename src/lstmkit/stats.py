"""Numbers over seeds: a recipe's mean with its 95% confidence interval, and two recipes compared
seed by seed, so that a claim says whether a difference is larger than the noise.

    describe([87.56, 87.96, 87.11])          -> Spread(n=3, mean=87.54, sd=0.43, low=86.49, high=88.60)
    compare(lstm, simplernn)                 -> Comparison of lstm − simplernn, paired by seed

The interval is Student's t: the mean ± t(0.975, n − 1) · sd / √n, exact for normal noise; seeds
of one recipe are independent draws of that noise. A comparison pairs the two recipes' runs of the
same seed (the same data split, order and initial weights where the models share shapes), which
removes what the seed does to both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# t(0.975, df) for df = 1..30: Student's t quantile for a two-sided 95% interval
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)


def t_975(df: int) -> float:
    """Student's t quantile for a two-sided 95% interval with `df` degrees of freedom; beyond the
    table, the Cornish-Fisher expansion around the normal's 1.96 (within 0.001 there)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be ≥ 1, got {df}")
    if df <= len(T_975):
        return T_975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class Spread:
    """n values' mean, standard deviation (n − 1) and 95% confidence interval of the mean [low, high]."""

    n: int
    mean: float
    sd: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def __str__(self) -> str:
        return f"{self.mean:.2f} ± {self.half_width:.2f} (n={self.n}, sd {self.sd:.2f})"


@dataclass(frozen=True)
class Comparison:
    """a − b paired by seed: the differences' spread, and whether its interval leaves out zero."""

    difference: Spread

    @property
    def larger_than_noise(self) -> bool:
        return self.difference.low > 0 or self.difference.high < 0

    def __str__(self) -> str:
        verdict = "larger than the noise" if self.larger_than_noise else "within the noise"
        return f"{self.difference.mean:+.2f} ± {self.difference.half_width:.2f} (paired, n={self.difference.n}): {verdict}"


def describe(values) -> Spread:
    """The spread of ≥ 2 numbers (one per seed)."""
    values = [float(value) for value in values]
    if len(values) < 2:
        raise ValueError(f"a spread needs at least 2 values (seeds), got {len(values)}")
    if not all(math.isfinite(value) for value in values):
        raise ValueError(f"values must be finite numbers, got {values}")
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((value - mean) ** 2 for value in values) / (n - 1))
    half = t_975(n - 1) * sd / math.sqrt(n)
    return Spread(n, mean, sd, mean - half, mean + half)


def compare(a: dict, b: dict) -> Comparison:
    """Recipe a against recipe b, each {seed: value}, over the seeds both have (at least 2)."""
    seeds = sorted(set(a) & set(b))
    if len(seeds) < 2:
        raise ValueError(f"a paired comparison needs at least 2 seeds run by both recipes, got {seeds}")
    return Comparison(describe([a[seed] - b[seed] for seed in seeds]))
