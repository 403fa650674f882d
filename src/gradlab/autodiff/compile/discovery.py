"""What a compiled step can reach, found before its trace: the modules and optimizers among its
arguments, the variables it closes over and the globals it names (and, after a trace, models found
only through their parameters); and the stand-ins that let the trace see a module's random draws,
buffers and zero_grad().
"""

from __future__ import annotations

import gc

import numpy as np

from .values import RecordingGenerator, plain

__all__ = [
    "discover",
    "known_parameters",
    "restore_buffers",
    "swap_generators",
    "trace_buffers",
    "unseen_models",
    "walk",
    "watch_zero_grad",
]


def walk(value, path):
    """(path, leaf) for every leaf of a nest of lists, tuples and dicts."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from walk(item, (*path, i))
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from walk(item, (*path, k))
    else:
        yield path, value


def _is_module(obj) -> bool:
    return hasattr(obj, "named_modules") and hasattr(obj, "_parameters")


def _is_optimizer(obj) -> bool:
    return hasattr(obj, "param_groups") and hasattr(obj, "update")


def discover(step, args, roots=()):
    """The modules (with their submodules) and optimizers the step can reach: among its arguments, the
    variables it closes over, the global names it uses, and `roots` (models found by an earlier trace)."""
    candidates = [value for _, value in walk(list(args), ())] + list(roots)
    function = getattr(step, "__func__", step)
    candidates.append(getattr(step, "__self__", None))
    candidates.append(step)
    for cell in getattr(function, "__closure__", None) or ():
        try:
            candidates.append(cell.cell_contents)
        except ValueError:  # an empty cell
            pass
    code = getattr(function, "__code__", None)
    if code is not None:
        globals_ = getattr(function, "__globals__", {})
        candidates += [globals_.get(name) for name in code.co_names]
    modules, optimizers, seen = [], [], set()
    for obj in candidates:
        for item in obj if isinstance(obj, (list, tuple)) else (obj,):
            if id(item) in seen:
                continue
            seen.add(id(item))
            if _is_module(item):
                for _, sub in item.named_modules():
                    if id(sub) not in seen or sub is item:
                        seen.add(id(sub))
                        modules.append(sub)
            elif _is_optimizer(item):
                optimizers.append(item)
    return modules, optimizers


def unseen_models(tracer, modules) -> list:
    """The outermost modules that own parameters the step used but discovery did not find (a model
    reached through a helper function's globals). Found through the garbage collector's referrers,
    which only a trace pays for, and only when a parameter's owner is unknown."""
    known = {id(p) for m in modules for p in m._parameters.values()}
    frontier = [leaf.tensor for leaf, _ in tracer.program.leaves.values() if leaf.arg_path is None]
    frontier = [t for t in frontier if id(t) not in known]
    roots, seen = [], {id(m) for m in modules}  # (a known module's parents are not looked for)
    while frontier:
        holders = [r for r in gc.get_referrers(*frontier) if isinstance(r, dict)]
        owners = [o for o in gc.get_referrers(*holders) if _is_module(o) and id(o) not in seen] if holders else []
        seen.update(id(o) for o in owners)
        roots += owners
        frontier = owners  # next: the modules that hold these ones
    return _outermost(roots)


def _outermost(found) -> list:
    """The modules in `found` that are no submodule of another one in it."""
    inner = {id(sub) for m in found for _, sub in m.named_modules() if sub is not m}
    return [m for m in found if id(m) not in inner]


def known_parameters(modules, optimizers, leaves) -> list:
    params = [p for m in modules for p in m._parameters.values() if p is not None]
    params += [p for opt in optimizers for group in opt.param_groups for p in group["params"]]
    return params + list(leaves)


def swap_generators(tracer, modules) -> list:
    """Each module's random generators are replaced, for the trace, by ones that record their draws."""
    swapped = []
    for module in modules:
        for attribute, value in list(vars(module).items()):
            if isinstance(value, np.random.Generator):
                object.__setattr__(module, attribute, RecordingGenerator(tracer, value, module, attribute))
                swapped.append((module, attribute, value))
    return swapped


def trace_buffers(tracer, modules) -> list:
    """Each module's buffers (batch norm's running statistics) are read afresh at every replay; for the
    trace they are TracedArrays, so the NumPy code that reads them is recorded."""
    buffers = []
    for module in modules:
        for name in getattr(module, "_buffers", {}):
            array = module.__dict__.get(name)
            if isinstance(array, np.ndarray):
                slot = tracer.program.new_slot("state", name, ref=(module, name), value=array)
                view = tracer.traced(array, tracer.register(array, slot))
                object.__setattr__(module, name, view)
                buffers.append((module, name, array, view))
    return buffers


def restore_buffers(buffers) -> str | None:
    """Put the plain buffers back; the name of one the step replaced, if any (None if none was)."""
    changed = None
    for module, name, array, view in buffers:
        current = module.__dict__.get(name)
        if current is view:
            object.__setattr__(module, name, array)
        else:
            object.__setattr__(module, name, plain(current))
            changed = f"{type(module).__name__}.{name}"
    return changed


def watch_zero_grad(tracer, modules) -> list:
    """Each module's zero_grad() is wrapped, for the trace, so that clearing the gradients is recorded."""
    wrapped = []
    for module in modules:
        original = module.zero_grad

        def zero_grad(module=module, original=original):
            tracer.grads_cleared(module.parameters())
            original()

        object.__setattr__(module, "zero_grad", zero_grad)
        wrapped.append((module, "zero_grad", None))
    return wrapped
