"""The fitting methods by name: "sgd" (sgd.py), "svdpp" (svdpp.py), "als" (als.py) and "baseline" (baseline.py)."""

from __future__ import annotations

from ...data.movielens import Ratings
from .als import fit_als
from .baseline import fit_baseline
from .model import FactorModel
from .sgd import fit_sgd
from .svdpp import fit_svdpp


def fit(train: Ratings, method: str = "sgd", **options) -> FactorModel:
    """fit_sgd, fit_svdpp, fit_als or fit_baseline by name ("sgd", "svdpp", "als", "baseline")."""
    fitters = {"sgd": fit_sgd, "svdpp": fit_svdpp, "als": fit_als, "baseline": fit_baseline}
    if method not in fitters:
        raise ValueError(f"method must be one of {', '.join(fitters)}, got {method!r}")
    return fitters[method](train, **options)
