"""What a saved recommender must look like, checked before a model is built from it.

FactorModel.save writes one .npz of plain arrays (no pickle). FactorModel.load reads it through
gradlab.npzfile, which hands _check_model_headers the .npy headers before any data is decompressed
(shapes and dtypes against each other), then _check_model_arrays checks the contents (ids sorted and
distinct, rated_indptr rising from 0, item indices in range, finite numbers, info a JSON object).
"""

from __future__ import annotations

import json

import numpy as np

from ...npzfile import ModelFileError

FORMAT = "gradlab.recommender/1"


_SAVED = (
    "mean", "user_bias", "item_bias", "user_factors", "item_factors", "user_ids", "item_ids", "scale",
    "rated_indptr", "rated_items", "titles", "info", "history",
)  # fmt: skip
_TEXT = ("format", "info", "titles", "user_ids", "item_ids")  # the arrays that may hold text


def _damaged(problem: str) -> ModelFileError:
    return ModelFileError(f"{problem}: the file is damaged or was edited; train and save the model again")


def _check_model_headers(headers: dict) -> None:
    """The shapes and dtypes of a saved model's arrays against each other, from their .npy headers alone."""
    if "format" not in headers:
        raise ModelFileError(f"not a gradlab recommender model (expected format {FORMAT!r})")
    missing = sorted(set(_SAVED) - set(headers))
    if missing:
        raise _damaged(f"lacks {', '.join(missing)}")

    def need(name: str, shape: tuple, kinds: str, what: str, why: str = "") -> tuple:
        """Check one array (None in shape: any length) and return its shape; why: where the lengths come from."""
        found = headers[name]
        if found.dtype.kind not in kinds:
            raise _damaged(f"{name} holds {found.dtype}, where a model holds {what}")
        if len(found.shape) != len(shape) or any(n not in (None, m) for n, m in zip(shape, found.shape)):
            wanted = tuple("any" if n is None else n for n in shape)
            raise _damaged(f"{name} has shape {found.shape}, not {wanted}{', since ' + why if why else ''}")
        return found.shape

    for name in ("format", "info"):
        need(name, (), "U", "text")
    need("mean", (), "f", "a number")
    need("scale", (2,), "f", "numbers")
    need("history", (None,), "f", "numbers")
    (users,) = need("user_ids", (None,), "iuU", "whole numbers or text")
    (items,) = need("item_ids", (None,), "iuU", "whole numbers or text")
    per_user, per_item = f"user_ids lists {users:,} users", f"item_ids lists {items:,} items"
    need("user_bias", (users,), "f", "numbers", per_user)
    need("item_bias", (items,), "f", "numbers", per_item)
    _, k = need("user_factors", (users, None), "f", "numbers", per_user)
    need("item_factors", (items, k), "f", "numbers", f"{per_item} and user_factors has {k} columns")
    for name in ("user_factors", "item_factors"):
        if headers[name].dtype not in (np.float32, np.float64):
            raise _damaged(f"{name} holds {headers[name].dtype}, where a model holds float32 or float64")
    need("rated_indptr", (users + 1,), "iu", "whole numbers", f"{per_user} (and it has one entry more)")
    need("rated_items", (None,), "iu", "whole numbers")
    need("titles", (items if headers["titles"].shape != (0,) else 0,), "U", "text", per_item)


def _check_model_arrays(arrays: dict) -> dict:
    """The contents of a saved model's arrays, once read; returns its info (method, hyper, fit_seconds)."""
    if str(arrays["format"]) != FORMAT:
        raise ModelFileError(f"not a gradlab recommender model (format {str(arrays['format'])!r}, not {FORMAT!r})")
    try:
        info = json.loads(str(arrays["info"]))
    except ValueError:
        info = None
    if not (isinstance(info, dict) and isinstance(info.get("method"), str) and isinstance(info.get("hyper"), dict)):
        raise _damaged('info is not the JSON object {"method": ..., "hyper": {...}, "fit_seconds": ...} save() writes')
    if not isinstance(info.get("fit_seconds", 0.0), int | float):
        raise _damaged("info's fit_seconds is not a number")
    for name in ("user_ids", "item_ids"):
        ids = arrays[name]
        if len(ids) > 1 and not np.all(ids[1:] > ids[:-1]):
            raise _damaged(f"{name} is not sorted without repeats, as save() writes it")
    for name in ("mean", "scale", "user_bias", "item_bias", "user_factors", "item_factors"):
        if not np.all(np.isfinite(arrays[name])):
            raise _damaged(f"{name} holds NaN or infinity")
    if not arrays["scale"][0] <= arrays["scale"][1]:
        raise _damaged(f"scale {tuple(arrays['scale'].tolist())} runs from high to low")
    indptr, rated = arrays["rated_indptr"].astype(np.int64), arrays["rated_items"]
    if indptr[0] != 0 or indptr[-1] != len(rated) or np.any(np.diff(indptr) < 0):
        raise _damaged(f"rated_indptr does not rise from 0 to {len(rated):,}, the length of rated_items")
    if len(rated) and (rated.min() < 0 or rated.max() >= len(arrays["item_ids"])):
        raise _damaged(f"rated_items holds item indices outside 0..{len(arrays['item_ids']) - 1}")
    return info
