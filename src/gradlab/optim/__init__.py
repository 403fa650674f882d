"""Optimisation: how derivatives turn into steps downhill.

optimizers   SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW, AMSGrad (PyTorch-style; they take
             PyTorch's argument names too, and Adagrad and RMSprop are its spellings of the classes)
schedules    StepLR, ExponentialLR, CosineAnnealingLR, LinearWarmup, ReduceLROnPlateau; clipping
minimize     run an optimizer on f(x) and record the whole trajectory, with stopping rules
race         several optimizers on one landscape, as a table and a figure
second_order Newton's method and Gauss–Newton
"""

from .minimize import OPTIMIZERS, Trajectory, make_optimizer, minimize
from .optimizers import SGD, AdaGrad, Adagrad, Adam, AdamW, AMSGrad, Momentum, Nesterov, Optimizer, RMSProp, RMSprop
from .race import RaceResult, race
from .schedules import (
    CosineAnnealingLR,
    ExponentialLR,
    LinearWarmup,
    ReduceLROnPlateau,
    StepLR,
    clip_grad_norm,
    clip_grad_value,
)
from .second_order import OptimizeResult, gauss_newton, newton

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "AMSGrad",
    "AdaGrad",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LinearWarmup",
    "Momentum",
    "Nesterov",
    "OptimizeResult",
    "Optimizer",
    "RMSProp",
    "RMSprop",
    "RaceResult",
    "ReduceLROnPlateau",
    "StepLR",
    "Trajectory",
    "clip_grad_norm",
    "clip_grad_value",
    "gauss_newton",
    "make_optimizer",
    "minimize",
    "newton",
    "race",
]
