"""Heavy work in worker processes, so that a light request never waits behind another user's.

The lab answers light requests (a derivative, a point, a graph, a surface: milliseconds each) in
the server's own threads. Python runs one thread at a time (the GIL), so a thread busy with a
second of optimizer steps would still slow every light request down; the heavy work therefore
runs in other processes, each with its own interpreter and its own engine:

    descent, race         one-shot jobs, sent to the lane with the fewest jobs waiting
    training sessions     each lives in one lane for its whole life (a network is trained over
                          many requests), and every request about it goes to that lane

A lane is one worker process that runs its jobs in the order they came, so the requests about
one session (create, step, pause, settings, end) happen in the order they were sent. A worker
answers with the response's JSON text, so the server only passes it on. The numbers are those of
a single-user run: the same code on the same inputs, seeds included.

Measured on a busy 2-core machine (benchmarks/lab_concurrency.py), a default derivative request
(about 10 ms alone) took 48x its time alone while a maximum race ran, and 15x with 16 training
streams open, when one lock guarded the engine and everything ran in the server's threads; with
the lanes, 1.5x and 2.5x. Two lanes beat one (more frames a second for the streams, the same
light-request latency), and light requests stay in the server: a lane's queue would make them
wait behind a race.

`Workers(0)` runs the heavy work in the server's process instead, in one thread, in order: for
a machine that cannot start processes.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from . import compute, limits
from .errors import clean
from .training import TrainingConfig, TrainingSession, session_missing

__all__ = ["Lane", "RemoteSession", "Workers", "to_json"]


def to_json(payload) -> str:
    """The response's JSON text, exactly as FastAPI's JSONResponse writes it (NaN and ±∞ as null)."""
    return json.dumps(clean(payload), ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


# --- what runs in a worker --------------------------------------------------------------------------

JOBS = {
    "descent": lambda land, body: compute.descent(
        land, body["start"] or land.start, body["optimizer"], body["lr"], body["hyper"], body["steps"]
    ),
    "race": lambda land, body: compute.race_paths(
        land, body["start"] or land.start, body["optimizers"], body["steps"], body["tol"]
    ),
}


def run_job(name: str, body: dict) -> str:
    """One heavy request, from its checked fields to its JSON answer."""
    land = compute.landscape_of(body)
    return to_json(JOBS[name](land, body))


_SESSIONS: dict[str, TrainingSession] = {}  # the training sessions living in this process
_SESSIONS_LOCK = threading.Lock()


def _session(session_id: str) -> TrainingSession:
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(session_id)
    if session is None:  # its worker was restarted
        raise session_missing()
    return session


def session_create(config: TrainingConfig, session_id: str) -> str:
    session = TrainingSession.checked(config, session_id)
    with _SESSIONS_LOCK:
        _SESSIONS[session_id] = session
    return to_json(session.describe())


def session_call(session_id: str, method: str, *args):
    """session.method(*args) as JSON text; `advance` also returns why training stopped, if it did."""
    session = _session(session_id)
    if method == "advance":
        steps, token, max_steps = args
        frame = session.advance(steps, token, max_steps=max_steps)
        return (None, None) if frame is None else (to_json(frame), frame["stopped"])
    if method == "settings":
        session.set_hyper(*args)
        return to_json({"lr": session.optimizer.lr, "l2": session.l2})
    if method == "start_stream":
        return session.start_stream()
    return to_json(getattr(session, method)())  # describe, pause


def session_drop(session_id: str) -> bool:
    with _SESSIONS_LOCK:
        return _SESSIONS.pop(session_id, None) is not None


def _worker_start():
    """A worker ignores Ctrl-C (the terminal sends it to the server and its workers alike; the
    server stops them), and ends when the server's process ends, however it ends (a killed
    server cannot tell its workers to stop)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = multiprocessing.parent_process()
    if server is not None:

        def watch():
            multiprocessing.connection.wait([server.sentinel])
            os._exit(0)

        threading.Thread(target=watch, name="lab-server-watch", daemon=True).start()


# --- the server's side --------------------------------------------------------------------------------


def _context():
    """forkserver: a worker starts as a fork of a small clean process that has gradlab imported
    (quick, and safe although the server runs threads); spawn where there is no fork."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        context.set_forkserver_preload([__name__])
    return context


class Lane:
    """One worker (a process, or with `inline` one thread of this process) running its jobs in order."""

    def __init__(self, index: int, inline: bool = False):
        self.index, self.inline = index, inline
        self.waiting = 0  # jobs sent and not yet answered
        self.sessions = 0  # training sessions living here
        self._executor = None
        self._lock = threading.Lock()

    def _start(self):
        if self.inline:
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"lab-lane-{self.index}")
        return ProcessPoolExecutor(max_workers=1, mp_context=_context(), initializer=_worker_start)

    def submit(self, function, *args) -> Future:
        """Run function(*args) in this lane; a lane whose process died starts a new one (its sessions are gone)."""
        with self._lock:
            if self._executor is None:
                self._executor = self._start()
            try:
                future = self._executor.submit(function, *args)
            except BrokenProcessPool:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._start()
                future = self._executor.submit(function, *args)
            self.waiting += 1
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future):
        with self._lock:
            self.waiting -= 1
        if isinstance(future.exception() if not future.cancelled() else None, BrokenProcessPool):
            with self._lock:
                if self._executor is not None:
                    self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None

    def call(self, function, *args):
        """submit(function, *args) and wait for its result (from a server thread, never the event loop)."""
        return self.submit(function, *args).result()

    async def ask(self, function, *args):
        """submit(function, *args) and await its result (from the event loop; no thread waits)."""
        return await asyncio.wrap_future(self.submit(function, *args))

    def close(self):
        """Stop the worker after the job it is running (at most a race: about two seconds)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


class Workers:
    """`count` lanes (0: one lane of this process, see the module docstring), started on first use."""

    def __init__(self, count: int = 2):
        self.count = count
        self.lanes = [Lane(i) for i in range(count)] if count > 0 else [Lane(0, inline=True)]
        atexit.register(self.close)

    def least_busy(self, key=lambda lane: lane.waiting) -> Lane:
        return min(self.lanes, key=key)

    async def job(self, name: str, body: dict) -> str:
        """A heavy request's JSON answer, computed in the least busy lane (see JOBS)."""
        return await self.least_busy().ask(run_job, name, body)

    def session(self, config: TrainingConfig, session_id: str) -> RemoteSession:
        """A new training session, in the lane with the fewest sessions."""
        lane = self.least_busy(key=lambda lane: (lane.sessions, lane.waiting))
        described = lane.call(session_create, config, session_id)
        lane.sessions += 1
        return RemoteSession(lane, session_id, described)

    def close(self):
        for lane in self.lanes:
            lane.close()


class RemoteSession:
    """The server's handle on a training session living in a lane: every call goes to that lane."""

    def __init__(self, lane: Lane, session_id: str, described: str):
        self.lane, self.id, self.described = lane, session_id, described
        self.last_used = 0.0
        self.closed = False

    async def describe(self) -> str:
        return await self.lane.ask(session_call, self.id, "describe")

    async def advance(self, steps: int, token: int | None = None) -> tuple[str | None, str | None]:
        """Up to `steps` steps, then the frame: (JSON text, why training stopped), or (None, None) when a
        stream's token is stale (see TrainingSession.advance)."""
        return await self.lane.ask(session_call, self.id, "advance", steps, token, limits.MAX_SESSION_STEPS)

    async def pause(self) -> str:
        return await self.lane.ask(session_call, self.id, "pause")

    async def start_stream(self) -> int:
        return await self.lane.ask(session_call, self.id, "start_stream")

    async def settings(self, lr: float | None, l2: float | None) -> str:
        return await self.lane.ask(session_call, self.id, "settings", lr, l2)

    def close(self):
        """Forget the session in its lane (the store dropped it); nothing waits for the answer."""
        if not self.closed:
            self.closed = True
            self.lane.sessions -= 1
            self.lane.submit(session_drop, self.id)
