"""The extended Kalman filter: a car tracked by fusing lidar (px, py) and radar (ρ, φ, ρ̇).

Two motion models, each written once as gradlab operations f(x, ν, dt) with ν the process noise:
    CV    x = (px, py, vx, vy)       constant velocity, ν = (ax, ay) accelerations
          f = (px + vx dt + ½ax dt², py + vy dt + ½ay dt², vx + ax dt, vy + ay dt)
    CTRV  x = (px, py, v, ψ, ψ̇)      constant turn rate and velocity, ν = (a, ψ̈)
          f = (px + v dt cos(ψ + ψ̇dt/2) sinc(ψ̇dt/2) + ½a dt² cos ψ,
               py + v dt sin(ψ + ψ̇dt/2) sinc(ψ̇dt/2) + ½a dt² sin ψ,
               v + a dt,  ψ + ψ̇ dt + ½ψ̈ dt²,  ψ̇ + ψ̈ dt)
          (v/ψ̇ (sin(ψ + ψ̇dt) − sin ψ) rewritten with sin A − sin B = 2 cos((A+B)/2) sin((A−B)/2): the same
          number, but finite at ψ̇ = 0, where it becomes the straight line v dt cos ψ)
and two sensors
    lidar h(x) = (px, py)                          R = diag(σ_px², σ_py²)
    radar h(x) = (ρ, φ, ρ̇) = (√(px² + py²), atan2(py, px), (px vx + py vy) / ρ)   R = diag(σ_ρ², σ_φ², σ_ρ̇²)

At each measurement, dt after the previous one:
    predict  x ← f(x, 0),  P ← F P Fᵀ + Γ Σ_ν Γᵀ        F = ∂f/∂x,  Γ = ∂f/∂ν
    update   y = z − h(x), φ's residual wrapped into (−π, π];  H = ∂h/∂x,  S = H P Hᵀ + R,  K = P Hᵀ S⁻¹
             x ← x + K y,  P ← (I − K H) P (I − K H)ᵀ + K R Kᵀ   (Joseph form: symmetric and positive
             definite for any gain K, where the short P ← (I − K H) P loses both to rounding)
    NIS      ε = yᵀ S⁻¹ y, which is χ²(dim z) distributed when the filter's covariances are honest.

Every Jacobian (F, Γ, H) comes from the engine: gl.jacfwd, one forward-mode pass per state entry.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import gradlab as gl

__all__ = [
    "CTRV",
    "CV",
    "MODELS",
    "ExtendedKalmanFilter",
    "Measurement",
    "Track",
    "chi2_band",
    "joseph",
    "lidar",
    "normalize_angle",
    "plot_track",
    "radar",
    "read_measurements",
    "run_filter",
]

LIDAR_STD = (0.15, 0.15)  # σ_px, σ_py (m): the sensor noise of the course's data
RADAR_STD = (0.3, 0.03, 0.3)  # σ_ρ (m), σ_φ (rad), σ_ρ̇ (m/s)
RHO_MIN = 1e-3  # m: nearer than this a radar update is skipped (bearing undefined, ρ̇ = p·v/ρ is 0/0)


# --- measurements -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measurement:
    """One line of the file: sensor "L" (z = px, py) or "R" (z = ρ, φ, ρ̇), time t in seconds and the
    ground truth (px, py, vx, vy)."""

    sensor: str
    z: np.ndarray
    t: float
    truth: np.ndarray


def read_measurements(path) -> list[Measurement]:
    """Read the course's format, one measurement per line, tab- or space-separated:
        L  meas_px  meas_py             timestamp_µs  gt_px gt_py gt_vx gt_vy [more columns ignored]
        R  meas_rho meas_phi meas_rho_dot timestamp_µs  gt_px gt_py gt_vx gt_vy [...]
    Blank lines and lines starting with # are skipped."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no measurement file at {path}")
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        sensor = fields[0].upper()
        size = {"L": 2, "R": 3}.get(sensor)
        if size is None:
            raise ValueError(f"{path} line {number}: starts with {fields[0]!r}, expected L (lidar) or R (radar)")
        if len(fields) < 1 + size + 1 + 4:
            raise ValueError(
                f"{path} line {number}: {sensor} needs {size} measurements, a timestamp and 4 ground-truth "
                f"columns (px py vx vy), found {len(fields) - 1} numbers"
            )
        try:
            values = [float(v) for v in fields[1 : size + 6]]
        except ValueError:
            raise ValueError(f"{path} line {number}: not a number in {line.strip()!r}") from None
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"{path} line {number}: a value is NaN or infinite")
        z, t, truth = values[:size], values[size], values[size + 1 : size + 5]
        found.append(Measurement(sensor, np.array(z), t / 1e6, np.array(truth)))
    if not found:
        raise ValueError(f"{path}: no measurements (expected lines starting with L or R)")
    return found


# --- the pieces written in gradlab operations ---------------------------------------------------
def normalize_angle(a):
    """a + 2πk in (−π, π]: π − ((π − a) mod 2π)."""
    return np.pi - np.mod(np.pi - np.asarray(a, dtype=float), 2 * np.pi)


def _sinc(u):
    """sin(u) / u, with its Taylor series 1 − u²/6 + u⁴/120 near 0, where the quotient is 0/0 (the
    series' error, u⁶/5040, is below rounding for |u| < 1e-3, and so is its derivative's)."""
    if abs(float(_value(u))) < 1e-3:
        return 1 - u * u / 6 + u * u * u * u / 120
    return gl.sin(u) / u


def _value(v) -> np.ndarray:
    return v.data if isinstance(v, gl.Tensor) else np.asarray(v, dtype=float)


def lidar(x, model=None):
    """h(x) = (px, py)."""
    return gl.stack([x[0], x[1]])


def radar(x, model):
    """h(x) = (ρ, φ, ρ̇) = (√(px² + py²), atan2(py, px), (px vx + py vy) / ρ), the velocity from the model."""
    px, py = x[0], x[1]
    vx, vy = model.velocity(x)
    rho = gl.sqrt(px * px + py * py)
    return gl.stack([rho, gl.atan2(py, px), (px * vx + py * vy) / rho])


class CV:
    """Constant velocity, x = (px, py, vx, vy), driven by white accelerations ν = (ax, ay) of variances
    (σ_ax², σ_ay²): the course's EKF project uses 9 m²/s⁴ for both."""

    name = "cv"
    labels = ("px", "py", "vx", "vy")

    def __init__(self, accel_var=(9.0, 9.0), velocity_var=25.0):
        self.noise_var = np.asarray(accel_var, dtype=float)
        self.velocity_var = velocity_var  # P0 of each velocity: a car's speed is unknown to ± 5 m/s

    def motion(self, x, nu, dt):
        half = 0.5 * dt * dt
        return gl.stack(
            [x[0] + x[2] * dt + half * nu[0], x[1] + x[3] * dt + half * nu[1], x[2] + nu[0] * dt, x[3] + nu[1] * dt]
        )

    def velocity(self, x):
        return x[2], x[3]

    def to_cv(self, x):
        return np.asarray(x, dtype=float)

    def initial(self, m: Measurement):
        """(x0, P0) from the first measurement: its position, velocity 0 (lidar) or along the beam (radar)."""
        position, var = _position_of(m)
        velocity = np.zeros(2)
        if m.sensor == "R":
            velocity = m.z[2] * np.array([np.cos(m.z[1]), np.sin(m.z[1])])
        return np.concatenate([position, velocity]), np.diag([var, var, self.velocity_var, self.velocity_var])


class CTRV:
    """Constant turn rate and velocity, x = (px, py, v, ψ, ψ̇), driven by white longitudinal acceleration
    a and yaw acceleration ψ̈ of variances (σ_a², σ_ψ̈²)."""

    name = "ctrv"
    labels = ("px", "py", "v", "yaw", "yaw rate")

    def __init__(self, accel_var=1.0, yaw_accel_var=0.6**2, initial_var=(1.0, np.pi**2, 0.1)):
        self.noise_var = np.array([accel_var, yaw_accel_var], dtype=float)
        # P0 of (v, ψ, ψ̇): heading unknown (σ = π); speed and turn rate held near 0 (σ = 1 m/s, 0.32 rad/s)
        # so that one early outlier cannot fling the speed: chosen on the course's file, where a wider σ_v
        # (5 m/s) lets the second measurement throw vx 5 m/s off and costs 0.1 m/s of RMSE vx.
        self.initial_var = initial_var

    def motion(self, x, nu, dt):
        px, py, v, yaw, rate = x[0], x[1], x[2], x[3], x[4]
        half_turn = rate * (0.5 * dt)
        chord = v * dt * _sinc(half_turn)  # the straight distance between start and end of the arc
        half = 0.5 * dt * dt
        return gl.stack(
            [
                px + chord * gl.cos(yaw + half_turn) + half * gl.cos(yaw) * nu[0],
                py + chord * gl.sin(yaw + half_turn) + half * gl.sin(yaw) * nu[0],
                v + dt * nu[0],
                yaw + rate * dt + half * nu[1],
                rate + dt * nu[1],
            ]
        )

    def velocity(self, x):
        return x[2] * gl.cos(x[3]), x[2] * gl.sin(x[3])

    def to_cv(self, x):
        return np.array([x[0], x[1], x[2] * np.cos(x[3]), x[2] * np.sin(x[3])])

    def initial(self, m: Measurement):
        """(x0, P0) from the first measurement: its position, at rest, heading 0 but unknown."""
        position, var = _position_of(m)
        speed, yaw = (abs(m.z[2]), m.z[1] if m.z[2] >= 0 else m.z[1] + np.pi) if m.sensor == "R" else (0.0, 0.0)
        x = np.array([*position, speed, normalize_angle(yaw), 0.0])
        return x, np.diag([var, var, *self.initial_var])


MODELS = {"cv": CV, "ctrv": CTRV}


def _position_of(m: Measurement):
    """(px, py) of a measurement and a variance for each: lidar's own, or radar's range and cross-range."""
    if m.sensor == "L":
        return m.z.astype(float), LIDAR_STD[0] ** 2
    rho, phi = m.z[0], m.z[1]
    return rho * np.array([np.cos(phi), np.sin(phi)]), RADAR_STD[0] ** 2 + (rho * RADAR_STD[1]) ** 2


# --- the filter -----------------------------------------------------------------------------------
class ExtendedKalmanFilter:
    """State x and covariance P of one target; predict(dt) then update(measurement), as in the module's
    docstring. Every Jacobian comes from gl.jacfwd."""

    def __init__(self, model, lidar_std=LIDAR_STD, radar_std=RADAR_STD):
        self.model = model
        self.R = {"L": np.diag(np.square(lidar_std)), "R": np.diag(np.square(radar_std))}
        self.h = {"L": lidar, "R": radar}
        self.x = self.P = None
        self._noise0 = np.zeros(len(model.noise_var))
        self._jacobian = gl.jacfwd(model.motion, argnums=(0, 1))

    def start(self, m: Measurement):
        self.x, self.P = self.model.initial(m)

    def predict(self, dt: float):
        if dt == 0:  # two sensors at the same instant: nothing moves
            return
        F, G = self._jacobian(self.x, self._noise0, dt)
        self.x = _value(self.model.motion(self.x, self._noise0, dt))
        self.P = F @ self.P @ F.T + (G * self.model.noise_var) @ G.T
        self._tidy()

    def update(self, m: Measurement):
        """Fold in one measurement; returns its NIS, or None when radar is skipped at ρ < RHO_MIN."""
        if m.sensor == "R" and math.hypot(self.x[0], self.x[1]) < RHO_MIN:
            return None
        h = self.h[m.sensor]
        H = gl.jacfwd(h)(self.x, self.model)
        y = m.z - _value(h(self.x, self.model))
        if m.sensor == "R":
            y[1] = normalize_angle(y[1])
        R = self.R[m.sensor]
        S = H @ self.P @ H.T + R
        K = np.linalg.solve(S, H @ self.P).T  # K = P Hᵀ S⁻¹ (S and P symmetric)
        self.x = self.x + K @ y
        self.P = joseph(self.P, K, H, R)
        self._tidy()
        return float(y @ np.linalg.solve(S, y))

    def _tidy(self):
        # Rounding leaves P a hair from symmetric; the average is the nearest symmetric matrix.
        self.P = 0.5 * (self.P + self.P.T)
        if isinstance(self.model, CTRV):
            self.x[3] = normalize_angle(self.x[3])


def joseph(P, K, H, R):
    """P⁺ = (I − K H) P (I − K H)ᵀ + K R Kᵀ: the covariance after an update with any gain K. A sum of two
    congruences of positive (semi)definite matrices, so symmetric and positive definite by construction;
    for the optimal K it equals the short form (I − K H) P, which is neither when K is a little off."""
    A = np.eye(len(P)) - K @ H
    return A @ P @ A.T + K @ R @ K.T


def chi2_band(dof: int, level: float = 0.95):
    """(lo, hi) = the (1 − level) and level quantiles of χ²(dof): the course's 95 % band, which holds the
    middle 90 % of a consistent filter's NIS (radar, 3 dof: 0.352 and 7.815; lidar, 2 dof: 0.103 and 5.991)."""
    from scipy.stats import chi2

    tail = 1 - level
    return float(chi2.ppf(tail, dof)), float(chi2.ppf(level, dof))


@dataclass
class Track:
    """What a run of the filter gives: per measurement the estimate (px, py, vx, vy), the truth, the
    model's state and covariance, and the NIS (NaN for the first measurement and skipped updates)."""

    model: str
    measurements: list
    estimates: np.ndarray
    truth: np.ndarray
    states: np.ndarray
    covariances: np.ndarray
    nis: np.ndarray
    seconds: float
    skipped: int = 0
    bands: dict = field(default_factory=dict)

    def rmse(self) -> np.ndarray:
        """√(mean over all steps of (estimate − truth)²), per column px, py, vx, vy."""
        return np.sqrt(np.mean((self.estimates - self.truth) ** 2, axis=0))

    def nis_summary(self) -> dict:
        """Per sensor: steps, the share of NIS inside its χ² band, the share above it, and the mean NIS
        (a consistent filter gives about 90 %, 5 % and dim z)."""
        sensors = np.array([m.sensor for m in self.measurements])
        summary = {}
        for sensor, dof in (("L", 2), ("R", 3)):
            values = self.nis[(sensors == sensor) & np.isfinite(self.nis)]
            if len(values) == 0:
                continue
            lo, hi = self.bands.setdefault(sensor, chi2_band(dof))
            summary[sensor] = {
                "steps": len(values),
                "band": (lo, hi),
                "inside": float(np.mean((values >= lo) & (values <= hi))),
                "above": float(np.mean(values > hi)),
                "mean": float(np.mean(values)),
            }
        return summary


def run_filter(measurements, model="cv", **settings) -> Track:
    """Run the EKF over a list of Measurements with model "cv" or "ctrv" (or a model object);
    settings go to the model (accel_var=…, …)."""
    model = MODELS[model](**settings) if isinstance(model, str) else model
    ekf = ExtendedKalmanFilter(model)
    n = len(measurements)
    states, covariances, nis = [], [], np.full(n, np.nan)
    skipped = 0
    begun = time.perf_counter()
    for i, m in enumerate(measurements):
        if i == 0:
            ekf.start(m)
        else:
            ekf.predict(m.t - measurements[i - 1].t)
            value = ekf.update(m)
            skipped += value is None
            nis[i] = np.nan if value is None else value
        if not (np.all(np.isfinite(ekf.x)) and np.all(np.isfinite(ekf.P))):
            raise FloatingPointError(f"the filter diverged at measurement {i + 1} (t = {m.t:.3f} s)")
        states.append(ekf.x.copy())
        covariances.append(ekf.P.copy())
    seconds = time.perf_counter() - begun
    states = np.array(states)
    return Track(
        model=model.name,
        measurements=list(measurements),
        estimates=np.array([model.to_cv(x) for x in states]),
        truth=np.array([m.truth for m in measurements]),
        states=states,
        covariances=np.array(covariances),
        nis=nis,
        seconds=seconds,
        skipped=skipped,
    )


# --- the picture ----------------------------------------------------------------------------------
def plot_track(track: Track, path=None, zoom: int = 30):
    """Left: the whole track (truth, lidar and radar measurements — radar drawn at ρ(cos φ, sin φ) — and the
    estimate). Right: the first `zoom` steps at close range with the 2σ position ellipse of P at every step
    (axes along the eigenvectors of P's 2×2 position block, half-lengths 2√λ): on the whole track the
    ellipses, a few centimetres across, would not show."""
    from matplotlib.patches import Ellipse

    from ..plotting import finish, new_figure

    figure, (whole, near) = new_figure(path, ncols=2, figsize=(13, 6), gridspec_kw={"width_ratios": [1.4, 1]})
    ms = track.measurements
    for axes, last in ((whole, len(ms)), (near, min(zoom, len(ms)))):
        shown = ms[:last]
        lid = np.array([m.z for m in shown if m.sensor == "L"]).reshape(-1, 2)
        rad = np.array([m.z[0] * np.array([np.cos(m.z[1]), np.sin(m.z[1])]) for m in shown if m.sensor == "R"])
        axes.plot(track.truth[:last, 0], track.truth[:last, 1], color="black", lw=2, label="truth")
        axes.scatter(lid[:, 0], lid[:, 1], s=12, color="tab:blue", alpha=0.7, label="lidar")
        if len(rad):
            rad = rad.reshape(-1, 2)
            axes.scatter(rad[:, 0], rad[:, 1], s=14, marker="x", color="tab:orange", alpha=0.8, label="radar")
        axes.plot(track.estimates[:last, 0], track.estimates[:last, 1], color="tab:green", lw=1.4, label="estimate")
        axes.set_xlabel("px (m)")
        axes.set_ylabel("py (m)")
        axes.set_aspect("equal", adjustable="datalim")
    for i in range(min(zoom, len(ms))):
        values, vectors = np.linalg.eigh(track.covariances[i][:2, :2])
        angle = np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1]))
        width, height = 4 * np.sqrt(np.maximum(values[::-1], 0))  # full axes = 2 × 2σ
        near.add_patch(Ellipse(track.estimates[i, :2], width, height, angle=angle, fill=False, color="tab:red", lw=0.8))
    near.plot([], [], color="tab:red", lw=0.8, label="2σ position ellipse of P")
    rmse = track.rmse()
    whole.set_title(
        f"EKF ({track.model.upper()}), {len(ms)} steps: RMSE px {rmse[0]:.3f}, py {rmse[1]:.3f}, "
        f"vx {rmse[2]:.3f}, vy {rmse[3]:.3f}"
    )
    near.set_title(f"the first {min(zoom, len(ms))} steps, with the covariance")
    whole.legend(loc="best", fontsize=8)
    near.legend(loc="best", fontsize=8)
    return finish(figure, path)
