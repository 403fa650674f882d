"""The lab in a real browser: every view loads cleanly and offline, and its controls do what they say.

Runs pytest-playwright on the system's Chromium (see tests/conftest.py); skipped, with the reason,
where Chromium or pytest-playwright is missing. Each view's screenshot is saved under artifacts/.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("pytest_playwright", reason="pytest-playwright is not installed (pip install -e '.[test]')")
pytest.importorskip("uvicorn", reason="the lab's server needs uvicorn")
if not Path("/usr/bin/chromium").exists() and shutil.which("chromium") is None:
    pytest.skip(
        "Chromium is not installed (apt-get install -y chromium); the browser tests need /usr/bin/chromium",
        allow_module_level=True,
    )

from playwright.sync_api import Page, expect

TIMEOUT = 20_000  # ms: the slowest wait (a race, or training) on a busy two-core machine

# What shows that a view has drawn its numbers (a readout filled from the server's answer).
READY = {
    "derivatives": "#d-df-value",
    "descent": "#g-final",
    "race": "#r-table tbody tr",
    "backprop": "#b-test-loss",
    "graph": "#c-grad-x",
}


# Console errors a test provokes on purpose: Chromium logs every HTTP error response, and a refused
# formula is answered with 422.
EXPECTED_ERRORS = []


@pytest.fixture
def lab(page: Page, lab_url: str):
    """The page, recording console errors, uncaught exceptions and every request it makes.

    After the test: no console error (but those in EXPECTED_ERRORS), no exception, and no request
    to anywhere but the lab's server.
    """
    errors, requests = [], []
    EXPECTED_ERRORS.clear()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on("request", lambda request: requests.append(request.url))
    page.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)
    yield page
    outside = [url for url in requests if not url.startswith((lab_url + "/", "data:", "blob:"))]
    assert not outside, f"requests left 127.0.0.1: {outside}"
    errors = [e for e in errors if not any(expected in e for expected in EXPECTED_ERRORS)]
    assert not errors, f"console errors: {errors}"


def open_view(page: Page, lab_url: str, view: str, query: str = ""):
    page.goto(f"{lab_url}/#{view}" + (f"?{query}" if query else ""))
    expect(page.locator(f"section#view-{view}")).to_be_visible()
    expect(page.locator(READY[view]).first).to_be_attached()


def number(page: Page, selector: str) -> float:
    return float(page.locator(selector).get_attribute("data-value"))


@pytest.mark.parametrize("view", list(READY))
def test_each_view_loads_offline_without_errors(lab: Page, lab_url: str, artifacts, view):
    open_view(lab, lab_url, view)
    expect(lab.locator(".tabs a[aria-selected=true]")).to_have_attribute("data-view", view)
    if view == "descent":
        # the 3-D surface is drawn with WebGL (software-rendered here: no --disable-software-rasterizer)
        assert lab.evaluate("() => !!document.createElement('canvas').getContext('webgl')")
        expect(lab.locator("#g-surface canvas").first).to_be_attached()
        expect(lab.locator("#g-surface")).not_to_contain_text("WebGL is not supported")
    if view == "race":
        expect(lab.locator("#r-table tbody tr")).to_have_count(5)
    if view == "backprop":
        lab.locator("#b-play").click()
        lab.wait_for_function("() => Number(document.querySelector('#b-step-value').dataset.value) >= 200")
        lab.locator("#b-play").click()
        expect(lab.locator("#b-play")).to_have_text("▶ train")
    if view == "graph":
        expect(lab.locator("#c-svg .gnode")).to_have_count(11)
        expect(lab.locator("#c-chain h4")).to_have_text("Chain rule at x")
        lab.locator("#c-svg .gnode", has_text="Mul").click()  # the chain rule at another node
        expect(lab.locator("#c-chain h4")).to_have_text("Chain rule at Mul")
        expect(lab.locator("#c-chain .term").first).to_contain_text("∂f/∂(Sub) × ∂Sub/∂(input 1)")
    expect(lab.locator(f"#view-{view} .error:visible")).to_have_count(0)
    lab.screenshot(path=str(artifacts / f"lab-{view}.png"), full_page=True)


def test_favicon_and_plotly_come_from_the_lab(lab: Page, lab_url: str):
    open_view(lab, lab_url, "derivatives")
    assert lab.evaluate("() => typeof Plotly.newPlot") == "function"
    icon = lab.request.get(f"{lab_url}/favicon.ico")
    assert icon.ok and "svg" in icon.headers["content-type"]


def test_learning_rate_slider_changes_the_path_and_the_final_loss(lab: Page, lab_url: str):
    open_view(lab, lab_url, "descent", "f=rosenbrock&opt=sgd&lr=0.001&steps=300")
    expect(lab.locator("#g-lr-out")).to_have_text("0.001")
    before = number(lab, "#g-final")
    path_before = lab.evaluate("() => document.getElementById('g-contour').data[1].x")
    slider = lab.locator("#g-lr")
    slider.focus()
    for _ in range(6):  # each arrow press is 0.05 in log10(η): six make η = 10^-2.7
        slider.press("ArrowRight")
    expect(lab.locator("#g-lr-out")).to_have_text("0.002")
    expect(lab.locator("#g-status")).to_contain_text("η = 0.002:")  # the path drawn is the one for η = 0.002
    after = number(lab, "#g-final")
    path_after = lab.evaluate("() => document.getElementById('g-contour').data[1].x")
    assert after != before and path_after != path_before
    # the number on the page is gradlab's: the same run through the API gives the same final loss
    body = {"landscape": "rosenbrock", "optimizer": "sgd", "lr": 0.002, "steps": 300}
    answer = lab.request.post(
        f"{lab_url}/api/descent", data=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert answer.json()["final_loss"] == pytest.approx(after, rel=1e-12)
    assert answer.json()["x"] == pytest.approx(path_after, rel=1e-12)
    # and the state is in the link
    expect(lab).to_have_url(re.compile(r"lr=0\.002(&|$)"))


def test_step_slider_walks_the_path(lab: Page, lab_url: str):
    open_view(lab, lab_url, "descent", "f=quadratic&kappa=10&opt=momentum&lr=0.02&steps=120")
    expect(lab.locator("#g-step-value")).to_have_attribute("data-value", "120")
    path = lab.evaluate("() => { const d = document.getElementById('g-contour').data[1]; return [d.x, d.y]; }")
    slider = lab.locator("#g-player [data-role=slider]")
    slider.focus()
    slider.press("Home")
    for k in range(0, 4):
        expect(lab.locator("#g-step-value")).to_have_attribute("data-value", str(k))
        expect(lab.locator("#g-position")).to_have_attribute("data-value", f"{path[0][k]},{path[1][k]}")
        drawn = lab.evaluate(
            "() => { const d = document.getElementById('g-contour').data[4]; return [d.x[0], d.y[0]]; }"
        )
        assert drawn == [path[0][k], path[1][k]]
        slider.press("ArrowRight")
    # play walks on to the end by itself
    lab.locator("#g-player [data-role=speed]").select_option("300")
    lab.locator("#g-player [data-act=play]").click()
    expect(lab.locator("#g-step-value")).to_have_attribute("data-value", "120")
    expect(lab.locator("#g-player [data-act=play]")).to_have_text("▶ play")


def test_divergence_is_shown_plainly_and_a_click_moves_the_start(lab: Page, lab_url: str):
    open_view(lab, lab_url, "descent", "f=quadratic&opt=sgd&lr=2.5&steps=50")
    status = lab.locator("#g-status")
    expect(status).to_have_class("status bad")
    expect(status).to_contain_text("diverged: the loss reached")
    expect(lab.locator("#g-start")).to_have_text("(2.5, 1.5)")
    # a smaller step converges; then click the lower left of the map to start there
    slider = lab.locator("#g-lr")
    slider.focus()
    slider.press("Home")  # η = 10^-5
    expect(status).not_to_have_class("status bad")
    area = lab.locator("#g-contour .nsewdrag")
    box = area.bounding_box()
    area.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.75})
    expect(lab.locator("#g-start")).not_to_have_text("(2.5, 1.5)")
    start = lab.locator("#g-start").text_content()
    x, y = (float(v.replace("−", "-")) for v in start.strip("()").split(","))
    assert -2.5 < x < -0.5 and -2.5 < y < -0.5  # the window is [-3, 3]²: a quarter in from the lower left
    expect(lab).to_have_url(re.compile(r"start=-\d"))


def test_race_shows_one_path_per_optimizer(lab: Page, lab_url: str):
    racers = "sgd:0.001;momentum:0.001:momentum=0.9;adam:0.05"
    open_view(lab, lab_url, "race", f"f=rosenbrock&steps=150&racers={racers}")
    expect(lab.locator("#r-table tbody tr")).to_have_count(3)
    paths = "document.getElementById('r-contour').data.filter((t) => t.meta === 'race-path')"
    assert lab.evaluate(f"() => {paths}.map((t) => t.name)") == ["sgd", "momentum", "adam"]
    assert lab.evaluate(f"() => {paths}.map((t) => t.x.length)") == [151, 151, 151]
    assert lab.evaluate("() => document.getElementById('r-loss').data.length") == 3
    lab.locator("#r-add").click()
    expect(lab.locator("#r-table tbody tr")).to_have_count(4)
    lab.wait_for_function(f"() => {paths}.length === 4")
    # the animation walks every path together
    slider = lab.locator("#r-player [data-role=slider]")
    slider.focus()
    slider.press("Home")
    lab.wait_for_function(f"() => {paths}.every((t) => t.x.length === 1)")


def test_training_on_xor_drives_the_test_loss_down(lab: Page, lab_url: str):
    open_view(lab, lab_url, "backprop", "dataset=xor&noise=0.3&layers=2&width=8&activation=tanh&opt=adam&lr=0.03")
    first = number(lab, "#b-test-loss")
    assert first > 0.5  # untrained: about ln 2
    expect(lab.locator("#b-network line")).to_have_count(2 * 8 + 8 * 8 + 8)
    lab.locator("#b-play").click()
    lab.wait_for_function("() => Number(document.querySelector('#b-test-loss').dataset.value) < 0.1")
    lab.locator("#b-play").click()
    expect(lab.locator("#b-play")).to_have_text("▶ train")
    assert number(lab, "#b-step-value") <= 2000  # within a bounded number of steps
    assert number(lab, "#b-test-accuracy") >= 0.95
    # single-step moves exactly one step
    steps = number(lab, "#b-step-value")
    lab.locator("#b-step").click()
    expect(lab.locator("#b-step-value")).to_have_attribute("data-value", str(int(steps) + 1))


def test_deep_sigmoid_network_shows_vanishing_gradients(lab: Page, lab_url: str, artifacts):
    open_view(lab, lab_url, "backprop", "dataset=moons&layers=6&width=8&activation=sigmoid&opt=sgd&lr=0.1")
    expect(lab.locator("#b-network circle")).to_have_count(2 + 6 * 8 + 1)
    norms = lab.evaluate("() => document.getElementById('b-norms').data[0].y")
    assert len(norms) == 7
    assert norms[0] < norms[-1] / 100  # the first layer gets a hundredth of the output layer's gradient
    lab.screenshot(path=str(artifacts / "lab-backprop-deep-sigmoid.png"), full_page=True)


def test_the_backprop_and_descent_pictures_are_the_grid_bilinearly_smoothed(lab: Page, lab_url: str):
    """raster.js, which paints the decision boundary and the landscapes, samples the grid bilinearly."""
    open_view(lab, lab_url, "derivatives")
    square, product, gap, filled = lab.evaluate(
        """async () => {
            const { bilinear } = await import("/static/js/raster.js");
            const rows = (values, n) => Array.from({ length: n }, (_, v) =>
                Array.from(values.slice(v * n, (v + 1) * n), (w) => (Number.isNaN(w) ? null : w)));
            const gap = [[0, 1, null], [2, 3, 4]];  // z[i][j]: i-th y counted upwards, j-th x
            return [
                rows(bilinear([[0, 1], [2, 3]], 3), 3),
                rows(bilinear([[0, 0], [0, 1]], 5), 5),
                rows(bilinear(gap, 5), 5),
                rows(bilinear(gap, 5, { fill: 1 }), 5),
            ];
        }"""
    )
    # 2 x 2 grid on 3 x 3 pixels (top row first): the corners are the grid's values, the middles of
    # the edges the means of two corners, the centre the mean of all four
    assert square == [[2, 2.5, 3], [1, 1.5, 2], [0, 0.5, 1]]
    # f = (1 - tx)(1 - ty) z00 + tx (1 - ty) z01 + (1 - tx) ty z10 + tx ty z11, here tx ty
    assert all(product[v][u] == pytest.approx((u / 4) * ((4 - v) / 4), abs=1e-15) for v in range(5) for u in range(5))
    # a cell with a corner that has no value has no value (the left cell is whole), unless filled
    assert all(None not in row[:2] and row[2:] == [None, None, None] for row in gap)
    assert gap[0][:2] == [2, 2.5] and gap[4][:2] == [0, 0.5]
    assert filled[0] == [2, 2.5, 3, 3.5, 4] and filled[4] == [0, 0.5, 1, 1, 1]


def test_a_bad_expression_shows_a_readable_error_next_to_the_input(lab: Page, lab_url: str, artifacts):
    EXPECTED_ERRORS.append("status of 422")
    open_view(lab, lab_url, "derivatives")
    box = lab.locator("#view-derivatives .field:has(#d-expr) .error[data-error-for=expr]")
    lab.locator("#d-expr").fill("__import__('os').system('ls')")
    expect(box).to_be_visible()
    expect(box).to_contain_text("not allowed")
    expect(lab.locator("#d-expr")).to_have_class("formula invalid")
    lab.locator("#view-derivatives .panel").screenshot(path=str(artifacts / "lab-derivatives-error.png"))
    lab.locator("#d-expr").fill("x**3 - 3*x")
    expect(box).to_be_hidden()
    expect(lab.locator("#d-expr")).to_have_class("formula")
    # the same in the computation-graph view, with a caret under the problem
    lab.locator(".tabs a[data-view=graph]").click()
    expect(lab.locator("#c-grad-x")).to_be_attached()
    lab.locator("#c-expr").fill("x.real + y")
    graph_box = lab.locator("#view-graph .error[data-error-for=expr]")
    expect(graph_box).to_contain_text("attribute access")
    expect(graph_box.locator(".code")).to_contain_text("^")


def test_dragging_along_the_plot_moves_the_tangent_point(lab: Page, lab_url: str):
    open_view(lab, lab_url, "derivatives", "expr=sin(x)&xmin=-4&xmax=4&x0=0")
    expect(lab.locator("#d-x0-value")).to_have_attribute("data-value", "0")
    area = lab.locator("#d-plot .nsewdrag").bounding_box()
    y = area["y"] + area["height"] / 2
    lab.mouse.move(area["x"] + area["width"] * 0.5, y)
    lab.mouse.down()
    lab.mouse.move(area["x"] + area["width"] * 0.65, y, steps=4)
    lab.mouse.move(area["x"] + area["width"] * 0.75, y, steps=4)
    lab.mouse.up()
    # three quarters across the window [-4, 4] is x = 2 (to within the width of a pixel or two)
    lab.wait_for_function("() => Math.abs(Number(document.querySelector('#d-x0-value').dataset.value) - 2) < 0.1")
    x0 = number(lab, "#d-x0-value")
    assert number(lab, "#d-df-value") == pytest.approx(math.cos(x0), abs=1e-12)  # the engine's sin' = cos
    tangent = lab.evaluate("() => document.getElementById('d-plot').data.find((t) => t.name === 'tangent at x₀').y")
    assert tangent[1] - tangent[0] == pytest.approx(8 * math.cos(x0), rel=1e-9)  # its slope over the window


def test_a_link_reopens_the_same_picture(lab: Page, lab_url: str):
    open_view(lab, lab_url, "derivatives", "expr=tanh(x)&x0=0.5&method=forward&h=0.001")
    expect(lab.locator("#d-x0-value")).to_have_attribute("data-value", "0.5")
    derivative = number(lab, "#d-df-value")
    assert derivative == pytest.approx(1 - 0.46211715726000974**2, rel=1e-12)  # tanh'(x) = 1 - tanh²(x)
    assert lab.locator("#d-method").input_value() == "forward"
    assert lab.locator("#d-expr").input_value() == "tanh(x)"


# --- the lab on a phone (390 × 844) ---------------------------------------------------------------------------

PHONE = {"width": 390, "height": 844}

# Each view's main control and the plot it steers: on a phone they must be on screen together.
STEERS = {
    "derivatives": ("#d-x0", "#d-plot"),
    "descent": ("#g-lr", "#g-contour"),
    "race": ("#r-add", "#r-contour"),
    "backprop": ("#b-play", "#b-network"),
    "graph": ("#c-y", "#c-svg"),
}

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def phone(lab: Page):
    lab.set_viewport_size(PHONE)
    return lab


def open_on_phone(page: Page, lab_url: str, view: str, query: str = ""):
    open_view(page, lab_url, view, query)
    drawn = f"() => !document.querySelector('#view-{view} .plot:not(.js-plotly-plot)')"
    page.wait_for_function(drawn)  # every plot of the view drawn


@pytest.mark.parametrize("view", list(READY))
def test_phone_no_view_scrolls_sideways(phone: Page, lab_url: str, artifacts, view):
    open_on_phone(phone, lab_url, view)
    widths = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the {view} view is {widths[0]} px wide on a {widths[1]} px screen"
    # the chosen view's tab is scrolled into the tab bar
    selected = phone.locator(".tabs a[aria-selected=true]").bounding_box()
    assert selected["x"] >= 0 and selected["x"] + selected["width"] <= PHONE["width"] + 1
    phone.screenshot(path=str(artifacts / f"lab-phone-{view}.png"), full_page=True)


def test_phone_race_table_scrolls_inside_its_card(phone: Page, lab_url: str):
    open_on_phone(phone, lab_url, "race")
    phone.locator("#r-add").click()
    expect(phone.locator("#r-table tbody tr")).to_have_count(6)
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)
    box = phone.locator(".table-scroll")
    assert box.evaluate("(b) => b.scrollWidth > b.clientWidth")  # the table is wider than a phone ...
    expect(box).to_have_attribute("data-overflow", "end")  # ... and its right edge fades to say so


# the smallest text of each drawing, in CSS pixels as rendered (font size × the drawing's scale)
SMALLEST_TEXT = """(svg) => {
    const scale = svg.getScreenCTM().a;
    const sizes = [...svg.querySelectorAll('text')].map((t) => parseFloat(getComputedStyle(t).fontSize) * scale);
    return [Math.min(...sizes), sizes.length];
}"""


@pytest.mark.parametrize(
    ("view", "svg", "box", "query"),
    [
        ("backprop", "#b-network", ".network-scroll", "layers=6&width=8"),
        ("graph", "#c-svg", ".graph-scroll", ""),
    ],
)
def test_phone_drawings_scroll_instead_of_shrinking_their_text(phone: Page, lab_url: str, view, svg, box, query):
    open_on_phone(phone, lab_url, view, query)
    expect(phone.locator(f"{svg} text").first).to_be_attached()
    smallest, count = phone.locator(svg).evaluate(SMALLEST_TEXT)
    assert count > 5 and smallest >= 10, f"the smallest text of {svg} is {smallest:.1f} px on a phone"
    scroller = phone.locator(box)
    assert scroller.evaluate("(b) => b.scrollWidth > b.clientWidth")  # wider than the phone: it scrolls ...
    expect(scroller).to_have_attribute("data-overflow", "end")
    scroller.evaluate("(b) => { b.scrollLeft = b.scrollWidth; }")
    expect(scroller).to_have_attribute("data-overflow", "start")  # ... to its other end
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)  # inside its card: the page itself does not scroll sideways


def test_phone_tab_bar_shows_that_it_scrolls(phone: Page, lab_url: str):
    open_on_phone(phone, lab_url, "derivatives")
    tabs = phone.locator(".tabs")
    assert tabs.evaluate("(t) => t.scrollWidth > t.clientWidth")  # five tabs do not fit on a phone
    expect(tabs).to_have_attribute("data-overflow", "end")
    assert "gradient" in tabs.evaluate("(t) => getComputedStyle(t).maskImage || getComputedStyle(t).webkitMaskImage")
    phone.locator(".tabs a[data-view=graph]").click()  # (the link is clickable under the fade)
    expect(phone.locator("#c-grad-x")).to_be_attached()
    expect(tabs).to_have_attribute("data-overflow", "start")  # the chosen tab scrolled into view
    inside = tabs.evaluate(
        """(t) => { const a = t.querySelector('[aria-selected=true]').getBoundingClientRect();
                    const b = t.getBoundingClientRect(); return a.left >= b.left - 1 && a.right <= b.right + 1; }"""
    )
    assert inside, "the selected tab is not fully visible in the tab bar"
    # on a wide screen every tab fits: no fade
    phone.set_viewport_size({"width": 1440, "height": 1000})
    expect(tabs).not_to_have_attribute("data-overflow", re.compile(".*"))


@pytest.mark.parametrize("view", list(STEERS))
def test_phone_controls_sit_next_to_their_plot(phone: Page, lab_url: str, view):
    open_on_phone(phone, lab_url, view)
    control, plot = STEERS[view]
    a = phone.locator(control).bounding_box()
    b = phone.locator(plot).bounding_box()
    gap = max(b["y"] - (a["y"] + a["height"]), a["y"] - (b["y"] + b["height"]), 0)
    assert gap < PHONE["height"] / 2, f"{control} is {gap:.0f} px from {plot}: scroll a screen to see what it does"
    # the panel of controls is directly above the plots, with nothing in between but the view's status line
    panel = phone.locator(f"#view-{view} .panel").bounding_box()
    assert 0 <= b["y"] - (panel["y"] + panel["height"]) < 200


def test_phone_readouts_move_below_the_plot_and_back(phone: Page, lab_url: str):
    open_on_phone(phone, lab_url, "derivatives")
    below = "() => !document.getElementById('d-readout').closest('.panel')"
    assert phone.evaluate(below)  # under the plot on a phone ...
    assert phone.locator("#d-readout").bounding_box()["y"] > phone.locator("#d-plot").bounding_box()["y"]
    phone.set_viewport_size({"width": 1440, "height": 1000})
    phone.wait_for_function(f"() => !({below})()")  # ... and back in the panel on a wide screen
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)


def test_graph_at_a_point_where_f_has_no_value_says_so(lab: Page, lab_url: str):
    open_view(lab, lab_url, "graph", "expr=x/y&x=1&y=0")
    note = lab.locator("#c-undefined")
    expect(note).to_be_visible()
    expect(note).to_contain_text("f has no value at x = 1, y = 0: Div divides by zero")
    expect(lab.locator("#c-readout")).not_to_contain_text("e+10")  # no finite-difference estimate across the gap
    lab.locator("#c-y").fill("2")
    expect(note).to_be_hidden()
