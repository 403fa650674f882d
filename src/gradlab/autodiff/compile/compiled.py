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

import numpy as np

from ..modes import this_thread
from ..tensor import Tensor
from .codegen import arg_code, generate
from .discovery import (
    discover,
    known_parameters,
    restore_buffers,
    swap_generators,
    trace_buffers,
    unseen_models,
    walk,
    watch_zero_grad,
)
from .trace import ENTRY, Tracer
from .values import CompileError, TracedArray, TracedNumber, plain

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
            raise AttributeError("nothing compiled yet: call the compiled function once, then read .source")
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
        for p in known_parameters(modules, optimizers, leaves):
            tracer.watch_grad(p)
        swapped = swap_generators(tracer, modules) + watch_zero_grad(tracer, modules)
        buffers = trace_buffers(tracer, modules)
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
            changed = restore_buffers(buffers)
            final_grads = [(p, p.grad) for p in tracer.pinned if isinstance(p, Tensor) and id(p) in tracer.entry_grads]
            for p, _ in final_grads:
                p.grad = plain(p.grad)
        if changed:
            raise CompileError(
                f"the step changes the buffer {changed} of a module by NumPy code that gl.compile cannot follow "
                "(batch norm's running statistics, in training mode): compile the step in evaluation mode "
                "(model.eval()), or train this model without gl.compile"
            )
        unseen = unseen_models(tracer, modules)
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


def _bind_arguments(tracer, args) -> tuple[list, list]:
    """Give every array and Tensor argument its slot; return the leaves among them, and the arguments as
    the trace passes them to the step: plain arrays become TracedArrays, so NumPy code on them is recorded."""
    leaves = []
    for path, value in walk(list(args), ()):
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
        owner = f"L{i}" if leaf.arg_path is None else arg_code(leaf.arg_path)
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
            checks.append(f"{pname}.requires_grad is {bool(p.requires_grad)}")  # freezing a layer retraces
    for i, opt in enumerate(optimizers):
        for j, group in enumerate(opt.param_groups):
            name = f"G{i}_{j}"
            namespace[name] = group
            checks.append(f"len({name}['params']) == {len(group['params'])}")
            for k, p in enumerate(group["params"]):
                namespace[f"{name}_{k}"] = p
                checks.append(f"{name}['params'][{k}] is {name}_{k}")
                checks.append(f"{name}_{k}.requires_grad is {bool(p.requires_grad)}")
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
