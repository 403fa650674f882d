"""Nested containers of arrays ("pytrees"), as the transforms accept them.

A pytree is a tuple, list or dict whose items are pytrees, or a leaf: a number, an array or a
Tensor. `flatten` lists the leaves in a fixed order and returns a description of the nesting,
`unflatten` builds the same nesting around new leaves. So grad(f) can take f(params) with
params = {"w": array, "b": array} and hand back a dict of gradients of the same shape.
"""

from __future__ import annotations

LEAF = None


def flatten(tree) -> tuple[list, object]:
    """(leaves, structure) of a pytree; dict items are visited in insertion order."""
    leaves: list = []
    structure = _flatten_into(tree, leaves)
    return leaves, structure


def _flatten_into(tree, leaves):
    if isinstance(tree, (tuple, list)):
        return (type(tree), [_flatten_into(item, leaves) for item in tree])
    if isinstance(tree, dict):
        return (dict, [(key, _flatten_into(value, leaves)) for key, value in tree.items()])
    leaves.append(tree)
    return LEAF


def unflatten(structure, leaves) -> object:
    """The pytree with the nesting `structure` (from `flatten`) and the given leaves, in order."""
    iterator = iter(leaves)
    tree = _build(structure, iterator)
    if next(iterator, _END) is not _END:
        raise ValueError("unflatten got more leaves than the structure has places for")
    return tree


_END = object()


def _build(structure, leaves):
    if structure is LEAF:
        leaf = next(leaves, _END)
        if leaf is _END:
            raise ValueError("unflatten got fewer leaves than the structure has places for")
        return leaf
    kind, children = structure
    if kind is dict:
        return {key: _build(child, leaves) for key, child in children}
    items = [_build(child, leaves) for child in children]
    return tuple(items) if kind is tuple else items


def tree_map(function, tree):
    """The same nesting with `function` applied to every leaf."""
    leaves, structure = flatten(tree)
    return unflatten(structure, [function(leaf) for leaf in leaves])
