"""Reference solutions of lesson 0 (the tour): each block replaces its exercise cell."""

from gradlab.exercises import check


# exercise: tour.slope_of_line
def slope(x1, y1, x2, y2):
    """The slope of the line through (x1, y1) and (x2, y2): rise / run = (y2 − y1) / (x2 − x1)."""
    return (y2 - y1) / (x2 - x1)


check("tour.slope_of_line", slope)
