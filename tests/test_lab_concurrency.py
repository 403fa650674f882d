"""The lab serves users side by side (issue 13, part 3).

The real server runs in its own process (`python -m gradlab.lab` on a free 127.0.0.1 port), as
`gradlab lab` does: in this test's process its threads would share the GIL with the clients'.
A light request (a default derivative, about 10 ms) must stay within 4x its time alone while a
maximum-size race runs and while 16 training streams are open, and every answer under load must
equal the answer alone; light requests of many users, answered side by side in the server's
threads with no lock on the engine, must each get the answer they get alone. Times are medians
of many requests spread over the load, compared as a ratio, so a slow or busy machine slows
both sides alike.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import threading
import time

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

from gradlab.lab import limits  # noqa: E402

SAMPLES = 31  # light requests per median
GAP = 0.02  # seconds between them, so that they spread over the load
RATIO = 4.0  # the bound: loaded median / alone median
STREAMS = 16
PER_FRAME = 50  # steps a frame: the page's fastest setting

DERIVATIVE = ("/api/derivative", {})
SMALL_RACE = {
    "landscape": "rosenbrock",
    "optimizers": [{"optimizer": "momentum", "lr": 0.001}, {"optimizer": "adam", "lr": 0.05}],
    "steps": 60,
}
MAX_RACE = {
    "landscape": "rosenbrock",
    "optimizers": [{"optimizer": name, "lr": 0.001} for name in ("sgd", "momentum", "rmsprop", "adam")],
    "steps": limits.MAX_RACE_TOTAL_STEPS // 4,
    "tol": 1e-12,  # no early stop: every step is taken
}
TRAINING = {"dataset": "spiral", "hidden": [8, 8], "seed": 3}
MIXED = [  # light requests that use the engine's per-thread switches: keep_values, second order, complex steps
    ("/api/graph", {}),
    ("/api/graph", {"expr": "sigmoid(x*y + 1)", "x": 0.3, "y": -2.0}),
    ("/api/derivative", {"expr": "tanh(x)", "second": True, "points": 301}),
    ("/api/derivative", {"expr": "exp(-x**2)", "method": "complex"}),
    ("/api/derivative/point", {"expr": "sin(1/x)", "x0": 0.2}),
    ("/api/surface", {"expr": "x**4 - 2*x**2 + y**2", "n": 40}),
]


@pytest.fixture(scope="module")
def base():
    """The lab's server in its own process, with its default worker processes."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "gradlab.lab", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"the lab did not start: {server.stderr.read().decode()}"
            assert time.monotonic() < deadline, "the lab did not answer within 60 s"
            try:
                if httpx.get(f"{url}/api/meta", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def light_requests(url: str) -> tuple[float, set]:
    """The median seconds of SAMPLES default derivative requests, and the set of answers they got."""
    times, answers = [], set()
    with httpx.Client(base_url=url, timeout=60) as client:
        client.post(DERIVATIVE[0], json=DERIVATIVE[1])  # this connection is open before timing
        for _ in range(SAMPLES):
            started = time.perf_counter()
            response = client.post(DERIVATIVE[0], json=DERIVATIVE[1])
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
            answers.add(response.content)
            time.sleep(GAP)
    return statistics.median(times), answers


def trained(client, steps: int = 20) -> bytes:
    """The frame after `steps` steps of a fresh session of TRAINING (then the session ends)."""
    sid = client.post("/api/train", json=TRAINING).json()["id"]
    frame = client.post(f"/api/train/{sid}/step", json={"steps": steps}).content
    client.delete(f"/api/train/{sid}")
    return frame


class Load:
    """Clients in threads, until stop()."""

    def __init__(self):
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []
        self.done = 0

    def run(self, target, *args):
        def guarded():
            try:
                target(*args)
            except BaseException as error:  # reported by stop()
                self.errors.append(error)

        thread = threading.Thread(target=guarded, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in self.threads)
        if self.errors:
            raise self.errors[0]


def measured_during(load: Load, base: str) -> dict:
    """What the lab answers while `load` runs (stopped afterwards, also on a failure): the light requests'
    median time and their answers, a small race and a training frame."""
    try:
        median, answers = light_requests(base)
        with httpx.Client(base_url=base, timeout=60) as client:
            race = client.post("/api/race", json=SMALL_RACE).content
            frame = trained(client)
    finally:
        load.stop()
    return {"median": median, "answers": answers, "race": race, "frame": frame}


def assert_as_alone(loaded: dict, alone: dict, during: str) -> None:
    """Every answer under load is the answer alone, and the median is within RATIO of the median alone."""
    assert loaded["answers"] == {alone["derivative"]}
    assert loaded["race"] == alone["race"] and loaded["frame"] == alone["frame"]
    median = loaded["median"]
    assert median / alone["median"] <= RATIO, f"{median * 1e3:.1f} ms {during}, {alone['median'] * 1e3:.1f} ms alone"


@pytest.fixture(scope="module")
def alone(base):
    """What the lab answers to one user: the light request's median time and answers, a race, training."""
    with httpx.Client(base_url=base, timeout=60) as client:
        race = client.post("/api/race", json=SMALL_RACE).content
        frame = trained(client)
    median, answers = light_requests(base)
    assert len(answers) == 1
    return {"median": median, "derivative": answers.pop(), "race": race, "frame": frame}


def test_a_light_request_does_not_wait_for_a_maximum_race(base, alone):
    load = Load()

    def racing():
        with httpx.Client(base_url=base, timeout=120) as client:
            for _ in range(100):
                if load.stopping.is_set():
                    return
                response = client.post("/api/race", json=MAX_RACE)
                assert response.status_code == 200, response.text
                load.done += 1

    load.run(racing)
    time.sleep(0.2)  # the race is under way
    loaded = measured_during(load, base)
    assert load.done >= 1, "no maximum race finished while the light requests were timed"
    assert_as_alone(loaded, alone, "during a race")


def test_a_light_request_does_not_wait_for_sixteen_training_streams(base, alone):
    load = Load()
    with httpx.Client(base_url=base, timeout=60) as client:
        sessions = [client.post("/api/train", json={"seed": i}).json()["id"] for i in range(STREAMS)]
    opened = threading.Barrier(STREAMS + 1, timeout=60)
    frames = [0] * STREAMS

    def streaming(k: int, sid: str):
        with httpx.Client(base_url=base, timeout=120) as client:
            params = {"steps_per_frame": PER_FRAME, "max_frames": 10000}
            with client.stream("GET", f"/api/train/{sid}/stream", params=params) as stream:
                opened.wait()
                for chunk in stream.iter_bytes():  # no parsing: this process's clients stay light
                    frames[k] += chunk.count(b"event: frame")
                    if load.stopping.is_set() or b"event: end" in chunk:
                        break
            client.delete(f"/api/train/{sid}")

    for k, sid in enumerate(sessions):
        load.run(streaming, k, sid)
    opened.wait()
    loaded = measured_during(load, base)
    assert all(count >= 1 for count in frames), f"every stream trained meanwhile: {frames}"
    assert_as_alone(loaded, alone, f"with {STREAMS} streams")


def test_light_requests_side_by_side_get_the_answers_they_get_alone(base):
    with httpx.Client(base_url=base, timeout=60) as client:
        expected = [client.post(path, json=body).content for path, body in MIXED]
    answers: list[tuple[int, bytes]] = []
    lock = threading.Lock()
    load = Load()

    def user(k: int):
        with httpx.Client(base_url=base, timeout=60) as client:
            for i in range(3 * len(MIXED)):
                which = (k + i) % len(MIXED)
                path, body = MIXED[which]
                got = client.post(path, json=body).content
                with lock:
                    answers.append((which, got))

    for k in range(8):
        load.run(user, k)
    load.stop()
    assert len(answers) == 8 * 3 * len(MIXED)
    wrong = [MIXED[which] for which, got in answers if got != expected[which]]
    assert not wrong, f"{len(wrong)} answers differ from the answer alone, e.g. to {wrong[0]}"
