"""Benchmark: the lab serving many users at once (issue 13, part 3).

Starts the real server (`python -m gradlab.lab` on a free 127.0.0.1 port, in a subprocess) and
measures, over HTTP on the loopback only:

  alone       a default derivative request (POST /api/derivative {}), median of --samples
  race        the same while maximum-size races run back to back (limits.MAX_RACE_TOTAL_STEPS steps)
  streams     the same while 16 training streams are open (50 steps a frame: the page's fastest setting)
  throughput  light requests (derivative, point, graph in turn) per second for 1, 4, 16 and 64 clients

and prints each loaded median as a ratio to the alone median (the issue asks for at most 4x).
Every loop is bounded in count and time; the server is stopped at the end.

    python benchmarks/lab_concurrency.py [--samples 30] [--seconds 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

import httpx

LIGHT = [
    ("/api/derivative", {}),
    ("/api/derivative/point", {}),
    ("/api/graph", {}),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, workers: int | None) -> subprocess.Popen:
    command = [sys.executable, "-m", "gradlab.lab", "--host", "127.0.0.1", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the lab did not start: {server.stderr.read().decode()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/meta", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the lab did not answer within 60 s")


def timed(client: httpx.Client, path: str, body: dict) -> float:
    started = time.perf_counter()
    response = client.post(path, json=body)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def latency(base: str, samples: int, gap: float = 0.03) -> float:
    """Median seconds of a default derivative request, asked `samples` times `gap` seconds apart."""
    times = []
    with httpx.Client(base_url=base, timeout=60) as client:
        timed(client, "/api/derivative", {})  # warm up this connection
        for _ in range(samples):
            times.append(timed(client, "/api/derivative", {}))
            time.sleep(gap)
    return statistics.median(times)


def max_race(limit: int) -> dict:
    """A race of limit total steps: four optimizers of limit / 4 steps each on Rosenbrock."""
    optimizers = [
        {"optimizer": "sgd", "lr": 0.001},
        {"optimizer": "momentum", "lr": 0.001},
        {"optimizer": "rmsprop", "lr": 0.01},
        {"optimizer": "adam", "lr": 0.05},
    ]
    return {"landscape": "rosenbrock", "optimizers": optimizers, "steps": limit // len(optimizers), "tol": 1e-12}


class Background:
    """Load that runs in threads until stop(); counts what it got done."""

    def __init__(self):
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.done = 0
        self.lock = threading.Lock()

    def start(self, target, count: int = 1):
        for _ in range(count):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self.threads.append(thread)

    def count(self, n: int = 1):
        with self.lock:
            self.done += n

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)


def with_races(base: str, samples: int, limit: int) -> tuple[float, float]:
    """Median derivative latency while max-size races run back to back; and one race's seconds."""
    load = Background()
    race_times = []

    def racing():
        with httpx.Client(base_url=base, timeout=120) as client:
            for _ in range(1000):
                if load.stopping.is_set():
                    return
                race_times.append(timed(client, "/api/race", max_race(limit)))

    load.start(racing)
    time.sleep(0.3)  # the race is under way
    try:
        return latency(base, samples), statistics.median(race_times) if race_times else float("nan")
    finally:
        load.stop()


def with_streams(base: str, samples: int, streams: int, per_frame: int) -> tuple[float, float]:
    """Median derivative latency while `streams` training streams are open; and frames per second per stream."""
    load = Background()
    with httpx.Client(base_url=base, timeout=60) as client:
        sessions = [client.post("/api/train", json={"seed": i}).json()["id"] for i in range(streams)]
    opened = threading.Barrier(streams + 1, timeout=60)

    def streaming(sid: str):
        params = {"steps_per_frame": per_frame, "max_frames": 100000}
        with httpx.Client(base_url=base, timeout=120) as client:
            with client.stream("GET", f"/api/train/{sid}/stream", params=params) as stream:
                opened.wait()
                for chunk in stream.iter_bytes():  # no parsing: the clients share this process with the timing
                    load.count(chunk.count(b"event: frame"))
                    if load.stopping.is_set() or b"event: end" in chunk:
                        break
            client.post(f"/api/train/{sid}/end")

    for sid in sessions:
        load.start(lambda sid=sid: streaming(sid))
    opened.wait()
    started, before = time.perf_counter(), load.done
    try:
        median = latency(base, samples)
    finally:
        frames = (load.done - before) / (time.perf_counter() - started) / streams
        load.stop()
    return median, frames


def throughput(base: str, clients: int, seconds: float) -> tuple[float, float]:
    """Light requests per second with `clients` clients asking back to back for `seconds`; and their median."""
    times: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client_loop(k: int):
        with httpx.Client(base_url=base, timeout=120) as client:
            for i in range(100000):
                if time.perf_counter() > deadline:
                    return
                path, body = LIGHT[(i + k) % len(LIGHT)]
                elapsed = timed(client, path, body)
                with lock:
                    times.append(elapsed)

    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop, args=(k,), daemon=True) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return len(times) / (time.perf_counter() - started), statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30, help="requests per latency median (default 30)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per throughput level (default 3)")
    parser.add_argument("--streams", type=int, default=16, help="training streams open at once (default 16)")
    parser.add_argument("--steps-per-frame", type=int, default=50, help="each stream's steps a frame (default 50)")
    parser.add_argument("--workers", type=int, help="the server's --workers (default: the lab's default)")
    args = parser.parse_args(argv)
    from gradlab.lab import limits

    port = free_port()
    server = start_server(port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        alone = latency(base, args.samples)
        print(f"derivative alone            {alone * 1e3:8.1f} ms (median of {args.samples})")
        raced, race_seconds = with_races(base, args.samples, limits.MAX_RACE_TOTAL_STEPS)
        print(
            f"  while max races run       {raced * 1e3:8.1f} ms   ratio {raced / alone:5.1f}x"
            f"   (one race {race_seconds:.2f} s)"
        )
        streamed, fps = with_streams(base, args.samples, args.streams, args.steps_per_frame)
        print(
            f"  while {args.streams} streams are open {streamed * 1e3:8.1f} ms   ratio {streamed / alone:5.1f}x"
            f"   ({fps:.1f} frames/s per stream, {args.steps_per_frame} steps a frame)"
        )
        again = latency(base, args.samples)
        print(f"derivative alone again      {again * 1e3:8.1f} ms")
        for clients in (1, 4, 16, 64):
            rate, median = throughput(base, clients, args.seconds)
            print(f"throughput {clients:3d} clients       {rate:8.1f} requests/s   median {median * 1e3:7.1f} ms")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
