"""Each fitting method's default hyper-parameters, and the check every fitter makes of its own."""

from __future__ import annotations

import math

import numpy as np

# Hyper-parameters of each method, chosen by validation on a held-out tenth of u1.base, never on the official
# test files (benchmarks/recommender.py --search): the fastest setting within 0.001 RMSE of the best, and for
# SGD, SVD++ and the blend only among settings that fit no slower than Surprise's SVD. The baseline's are
# Surprise's BaselineOnly's.
DEFAULTS = {
    "sgd": {
        "factors": 100,
        "epochs": 30,
        "lr": 0.01,
        "reg": 0.08,
        "reg_bias": 0.02,
        "init_std": 0.05,
        "dtype": "float32",
    },
    "svdpp": {
        "factors": 100,
        "epochs": 20,
        "lr": 0.015,
        "lr_decay": 0.95,
        "reg": 0.08,
        "reg_bias": 0.02,
        "reg_y": 0.3,
        "init_std": 0.05,
        "dtype": "float32",
    },
    "als": {"factors": 20, "epochs": 10, "reg": 15.0, "reg_bias": 5.0, "init_std": 0.1, "weighted": False},
    "baseline": {"epochs": 10, "reg_user": 15.0, "reg_item": 10.0},
}
SVDPP_DEFAULTS = DEFAULTS["svdpp"]  # SVD++ (svdpp.py)

# The blend (blend.py; factors: the size of its SVD++) is chosen the same way; it stays an API and benchmark
# model (it is not saved), so `gradlab recommend train` does not offer it.
BLEND_DEFAULTS = {"weight": 0.3, "neighbours": 20, "shrink": 100.0, "factors": 50}


def _check_hyper(**values):
    for name, value in values.items():
        if name in ("factors", "epochs"):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | np.integer)
                or value < (0 if name == "factors" else 1)
            ):
                least = 0 if name == "factors" else 1
                raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")
        elif not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if values.get("lr", 1) == 0:
        raise ValueError("lr must be positive: with lr = 0 nothing is learned")
