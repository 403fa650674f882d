"""`gl.compile`: record a whole training step once — forward, the backward sweep, the optimizer's
update — and replay it as a flat list of NumPy calls that a person can read (`compiled.source`).

Read it in this order: program.py (what a recording is), trace.py (how the engine's ops, the sweep,
the optimizer and the step's own NumPy code report to the tracer), values.py (the stand-ins the
tracer hands to user code), templates.py (one op as code), codegen.py (the recording as source),
discovery.py (the modules and optimizers a step reaches), compiled.py (the cache, the guards, and
`compile` itself).

Why it is built this way:
- Tracing uses the engine's own ops and rules, reported through one per-thread switch
  (`this_thread.switches.tracer`, read where the engine already reads `watch_ops`), so the eager
  path pays nothing and the compiled code computes what eager computes.
- The generated source *is* the code that runs (compile() + exec of that text), so what a learner
  reads is never a paraphrase. Common ops have templates that write plain NumPy with the chain-rule
  step as a comment; every other op is written as a call of its own forward and vjp, so every op in
  the registry compiles.
- Parameters are read through their Tensors at every replay (`P.data`), so the optimizer's in-place
  updates, and updates made between calls, are seen.
- Guards, as jax.jit's cache and torch.compile's guards: shapes, dtypes, numbers, module training
  flags and parameter identities; anything else retraces. Value-dependent Python control flow
  (bool() of a Tensor, comparisons of .item()) is refused with a message saying what to do.
- The step's own NumPy code is followed where its arrays come from the tracer: array arguments,
  .grad, np.asarray(t), comparisons, random draws and module buffers reach the step as TracedArrays,
  whose ufuncs, NumPy functions and array methods are recorded. NumPy code on a Tensor's `.data`
  is not followed (a view of it is refused; a copy would be frozen), nor is Python state the step
  changes (a counter, a list of losses): as with jax.jit, such side effects happen at the trace only.

Measured (benchmarks/engine.py, BLAS on one thread, median of per-round ratios to hand-written NumPy):
tiny MLP 2-16-16-1 compiled 0.83× (eager 1.44×), big MLP 784-256-256-10 compiled 0.97× (eager
1.06×); peak memory of a step below eager's (big 1837 KiB vs 1974, tiny 168 vs 174).
"""

from .compiled import CompiledFunction, compile
from .values import CompileError

__all__ = ["CompileError", "CompiledFunction", "compile"]
