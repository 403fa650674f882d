"""The engine's switches are per thread, and what threads share (the clock, the in-place table) is safe."""

import sys
import threading

import numpy as np
import pytest

import gradlab as gl


def run_in_thread(target):
    """Run target() in a new thread; return what it returned (or raise what it raised)."""
    result = {}

    def body():
        try:
            result["value"] = target()
        except BaseException as error:  # handed to the caller's thread
            result["error"] = error

    thread = threading.Thread(target=body)
    thread.start()
    return thread, result


def finish(thread, result):
    thread.join(timeout=60)
    assert not thread.is_alive()
    if "error" in result:
        raise result["error"]
    return result.get("value")


def hold_in_thread(context, then):
    """In a new thread: enter `context` and stay inside it until the caller calls the returned
    function, then run then() there; that function returns what then() returned."""
    entered, done = threading.Event(), threading.Event()

    def body():
        with context:
            entered.set()
            assert done.wait(timeout=60)
            return then()

    thread, result = run_in_thread(body)
    assert entered.wait(timeout=60)

    def release():
        done.set()
        return finish(thread, result)

    return release


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    release = hold_in_thread(
        gl.no_grad(), lambda: (gl.is_grad_enabled(), (gl.Tensor([1.0], requires_grad=True) * 2).requires_grad)
    )
    assert gl.is_grad_enabled()
    x = gl.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()  # while the other thread sits inside no_grad()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])
    assert release() == (False, False)


def test_a_new_thread_starts_with_recording_on_even_inside_no_grad():
    with gl.no_grad():
        thread, result = run_in_thread(gl.is_grad_enabled)
        assert finish(thread, result) is True
        assert not gl.is_grad_enabled()


def test_anomaly_mode_in_one_thread_does_not_turn_on_in_another():
    def infinite_gradient():
        x = gl.Tensor([0.0], requires_grad=True)
        with pytest.raises(FloatingPointError, match="Sqrt"), np.errstate(divide="ignore"):
            gl.sqrt(x).sum().backward()

    release = hold_in_thread(gl.detect_anomaly(), infinite_gradient)
    x = gl.Tensor([0.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        gl.sqrt(x).sum().backward()  # no anomaly mode here: an infinite gradient is just a value
    assert np.isinf(x.grad[0])
    release()


def test_forward_mode_in_two_threads_at_once():
    both_inside = threading.Barrier(2, timeout=60)

    def f(x):
        both_inside.wait()  # both threads have a forward-mode level active now
        return gl.sin(x) * x

    def derivative_at(x0):
        return gl.jvp(f, (np.array(x0),), (np.array(1.0),))[1]

    thread, result = run_in_thread(lambda: derivative_at(0.5))
    mine = derivative_at(2.0)
    theirs = finish(thread, result)
    np.testing.assert_allclose(mine, np.cos(2.0) * 2.0 + np.sin(2.0))
    np.testing.assert_allclose(theirs, np.cos(0.5) * 0.5 + np.sin(0.5))


def small_graph_gradients(seed: int):
    """Gradients of a small random graph (fan-out, broadcasting, a shared weight)."""
    rng = np.random.default_rng(seed)
    w = gl.Tensor(rng.normal(size=(3, 3)), requires_grad=True)
    b = gl.Tensor(rng.normal(size=3), requires_grad=True)
    x = gl.Tensor(rng.normal(size=(4, 3)))
    h = gl.tanh(x @ w + b)
    with gl.no_grad():  # switches grad mode off and on in this thread while the others record
        assert not (h @ w).requires_grad
    loss = (h * h + gl.sigmoid(h @ w)).mean() + (b * b).sum()
    loss.backward()
    return loss.item(), w.grad, b.grad


def test_many_threads_sweeping_at_once_get_the_single_thread_answers():
    seeds = list(range(200))
    expected = [small_graph_gradients(s) for s in seeds]
    start = threading.Barrier(4, timeout=60)

    def worker(offset):
        start.wait()
        return [small_graph_gradients(s) for s in seeds[offset:] + seeds[:offset]]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, mid-op and mid-sweep
    try:
        runs = [run_in_thread(lambda k=k: worker(50 * k)) for k in range(4)]
        answers = [finish(thread, result) for thread, result in runs]
    finally:
        sys.setswitchinterval(interval)
    for k, got in enumerate(answers):
        for s, (loss, gw, gb) in zip(seeds[50 * k :] + seeds[: 50 * k], got):
            assert loss == expected[s][0]
            np.testing.assert_array_equal(gw, expected[s][1])
            np.testing.assert_array_equal(gb, expected[s][2])


def test_an_in_place_change_in_another_thread_is_still_caught():
    x = gl.Tensor(np.ones(3), requires_grad=True)
    w = gl.Tensor(np.full(3, 2.0))
    y = (x * w).sum()

    def change():
        with gl.no_grad():
            w.__iadd__(1.0)

    finish(*run_in_thread(change))
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_the_cache_of_constant_arrays_is_safe_to_fill_from_many_threads(monkeypatch):
    """relu and bias gradients share cached read-only arrays (ops/_common.py). Filling the cache
    from several threads at once, past its budget so it starts afresh again and again, must not
    fail ("dictionary changed size during iteration") nor hand out a wrong array."""
    from gradlab.autodiff.ops import _common

    monkeypatch.setattr(_common, "_CONSTANTS_BUDGET", 200 * 8)  # room for about 200 numbers
    monkeypatch.setattr(_common, "_constants", {})
    monkeypatch.setattr(_common, "_constants_bytes", 0)
    start = threading.Barrier(4, timeout=60)

    def worker(offset):
        start.wait()
        for i in range(3000):
            n = 1 + (offset + i) % 97
            zeros = _common.cached_zeros(np.empty(n))
            assert zeros.shape == (n,) and not zeros.any() and not zeros.flags.writeable
            ones = _common.sum_rows(np.ones((n, 2)))  # ones(n) @ g
            np.testing.assert_array_equal(ones, [n, n])
        return True

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, mid-insert and mid-sum
    try:
        runs = [run_in_thread(lambda k=k: worker(31 * k)) for k in range(4)]
        assert all(finish(thread, result) for thread, result in runs)
    finally:
        sys.setswitchinterval(interval)
    kept = sum(a.nbytes for a in _common._constants.values())
    assert kept == _common._constants_bytes <= _common._CONSTANTS_BUDGET
