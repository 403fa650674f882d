"""The tracer: while a compiled step runs for the first time, every op, the backward sweep, the
optimizer's updates, random draws and NumPy work on recorded values report here, and become a
`Program` (program.py).

Values are told apart by the identity of their arrays (`id(array)`; every array seen is kept alive
until the trace ends, so no id is reused). An array nobody recorded is a constant of the step, captured
as it is, with one exception: a copy of an integer or boolean array the step computed or received
(cross_entropy copies its targets, where() its condition) is matched to it by content.

The backward sweep is recorded symbolically, newest op first, exactly as backward.py walks the tape
(same order, same sums); the engine's own sweep then runs too, so the first call's results are the
eager ones.
"""

from __future__ import annotations

import numpy as np

from ..modes import this_thread
from ..tensor import Tensor
from ..versions import buffer_root
from . import templates
from .program import Leaf, Literal, Program, Slot, slots_in
from .values import CompileError, RecordingGenerator, TracedArray, TracedNumber, plain, plain_deep, refuse_value_flow

__all__ = ["ENTRY", "Tracer"]

ENTRY = "entry"  # a .grad as it was when the step was called

_LITERALS = (int, float, bool, str, type(None), np.dtype, np.generic, slice, type(Ellipsis))


class Tracer:
    def __init__(self):
        self.program = Program()
        self.arrays: dict[int, object] = {}  # id(array) -> slot
        self.layouts: dict[tuple, object] = {}  # (memory, address, shape, strides, dtype) -> slot (see _layout)
        self.roots: set = set()  # id of the memory of every value the step computes or receives
        self.pinned: list = []  # everything whose id is a key somewhere: kept alive until the trace ends
        self.matchable: list = []  # (array, slot): integer/boolean values a copy may be matched to by content
        self.node_events: dict[int, object] = {}  # id(recorded node) -> its op event
        # id(leaf tensor) -> what its .grad holds now, as far as the recording knows: ENTRY (what it held
        # when the step was called), None (cleared), or the slot of the gradient backward() stored
        self.current_grad: dict[int, object] = {}
        self.entry_grads: dict[int, object] = {}  # id(leaf tensor) -> its .grad when the step was called
        self.grad_guards: list = []  # (leaf, whether .grad must be None when a replay starts)
        self.names: dict[int, str] = {}  # id(parameter) -> a readable name (from the modules)
        self.mirroring = False  # the engine's own sweep is running on the tracer's behalf

    # --- values -----------------------------------------------------------------------------
    def register(self, array, slot):
        self.arrays[id(array)] = slot
        self.pinned.append(array)
        if isinstance(array, np.ndarray):
            self.layouts.setdefault(_layout(array), slot)
            if slot.kind != "const":
                self.roots.add(id(buffer_root(array)))
            if array.dtype.kind in "iub":
                self.matchable.append((array, slot))
        return slot

    def lookup(self, array):
        """The slot of `array`, also when it is another view of a recorded array's memory with the same
        layout (np.asarray of a TracedArray, x.detach(), a Tensor made around an argument)."""
        slot = self.arrays.get(id(array))
        if slot is not None or not isinstance(array, np.ndarray):
            return slot
        return self.layouts.get(_layout(array))

    def resolve(self, array):
        """The slot of an array an op or a NumPy call reads: recorded, a copy of a recorded integer or
        boolean array, or else a constant captured as it is."""
        slot = self.lookup(array)
        if slot is not None:
            return slot
        array = plain(array)
        for known, known_slot in self.matchable:
            if known.shape == array.shape and known is not array and np.array_equal(known, array):
                if known.dtype == array.dtype:
                    return self.register(array, known_slot)
                out = self.program.new_slot("value", known_slot.hint, value=array)
                self.program.emit("numpy", [known_slot], [out], func="astype", args=[array.dtype])
                return self.register(array, out)
        if id(buffer_root(array)) in self.roots:
            raise CompileError(
                f"an array of shape {array.shape} views the memory of a value of the step, but was made by NumPy "
                "code gl.compile cannot follow (t.data[...], t.data.reshape(...)): write it with gradlab ops, or "
                "call NumPy on np.asarray(t), which gl.compile records"
            )
        return self.register(array, self.program.new_slot("const", "c", ref=array, value=array))

    def argument(self, value):
        """How an argument of an op or NumPy call is written: a slot, or a literal, or a captured object."""
        if isinstance(value, TracedNumber):
            return value.slot
        if isinstance(value, np.ndarray):
            return self.resolve(value)
        if isinstance(value, Tensor):
            return self.tensor_slot(value)
        if isinstance(value, (list, tuple)):
            return type(value)(self.argument(v) for v in value)
        if isinstance(value, _LITERALS):
            return Literal(value)
        slot = self.arrays.get(id(value))
        if slot is None:
            slot = self.register(value, self.program.new_slot("const", "obj", ref=value))
        return slot

    def tensor_slot(self, t: Tensor):
        if t._node is None and t.requires_grad:
            known = self.program.leaves.get(id(t))
            return known[1] if known is not None else self.add_leaf(t, None)
        return self.resolve(t.data)

    def add_leaf(self, t: Tensor, arg_path):
        hint = self.names.get(id(t)) or (f"arg{'_'.join(map(str, arg_path))}" if arg_path else "param")
        slot = self.program.new_slot("leaf", hint, ref=Leaf(t, hint, arg_path), value=t.data)
        self.program.leaves[id(t)] = (slot.ref, slot)
        self.watch_grad(t)
        return self.register(t.data, slot)

    def watch_grad(self, t: Tensor):
        if id(t) not in self.entry_grads:
            self.entry_grads[id(t)] = t.grad
            self.current_grad[id(t)] = ENTRY
            self.pinned.append(t)

    def grads_cleared(self, params):
        """zero_grad() inside the step: a line that sets each parameter's .grad to None."""
        for p in params:
            self.program.emit("setgrad", [], [], effect=True, leaf=self.leaf_of(p))
            self.current_grad[id(p)] = None

    def leaf_of(self, t: Tensor):
        known = self.program.leaves.get(id(t))
        if known is None:
            self.add_leaf(t, None)
            known = self.program.leaves[id(t)]
        return known[0]

    def add_input(self, array, arg_path, is_tensor: bool):
        hint = f"in{'_'.join(map(str, arg_path))}"
        return self.register(array, self.program.new_slot("input", hint, ref=(arg_path, is_tensor), value=array))

    def traced(self, result, slot):
        """The result of a recorded NumPy computation, as a TracedArray the user's code can carry on with."""
        if not isinstance(result, np.ndarray):
            result = np.asarray(result)
        view = result.view(TracedArray)
        self.register(result, slot)
        self.register(view, slot)
        return view

    # --- what the engine reports ------------------------------------------------------------
    def record_op(self, node, inputs, out: Tensor, params: dict):
        """An op ran (Function.apply): its forward code becomes a line, and it can be swept later."""
        recorded = out._node is node
        if recorded and node.hooks is not None:
            raise CompileError(f"op {node.name} has a hook (register_hook/retain_grad): gl.compile cannot replay hooks")
        uses = [self.tensor_slot(t) for t in inputs]
        parents = []
        for t in inputs:
            if not recorded or (t._node is None and not t.requires_grad):
                parents.append(None)
            elif t._node is None:
                parents.append(self.program.leaves[id(t)][1])
            else:
                parents.append(self.node_events.get(id(t._node), "foreign"))
        args = {k: self.argument(v) for k, v in params.items()}
        y = self.program.new_slot("value", templates.hint(type(node)), value=out.data)
        template = templates.TEMPLATES.get(type(node).__name__)
        if template is not None and not template.fits(node, [t.data for t in inputs], params):
            template = None
        defines = [y]
        node_slot = None
        if template is None:  # the generic line keeps the op object: its vjp reads what forward stored
            node_slot = self.program.new_slot("node", f"op_{templates.hint(type(node))}")
            defines.append(node_slot)
        event = self.program.emit(
            "op",
            [*uses, *slots_in(args.values())],
            defines,
            cls=type(node),
            node=node,
            inputs=uses,
            params=args,
            parents=parents,
            needs=[p is not None for p in parents],
            template=template,
            node_slot=node_slot,
            shapes=[t.data.shape for t in inputs],
            out_shape=out.data.shape,
        )
        if template is not None:
            template.prepare(self.program, event)
        self.pinned.append(node)
        self.register(out.data, y)
        if recorded:
            self.node_events[id(node)] = event

    def backward(self, output: Tensor, gradient, retain_graph, create_graph, run):
        """Tensor.backward() inside the trace: let the engine run it, and record the sweep."""
        if create_graph:
            raise CompileError("backward(create_graph=True) inside gl.compile is not supported: compile the outer step")
        root = self.node_events.get(id(output._node)) if output._node is not None else None
        if root is None:
            raise CompileError(
                "backward() inside gl.compile on a value that was not computed inside the compiled step "
                "(or on a leaf): compute the loss inside the step"
            )
        before = {key: leaf.tensor.grad for key, (leaf, _) in self.program.leaves.items()}
        self.mirroring = True
        try:
            run(output, gradient, retain_graph, create_graph)
        finally:
            self.mirroring = False
        if gradient is None:
            data = output.data
            seed_value = np.array(1, dtype=data.dtype) if data.ndim == 0 else np.ones_like(data)
            seed = self.program.new_slot("const", "seed", ref=seed_value, value=seed_value)
        else:
            seed = self.argument(gradient)
        self._sweep(root, seed, before)

    def _sweep(self, root, seed, before: dict):
        """backward.sweep, recorded: newest op first, each op's rule once its gradient is complete."""
        totals = {id(root): seed}
        leaf_totals, leaf_order = {}, []
        program = self.program
        for event in reversed(program.events[: program.events.index(root) + 1]):
            if event.kind != "op" or id(event) not in totals:
                continue
            g = totals.pop(id(event))
            for i, share in enumerate(templates.emit_vjp(program, event, g)):
                if share is None:
                    continue
                parent = event.info["parents"][i]
                if parent == "foreign":
                    raise CompileError(
                        f"the gradient reaches a Tensor computed before the compiled step (input {i} of "
                        f"{event.info['cls'].__name__}): pass it detached, or compute it inside the step"
                    )
                table = leaf_totals if isinstance(parent, Slot) else totals
                key = id(parent)
                if key in table:
                    total = program.new_slot("value", parent if isinstance(parent, Slot) else parent.defines[0])
                    program.emit("add", [table[key], share], [total])
                    table[key] = total
                else:
                    table[key] = share
                    if table is leaf_totals:
                        leaf_order.append(parent)
        handed = {seed.index}
        for leaf_slot in leaf_order:
            leaf = leaf_slot.ref
            t = leaf.tensor
            g = leaf_totals[id(leaf_slot)]
            grad = program.new_slot("value", f"{leaf.hint}_grad")
            held = self._held_grad(t, before.get(id(t)))
            uses = [g, leaf_slot] + ([held] if isinstance(held, Slot) else [])
            program.emit("handover", uses, [grad], effect=True, leaf=leaf, copy=g.index in handed, held=held)
            handed.add(g.index)
            t.grad = self.traced(plain(t.grad), grad)
            self.current_grad[id(t)] = grad

    def _held_grad(self, t: Tensor, before):
        """What .grad held when backward() added to it, for the code: None, ENTRY (read .grad at replay) or a
        slot; a guard is added where that depends on what .grad held when the step was called."""
        current = self.current_grad.get(id(t), ENTRY)
        entry = self.entry_grads.get(id(t))
        if before is None:
            if current is ENTRY and entry is None:
                self.grad_guards.append((t, True))
            return None
        if current is ENTRY and before is entry:
            self.grad_guards.append((t, False))
            return ENTRY
        slot = self.lookup(before)
        if slot is None or slot is not current:
            raise CompileError(
                "backward() adds to a .grad that the step set to an array gl.compile cannot follow; "
                "let backward() fill .grad, or set it to None (zero_grad)"
            )
        return slot

    def optimizer_step(self, opt):
        """Optimizer.step() inside the trace: one line per parameter update, then the real update."""
        for group in opt.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = self.lookup(p.grad)
                if g is None:
                    raise CompileError(
                        "the optimizer found a gradient that was not computed inside the compiled step; call "
                        "zero_grad() and backward() inside the step (or outside, but not both)"
                    )
                leaf = self.tensor_slot(p)
                plain_sgd = (
                    type(opt).update.__qualname__ == "SGD.update"
                    and not group.get("momentum")
                    and not group.get("weight_decay")
                )
                self.program.emit("step", [leaf, g], [], effect=True, opt=opt, group=group, plain_sgd=plain_sgd)
        with paused():
            opt.step()

    def numpy_call(self, func, name: str, method: str, args, kwargs):
        """A ufunc (or ufunc method) or NumPy function applied to recorded arrays: computed and recorded."""
        out = kwargs.get("out")
        plain_kwargs = {k: (tuple(plain(o) for o in v) if k == "out" else plain_deep(v)) for k, v in kwargs.items()}
        result = func(*[plain_deep(a) for a in args], **plain_kwargs)
        uses_args = [self.argument(a) for a in args]
        uses_kwargs = {k: self.argument(v) for k, v in kwargs.items() if k != "out"}
        used = [*slots_in(uses_args), *slots_in(uses_kwargs.values())]
        if out is not None:  # in place: the array keeps its slot, and the line must run
            targets = [self.resolve(plain(o)) for o in out]
            self.program.emit(
                "numpy", used + targets, [], effect=True, func=name, method=method, args=uses_args,
                kwargs=uses_kwargs, out=targets,
            )  # fmt: skip
            return out[0] if len(out) == 1 else out
        if isinstance(result, tuple):
            raise CompileError(f"{name} returns several arrays: gl.compile cannot follow it; use gradlab ops")
        slot = self.program.new_slot("value", name.split(".")[-1], value=np.asarray(result))
        self.program.emit("numpy", used, [slot], func=name, method=method, args=uses_args, kwargs=uses_kwargs)
        return self.traced(result, slot)

    def method_call(self, array, name: str, args, kwargs):
        """An array method that makes a new array (reshape, astype, indexing) on a recorded array."""
        this = self.resolve(array)
        result = getattr(plain(array), name)(*[plain_deep(a) for a in args], **kwargs)
        uses_args = [self.argument(a) for a in args]
        uses_kwargs = {k: self.argument(v) for k, v in kwargs.items()}
        used = [this, *slots_in(uses_args), *slots_in(uses_kwargs.values())]
        slot = self.program.new_slot("value", this.hint, value=np.asarray(result))
        self.program.emit("method", used, [slot], name=name, this=this, args=uses_args, kwargs=uses_kwargs)
        return self.traced(result, slot)

    def item_of(self, array):
        """.item() of a recorded value: a number the replay recomputes (and the step may return)."""
        slot = self.resolve(array)
        number = self.program.new_slot("number", f"{slot.hint}_value")
        self.program.emit("item", [slot], [number])
        value = TracedNumber(array.item())
        value.slot = number
        self.pinned.append(value)
        return value

    def random_draw(self, generator: RecordingGenerator, name: str, method, args, kwargs):
        """A draw from a module's generator: at replay the real generator draws afresh."""
        result = method(*args, **kwargs)
        owner = self.argument(generator._owner)
        slot = self.program.new_slot("value", "draw", value=result)
        args = [self.argument(a) for a in args]
        kwargs = {k: self.argument(v) for k, v in kwargs.items()}
        self.program.emit(
            "draw", [owner], [slot], effect=True, attribute=generator._attribute, name=name, args=args, kwargs=kwargs
        )
        return self.traced(result, slot)

    def view_of(self, data, dtype=None, copy=None):
        """np.asarray(t) of a Tensor: a TracedArray view, so NumPy code on it is recorded."""
        slot = self.resolve(data)
        if dtype is not None and np.dtype(dtype) != data.dtype:
            return self.method_call(self.traced(data, slot), "astype", (np.dtype(dtype),), {})
        return self.traced(data, slot)

    def refuse(self, what: str):
        refuse_value_flow(what)

    def refuse_setitem(self):
        raise CompileError(
            "item assignment (t[i] = v) on a Tensor inside gl.compile is not supported: build the value with "
            "ops (gl.where, gl.scatter_add, gl.concatenate)"
        )

    def check_sweep(self):
        if not self.mirroring:
            raise CompileError(
                "gl.grad / gl.gradients / vjp inside gl.compile are not supported yet: use loss.backward() in the step"
            )


def _layout(array) -> tuple:
    """What makes two arrays the same value: the memory they view, where, and how."""
    return id(buffer_root(array)), array.ctypes.data, array.shape, array.strides, array.dtype.str


class paused:
    """Inside, the engine runs untraced (the optimizer's real update during the trace)."""

    def __enter__(self):
        self.tracer = this_thread.switches.set("tracer", None)

    def __exit__(self, *exc):
        this_thread.switches.set("tracer", self.tracer)
        return False
