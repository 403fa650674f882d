"""`gradlab track`: follow a car through lidar and radar measurements with an extended Kalman filter.

    gradlab track FILE [--model cv|ctrv] [--plot track.png]

FILE is in the course's format (see gradlab.apps.tracking.read_measurements): one L or R line per
measurement with the ground truth beside it. The last line printed is `RMSE px py vx vy: a b c d` against
that truth; the NIS lines before it say whether the filter's covariances are honest.

To wire it into a parser: add_track_command(subparsers), then `if args.command == "track": return run(args)`.
"""

from __future__ import annotations

import argparse
import sys

from ..argtypes import figure_file

__all__ = ["add_track_command", "run"]

SENSORS = {"L": ("lidar", 2), "R": ("radar", 3)}


def add_track_command(subparsers) -> argparse.ArgumentParser:
    """Add the `track` command to an argparse sub-parser collection."""
    track = subparsers.add_parser(
        "track",
        help="track a car from lidar and radar with an extended Kalman filter",
        description="Fuse lidar (px, py) and radar (ρ, φ, ρ̇) measurements with an extended Kalman filter whose "
        "Jacobians come from gradlab's forward mode; print the RMSE against the file's ground truth.",
    )
    track.add_argument("file", metavar="FILE", help="measurements: L/R lines as in the course's EKF data")
    track.add_argument(
        "--model",
        choices=["cv", "ctrv"],
        default="cv",
        help="cv: constant velocity; ctrv: constant turn rate and velocity (default cv)",
    )
    track.add_argument(
        "--plot",
        type=figure_file,
        help="draw truth, measurements, estimate and 2σ covariance ellipses to this file (e.g. track.png)",
    )
    return track


def run(args, out=None) -> int:
    """Execute a parsed `track` command; 0 on success, 2 on a bad file, 1 if the filter diverged."""
    from .tracking import read_measurements, run_filter

    out = sys.stdout if out is None else out
    try:
        measurements = read_measurements(args.file)
    except (FileNotFoundError, ValueError, OSError) as error:
        print(f"gradlab track: {error}", file=sys.stderr)
        return 2
    if len(measurements) < 2:
        print(f"gradlab track: {args.file} holds one measurement; a track needs at least two", file=sys.stderr)
        return 2
    counts = {s: sum(m.sensor == s for m in measurements) for s in SENSORS}
    print(
        f"{len(measurements)} measurements ({counts['L']} lidar, {counts['R']} radar) over "
        f"{measurements[-1].t - measurements[0].t:.1f} s; model {args.model.upper()}",
        file=out,
    )
    try:
        track = run_filter(measurements, args.model)
    except FloatingPointError as error:
        print(f"gradlab track: {error}", file=sys.stderr)
        return 1
    print(f"filtered in {track.seconds:.2f} s (two gl.jacfwd Jacobians a step)", file=out)
    if track.skipped:
        print(f"{track.skipped} radar update(s) skipped: the target was at the sensor (ρ < 1 mm)", file=out)
    for sensor, s in track.nis_summary().items():
        name, dof = SENSORS[sensor]
        lo, hi = s["band"]
        print(
            f"NIS {name} ({s['steps']} steps, χ²({dof}) band [{lo:.3f}, {hi:.3f}]): {100 * s['inside']:.1f} % inside, "
            f"{100 * s['above']:.1f} % above; mean {s['mean']:.2f} (consistent: {dof})",
            file=out,
        )
    if args.plot and args.plot != "none":
        from .tracking import plot_track

        plot_track(track, args.plot)
        print(f"figure written to {args.plot}", file=out)
    print("RMSE px py vx vy: " + " ".join(f"{v:.4f}" for v in track.rmse()), file=out)
    return 0
