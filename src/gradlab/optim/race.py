"""The optimizer race: several optimizers, one landscape, one start, side by side.

race(landscape, {"sgd": {"lr": 1e-3}, "adam": {"lr": 0.05}}, start, steps) runs each one with
`minimize` and returns a table — steps until the loss is within `tol` of the best known minimum,
final loss, distance to the nearest minimum, length of the path walked, diverged? — and can draw
a figure: the contour map with every path, beside the loss per step on a log scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..landscapes import Landscape, get_landscape
from .minimize import Trajectory, minimize

__all__ = ["RaceResult", "race"]


@dataclass
class RaceResult:
    landscape: Landscape
    start: tuple
    runs: dict  # name -> Trajectory
    tol: float

    def rows(self) -> list[dict]:
        best = min((self.landscape.value(m) for m in self.landscape.minima), default=None)
        rows = []
        for name, run in self.runs.items():
            reached = None
            if best is not None and not run.diverged:
                close = np.nonzero(run.losses - best <= self.tol)[0]
                reached = int(close[0]) if close.size else None
            _, distance = self.landscape.nearest_minimum(run.final)
            rows.append(
                {
                    "optimizer": name,
                    "steps_to_tol": reached,
                    "final_loss": float(run.losses[-1]),
                    "distance": distance,
                    "path_length": run.path_length,
                    "diverged": run.diverged,
                    "diverged_at": run.diverged_at,
                }
            )
        return rows

    def table(self) -> str:
        header = f"{'optimizer':<12}{'steps to tol':>14}{'final loss':>14}{'to minimum':>12}{'path':>10}  diverged?"
        lines = [f"{self.landscape.name} from {tuple(float(v) for v in self.start)}, tol {self.tol:g}", header]
        for r in self.rows():
            steps = "-" if r["steps_to_tol"] is None else str(r["steps_to_tol"])
            diverged = f"yes, from step {r['diverged_at']}" if r["diverged"] else "no"
            distance = "-" if not np.isfinite(r["distance"]) else f"{r['distance']:.3g}"
            numbers = f"{steps:>14}{r['final_loss']:>14.4g}{distance:>12}{r['path_length']:>10.3g}"
            lines.append(f"{r['optimizer']:<12}{numbers}  {diverged}")
        return "\n".join(lines)

    def figure(self, path=None):
        """Contour map with every path (left) and loss per step on a log scale (right)."""
        from ..plotting import finish, new_figure

        xs, ys, values = self.landscape.grid(200)
        figure, (left, right) = new_figure(path, ncols=2, figsize=(12, 5))
        shifted = values - values.min() + 1e-3
        levels = np.geomspace(shifted.min(), shifted.max(), 30)
        left.contour(xs, ys, shifted, levels=levels, cmap="viridis", linewidths=0.7)
        for m in self.landscape.minima:
            left.plot(*m, marker="*", color="gold", markersize=14, markeredgecolor="black", linestyle="none")
        left.plot(*self.start, marker="o", color="black", linestyle="none", label="start")
        best = min((self.landscape.value(m) for m in self.landscape.minima), default=0.0)
        for name, run in self.runs.items():
            p = run.positions
            label = f"{name}" + (" (diverged)" if run.diverged else "")
            (line,) = left.plot(p[:, 0], p[:, 1], linewidth=1.5, label=label)
            gap = np.maximum(run.losses - best, 1e-16)
            right.semilogy(np.arange(len(gap)), gap, color=line.get_color(), label=label)
        (x0, x1), (y0, y1) = self.landscape.window
        left.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="x", ylabel="y", title=f"{self.landscape.name}: paths")
        left.legend(loc="best", fontsize=8)
        right.set(xlabel="step", ylabel="loss - best known minimum", title="loss per step")
        right.grid(True, which="both", alpha=0.3)
        right.legend(loc="best", fontsize=8)
        return finish(figure, path, dpi=110)


def race(landscape, optimizers, start=None, steps: int = 1000, tol: float = 1e-6) -> RaceResult:
    """Run each optimizer ({name: hyper-parameters} or a list of names) from the same start."""
    if isinstance(landscape, str):
        landscape = get_landscape(landscape)
    if not isinstance(optimizers, dict):
        optimizers = {name: {} for name in optimizers}
    start = tuple(landscape.start if start is None else start)
    runs: dict[str, Trajectory] = {}
    for label, hyper in optimizers.items():
        hyper = dict(hyper)
        name = hyper.pop("optimizer", label)
        runs[label] = minimize(landscape, start, name, max_steps=steps, grad_tol=None, **hyper)
    return RaceResult(landscape, start, runs, tol)
