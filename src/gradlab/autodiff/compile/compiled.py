"""`gl.compile(step)`: trace the step once per kind of call, then replay the generated code.

A call is looked up by its signature: the shape and dtype of every array and Tensor argument (and
whether a Tensor requires grad), the value of every plain number, the identity of every other object.
A recorded step also carries guards, checked before each replay: the training flag of every module
it found, the identity of every parameter in those modules and optimizers, and that an optimizer
written as plain SGD still has no momentum or weight decay. A call that fits no recording is traced
again (`traces` counts the traces).
"""

from __future__ import annotations

import builtins
import functools
import gc

import numpy as np

from ..modes import this_thread
from ..tensor import Tensor
from .codegen import _arg, generate
from .trace import ENTRY, Tracer
from .values import CompileError, RecordingGenerator, TracedArray, TracedNumber, plain

__all__ = ["CompiledFunction", "compile"]

_SCALARS = (int, float, bool, str, type(None))


def compile(step):  # noqa: A001  (gl.compile, as jax.jit and torch.compile)
    """The step, traced at its first call and replayed as straight-line NumPy afterwards.

    `step(*args)` takes arrays, Tensors, numbers, Modules and optimizers (positionally; lists,
    tuples and dicts of them too) and may compute a loss, call loss.backward(), opt.step() and
    opt.zero_grad(), and return Tensors, arrays, numbers (.item()) or nests of them. The replay returns
    the same nesting, with Tensors cut off from the tape. `compiled.source` is the code that runs.
    """
    return CompiledFunction(step)


class Entry:
    """One recording: the generated function, its guard, its source, and the objects it refers to."""

    def __init__(self, run, guard, source: str, keep):
        self.run, self.guard, self.source, self.keep = run, guard, source, keep


class CompiledFunction:
    def __init__(self, step):
        if not callable(step):
            raise TypeError(f"gl.compile needs a function, got {type(step).__name__}")
        self.step = step
        self.traces = 0
        self._cache: dict = {}
        self._latest = None
        self._roots: list = []  # models found only through their parameters, during an earlier trace
        functools.update_wrapper(self, step, updated=())

    @property
    def source(self) -> str:
        """The generated code of the latest recording used (plain Python and NumPy)."""
        if self._latest is None:
            raise RuntimeError("nothing compiled yet: call the compiled function once, then read .source")
        return self._latest.source

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError(f"a compiled step takes its arguments by position; got keywords {sorted(kwargs)}")
        if this_thread.switches.tracer is not None:  # called inside another compiled step's trace: inline it
            return self.step(*args)
        key = signature(args)
        for entry in self._cache.get(key, ()):
            if entry.guard is None or entry.guard(*args):
                self._latest = entry
                return entry.run(*args)
        return self._trace(args, key)

    def _trace(self, args, key):
        tracer = Tracer()
        modules, optimizers = discover(self.step, args, self._roots)
        for module in sorted(modules, key=lambda m: -len(m.parameters())):  # the outermost module names them
            for name, p in module.named_parameters():
                tracer.names.setdefault(id(p), name.replace(".", "_"))
        leaves, traced_args = _bind_arguments(tracer, args)
        for p in _known_parameters(modules, optimizers, leaves):
            tracer.watch_grad(p)
        swapped = _swap_generators(tracer, modules) + _watch_zero_grad(tracer, modules)
        buffers = _trace_buffers(tracer, modules)
        previous = this_thread.switches.set("tracer", tracer)
        try:
            result = self.step(*traced_args)
        finally:
            this_thread.switches.set("tracer", previous)
            for module, attribute, original in swapped:
                if original is None:
                    del module.__dict__[attribute]
                else:
                    object.__setattr__(module, attribute, original)
            changed = _restore_buffers(buffers)
            final_grads = [(p, p.grad) for p in tracer.pinned if isinstance(p, Tensor) and id(p) in tracer.entry_grads]
            for p, _ in final_grads:
                p.grad = plain(p.grad)
        if changed:
            raise CompileError(
                f"the step changes the buffer {changed} of a module by NumPy code that gl.compile cannot follow "
                "(batch norm's running statistics, in training mode): compile the step in evaluation mode "
                "(model.eval()), or train this model without gl.compile"
            )
        unseen = _unseen_models(tracer, modules)
        if unseen:  # this call ran as eager code; trace again at the next, with the models' dropout and guards
            self._roots += unseen
            self.traces += 1
            return _record_outputs(tracer, result)[1]
        _record_final_grads(tracer, final_grads)
        needed, shown = _record_outputs(tracer, result)
        source, run = generate(tracer.program, needed, len(args))
        guard_source, guard = _guards(modules, optimizers, tracer, len(args))
        entry = Entry(run, guard, source + guard_source, keep=(args, modules, optimizers))
        self._cache.setdefault(key, []).append(entry)
        self._latest = entry
        self.traces += 1
        return shown


def signature(args) -> tuple:
    """What must match for a recording to be replayed: shapes and dtypes, numbers, object identities."""
    out = []
    for a in args:
        cls = a.__class__
        if cls is np.ndarray:
            out.append((a.shape, a.dtype))
        elif cls is Tensor or isinstance(a, Tensor):
            out.append((a.data.shape, a.data.dtype, a.requires_grad, a._node is None))
        elif cls in _SCALARS:
            out.append((cls, a))
        elif cls is list or cls is tuple:
            out.append((cls, signature(a)))
        elif cls is dict:
            out.append((dict, tuple(a), signature(tuple(a.values()))))
        elif isinstance(a, np.ndarray):
            out.append((cls, a.shape, a.dtype))
        else:
            out.append((cls, id(a)))
    return tuple(out)


def _walk(value, path):
    """(path, leaf) for every leaf of a nest of lists, tuples and dicts."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, i))
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from _walk(item, (*path, k))
    else:
        yield path, value


def _bind_arguments(tracer, args) -> tuple[list, list]:
    """Give every array and Tensor argument its slot; return the leaves among them, and the arguments as
    the trace passes them to the step: plain arrays become TracedArrays, so NumPy code on them is recorded."""
    leaves = []
    for path, value in _walk(list(args), ()):
        if isinstance(value, Tensor):
            if value._node is None and value.requires_grad:
                tracer.add_leaf(value, path)
                leaves.append(value)
            else:
                tracer.add_input(value.data, path, is_tensor=True)
        elif isinstance(value, np.ndarray):
            tracer.traced(value, tracer.add_input(value, path, is_tensor=False))
    return leaves, [_traced_copy(tracer, a) for a in args]


def _traced_copy(tracer, value):
    if isinstance(value, (list, tuple)):
        return type(value)(_traced_copy(tracer, v) for v in value)
    if isinstance(value, dict):
        return {k: _traced_copy(tracer, v) for k, v in value.items()}
    if type(value) is np.ndarray:
        return tracer.traced(value, tracer.lookup(value))
    return value


def _is_module(obj) -> bool:
    return hasattr(obj, "named_modules") and hasattr(obj, "_parameters")


def _is_optimizer(obj) -> bool:
    return hasattr(obj, "param_groups") and hasattr(obj, "update")


def discover(step, args, roots=()):
    """The modules (with their submodules) and optimizers the step can reach: among its arguments, the
    variables it closes over, the global names it uses, and `roots` (models found by an earlier trace)."""
    candidates = [value for _, value in _walk(list(args), ())] + list(roots)
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


def _unseen_models(tracer, modules) -> list:
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


def _known_parameters(modules, optimizers, leaves) -> list:
    params = [p for m in modules for p in m._parameters.values() if p is not None]
    params += [p for opt in optimizers for group in opt.param_groups for p in group["params"]]
    return params + list(leaves)


def _swap_generators(tracer, modules) -> list:
    """Each module's random generators are replaced, for the trace, by ones that record their draws."""
    swapped = []
    for module in modules:
        for attribute, value in list(vars(module).items()):
            if isinstance(value, np.random.Generator):
                object.__setattr__(module, attribute, RecordingGenerator(tracer, value, module, attribute))
                swapped.append((module, attribute, value))
    return swapped


def _trace_buffers(tracer, modules) -> list:
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


def _restore_buffers(buffers) -> str | None:
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


def _watch_zero_grad(tracer, modules) -> list:
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


def _record_final_grads(tracer, final_grads: list):
    """.grad as the step leaves it: a line for every parameter whose .grad the step changed in a way
    the recording did not see (p.grad = None written by hand)."""
    for p, grad in final_grads:
        current, entry = tracer.current_grad.get(id(p), ENTRY), tracer.entry_grads.get(id(p))
        if current is ENTRY:
            current = None if entry is None else ENTRY
        if grad is None:
            if current is not None:
                tracer.program.emit("setgrad", [], [], effect=True, leaf=tracer.leaf_of(p))
            continue
        slot = tracer.lookup(grad)
        if (slot is not None and slot is current) or (current is ENTRY and grad is entry):
            continue
        if slot is None:
            raise CompileError(
                "a parameter's .grad was set to an array computed outside gradlab's ops inside the compiled step; "
                "let backward() fill .grad, or set it to None"
            )
        tracer.program.emit("setgrad", [slot], [], effect=True, leaf=tracer.leaf_of(p))


def _record_outputs(tracer, result):
    """Map what the step returned to slots; return (needed slot indices, the first call's result)."""
    from ..pytree import flatten, unflatten

    leaves, structure = flatten(result)
    values, shown = [], []
    for value in leaves:
        if isinstance(value, TracedNumber):
            values.append(("number", value.slot))
            shown.append(float.__float__(value))
        elif isinstance(value, Tensor):
            values.append(("tensor", tracer.tensor_slot(value)))
            shown.append(Tensor._make(plain(value.data), None))
        elif isinstance(value, np.ndarray):
            slot = tracer.lookup(value)
            if slot is None and not isinstance(value, TracedArray):
                raise CompileError(
                    "the compiled step returned an array computed outside gradlab's ops, which the replay cannot "
                    "recompute; return Tensors, or arrays made by ops"
                )
            values.append(("array", slot))
            shown.append(np.array(plain(value)) if slot.kind == "value" else plain(value))
        elif isinstance(value, _SCALARS):
            values.append(("literal", value))
            shown.append(value)
        else:
            values.append(("object", value))
            shown.append(value)
    tracer.program.outputs = (structure, values)
    needed = {v.index for kind, v in values if kind in ("tensor", "array", "number")}
    return needed, unflatten(structure, shown)


def _guards(modules, optimizers, tracer, n_args: int):
    """(source, function) of the checks a replay needs beyond the call's signature (None if none)."""
    namespace, checks = {}, []
    program = tracer.program
    for i, (t, none) in enumerate(tracer.grad_guards):
        leaf = tracer.leaf_of(t)
        if leaf.arg_path is None:
            namespace[f"L{i}"] = t
        owner = f"L{i}" if leaf.arg_path is None else _arg(leaf.arg_path)
        checks.append(f"{owner}.grad is {'' if none else 'not '}None")
    for i, module in enumerate(modules):
        name = f"M{i}"
        namespace[name] = module
        checks.append(f"{name}.training is {bool(module.training)}")
        checks.append(f"len({name}._parameters) == {len(module._parameters)}")
        for key, p in module._parameters.items():
            pname = f"{name}_{key}"
            namespace[pname] = p
            checks.append(f"{name}._parameters[{key!r}] is {pname}")
    for i, opt in enumerate(optimizers):
        for j, group in enumerate(opt.param_groups):
            name = f"G{i}_{j}"
            namespace[name] = group
            checks.append(f"len({name}['params']) == {len(group['params'])}")
            for k, p in enumerate(group["params"]):
                namespace[f"{name}_{k}"] = p
                checks.append(f"{name}['params'][{k}] is {name}_{k}")
    for event in program.events:
        if event.kind == "step" and event.info["plain_sgd"]:
            name = f"S{len(namespace)}"
            namespace[name] = event.info["group"]
            checks.append(f"not {name}.get('momentum') and not {name}.get('weight_decay')")
    if not checks:
        return "", None
    args = ", ".join(f"a{i}" for i in range(n_args))
    source = f"\n\ndef guard({args}):\n    return (\n" + "".join(f"        {c} and\n" for c in checks[:-1])
    source += f"        {checks[-1]}\n    )\n"
    exec(builtins.compile(source, "<gl.compile guard>", "exec"), namespace)
    return source, namespace["guard"]
