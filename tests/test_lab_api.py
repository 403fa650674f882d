"""The lab's JSON API: every endpoint, its numbers (gradlab's own), its limits, and bad input.

Bad input must always get HTTP 422 with one readable sentence naming the field — never a 500.
"""

from __future__ import annotations

import json
import math
import socket
import threading
import warnings

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the lab needs fastapi (pip install -e .)")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx (pip install -e '.[test]')")
with warnings.catch_warnings():  # recent Starlette prefers httpx2 and says so (a UserWarning) on import
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

import gradlab as gl
from gradlab.calculus import parse_expression
from gradlab.data import make_xor
from gradlab.lab import add_lab_command, create_app, limits, run
from gradlab.lab.errors import clean
from gradlab.lab.training import SessionStore, TrainingConfig
from gradlab.landscapes import get_landscape
from gradlab.optim import minimize


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(), base_url="http://127.0.0.1") as test_client:
        yield test_client


def refused(response, field=None, *words):
    """A 422 with a readable message (and the field and words we expect in it)."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in body["detail"]
    if field is not None:
        assert body["field"] == field, body
    for word in words:
        assert word in body["detail"], body["detail"]
    return body["detail"]


# --- the page and its files ------------------------------------------------------------------------


def test_page_static_files_and_favicon(client):
    page = client.get("/")
    assert page.status_code == 200 and "gradlab" in page.text and 'type="module"' in page.text
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    for path in ["/static/js/main.js", "/static/js/derivatives.js", "/static/css/lab.css", "/favicon.ico"]:
        assert client.get(path).status_code == 200, path
    assert "svg" in client.get("/favicon.ico").headers["content-type"]


def test_plotly_is_served_from_the_installed_package(client):
    response = client.get("/vendor/plotly.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert len(response.content) > 1_000_000 and b"plotly" in response.content[:2000].lower()


def test_the_page_names_no_other_host():
    from gradlab.lab.app import STATIC

    for path in STATIC.rglob("*"):
        if path.suffix in {".html", ".js", ".css"}:
            text = path.read_text()
            assert "http://" not in text.replace("http://www.w3.org/2000/svg", ""), path
            assert "https://" not in text, path


def test_other_host_names_are_refused():
    with TestClient(create_app(), base_url="http://evil.example") as other:
        assert other.get("/api/meta").status_code == 400


def test_unknown_endpoint_is_a_json_404(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and "no such endpoint" in response.json()["detail"]


def test_meta_lists_landscapes_optimizers_and_limits(client):
    meta = client.get("/api/meta").json()
    names = [entry["name"] for entry in meta["landscapes"]]
    assert {"rosenbrock", "himmelblau", "quadratic", "saddle"} <= set(names)
    assert meta["optimizers"]["adam"]["beta1"] == 0.9 and "momentum" in meta["optimizers"]["nesterov"]
    assert meta["limits"]["max_grid"] == limits.MAX_GRID
    assert meta["limits"]["max_race_total_steps"] == limits.MAX_RACE_TOTAL_STEPS
    assert "sin" in meta["functions"] and meta["examples"]["derivatives"]


# --- derivatives -----------------------------------------------------------------------------------


def test_derivative_curves_are_gradlabs(client):
    body = {
        "expr": "x**2*sin(x)",
        "x_min": -2,
        "x_max": 3,
        "points": 51,
        "h": 1e-5,
        "method": "central",
        "second": True,
    }
    answer = client.post("/api/derivative", json=body).json()
    x = np.array(answer["x"])
    assert np.allclose(answer["f"], x**2 * np.sin(x))
    assert np.allclose(answer["df"], 2 * x * np.sin(x) + x**2 * np.cos(x), atol=1e-12)
    assert np.allclose(answer["d2f"], 2 * np.sin(x) + 4 * x * np.cos(x) - x**2 * np.sin(x), atol=1e-12)
    assert np.allclose(answer["numeric"], answer["df"], atol=1e-8)
    assert max(answer["error"]) < 1e-8 and answer["numeric_note"] is None


def test_derivative_where_f_is_undefined_gives_null_not_nan(client):
    response = client.post("/api/derivative", json={"expr": "log(x)", "x_min": -1, "x_max": 1, "points": 11})
    assert response.status_code == 200
    assert "NaN" not in response.text and "Infinity" not in response.text
    answer = response.json()
    assert answer["f"][0] is None and answer["df"][0] is None  # log(-1): no value, no slope
    assert answer["df"][-1] == pytest.approx(1.0)


def test_derivative_point_tangent_and_step_study(client):
    answer = client.post(
        "/api/derivative/point", json={"expr": "exp(x)", "x0": 1.0, "method": "forward", "h": 1e-6}
    ).json()
    assert answer["f"] == pytest.approx(math.e) and answer["df"] == pytest.approx(math.e, rel=1e-15)
    assert answer["d2f"] == pytest.approx(math.e)
    assert answer["tangent"]["slope"] == pytest.approx(math.e) and answer["tangent"]["intercept"] == pytest.approx(
        0, abs=1e-12
    )
    assert answer["tangent"]["y"] == pytest.approx([math.e * -5, math.e * 5])
    assert answer["error"] == pytest.approx(abs(answer["numeric"] - math.e))
    study = answer["study"]
    assert set(study["errors"]) == {"forward", "central", "complex"} and len(study["h"]) == len(
        study["errors"]["central"]
    )
    assert 1e-10 < study["best"]["forward"] < 1e-6  # near sqrt(machine epsilon)


def test_derivative_point_where_f_divides_by_zero_is_a_gap_not_an_error(client):
    answer = client.post("/api/derivative/point", json={"expr": "1/x", "x0": 0.0}).json()
    assert answer["f"] is None and answer["study"] is None and "not defined at x = 0" in answer["undefined"]


# --- landscapes, descent, race -----------------------------------------------------------------------


def test_surface_of_a_landscape_and_of_a_typed_function(client):
    answer = client.post("/api/surface", json={"landscape": "himmelblau", "n": 20}).json()
    xs, _, values = get_landscape("himmelblau").grid(20)
    assert np.allclose(answer["z"], values) and np.allclose(answer["x"], xs)
    assert len(answer["minima"]) == 4 and all(m["f"] == pytest.approx(0, abs=1e-9) for m in answer["minima"])
    typed = client.post(
        "/api/surface", json={"expr": "x**2 + 3*y", "x_range": [-1, 1], "y_range": [0, 2], "n": 10}
    ).json()
    z = np.array(typed["z"])
    assert z.shape == (10, 10) and z[0, 0] == pytest.approx(1.0) and z[-1, -1] == pytest.approx(7.0)
    constant = client.post("/api/surface", json={"expr": "3", "n": 10}).json()
    assert np.array(constant["z"]).shape == (10, 10)


def test_descent_is_gradlabs_minimize(client):
    body = {"landscape": "rosenbrock", "optimizer": "momentum", "lr": 1e-3, "hyper": {"momentum": 0.8}, "steps": 50}
    answer = client.post("/api/descent", json=body).json()
    run_ = minimize(
        get_landscape("rosenbrock"), (-1.2, 1.0), "momentum", max_steps=50, grad_tol=1e-10, lr=1e-3, momentum=0.8
    )
    assert answer["x"] == pytest.approx(run_.positions[:, 0].tolist())
    assert answer["loss"] == pytest.approx(run_.losses.tolist())
    assert answer["gx"] == pytest.approx(run_.gradients[:, 0].tolist())
    assert answer["steps"] == 50 and len(answer["states"]) == 51 and "velocity" in answer["states"][1]
    assert answer["nearest_minimum"] == [1.0, 1.0] and not answer["diverged"]


def test_descent_reports_divergence(client):
    answer = client.post(
        "/api/descent", json={"landscape": "rosenbrock", "optimizer": "sgd", "lr": 0.05, "steps": 100}
    ).json()
    assert answer["diverged"] and answer["diverged_at"] is not None
    assert "diverged" in answer["reason"] and "learning rate is too large" in answer["reason"]
    assert json.dumps(answer)  # plain JSON, no NaN even where the loss blew up


def test_descent_on_a_typed_function_from_a_chosen_start(client):
    body = {"expr": "(x - 1)**2 + (y + 2)**2", "x_range": [-4, 4], "y_range": [-4, 4], "start": [3, 3]}
    answer = client.post("/api/descent", json={**body, "optimizer": "sgd", "lr": 0.1, "steps": 500}).json()
    assert answer["x"][0] == 3 and answer["converged"]
    assert answer["x"][-1] == pytest.approx(1, abs=1e-6) and answer["y"][-1] == pytest.approx(-2, abs=1e-6)


def test_race_runs_one_path_per_optimizer(client):
    body = {
        "landscape": "quadratic",
        "condition": 20,
        "steps": 100,
        "optimizers": [
            {"optimizer": "sgd", "lr": 0.09},
            {"optimizer": "adam", "lr": 0.1},
            {"optimizer": "adam", "lr": 0.01, "hyper": {"beta1": 0.5}},
        ],
    }
    answer = client.post("/api/race", json=body).json()
    assert [run_["label"] for run_ in answer["runs"]] == ["sgd", "adam #1", "adam #2"]
    assert all(len(run_["x"]) == 101 for run_ in answer["runs"])
    assert [row["label"] for row in answer["table"]] == ["sgd", "adam #1", "adam #2"]
    assert answer["best"] == 0 and answer["runs"][0]["gap"][0] == pytest.approx(answer["runs"][0]["loss"][0])
    assert answer["runs"][2]["hyper"]["beta1"] == 0.5 and "quadratic" in answer["text"]
    reached = [row["steps_to_tol"] for row in answer["table"]]
    assert reached[0] is not None


# --- computation graph ---------------------------------------------------------------------------------


def test_graph_values_gradients_and_the_chain_rule(client):
    answer = client.post("/api/graph", json={"expr": "x**2*sin(y) - x/y + exp(-x)", "x": 1.5, "y": 0.5}).json()
    x, y = 1.5, 0.5
    assert answer["value"] == pytest.approx(x**2 * math.sin(y) - x / y + math.exp(-x))
    assert answer["gradient"]["x"] == pytest.approx(2 * x * math.sin(y) - 1 / y - math.exp(-x))
    assert answer["gradient"]["y"] == pytest.approx(x**2 * math.cos(y) + x / y**2)
    assert answer["numeric_gradient"]["x"] == pytest.approx(answer["gradient"]["x"], rel=1e-6)
    nodes = {n["id"]: n for n in answer["nodes"]}
    assert sum(1 for n in nodes.values() if n.get("output")) == 1
    assert {n["label"] for n in nodes.values() if n["kind"] == "variable"} == {"x", "y"}
    # each node's gradient is the sum over its uses of (the user's gradient) × (the local derivative)
    for node in nodes.values():
        uses = [e for e in answer["edges"] if e["source"] == node["id"]]
        if node["kind"] == "constant" or node.get("output"):
            continue
        assert node["grad"] == pytest.approx(sum(e["contribution"] for e in uses)), node
    x_node = next(n for n in nodes.values() if n["label"] == "x")
    assert x_node["grad"] == pytest.approx(answer["gradient"]["x"]) and x_node["layer"] == 0
    assert all(nodes[e["target"]]["layer"] > nodes[e["source"]]["layer"] for e in answer["edges"])


def test_graph_of_a_variable_alone_and_of_a_constant(client):
    alone = client.post("/api/graph", json={"expr": "x", "x": 2, "y": 3}).json()
    assert alone["value"] == 2 and alone["gradient"] == {"x": 1.0, "y": 0.0} and len(alone["nodes"]) == 1
    constant = client.post("/api/graph", json={"expr": "2 + 3", "x": 2, "y": 3}).json()
    assert constant["value"] == 5 and constant["gradient"] == {"x": 0.0, "y": 0.0}
    twice = client.post("/api/graph", json={"expr": "x*x", "x": 3, "y": 0}).json()
    assert [e["local"] for e in twice["edges"]] == [3.0, 3.0] and twice["gradient"]["x"] == 6.0


# --- live training -----------------------------------------------------------------------------------


def test_training_session_learns_xor(client):
    body = {"dataset": "xor", "noise": 0.3, "hidden": [8, 8], "activation": "tanh", "optimizer": "adam", "lr": 0.03}
    session = client.post("/api/train", json=body).json()
    assert session["parameters"] == 2 * 8 + 8 + 8 * 8 + 8 + 8 + 1
    first = session["frame"]
    assert first["step"] == 0 and first["test_loss"] == pytest.approx(math.log(2), abs=0.1)
    assert [layer["shape"] for layer in first["layers"]] == [[2, 8], [8, 8], [8, 1]]
    assert np.array(first["boundary"]["p"]).shape == (limits.BOUNDARY_GRID, limits.BOUNDARY_GRID)
    frame = client.post(f"/api/train/{session['id']}/step", json={"steps": 300}).json()
    assert frame["step"] == 300 and frame["test_loss"] < 0.1 and frame["test_accuracy"] >= 0.95
    layer = frame["layers"][0]
    assert layer["grad_norm"] == pytest.approx(np.linalg.norm(layer["edge_grad"]))
    state = client.get(f"/api/train/{session['id']}").json()
    assert [h["step"] for h in state["history"]] == [0, 300]
    x_train = np.array(state["data"]["train"]["x"])
    x, _ = make_xor(n=300, noise=0.3, seed=0)
    assert all(any(np.allclose(p, q) for q in x) for p in x_train[:5])  # gradlab's data set


def test_settings_pause_and_delete(client):
    session = client.post("/api/train", json={"dataset": "moons", "hidden": [4]}).json()
    sid = session["id"]
    assert client.post(f"/api/train/{sid}/settings", json={"lr": 0.5, "l2": 0.01}).json() == {"lr": 0.5, "l2": 0.01}
    frame = client.post(f"/api/train/{sid}/step", json={"steps": 2}).json()
    assert frame["lr"] == 0.5 and frame["l2"] == 0.01
    assert client.post(f"/api/train/{sid}/pause").json()["step"] == 2
    assert client.delete(f"/api/train/{sid}").json() == {"deleted": True}
    gone = client.post(f"/api/train/{sid}/step", json={"steps": 1})
    assert gone.status_code == 404 and "no longer exists" in gone.json()["detail"]


def test_training_streams_frames_as_server_sent_events(client):
    sid = client.post("/api/train", json={"dataset": "circles", "hidden": [6]}).json()["id"]
    with client.stream("GET", f"/api/train/{sid}/stream?steps_per_frame=5&max_frames=3") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    events = [block for block in text.split("\n\n") if block.strip()]
    frames = [json.loads(e.split("data: ", 1)[1]) for e in events if e.startswith("event: frame")]
    assert [f["step"] for f in frames] == [5, 10, 15]
    assert events[-1].startswith("event: end") and "3 frames" in events[-1]


def test_a_stream_stops_at_the_session_limit(client, monkeypatch):
    monkeypatch.setattr(limits, "MAX_SESSION_STEPS", 12)
    sid = client.post("/api/train", json={"dataset": "moons", "hidden": [3]}).json()["id"]
    with client.stream("GET", f"/api/train/{sid}/stream?steps_per_frame=5") as stream:
        text = "".join(stream.iter_text())
    assert text.count("event: frame") == 3 and "reached 12 steps, the limit per session" in text
    frame = client.post(f"/api/train/{sid}/step", json={"steps": 5}).json()
    assert frame["step"] == 12 and "limit per session" in frame["stopped"]


def test_streams_end_when_the_server_stops():
    app = create_app()
    with TestClient(app, base_url="http://127.0.0.1") as own:
        sid = own.post("/api/train", json={"dataset": "moons", "hidden": [3]}).json()["id"]
        app.state.closing.set()  # what Ctrl-C does in `gradlab lab`
        with own.stream("GET", f"/api/train/{sid}/stream") as stream:
            text = "".join(stream.iter_text())
    assert "event: frame" not in text and "server is stopping" in text


def test_a_pause_stops_a_running_stream_at_once():
    store = SessionStore()
    session = store.create(TrainingConfig(dataset="moons", hidden=(3,)))
    token = session.start_stream()
    assert session.advance(2, token)["step"] == 2
    assert session.pause()["step"] == 2
    assert session.advance(2, token) is None  # the stream's token is stale now
    assert session.advance(1)["step"] == 3  # a plain step still works


def test_divergent_training_stops_with_a_reason():
    store = SessionStore()
    session = store.create(TrainingConfig(dataset="moons", hidden=(4,)))
    session.linears[0].weight.data[0, 0] = np.nan  # what a far too large learning rate leads to
    frame = session.advance(50)
    assert frame["step"] == 1 and "diverged" in frame["stopped"]
    assert frame["train_loss"] is None or math.isnan(frame["train_loss"])
    shown = json.loads(json.dumps(clean(frame), allow_nan=False))
    assert shown["train_loss"] is None


def test_session_store_is_bounded_and_forgets_idle_sessions():
    now = [0.0]
    store = SessionStore(max_sessions=2, idle_timeout=60, clock=lambda: now[0])
    config = TrainingConfig(dataset="xor", hidden=(2,), n=40)
    first = store.create(config)
    now[0] = 1
    second = store.create(config)
    now[0] = 2
    store.get(first.id)  # first is now the most recently used
    now[0] = 3
    third = store.create(config)
    assert len(store) == 2 and second.id not in store.sessions and {first.id, third.id} == set(store.sessions)
    now[0] = 100  # both idle for more than a minute
    with pytest.raises(Exception, match="no longer exists"):
        store.get(first.id)
    assert len(store) == 0


def test_deep_sigmoid_gradients_vanish_towards_the_input(client):
    body = {"dataset": "moons", "hidden": [8] * 6, "activation": "sigmoid", "optimizer": "sgd"}
    norms = [layer["grad_norm"] for layer in client.post("/api/train", json=body).json()["frame"]["layers"]]
    relu = [
        layer["grad_norm"]
        for layer in client.post("/api/train", json={**body, "activation": "relu"}).json()["frame"]["layers"]
    ]
    assert norms[0] < norms[-1] / 100 and relu[0] > relu[-1] / 100


# --- bad input: 422 with a readable message, never a 500 --------------------------------------------------

BAD_FORMULAS = [
    ("__import__('os')", "unknown function '__import__'"),
    ("__import__('os').system('ls')", "attribute access"),
    ("x.__class__", "attribute access"),
    ("os.system('ls')", "attribute access"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("eval('1')", "unknown function 'eval'"),
    ("__builtins__", "'__builtins__' is not allowed"),
    ("[t for t in x]", "comprehensions"),
    ("lambda: 1", "lambda"),
    ("x if x else 1", "'if ... else'"),
    ("x[0]", "indexing"),
    ("x^2", "'^' is not a power"),
    ("x**", "not a valid formula"),
    ("sin(x", "not a valid formula"),
    ("", "empty"),
    ("y + 1", "unknown name 'y'"),
    ("'text'", "only numbers"),
    ("x**1000", "exponent 1000 is too large"),
    ("1e300 * x", "too large"),
    ("x" + "+x" * 300, "the limit is"),
]


@pytest.mark.parametrize(("formula", "words"), BAD_FORMULAS)
def test_bad_formulas_are_refused_readably(client, formula, words):
    message = refused(client.post("/api/derivative", json={"expr": formula}), "expr", words)
    assert "\n" not in message or "^" in message  # a second line is the caret under the problem


@pytest.mark.parametrize("endpoint", ["/api/derivative/point", "/api/surface", "/api/descent", "/api/graph"])
def test_every_formula_endpoint_refuses_forbidden_names(client, endpoint):
    body = {"expr": "__import__('os').getcwd()"}
    refused(client.post(endpoint, json=body), "expr", "__import__")


def test_race_names_the_racer_with_a_bad_hyper_parameter(client):
    body = {"optimizers": [{"optimizer": "sgd", "lr": 0.01}, {"optimizer": "adam", "lr": 0.01, "hyper": {"rho": 0.9}}]}
    refused(client.post("/api/race", json=body), "optimizers.1.rho", "adam has no hyper-parameter 'rho'")
    body = {"optimizers": [{"optimizer": "lion", "lr": 0.01}]}
    refused(client.post("/api/race", json=body), "optimizers.0.optimizer", "unknown optimizer 'lion'")


def test_race_refuses_forbidden_names(client):
    body = {"expr": "x.y", "optimizers": [{"optimizer": "sgd", "lr": 0.01}]}
    refused(client.post("/api/race", json=body), "expr", "attribute access")


LIMITS = [
    ("/api/derivative", {"points": 10**6}, "points", f"the limit is {limits.MAX_POINTS}"),
    ("/api/derivative", {"x_max": 1e9}, "x_max", "the limit is 1e+06"),
    ("/api/surface", {"n": 10**5}, "n", f"the limit is {limits.MAX_GRID}"),
    ("/api/surface", {"expr": "x", "x_range": [-1e9, 1]}, "x_range.0", "at least -10000"),
    ("/api/descent", {"steps": 10**6}, "steps", f"the limit is {limits.MAX_DESCENT_STEPS}"),
    ("/api/descent", {"lr": 100}, "lr", "the limit is 10"),
    ("/api/descent", {"condition": 1e9, "landscape": "quadratic"}, "condition", "the limit is 10000"),
    ("/api/race", {"steps": 10**5, "optimizers": [{"optimizer": "sgd", "lr": 0.1}]}, "steps", "the limit is 2000"),
    (
        "/api/race",
        {"steps": 2000, "optimizers": [{"optimizer": "sgd", "lr": 0.1}] * 3},
        "steps",
        f"at most {limits.MAX_RACE_TOTAL_STEPS} steps in total",
    ),
    ("/api/race", {"optimizers": [{"optimizer": "sgd", "lr": 0.1}] * 7}, "optimizers", "the limit is 6"),
    ("/api/race", {"optimizers": []}, "optimizers", "at least 1"),
    ("/api/train", {"hidden": [8] * 7}, "hidden", "the limit is 6"),
    ("/api/train", {"hidden": [64]}, "hidden.0", "the limit is 16"),
    ("/api/train", {"n": 10**6}, "n", "the limit is 1000"),
]


@pytest.mark.parametrize(("endpoint", "body", "field", "words"), LIMITS)
def test_limits_are_stated_when_hit(client, endpoint, body, field, words):
    refused(client.post(endpoint, json=body), field, words)


NOT_FINITE = [
    ("/api/derivative", '{"h": NaN}', "h"),
    ("/api/derivative", '{"x_min": -Infinity}', "x_min"),
    ("/api/derivative/point", '{"x0": Infinity}', "x0"),
    ("/api/descent", '{"lr": NaN}', "lr"),
    ("/api/descent", '{"start": [NaN, 0]}', "start.0"),
    ("/api/descent", '{"optimizer": "momentum", "hyper": {"momentum": NaN}}', "hyper.momentum"),
    ("/api/race", '{"tol": Infinity, "optimizers": [{"optimizer": "sgd", "lr": 0.1}]}', "tol"),
    ("/api/race", '{"optimizers": [{"optimizer": "sgd", "lr": NaN}]}', "optimizers.0.lr"),
    ("/api/graph", '{"x": NaN}', "x"),
    ("/api/train", '{"noise": NaN}', "noise"),
]


@pytest.mark.parametrize(("endpoint", "text", "field"), NOT_FINITE)
def test_nan_and_infinity_are_refused(client, endpoint, text, field):
    response = client.post(endpoint, content=text, headers={"content-type": "application/json"})
    refused(response, field, "finite number")


OTHER_BAD = [
    ("/api/derivative", {"x_min": 3, "x_max": 1}, "x_max", "must be smaller than x_max"),
    ("/api/derivative", {"method": "backward"}, "method", "must be one of"),
    ("/api/derivative", {"h": 0}, "h", "at least 1e-20"),
    ("/api/derivative", {"points": "many"}, "points", "whole number"),
    ("/api/derivative", {"colour": "red"}, "colour", "unknown field"),
    ("/api/surface", {"landscape": "everest"}, "landscape", "unknown landscape"),
    ("/api/surface", {"expr": "x", "y_range": [2, 1]}, "y_range", "lower end"),
    ("/api/descent", {"optimizer": "lbfgs"}, "optimizer", "unknown optimizer"),
    ("/api/descent", {"lr": 0}, "lr", "greater than 0"),
    ("/api/descent", {"lr": "fast"}, "lr", "must be a number"),
    ("/api/descent", {"optimizer": "sgd", "hyper": {"momentum": 0.9}}, "momentum", "sgd has no hyper-parameter"),
    ("/api/descent", {"optimizer": "momentum", "hyper": {"momentum": 1.5}}, "momentum", "between 0 and 0.9999"),
    ("/api/race", {"optimizers": [{"optimizer": "sgd"}]}, "optimizers.0.lr", "required"),
    ("/api/train", {"dataset": "mnist"}, "dataset", "must be one of"),
    ("/api/train", {"activation": "softmax"}, "activation", "must be one of"),
    ("/api/train", {"optimizer": "newton"}, "optimizer", "unknown optimizer"),
    ("/api/train", {"hidden": [0]}, "hidden.0", "at least 1"),
]


@pytest.mark.parametrize(("endpoint", "body", "field", "words"), OTHER_BAD)
def test_other_bad_input_is_refused_readably(client, endpoint, body, field, words):
    refused(client.post(endpoint, json=body), field, words)


def test_malformed_json_is_refused(client):
    response = client.post("/api/graph", content="{not json", headers={"content-type": "application/json"})
    refused(response, "request", "not valid JSON")


def test_training_request_limits(client):
    sid = client.post("/api/train", json={"dataset": "xor", "hidden": [2]}).json()["id"]
    refused(
        client.post(f"/api/train/{sid}/step", json={"steps": 10**4}),
        "steps",
        f"the limit is {limits.MAX_STEPS_PER_REQUEST}",
    )
    refused(client.post(f"/api/train/{sid}/settings", json={"lr": -1}), "lr", "greater than 0")
    response = client.get(f"/api/train/{sid}/stream?steps_per_frame=100000")
    refused(response, "steps_per_frame", f"the limit is {limits.MAX_STEPS_PER_FRAME}")


def test_random_text_never_makes_the_server_fail(client):
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    alphabet = "xy0123456789.+-*/()^ eapisnco_[]'\",:;"

    @hypothesis.settings(max_examples=40, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(st.text(alphabet=alphabet, max_size=30))
    def check(text):
        response = client.post("/api/graph", json={"expr": text, "x": 0.5, "y": -1.5})
        assert response.status_code in (200, 422), (text, response.text)
        json.loads(response.text)  # strict JSON: no NaN or Infinity literals

    check()


def test_the_parser_is_the_only_way_in():
    """The lab evaluates typed text only through parse_expression (no eval/exec anywhere in it)."""
    from gradlab.lab.app import STATIC

    package = STATIC.parent
    for path in package.glob("*.py"):
        source = path.read_text()
        assert "eval(" not in source.replace(".eval(", "") and "exec(" not in source, path
    assert parse_expression("x*y", ("x", "y"))(2.0, 3.0) == 6.0
    assert gl.Tensor  # the engine is what the lab calls


# --- the `lab` command ---------------------------------------------------------------------------------


def test_lab_command_arguments():
    import argparse

    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command")
    add_lab_command(commands)
    args = parser.parse_args(["lab"])
    assert (args.host, args.port, args.open) == ("127.0.0.1", 8765, False)
    args = parser.parse_args(["lab", "--port", "9000", "--open", "--host", "0.0.0.0"])
    assert (args.host, args.port, args.open) == ("0.0.0.0", 9000, True)
    with pytest.raises(SystemExit):
        parser.parse_args(["lab", "--port", "70000"])


def test_run_refuses_a_busy_port(capsys):
    import argparse

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert run(argparse.Namespace(host="127.0.0.1", port=port, open=False)) == 1
    assert "cannot listen" in capsys.readouterr().err


def test_run_serves_and_opens_the_browser(monkeypatch, capsys):
    import argparse
    import webbrowser

    uvicorn = pytest.importorskip("uvicorn")
    opened = threading.Event()
    urls = []
    monkeypatch.setattr(webbrowser, "open", lambda url: (urls.append(url), opened.set()))
    served = {}

    def fake_run(self):
        served["host"], served["port"] = self.config.host, self.config.port
        self.started = True
        assert opened.wait(5)  # --open opens the page once the server has started

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert run(argparse.Namespace(host="127.0.0.1", port=port, open=True)) == 0
    assert served == {"host": "127.0.0.1", "port": port}
    assert urls == [f"http://127.0.0.1:{port}/"]
    assert f"serving on http://127.0.0.1:{port}/" in capsys.readouterr().out


# --- plain sentences, strict numbers and the OpenAPI schema --------------------------------------------------

WRONG_TYPES = [
    ("/api/descent", {"hyper": None}, "hyper", 'must be a JSON object of names and numbers, like {"momentum": 0.9}'),
    ("/api/descent", {"hyper": [0.9]}, "hyper", "got [0.9]"),
    ("/api/race", {"optimizers": None}, "optimizers", "must be a JSON list, got null"),
    ("/api/race", {"optimizers": [5]}, "optimizers.0", "must be a JSON object"),
    ("/api/train", {"hidden": None}, "hidden", "must be a JSON list, got null"),
    ("/api/surface", {"x_range": None}, "x_range", "must be a JSON list, got null"),
    ("/api/descent", {"start": [1]}, "start", "too few items"),
    ("/api/derivative", {"expr": None}, "expr", "must be text"),
    ("/api/graph", {"x": ""}, "x", "x is empty; type a number"),
]


@pytest.mark.parametrize(("endpoint", "body", "field", "words"), WRONG_TYPES)
def test_wrong_types_are_refused_in_plain_sentences(client, endpoint, body, field, words):
    message = refused(client.post(endpoint, json=body), field, words)
    assert "Input should" not in message and "None" not in message


def test_a_request_body_that_is_not_an_object(client):
    refused(client.post("/api/graph", json=[1, 2]), "request", "must be a JSON object")
    missing = client.post("/api/graph", content=b"", headers={"content-type": "application/json"})
    refused(missing, "request", "needs a JSON body")


def test_a_list_too_long_to_count_is_still_a_sentence():
    from gradlab.lab.schemas import describe_error

    error = {"type": "too_long", "loc": ("body", "hyper"), "ctx": {"max_length": 8, "actual_length": None}}
    assert describe_error(error) == ("hyper", "hyper has more items than that; the limit is 8")


BOOLEANS = [
    ("/api/graph", {"x": True}, "x", "x must be a number, got true"),
    ("/api/graph", {"y": False}, "y", "y must be a number, got false"),
    ("/api/derivative", {"points": True}, "points", "points must be a whole number, got true"),
    ("/api/derivative", {"h": True}, "h", "must be a number"),
    ("/api/derivative", {"second": 1}, "second", "second must be true or false, got 1"),
    ("/api/derivative/point", {"x0": True}, "x0", "must be a number"),
    ("/api/descent", {"lr": True}, "lr", "must be a number"),
    ("/api/descent", {"start": [True, 0]}, "start.0", "must be a number"),
    ("/api/descent", {"optimizer": "momentum", "hyper": {"momentum": True}}, "hyper.momentum", "must be a number"),
    ("/api/race", {"optimizers": [{"optimizer": "sgd", "lr": True}]}, "optimizers.0.lr", "must be a number"),
    ("/api/surface", {"n": True}, "n", "must be a whole number"),
    ("/api/train", {"noise": False}, "noise", "must be a number"),
    ("/api/train", {"hidden": [True]}, "hidden.0", "must be a whole number"),
    ("/api/derivative", {"x_min": "1"}, "x_min", 'must be a number, got "1"'),
]


@pytest.mark.parametrize(("endpoint", "body", "field", "words"), BOOLEANS)
def test_booleans_and_strings_are_not_numbers(client, endpoint, body, field, words):
    refused(client.post(endpoint, json=body), field, words)


def test_whole_numbers_are_taken_where_floats_are_expected(client):
    answer = client.post("/api/graph", json={"expr": "x*y", "x": 2, "y": 3})
    assert answer.status_code == 200 and answer.json()["value"] == 6
    descent = client.post("/api/descent", json={"lr": 1, "landscape": "quadratic", "steps": 3, "start": [1, 1]})
    assert descent.status_code == 200


def test_overflow_is_a_plain_sentence_not_an_errno(client):
    point = client.post("/api/derivative/point", json={"expr": "x**x", "x0": 1000})
    assert point.status_code == 200
    answer = point.json()
    assert answer["f"] is None and "cannot be computed at x = 1000" in answer["undefined"]
    assert "largest a float can hold" in answer["undefined"]
    curves = client.post("/api/derivative", json={"expr": "x**x", "x_min": -1000, "x_max": 1000, "points": 51})
    assert "largest a float can hold" in curves.json()["numeric_note"]
    root = client.post("/api/derivative/point", json={"expr": "x**0.5", "x0": -4}).json()
    assert root["f"] is None and "complex number" in root["undefined"]
    for response in (point, curves):
        assert "(34" not in response.text and "out of range" not in response.text


@pytest.mark.parametrize(("x", "y", "words"), [(1.5, 0.0, "Div divides by zero"), (800, 1, "Exp gives +∞")])
def test_graph_at_a_point_where_f_has_no_value_says_so(client, x, y, words):
    formula = "x**2*sin(y) - x/y + exp(-x)" if y == 0 else "exp(x*y)"
    answer = client.post("/api/graph", json={"expr": formula, "x": x, "y": y}).json()
    assert answer["value"] is None and words in answer["undefined"]
    assert f"x = {x:g}, y = {y:g}" in answer["undefined"]
    # no finite-difference "slope" across the gap (it was about 5e10 beside a missing value)
    assert answer["numeric_gradient"] == {"x": None, "y": None}
    assert client.post("/api/graph", json={"expr": "x/y", "x": 1, "y": 2}).json()["undefined"] is None


@pytest.fixture(scope="module")
def openapi(client):
    return client.get("/api/openapi.json").json()


def _declared(openapi, path, method, status):
    """The JSON schema the OpenAPI document declares for one answer, with the document's components."""
    responses = openapi["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} answers {status}, which its schema does not declare"
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    return {**schema, "components": openapi["components"]}


def _bad_requests(client):
    """(path in the schema, method, response) for a refused request to every route of the API."""
    sid = client.post("/api/train", json={"dataset": "xor", "hidden": [2]}).json()["id"]
    bodies = {
        "/api/derivative": {"points": True},
        "/api/derivative/point": {"expr": "x**"},
        "/api/surface": {"n": 10**6},
        "/api/descent": {"hyper": None},
        "/api/race": {"optimizers": []},
        "/api/graph": {"x": True},
        "/api/train": {"colour": "red"},
    }
    for path, body in bodies.items():
        yield path, "post", client.post(path, json=body)
    session = "/api/train/{session_id}"
    yield session, "get", client.get("/api/train/no-such-session")
    yield session + "/step", "post", client.post(f"/api/train/{sid}/step", json={"steps": 0})
    yield session + "/step", "post", client.post("/api/train/no-such-session/step", json={"steps": 1})
    yield session + "/pause", "post", client.post("/api/train/no-such-session/pause")
    yield session + "/settings", "post", client.post(f"/api/train/{sid}/settings", json={"lr": True})
    yield session + "/settings", "post", client.post("/api/train/gone/settings", json={"lr": 0.1})
    yield session + "/stream", "get", client.get(f"/api/train/{sid}/stream?max_frames=0")
    yield session + "/stream", "get", client.get("/api/train/no-such-session/stream")


def test_every_error_answer_matches_the_declared_schema(client, openapi):
    jsonschema = pytest.importorskip("jsonschema")
    seen = set()
    for path, method, response in _bad_requests(client):
        assert response.status_code in (404, 422), (path, response.text)
        jsonschema.validate(response.json(), _declared(openapi, path, method, response.status_code))
        seen.add((path, method))
    operations = {(p, m) for p, item in openapi["paths"].items() for m in item}
    untested = operations - seen - {("/api/meta", "get"), ("/api/train/{session_id}", "delete")}
    assert untested == {("/api/train/{session_id}/end", "post")}  # nothing to refuse there: unknown ids are fine
    # no route declares FastAPI's default 422 body (a list of pydantic errors): the lab never sends one
    assert "HTTPValidationError" not in json.dumps(openapi)


def test_the_schema_states_the_real_formula_limit(client, openapi):
    from gradlab.calculus.expressions import MAX_LENGTH

    for name in ("DerivativeRequest", "PointRequest", "GraphRequest"):
        assert openapi["components"]["schemas"][name]["properties"]["expr"]["maxLength"] == MAX_LENGTH == 500
    longest = "x + " + " " * (MAX_LENGTH - 5) + "1"
    assert len(longest) == MAX_LENGTH
    assert client.post("/api/graph", json={"expr": longest}).status_code == 200
    refused(client.post("/api/graph", json={"expr": longest + " "}), "expr", "the limit is 500 characters")
    # the schema's numbers are strict too: the document says "number", and true is refused (above)
    x = openapi["components"]["schemas"]["GraphRequest"]["properties"]["x"]
    assert x["type"] == "number" and x["maximum"] == limits.MAX_ABS_X
    assert "404" in json.dumps(openapi["info"]["description"]) or "**404**" in openapi["info"]["description"]


@pytest.mark.parametrize(
    ("method", "path", "status", "words"),
    [
        ("get", "/api/nothing-here", 404, "no such endpoint: /api/nothing-here"),
        ("post", "/api/train/abc/nothing", 404, "no such endpoint"),
        ("get", "/no-such-page", 404, "no such page: /no-such-page"),
        ("get", "/static/js/nothing.js", 404, "no such page"),
        ("get", "/api/graph", 405, "GET is not allowed for /api/graph; use POST"),
        ("put", "/api/train/abc", 405, "use DELETE or GET"),
    ],
)
def test_unknown_paths_and_methods_get_the_same_error_body(client, openapi, method, path, status, words):
    jsonschema = pytest.importorskip("jsonschema")
    response = client.request(method.upper(), path)
    assert response.status_code == status and words in response.json()["detail"]
    body_schema = {"$ref": "#/components/schemas/ErrorBody", "components": openapi["components"]}
    jsonschema.validate(response.json(), body_schema)


def test_each_view_links_to_its_lesson_through_the_lab(client):
    """The page links to /lessons/NAME; the lab sends that on to JupyterLab (`gradlab lessons`) on 127.0.0.1,
    and redirects only lesson names, never another address."""
    response = client.get("/lessons/04_gradient_descent.ipynb", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "http://127.0.0.1:8888/lab/tree/04_gradient_descent.ipynb"
    for bad in ("x.ipynb", "04_gradient_descent.py", "..%2F..%2Fetc%2Fpasswd", "http:%2F%2Fevil.example"):
        answer = client.get(f"/lessons/{bad}", follow_redirects=False)
        assert answer.status_code == 404 and "location" not in answer.headers, bad
        assert "no such lesson" in answer.json()["detail"] or "no such page" in answer.json()["detail"]
    assert "no such lesson" in client.get("/lessons/x.ipynb").json()["detail"]
