"""Neural networks from scratch: modules, layers, losses, initialisers, the training loop and
gradient diagnostics, all built on the engine's public API."""

from ..npzfile import ModelFileError
from . import init
from .attention import MultiHeadAttention, attention_weights, scaled_dot_product_attention
from .compiled_step import CompiledStep
from .diagnostics import GradientMonitor, compare_depth_gradients, layer_gradient_norms, plot_layer_gradients
from .layers import (
    GELU,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    LayerNorm,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module, Parameter
from .training import Callback, EarlyStopping, History, LearningRateSchedule, evaluate, fit, predict

__all__ = [
    "GELU",
    "AvgPool2d",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Callback",
    "CompiledStep",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "EarlyStopping",
    "Embedding",
    "Flatten",
    "GradientMonitor",
    "History",
    "LayerNorm",
    "LeakyReLU",
    "LearningRateSchedule",
    "Linear",
    "MSELoss",
    "MaxPool2d",
    "ModelFileError",
    "Module",
    "MultiHeadAttention",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "attention_weights",
    "compare_depth_gradients",
    "evaluate",
    "fit",
    "init",
    "layer_gradient_norms",
    "plot_layer_gradients",
    "predict",
    "scaled_dot_product_attention",
]
