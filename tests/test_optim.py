"""Optimizers, schedules, clipping, minimize, landscapes and the race."""

import numpy as np
import pytest

import gradlab as gl
from gradlab import optim
from gradlab.landscapes import LANDSCAPES, get_landscape

A = np.diag([2.0, 0.5])  # f(θ) = ½ θᵀAθ, ∇f = Aθ
THETA0 = np.array([1.0, -2.0])


def three_library_steps(name, **hyper):
    theta = gl.Tensor(THETA0.copy(), requires_grad=True)
    opt = optim.make_optimizer(name, [theta], **hyper)
    out = []
    for _ in range(3):
        theta.grad = A @ theta.data
        opt.step()
        out.append(theta.data.copy())
    return out


def three_textbook_steps(rule):
    theta, memory, out = THETA0.copy(), {}, []
    for t in range(1, 4):
        theta = rule(theta, A @ theta, memory, t)
        out.append(theta.copy())
    return out


def sgd(theta, g, m, t, lr=0.1):
    return theta - lr * g


def momentum(theta, g, m, t, lr=0.1, mu=0.9):
    m["v"] = mu * m.get("v", 0) + g
    return theta - lr * m["v"]


def nesterov(theta, g, m, t, lr=0.1, mu=0.9):
    m["v"] = mu * m.get("v", 0) + g
    return theta - lr * (g + mu * m["v"])


def adagrad(theta, g, m, t, lr=0.1, eps=1e-10):
    m["G"] = m.get("G", 0) + g**2
    return theta - lr * g / (np.sqrt(m["G"]) + eps)


def rmsprop(theta, g, m, t, lr=0.1, rho=0.9, eps=1e-8):
    m["s"] = rho * m.get("s", 0) + (1 - rho) * g**2
    return theta - lr * g / (np.sqrt(m["s"]) + eps)


def adam(theta, g, m, t, lr=0.1, b1=0.9, b2=0.999, eps=1e-8, decoupled=0.0, ams=False):
    m["m"] = b1 * m.get("m", 0) + (1 - b1) * g
    m["v"] = b2 * m.get("v", 0) + (1 - b2) * g**2
    v = m["v"]
    if ams:
        m["vmax"] = np.maximum(m.get("vmax", 0), v)
        v = m["vmax"]
    m_hat, v_hat = m["m"] / (1 - b1**t), v / (1 - b2**t)
    return theta - lr * (m_hat / (np.sqrt(v_hat) + eps) + decoupled * theta)


@pytest.mark.parametrize(
    ("name", "hyper", "rule"),
    [
        ("sgd", {"lr": 0.1}, sgd),
        ("momentum", {"lr": 0.1, "momentum": 0.9}, momentum),
        ("nesterov", {"lr": 0.1, "momentum": 0.9}, nesterov),
        ("adagrad", {"lr": 0.1}, adagrad),
        ("rmsprop", {"lr": 0.1}, rmsprop),
        ("adam", {"lr": 0.1}, adam),
        ("adamw", {"lr": 0.1, "weight_decay": 0.05}, lambda *a: adam(*a, decoupled=0.05)),
        ("amsgrad", {"lr": 0.1}, lambda *a: adam(*a, ams=True)),
    ],
)
def test_first_three_updates_follow_the_textbook_formula(name, hyper, rule):
    for library, textbook in zip(three_library_steps(name, **hyper), three_textbook_steps(rule)):
        np.testing.assert_allclose(library, textbook, rtol=1e-14)


def quadratic_run(lr, condition=10.0, steps=3000, optimizer="sgd", **hyper):
    q = get_landscape("quadratic", condition=condition)
    return q, optim.minimize(q, q.start, optimizer, lr=lr, max_steps=steps, **hyper)


def test_gradient_descent_with_step_one_over_l_converges():
    _, run = quadratic_run(lr=1 / 10)
    assert run.converged and not run.diverged


def test_gradient_descent_with_step_above_two_over_l_diverges_and_says_so():
    _, run = quadratic_run(lr=2.05 / 10)
    assert run.diverged and not run.converged
    assert "diverged" in run.reason and "step" in run.reason
    assert run.diverged_at == 0  # the loss climbs from the very first step
    assert np.all(np.diff(run.losses) > 0)


def test_optimal_fixed_step_contracts_the_error_by_kappa_minus_one_over_kappa_plus_one():
    kappa, big_l, mu = 10.0, 10.0, 1.0
    _, run = quadratic_run(lr=2 / (big_l + mu), steps=60, grad_tol=None)
    errors = np.linalg.norm(run.positions, axis=1)
    ratios = errors[1:] / errors[:-1]
    np.testing.assert_allclose(ratios[:40], (kappa - 1) / (kappa + 1), rtol=1e-9)


def test_momentum_beats_gradient_descent_on_an_ill_conditioned_quadratic():
    kappa = 100.0
    q = get_landscape("quadratic", condition=kappa)

    def steps_to(run, tol=1e-6):
        hit = np.nonzero(run.losses <= tol)[0]
        return int(hit[0]) if hit.size else None

    gd = optim.minimize(q, q.start, "sgd", lr=2 / (kappa + 1), max_steps=5000, grad_tol=None)
    root = np.sqrt(kappa)
    heavy = optim.minimize(
        q,
        q.start,
        "momentum",
        lr=4 / (root + 1) ** 2,
        momentum=((root - 1) / (root + 1)) ** 2,
        max_steps=5000,
        grad_tol=None,
    )
    gd_steps, momentum_steps = steps_to(gd), steps_to(heavy)
    print(f"steps to loss 1e-6: gradient descent {gd_steps}, momentum {momentum_steps}")
    assert momentum_steps is not None and gd_steps is not None
    assert momentum_steps * 3 < gd_steps


def test_gradient_descent_finds_all_four_himmelblau_minima_from_random_starts():
    h = get_landscape("himmelblau")
    rng = np.random.default_rng(0)
    found = set()
    for start in rng.uniform(-5, 5, size=(24, 2)):
        run = optim.minimize(h, start, "sgd", lr=0.01, max_steps=3000, grad_tol=1e-6)
        minimum, distance = h.nearest_minimum(run.final)
        if distance < 1e-4:
            found.add(minimum)
    assert found == set(h.minima)


@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e6])
def test_adam_first_step_is_about_lr_whatever_the_gradient_scale(scale):
    """|step| = lr·|g|/(|g| + ε): lr to within ε/|g| (so for gradients far above ε = 1e-8)."""
    theta = gl.Tensor(np.array([0.3, -0.7]), requires_grad=True)
    opt = optim.Adam([theta], lr=0.01)
    before = theta.data.copy()
    theta.grad = scale * np.array([2.0, -5.0])
    opt.step()
    np.testing.assert_allclose(np.abs(theta.data - before), 0.01, rtol=1e-3)


def test_schedules_follow_their_documented_sequences():
    def lrs(make, n=7):
        theta = gl.Tensor(np.zeros(1), requires_grad=True)
        opt = optim.SGD([theta], lr=1.0)
        schedule = make(opt)
        seen = [opt.lr]
        for _ in range(n - 1):
            schedule.step()
            seen.append(opt.lr)
        return seen

    np.testing.assert_allclose(lrs(lambda o: optim.StepLR(o, 3, 0.5)), [1, 1, 1, 0.5, 0.5, 0.5, 0.25])
    np.testing.assert_allclose(lrs(lambda o: optim.ExponentialLR(o, 0.5)), 0.5 ** np.arange(7))
    np.testing.assert_allclose(lrs(lambda o: optim.LinearWarmup(o, 4)), [0.25, 0.5, 0.75, 1, 1, 1, 1])
    cosine = lrs(lambda o: optim.CosineAnnealingLR(o, 4, eta_min=0.1))
    np.testing.assert_allclose(cosine, [0.1 + 0.9 * (1 + np.cos(np.pi * min(t, 4) / 4)) / 2 for t in range(7)])


def test_reduce_on_plateau_waits_for_patience():
    theta = gl.Tensor(np.zeros(1), requires_grad=True)
    opt = optim.SGD([theta], lr=1.0)
    plateau = optim.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    for loss in [5.0, 4.0, 4.0, 4.0, 4.0, 3.0]:
        plateau.step(loss)
    assert opt.lr == 0.5  # three steps without improvement (> patience 2), then an improvement


def test_clipping_by_global_norm_keeps_the_direction():
    a = gl.Tensor(np.zeros(2), requires_grad=True)
    b = gl.Tensor(np.zeros(3), requires_grad=True)
    ga, gb = np.array([3.0, -4.0]), np.array([12.0, 0.0, 0.0])
    a.grad, b.grad = ga.copy(), gb.copy()
    norm = optim.clip_grad_norm([a, b], max_norm=1.0)
    assert norm == pytest.approx(13.0)
    joined, original = np.concatenate([a.grad, b.grad]), np.concatenate([ga, gb])
    assert np.linalg.norm(joined) == pytest.approx(1.0)
    np.testing.assert_allclose(joined / np.linalg.norm(joined), original / np.linalg.norm(original))
    a.grad = np.array([0.1, 0.2])
    assert optim.clip_grad_norm([a], max_norm=1.0) == pytest.approx(np.sqrt(0.05))
    np.testing.assert_array_equal(a.grad, [0.1, 0.2])  # below the limit nothing changes


def test_parameter_groups_and_state_dict_round_trip():
    w = gl.Tensor(np.ones(2), requires_grad=True)
    b = gl.Tensor(np.ones(1), requires_grad=True)
    opt = optim.Adam([{"params": [w], "lr": 0.1}, {"params": [b]}], lr=0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    for _ in range(3):
        w.grad, b.grad = np.array([1.0, -1.0]), np.array([2.0])
        opt.step()
    saved = opt.state_dict()
    w2 = gl.Tensor(w.data.copy(), requires_grad=True)
    b2 = gl.Tensor(b.data.copy(), requires_grad=True)
    opt2 = optim.Adam([{"params": [w2], "lr": 0.5}, {"params": [b2]}])
    opt2.load_state_dict(saved)
    for o, params in ((opt, (w, b)), (opt2, (w2, b2))):
        params[0].grad, params[1].grad = np.array([0.5, 0.5]), np.array([1.0])
        o.step()
    np.testing.assert_allclose(w2.data, w.data)
    np.testing.assert_allclose(b2.data, b.data)


def test_optimizer_errors_are_clear():
    w = gl.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="no hyper-parameter"):
        optim.SGD([w], learning_rate=0.1)
    with pytest.raises(ValueError, match="positive"):
        optim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match="requires_grad"):
        optim.SGD([gl.Tensor(np.ones(2))])
    with pytest.raises(ValueError, match="unknown optimizer"):
        optim.make_optimizer("lbfgs", [w])


def test_minimize_records_the_optimizer_state():
    q = get_landscape("quadratic", condition=4)
    run = optim.minimize(q, q.start, "adam", lr=0.1, max_steps=5, grad_tol=None)
    assert run.positions.shape == (6, 2) and run.gradients.shape == (6, 2)
    assert set(run.states[3]) == {"step", "m", "v"}


@pytest.mark.parametrize("name", list(LANDSCAPES))
def test_landscapes_have_their_stated_minima(name):
    landscape = get_landscape(name)
    for m in landscape.minima:
        g = gl.grad(landscape.f)(np.array(m))
        assert np.linalg.norm(g) < 1e-5, (name, m, g)
    values = landscape.grid(20)[2]
    assert values.shape == (20, 20) and np.all(np.isfinite(values))


def test_race_table_and_figure(tmp_path):
    result = optim.race(
        "rosenbrock",
        {"sgd": {"lr": 1e-3}, "adam": {"lr": 0.05}, "too fast": {"optimizer": "sgd", "lr": 0.05}},
        steps=400,
    )
    rows = {r["optimizer"]: r for r in result.rows()}
    assert rows["too fast"]["diverged"] and not rows["adam"]["diverged"]
    assert rows["adam"]["final_loss"] < rows["sgd"]["final_loss"]
    assert "diverged?" in result.table()
    path = tmp_path / "race.png"
    result.figure(path)
    assert path.stat().st_size > 20_000


def test_cli_race(tmp_path, capsys):
    from gradlab.cli import main

    figure = tmp_path / "r.png"
    assert (
        main(["race", "booth", "--optimizers", "sgd,adam", "--lr", "0.01", "--steps", "200", "--figure", str(figure)])
        == 0
    )
    out = capsys.readouterr().out
    assert "sgd" in out and "adam" in out and figure.exists()


# --- PyTorch's spellings: 60-step trajectories, against torch.optim's algorithms -------------------
# A small least-squares problem in float64 with a matrix and a vector parameter. Each case is written
# as a PyTorch user would write it; gradlab must follow torch.optim's update rule, transcribed below
# in plain NumPy (so CI checks it without torch), and torch.optim itself where torch is installed.

_rng = np.random.default_rng(0)
LSQ_X, LSQ_Y = _rng.normal(size=(20, 3)), _rng.normal(size=(20, 2))
LSQ_START = (_rng.normal(size=(3, 2)), _rng.normal(size=2))  # W, b
STEPS = 60

TORCH_CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    ("Adagrad", {"lr": 0.3}),
    ("Adagrad", {"lr": 0.3, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.95}),
    ("RMSprop", {}),  # PyTorch's defaults: lr=0.01, alpha=0.99
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99)}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.05, "amsgrad": True}),
]
CASE_IDS = [f"{name}({', '.join(f'{k}={v}' for k, v in hyper.items())})" for name, hyper in TORCH_CASES]


def lsq_gradients(w, b):
    """∇ of ½·mean over rows of |X W + b - Y|², by hand."""
    r = LSQ_X @ w + b - LSQ_Y
    return LSQ_X.T @ r / len(LSQ_X), r.sum(axis=0) / len(LSQ_X)


# torch.optim's single-tensor algorithms (PyTorch 2.x), with its defaults; s is one parameter's state.
def torch_sgd(p, g, s, t, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    g = g + weight_decay * p
    if momentum:
        s["buf"] = g.copy() if t == 1 else momentum * s["buf"] + (1 - dampening) * g
        g = g + momentum * s["buf"] if nesterov else s["buf"]
    return p - lr * g


def torch_adagrad(p, g, s, t, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    g = g + weight_decay * p
    s["sum"] = s.get("sum", initial_accumulator_value) + g * g
    return p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["sum"]) + eps)


def torch_rmsprop(p, g, s, t, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = g + weight_decay * p
    s["square_avg"] = alpha * s.get("square_avg", 0.0) + (1 - alpha) * g * g
    return p - lr * g / (np.sqrt(s["square_avg"]) + eps)


def torch_adam(p, g, s, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
    b1, b2 = betas
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    v = s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    if amsgrad:
        v = s["v_max"] = np.maximum(s.get("v_max", 0.0), v)
    return p - lr / (1 - b1**t) * s["m"] / (np.sqrt(v) / np.sqrt(1 - b2**t) + eps)


def torch_adamw(p, g, s, t, weight_decay=1e-2, **hyper):
    return torch_adam(p, g, s, t, weight_decay=weight_decay, decoupled=True, **hyper)


TORCH_RULES = {"SGD": torch_sgd, "Adagrad": torch_adagrad, "RMSprop": torch_rmsprop, "Adam": torch_adam}
TORCH_RULES["AdamW"] = torch_adamw


def reference_trajectory(name, hyper):
    params, states, out = [a.copy() for a in LSQ_START], [{}, {}], []
    for t in range(1, STEPS + 1):
        grads = lsq_gradients(*params)
        params = [TORCH_RULES[name](p, g, s, t, **hyper) for p, g, s in zip(params, grads, states)]
        out.append(np.concatenate([p.ravel() for p in params]))
    return np.array(out)


def trajectory(make, parameter, constant, values):
    """The positions (W and b, flattened) after each of 60 steps of make(params)'s optimizer on the
    least-squares problem, in either library: `parameter` and `constant` make its tensors from arrays,
    `values` reads one back."""
    w, b = (parameter(a.copy()) for a in LSQ_START)
    opt, out = make([w, b]), []
    x, y = constant(LSQ_X), constant(LSQ_Y)
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((x @ w + b - y) ** 2).sum() * (0.5 / len(LSQ_X))
        loss.backward()
        opt.step()
        out.append(np.concatenate([values(w).ravel(), values(b)]))
    return np.array(out)


def gradlab_trajectory(make):
    return trajectory(make, lambda a: gl.Tensor(a, requires_grad=True), gl.Tensor, lambda t: t.data)


def torch_trajectory(torch, name, hyper):
    return trajectory(
        lambda params: getattr(torch.optim, name)(params, **hyper),
        lambda a: torch.tensor(a, requires_grad=True),
        torch.from_numpy,
        lambda t: t.detach().numpy(),
    )


def test_the_least_squares_gradients_by_hand_are_the_engines():
    w, b = (gl.Tensor(a, requires_grad=True) for a in LSQ_START)
    (((gl.Tensor(LSQ_X) @ w + b - gl.Tensor(LSQ_Y)) ** 2).sum() * (0.5 / len(LSQ_X))).backward()
    for engine, by_hand in zip((w.grad, b.grad), lsq_gradients(*LSQ_START)):
        np.testing.assert_allclose(engine, by_hand, rtol=1e-12)


@pytest.mark.parametrize(("name", "hyper"), TORCH_CASES, ids=CASE_IDS)
def test_pytorch_spellings_follow_torch_optims_update_rules_for_60_steps(name, hyper):
    ours = gradlab_trajectory(lambda params: getattr(optim, name)(params, **hyper))
    reference = reference_trajectory(name, hyper)
    assert np.abs(reference[-1] - reference[0]).max() > 0.5  # the run goes somewhere
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-8)


@pytest.mark.parametrize(("name", "hyper"), TORCH_CASES, ids=CASE_IDS)
def test_pytorch_spellings_match_torch_optim_for_60_steps(name, hyper):
    torch = pytest.importorskip("torch")
    theirs = torch_trajectory(torch, name, hyper)
    np.testing.assert_allclose(
        gradlab_trajectory(lambda p: getattr(optim, name)(p, **hyper)), theirs, rtol=0, atol=1e-8
    )
    np.testing.assert_allclose(reference_trajectory(name, hyper), theirs, rtol=0, atol=1e-8)  # the transcription


@pytest.mark.parametrize(
    ("gradlab_spelling", "pytorch_spelling"),
    [
        (lambda p: optim.Momentum(p, lr=0.05, momentum=0.9), lambda p: optim.SGD(p, lr=0.05, momentum=0.9)),
        (
            lambda p: optim.Nesterov(p, lr=0.05, momentum=0.8, weight_decay=0.01),
            lambda p: optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
        ),
        (lambda p: optim.AdaGrad(p, lr=0.3), lambda p: optim.Adagrad(p, lr=0.3)),
        (lambda p: optim.RMSProp(p, lr=0.01, rho=0.99), lambda p: optim.RMSprop(p)),
        (lambda p: optim.RMSProp(p, lr=0.01, rho=0.95), lambda p: optim.RMSProp(p, lr=0.01, alpha=0.95)),
        (
            lambda p: optim.Adam(p, lr=0.05, beta1=0.8, beta2=0.99),
            lambda p: optim.Adam(p, lr=0.05, betas=(0.8, 0.99)),
        ),
        (
            lambda p: optim.AMSGrad(p, lr=0.05, beta1=0.8),
            lambda p: optim.Adam(p, lr=0.05, betas=[0.8, 0.999], amsgrad=True),
        ),
    ],
)
def test_gradlab_and_pytorch_spellings_give_the_same_trajectory(gradlab_spelling, pytorch_spelling):
    np.testing.assert_array_equal(gradlab_trajectory(gradlab_spelling), gradlab_trajectory(pytorch_spelling))


def test_defaults_under_each_spelling():
    w = gl.Tensor(np.ones(2), requires_grad=True)
    assert optim.Adagrad is optim.AdaGrad and gl.optim.RMSprop is optim.RMSprop
    ours, theirs = optim.RMSProp([w]).param_groups[0], optim.RMSprop([w]).param_groups[0]
    assert (ours["lr"], ours["rho"]) == (0.001, 0.9)  # gradlab's name, gradlab's defaults
    assert (theirs["lr"], theirs["rho"]) == (0.01, 0.99)  # PyTorch's name, PyTorch's defaults
    sgd = optim.SGD([w]).param_groups[0]
    assert (sgd["momentum"], sgd["dampening"], sgd["nesterov"]) == (0.0, 0.0, False)
    assert optim.Nesterov([w]).param_groups[0]["nesterov"] and optim.AMSGrad([w]).param_groups[0]["amsgrad"]
    assert not optim.Adam([w]).param_groups[0]["amsgrad"]
    # What the lab offers per optimizer (the classes' own hyper-parameters) is unchanged.
    assert set(optim.SGD.defaults) == {"lr", "weight_decay"} and set(optim.Adam.defaults) >= {"beta1", "beta2"}


def test_pytorch_spellings_work_in_parameter_groups():
    w = gl.Tensor(np.ones(2), requires_grad=True)
    b = gl.Tensor(np.ones(1), requires_grad=True)
    opt = optim.Adam([{"params": [w], "betas": (0.5, 0.9)}, {"params": [b]}], lr=0.1, betas=(0.8, 0.99))
    assert [(g["beta1"], g["beta2"]) for g in opt.param_groups] == [(0.5, 0.9), (0.8, 0.99)]
    opt = optim.RMSprop([{"params": [w], "alpha": 0.5}, {"params": [b], "rho": 0.7}])
    assert [g["rho"] for g in opt.param_groups] == [0.5, 0.7]


def test_pytorch_spelling_errors_name_the_argument():
    w = gl.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match=r"both betas= .*and beta1="):
        optim.Adam([w], beta1=0.9, betas=(0.9, 0.999))
    with pytest.raises(TypeError, match=r"both alpha= .*and rho="):
        optim.RMSprop([w], rho=0.9, alpha=0.99)
    with pytest.raises(TypeError, match=r"parameter group 0 got both betas="):
        optim.AdamW([{"params": [w], "betas": (0.9, 0.99), "beta2": 0.9}])
    with pytest.raises(ValueError, match=r"betas must hold 2 numbers \(beta1, beta2\), got 0.9"):
        optim.Adam([w], betas=0.9)
    with pytest.raises(TypeError, match=r"no hyper-parameter \['maximize'\].*PyTorch's betas"):
        optim.Adam([w], maximize=True)
    with pytest.raises(TypeError, match=r"RMSprop has no hyper-parameter \['centered', 'momentum'\]"):
        optim.RMSprop([w], momentum=0.9, centered=True)
    with pytest.raises(TypeError, match=r"no hyper-parameter \['betas'\]"):
        optim.SGD([w], betas=(0.9, 0.999))
    with pytest.raises(ValueError, match="nesterov=True needs a positive momentum"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="no dampening"):
        optim.SGD([w], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
