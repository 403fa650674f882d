"""gl.compile: a traced-once, replayed step computes what the eager step computes.

Every op of the registry (through the gradcheck case table), the MNIST MLP's training with SGD and
Adam, when a step is traced again (guards), what is refused (value-dependent control flow), random
draws at every replay, and the generated source's chain-rule comments.
"""

import numpy as np
import pytest

import gradlab as gl
from gradlab import nn, optim
from gradlab.autodiff.function import Function
from reference_data import SHARED_DATA
from test_ops_gradcheck import CASES

# Ops that gl.compile refuses, with the reason (none so far: the generic line covers every op).
REFUSED: dict[str, str] = {}

rng = np.random.default_rng(7)


def loss_and_grads_step(fn, weights):
    """out = fn(*xs), L = Σ weights · out; returns out and dL/dx for every input."""

    def step(*xs):
        out = fn(*xs)
        loss = gl.sum(out * weights)
        loss.backward()
        return out, [x.grad for x in xs]

    return step


def leaves(arrays):
    return [gl.Tensor(a, requires_grad=True) for a in arrays]


REGISTRY_CASES = [
    pytest.param(op, case[1], case[2], id=f"{op}-{case[0]}")
    for op, cases in CASES.items()
    for case in cases
    if op not in REFUSED
]


def test_every_registered_op_is_compiled_or_refused_with_a_reason():
    assert set(Function.registry) <= set(CASES) | set(REFUSED)


@pytest.mark.parametrize(("op", "fn", "inputs"), REGISTRY_CASES)
def test_compiled_op_matches_eager_values_and_gradients(op, fn, inputs):
    """Traced on one set of inputs, replayed on another of the same shapes: values and gradients as eager."""
    out_shape = np.shape(fn(*[gl.Tensor(x) for x in inputs]).data)
    weights = rng.standard_normal(out_shape)
    step = loss_and_grads_step(fn, weights)
    compiled = gl.compile(step)
    compiled(*leaves(inputs))  # the trace
    others = [x + 0.05 * rng.uniform(0.5, 1.0, np.shape(x)) for x in inputs]  # same shapes, new values
    expected_out, expected_grads = step(*leaves(others))
    for _ in range(2):
        out, grads = compiled(*leaves(others))
        np.testing.assert_allclose(out.data, expected_out.data, rtol=1e-12, atol=1e-12)
        for g, e in zip(grads, expected_grads):
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
    assert compiled.traces == 1


# --- training --------------------------------------------------------------------------------------
def mnist_batches(n_steps, batch):
    """Real MNIST images (float64) when the shared data is there, else random stand-ins of the same shape."""
    try:
        from gradlab.data import load_mnist

        x, y = load_mnist(SHARED_DATA / "mnist", limit=n_steps * batch, flatten=True)
    except (FileNotFoundError, OSError):  # learnable and the same in any test order: the label is a pixel argmax
        stand_in = np.random.default_rng(0)
        x = stand_in.uniform(0, 1, (n_steps * batch, 784))
        y = x[:, :10].argmax(axis=1)
    x = x.astype(np.float64)
    return [(x[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch]) for i in range(n_steps)]


def mnist_mlp():
    from gradlab.apps.mnist import mlp

    return mlp(seed=3, dtype=np.float64)  # 784-512-512-10, ReLU, dropout 0.2


def train(optimizer_class, compiled: bool, batches):
    model = mnist_mlp()
    opt = optimizer_class(model.parameters(), lr=0.01)

    def step(x, y):
        opt.zero_grad()
        loss = gl.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    run = gl.compile(step) if compiled else step
    losses = [run(x, y) for x, y in batches]
    return np.array(losses), [p.data.copy() for p in model.parameters()], run


@pytest.mark.parametrize("optimizer_class", [optim.SGD, optim.Adam])
def test_compiled_mnist_training_follows_the_eager_trajectory(optimizer_class):
    batches = mnist_batches(20, 32)
    eager_losses, eager_params, _ = train(optimizer_class, False, batches)
    losses, params, run = train(optimizer_class, True, batches)
    assert run.traces == 1
    np.testing.assert_allclose(losses, eager_losses, rtol=0, atol=1e-10)
    for p, e in zip(params, eager_params):
        np.testing.assert_allclose(p, e, rtol=0, atol=1e-10)
    assert losses[-1] < losses[0]  # it trained


def test_hand_written_update_and_accumulated_gradients_follow_eager():
    """No optimizer: p -= lr * p.grad by hand, and .grad accumulating over calls (no zero_grad)."""

    def make():
        return leaves([np.linspace(-1, 1, 6).reshape(3, 2), np.array([0.1, -0.2])])

    x = rng.standard_normal((5, 3))

    def step(params, x):
        w, b = params
        loss = gl.mean(gl.tanh(x @ w + b) ** 2)
        loss.backward()
        with gl.no_grad():
            for p in params:
                p -= 0.1 * p.grad  # .grad is not cleared: the next call adds to it
        return loss

    eager, compiled_params = make(), make()
    compiled = gl.compile(step)
    for _ in range(4):
        expected = step(eager, x)
        got = compiled(compiled_params, x)
        np.testing.assert_allclose(got.data, expected.data, rtol=1e-13)
    for p, e in zip(compiled_params, eager):
        np.testing.assert_allclose(p.data, e.data, rtol=1e-13)
        np.testing.assert_allclose(p.grad, e.grad, rtol=1e-13)
    assert compiled.traces == 2  # the first call found .grad empty, the others full: one trace each


# --- guards ----------------------------------------------------------------------------------------
def small_model(dtype=np.float64):
    return nn.Sequential(
        nn.Linear(4, 8, seed=0, dtype=dtype), nn.ReLU(), nn.Dropout(0.3, seed=1), nn.Linear(8, 1, seed=2)
    )


def test_traces_exactly_when_shapes_dtypes_parameters_or_training_mode_change():
    model = small_model()
    opt = optim.SGD(model.parameters(), lr=0.1)

    @gl.compile
    def step(x, y):
        opt.zero_grad()
        loss = gl.mse(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def data(n, dtype=np.float64):
        return rng.standard_normal((n, 4)).astype(dtype), rng.standard_normal((n, 1)).astype(dtype)

    step(*data(16))
    step(*data(16))
    step(*data(16))
    assert step.traces == 1  # same shapes: replayed
    step(*data(8))
    assert step.traces == 2  # a new batch size
    step(*data(16))
    assert step.traces == 2  # the first recording is still there
    step(*data(16, np.float32))
    assert step.traces == 3  # a new dtype
    model[0].weight = nn.Parameter(np.ones((4, 8)))
    opt.param_groups[0]["params"][0] = model[0].weight
    step(*data(16))
    assert step.traces == 4  # another parameter
    model.eval()
    step(*data(16))
    assert step.traces == 5  # evaluation mode: no dropout
    model.train()
    step(*data(16))
    assert step.traces == 5


def test_freezing_a_layer_after_the_trace_retraces_and_leaves_it_alone():
    """Found by lesson 17's author: requires_grad was not guarded, so the replay went on updating a frozen weight."""
    x, y = rng.standard_normal((16, 4)), rng.standard_normal((16, 1))
    runs = []
    for compiled in (False, True):
        model = nn.Sequential(nn.Linear(4, 8, seed=0), nn.Tanh(), nn.Linear(8, 1, seed=1))
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(model=model, opt=opt):
            opt.zero_grad()
            loss = gl.mse(model(x), y)
            loss.backward()
            opt.step()
            return loss

        step = gl.compile(step) if compiled else step
        step()
        model[0].weight.requires_grad = False
        frozen = model[0].weight.data.copy()
        step()
        step()
        assert np.array_equal(model[0].weight.data, frozen)
        runs.append([p.data.copy() for p in model.parameters()])
        if compiled:
            assert step.traces == 2
    for eager, replayed in zip(*runs):
        np.testing.assert_allclose(replayed, eager, rtol=0, atol=1e-12)


def test_a_replaced_parameter_is_the_one_the_replay_updates():
    model = nn.Linear(3, 1, seed=0)
    opt = optim.SGD(model.parameters(), lr=0.5)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 1))

    @gl.compile
    def step():
        opt.zero_grad()
        gl.mse(model(x), y).backward()
        opt.step()

    step()
    new = nn.Parameter(np.zeros((3, 1)))
    model.weight = new
    opt.param_groups[0]["params"][0] = new
    step()
    assert step.traces == 2
    assert np.any(new.data != 0)


# --- what is refused -------------------------------------------------------------------------------
def test_value_dependent_control_flow_is_refused_with_what_to_do():
    x = gl.Tensor(rng.standard_normal(3), requires_grad=True)

    def branch_on_item(x):
        loss = gl.sum(x * x)
        if loss.item() > 1.0:
            loss = loss * 2
        return loss

    def branch_on_tensor(x):
        loss = gl.sum(x * x)
        return loss * 2 if loss else loss

    for fn in (branch_on_item, branch_on_tensor):
        with pytest.raises(gl.CompileError, match="gl.where"):
            gl.compile(fn)(x)
    with pytest.raises(gl.CompileError, match=r"\.item\(\)"):
        gl.compile(lambda x: float(gl.sum(x)))(x)


def test_gradients_from_outside_the_step_are_refused():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    gl.sum(model(np.ones((1, 2)))).backward()  # .grad filled before the step
    with pytest.raises(gl.CompileError, match="not computed inside the compiled step"):
        gl.compile(opt.step)()


# --- random draws, source ----------------------------------------------------------------------------
def test_dropout_draws_fresh_numbers_at_every_replay_as_eager_does():
    x = np.ones((6, 4))
    eager_model, model = small_model(), small_model()

    def forward(model):
        return lambda x: model(x)

    compiled = gl.compile(forward(model))
    outs = [compiled(x).data for _ in range(3)]
    expected = [eager_model(x).data for _ in range(3)]
    assert compiled.traces == 1
    assert not np.allclose(outs[1], outs[2])  # a new mask each call
    for o, e in zip(outs, expected):
        np.testing.assert_allclose(o, e, rtol=1e-14)  # the same generator, drawn in the same order


def test_source_is_the_step_with_its_chain_rule():
    model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.Tanh(), nn.Linear(3, 1, seed=1))
    opt = optim.Adam(model.parameters())
    x, y = rng.standard_normal((5, 2)), rng.standard_normal((5, 1))

    @gl.compile
    def step(x, y):
        opt.zero_grad()
        prediction = model(x)
        gl.exp(prediction)  # computed, never used: no line for it
        loss = gl.mse(prediction, y)
        loss.backward()
        opt.step()
        return loss.item()

    first = step(x, y)
    assert isinstance(first, float)
    assert isinstance(step(x, y), float)
    source = step.source
    assert "def compiled_step(a0, a1):" in source
    assert "@ v0_weight" in source  # parameters are named after the module's parameters
    assert "∂L/∂tanh = ∂L/∂linear2 · v2_weightᵀ   (Linear's vjp)" in source
    assert "(Tanh's vjp)" in source and "(MSE's vjp)" in source
    assert "Adam.update" in source
    assert ".zero_grad(" not in source and ".backward(" not in source  # straight-line code, no engine calls
    assert "np.exp" not in source  # dead values are not computed
    assert "g_in0" not in source  # nor gradients nobody needs (towards the data x)


def test_numpy_code_on_arguments_and_gradients_is_replayed():
    """The lab's step: an L2 weight from an argument, gradients returned; fit's step: output and loss returned."""

    def make():
        return nn.Sequential(nn.Linear(2, 8, seed=0), nn.Tanh(), nn.Linear(8, 1, seed=1))

    def gradients_of(model):
        def gradients(x, t, l2):
            model.zero_grad()
            logits = gl.reshape(model(x), (-1,))
            penalty = gl.sum(model[0].weight * model[0].weight) + gl.sum(model[2].weight * model[2].weight)
            objective = gl.bce_with_logits(logits, t) + (l2 / 2) * penalty  # l2 / 2: NumPy on an argument
            objective.backward()
            return logits, [p.grad for p in model.parameters()]

        return gradients

    eager, model = make(), make()
    compiled = gl.compile(gradients_of(model))
    x = rng.standard_normal((20, 2))
    t = (x[:, 0] > 0).astype(np.float64)
    for k in range(4):
        l2 = np.asarray(0.1 * k)  # a 0-d array: a new value without a new trace
        expected_logits, expected = gradients_of(eager)(x, t, l2)
        logits, grads = compiled(x, t, l2)
        np.testing.assert_allclose(logits.data, expected_logits.data, rtol=1e-13)
        for g, e in zip(grads, expected):
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15)
    assert compiled.traces == 1


def test_batch_norm_buffers_are_read_at_every_replay_and_their_training_update_is_refused():
    model = nn.Sequential(nn.Linear(3, 4, seed=0), nn.BatchNorm1d(4))
    x = rng.standard_normal((8, 3))
    with pytest.raises(gl.CompileError, match="model.eval"):
        gl.compile(lambda x: model(x))(x)  # training mode: running statistics updated outside the ops
    model.eval()
    compiled = gl.compile(lambda x: model(x))
    np.testing.assert_allclose(compiled(x).data, model(x).data, rtol=1e-14)
    model[1].register_buffer("running_mean", np.full(4, 0.5))  # new statistics, as load_state_dict sets them
    np.testing.assert_allclose(compiled(x).data, model(x).data, rtol=1e-14)
    assert compiled.traces == 1


def test_numpy_code_on_a_tensors_data_is_refused_rather_than_frozen():
    x = gl.Tensor(rng.standard_normal((4, 3)), requires_grad=True)

    def step(x):
        return gl.sum(gl.Tensor(x.data[:2]) * 2)  # x.data[:2]: a view the replay could not recompute

    with pytest.raises(gl.CompileError, match="gradlab ops"):
        gl.compile(step)(x)


MODEL_IN_A_GLOBAL = small_model()


def _loss_of_global_model(x, y):
    return gl.mse(MODEL_IN_A_GLOBAL(x), y)


def test_a_model_reached_only_through_a_helper_is_found_and_its_dropout_still_draws_afresh():
    eager = small_model()
    x, y = rng.standard_normal((6, 4)), rng.standard_normal((6, 1))
    compiled = gl.compile(lambda x, y: _loss_of_global_model(x, y))  # the lambda names no model
    losses = [compiled(x, y).item() for _ in range(4)]
    expected = [gl.mse(eager(x), y).item() for _ in range(4)]
    np.testing.assert_allclose(losses, expected, rtol=1e-14)
    assert compiled.traces == 2  # the first trace found the model through its parameters, the second used it
    assert "rng.random" in compiled.source


@pytest.mark.parametrize("loss", ["mse", "product"])
def test_a_float32_leaf_gets_a_float32_gradient_as_in_eager(loss):
    """Found by fit's integration: a float32 parameter meeting float64 targets got a float64 .grad in the replay
    (eager casts every gradient to its leaf's dtype), so compiled training drifted from eager by ~1e-7."""
    p0 = rng.standard_normal(16).astype(np.float32)
    target = rng.standard_normal(16)

    def step(p):
        out = gl.mse(p, target) if loss == "mse" else (p * target).sum()
        out.backward()
        return p.grad

    compiled = gl.compile(step)
    for _ in range(3):
        replayed = compiled(gl.Tensor(p0.copy(), requires_grad=True))
    eager = step(gl.Tensor(p0.copy(), requires_grad=True))
    assert compiled.traces == 1 and replayed.dtype == eager.dtype == np.float32
    np.testing.assert_array_equal(replayed, eager)


def test_source_before_the_first_call_says_so_and_hasattr_is_false():
    step = gl.compile(lambda x: gl.exp(gl.Tensor(x)).sum())
    assert not hasattr(step, "source")
    with pytest.raises(AttributeError, match="call the compiled function once"):
        step.source  # noqa: B018
    step(np.ones(3))
    assert "np.exp" in step.source or "exp" in step.source
