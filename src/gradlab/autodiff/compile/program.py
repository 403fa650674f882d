"""The recording a trace leaves: values (slots) and the events that make or use them.

A slot is one value of the step: an input array, a parameter's array, a captured constant, or a
value an event computes. An event is one line of the compiled code:

    op        the forward code of one engine op          y = op(x, ...)
    vjp       one op's reverse rule, towards the inputs that need it   g_x = vjp(g_y)
    add       two shares of a gradient added (fan-out)   g = g' + g''
    numpy     a ufunc / NumPy function / array method on recorded values (the user's own NumPy code)
    draw      a random draw from a module's generator
    handover  a leaf's gradient stored in .grad, added to what it held (as backward() does)
    step      an optimizer's update of one parameter, in place
    setgrad   .grad set at the end of the step (zero_grad, p.grad = None)
    item      a value turned into a Python number (.item())

Events carry the slots they use and define; `effect` marks events that change state outside
their own values (parameters, .grad, a generator), which are kept even when nothing reads them.
"""

from __future__ import annotations

__all__ = ["Event", "Leaf", "Literal", "Program", "Slot", "slots_in"]


class Literal:
    """An argument written into the code as itself (a number, a shape, a dtype)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class Slot:
    """One value of the compiled step. kind: input | leaf | state (a module's buffer) | const | value | number
    | node (a generic op's object)."""

    __slots__ = ("dtype", "hint", "index", "kind", "ref", "shape")

    def __init__(self, index: int, kind: str, hint: str, ref=None, shape=None, dtype=None):
        self.index, self.kind, self.hint, self.ref = index, kind, hint, ref
        self.shape, self.dtype = shape, dtype

    def __repr__(self):
        return f"Slot({self.index}, {self.kind}, {self.hint})"


class Leaf:
    """A Tensor that receives .grad: an argument (by its position) or a captured parameter (by identity)."""

    __slots__ = ("arg_path", "hint", "tensor")

    def __init__(self, tensor, hint: str, arg_path=None):
        self.tensor, self.hint, self.arg_path = tensor, hint, arg_path


class Event:
    __slots__ = ("defines", "effect", "info", "kind", "uses")

    def __init__(self, kind: str, uses, defines, effect: bool = False, **info):
        self.kind, self.uses, self.defines, self.effect, self.info = kind, list(uses), list(defines), effect, info

    def __repr__(self):
        return f"Event({self.kind}, uses={self.uses}, defines={self.defines})"


class Program:
    """Slots, events in the order they happened, and what the step returns."""

    def __init__(self):
        self.slots: list[Slot] = []
        self.events: list[Event] = []
        self.leaves: dict[int, tuple[Leaf, Slot]] = {}  # id(tensor) -> (leaf, the slot of its array)
        self.outputs = None  # (pytree structure, [("tensor"|"array"|"number"|"literal", slot or value)])

    def new_slot(self, kind: str, hint: str, ref=None, value=None) -> Slot:
        shape = getattr(value, "shape", None)
        dtype = getattr(value, "dtype", None)
        slot = Slot(len(self.slots), kind, hint, ref, shape, dtype)
        self.slots.append(slot)
        return slot

    def emit(self, kind: str, uses, defines, effect: bool = False, **info) -> Event:
        event = Event(kind, uses, defines, effect, **info)
        self.events.append(event)
        return event

    def live_events(self, needed: set) -> list[Event]:
        """The events that must run: those with an effect, and those that define a value something kept
        reads (dead forward values and gradients nobody reads are never computed)."""
        needed = set(needed)
        keep = []
        for event in reversed(self.events):
            if event.effect or any(s.index in needed for s in event.defines):
                keep.append(event)
                needed.update(s.index for s in event.uses)
        keep.reverse()
        return keep


def slots_in(values):
    """The slots among arguments (nested in lists and tuples)."""
    for v in values:
        if isinstance(v, (list, tuple)):
            yield from slots_in(v)
        elif isinstance(v, Slot):
            yield v
