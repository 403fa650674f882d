"""What a saved recommender must look like, checked before a model is built from it: a rating model
(FactorModel, format gradlab.recommender/1) or a ranking model (RankingModel, gradlab.recommender.ranking/1).

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
_TEXT = ("format", "info", "titles", "user_ids", "item_ids")  # the arrays that may hold text (both kinds)


def _damaged(problem: str) -> ModelFileError:
    return ModelFileError(f"{problem}: the file is damaged or was edited; train and save the model again")


def _needs(headers: dict, saved: tuple):
    """need(name, shape, kinds, what, why) for these headers, once every name in saved is known to be there."""
    missing = sorted(set(saved) - set(headers))
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

    return need


def _check_shared_headers(headers: dict, saved: tuple, kind: str, format_: str):
    """The headers every saved recommender shares (format, info, history, ids, factors, item biases, each
    user's rated items, titles), checked against each other; returns (need, users, items) for the checks of
    one kind's own arrays."""
    if "format" not in headers:
        raise ModelFileError(f"not a gradlab {kind} model (expected format {format_!r})")
    need = _needs(headers, saved)
    for name in ("format", "info"):
        need(name, (), "U", "text")
    need("history", (None,), "f", "numbers")
    (users,) = need("user_ids", (None,), "iuU", "whole numbers or text")
    (items,) = need("item_ids", (None,), "iuU", "whole numbers or text")
    per_user, per_item = f"user_ids lists {users:,} users", f"item_ids lists {items:,} items"
    _, k = need("user_factors", (users, None), "f", "numbers", per_user)
    need("item_factors", (items, k), "f", "numbers", f"{per_item} and user_factors has {k} columns")
    need("item_bias", (items,), "f", "numbers", per_item)
    need("rated_indptr", (users + 1,), "iu", "whole numbers", f"{per_user} (and it has one entry more)")
    need("rated_items", (None,), "iu", "whole numbers")
    need("titles", (items if headers["titles"].shape != (0,) else 0,), "U", "text", per_item)
    return need, users, items


def _check_model_headers(headers: dict) -> None:
    """The shapes and dtypes of a saved model's arrays against each other, from their .npy headers alone."""
    need, users, _ = _check_shared_headers(headers, _SAVED, "recommender", FORMAT)
    need("mean", (), "f", "a number")
    need("scale", (2,), "f", "numbers")
    need("user_bias", (users,), "f", "numbers", f"user_ids lists {users:,} users")
    for name in ("user_factors", "item_factors"):
        if headers[name].dtype not in (np.float32, np.float64):
            raise _damaged(f"{name} holds {headers[name].dtype}, where a model holds float32 or float64")


def _info(arrays: dict, kind: str, format_: str):
    """The saved info (JSON), once the format is known to be format_; None when it is not JSON."""
    if str(arrays["format"]) != format_:
        raise ModelFileError(f"not a gradlab {kind} model (format {str(arrays['format'])!r}, not {format_!r})")
    try:
        return json.loads(str(arrays["info"]))
    except ValueError:
        return None


def _check_model_arrays(arrays: dict) -> dict:
    """The contents of a saved model's arrays, once read; returns its info (method, hyper, fit_seconds)."""
    info = _info(arrays, "recommender", FORMAT)
    _check_shared_arrays(arrays, info, ("mean", "scale", "user_bias", "item_bias", "user_factors", "item_factors"))
    if not arrays["scale"][0] <= arrays["scale"][1]:
        raise _damaged(f"scale {tuple(arrays['scale'].tolist())} runs from high to low")
    return info


def _check_shared_arrays(arrays: dict, info, numbers: tuple) -> None:
    """What every saved recommender must hold: an info object, sorted distinct ids, finite numbers, and each
    user's rated items (CSR) rising from 0 and in range."""
    if not (isinstance(info, dict) and isinstance(info.get("method"), str) and isinstance(info.get("hyper"), dict)):
        raise _damaged('info is not the JSON object {"method": ..., "hyper": {...}, "fit_seconds": ...} save() writes')
    if not isinstance(info.get("fit_seconds", 0.0), int | float):
        raise _damaged("info's fit_seconds is not a number")
    for name in ("user_ids", "item_ids"):
        ids = arrays[name]
        if len(ids) > 1 and not np.all(ids[1:] > ids[:-1]):
            raise _damaged(f"{name} is not sorted without repeats, as save() writes it")
    for name in numbers:
        if not np.all(np.isfinite(arrays[name])):
            raise _damaged(f"{name} holds NaN or infinity")
    indptr, rated = arrays["rated_indptr"].astype(np.int64), arrays["rated_items"]
    if indptr[0] != 0 or indptr[-1] != len(rated) or np.any(np.diff(indptr) < 0):
        raise _damaged(f"rated_indptr does not rise from 0 to {len(rated):,}, the length of rated_items")
    if len(rated) and (rated.min() < 0 or rated.max() >= len(arrays["item_ids"])):
        raise _damaged(f"rated_items holds item indices outside 0..{len(arrays['item_ids']) - 1}")


# --- ranking models (ranking.py's RankingModel): s_ui = p_u·q_i + b_i + Σ_{j seen by u} W_ji ------------------
RANKING_FORMAT = "gradlab.recommender.ranking/1"
_RANKING_SAVED = (
    "info", "user_ids", "item_ids", "user_factors", "item_factors", "item_bias", "item_weights", "rated_indptr",
    "rated_items", "titles", "history",
)  # fmt: skip
_RANKING_METHODS = ("ease", "wmf", "bpr", "popularity")


def _check_ranking_headers(headers: dict) -> None:
    """The shapes and dtypes of a saved ranking model's arrays against each other, from their .npy headers."""
    need, _, items = _check_shared_headers(headers, _RANKING_SAVED, "ranking", RANKING_FORMAT)
    weights = headers["item_weights"].shape
    why = f"item_ids lists {items:,} items (or none)"
    need("item_weights", (0, 0) if weights == (0, 0) else (items, items), "f", "numbers", why)


def _check_ranking_arrays(arrays: dict) -> dict:
    """The contents of a saved ranking model's arrays, once read; returns its info (method, hyper, fit_seconds)."""
    info = _info(arrays, "ranking", RANKING_FORMAT)
    _check_shared_arrays(arrays, info, ("user_factors", "item_factors", "item_bias", "item_weights"))
    if info["method"] not in _RANKING_METHODS:
        raise _damaged(f"info names the method {info['method']!r}, not one of {', '.join(_RANKING_METHODS)}")
    return info
