"""The two steps every gradlab figure shares: a figure to draw on, then shown or saved.

Matplotlib is imported only when a figure is asked for; with a path the file is written with
the non-interactive Agg backend (no screen needed) and the figure closed.
"""

from __future__ import annotations

__all__ = ["finish", "new_figure"]


def new_figure(path=None, **subplots):
    """(figure, axes) from plt.subplots(**subplots); a path means "write a file", so no screen is needed."""
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(**subplots)


def finish(figure, path=None, dpi: int = 120):
    """Tidy the layout; save to path (and close) when given. Returns the figure."""
    figure.tight_layout()
    if path is not None:
        import matplotlib.pyplot as plt

        figure.savefig(path, dpi=dpi)
        plt.close(figure)
    return figure
