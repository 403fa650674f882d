// View 1 — derivatives: f, f′ exact (the engine), the finite-difference estimate and its error,
// f″, and the tangent at a point you drag.

import { ApiError, clearErrors, coalesce, latest, post, showError } from "./api.js";
import { $, axisTitle, debounce, fillSelect, fmt, layout, logSlider, plot, readout } from "./ui.js";

const C = { f: "#2563eb", df: "#ea580c", numeric: "#16a34a", d2f: "#9333ea", tangent: "#334155" };
const METHOD_COLORS = { forward: "#db2777", central: "#16a34a", complex: "#0891b2" };

let root, ctx, controls, hSlider;
let curves = null; // the last /api/derivative answer
let point = null; // the last /api/derivative/point answer
let dragging = false;

export function init(section, params, context) {
  root = section;
  ctx = context;
  controls = {
    expr: $("#d-expr", root),
    examples: $("#d-examples", root),
    xmin: $("#d-xmin", root),
    xmax: $("#d-xmax", root),
    x0: $("#d-x0", root),
    x0Out: $("#d-x0-out", root),
    method: $("#d-method", root),
    second: $("#d-second", root),
    numeric: $("#d-numeric", root),
  };
  $("#d-functions", root).textContent = ctx.meta.functions.join(", ");
  fillSelect(controls.examples, [["", "examples…"], ...ctx.meta.examples.derivatives.map((e) => [e, e])], "");
  hSlider = logSlider($("#d-h", root), $("#d-h-out", root), () => { refreshCurves(); refreshPoint(); });

  // state from the link
  if (params.get("expr")) controls.expr.value = params.get("expr");
  for (const [key, input] of [["xmin", controls.xmin], ["xmax", controls.xmax]]) {
    if (params.get(key) !== null && Number.isFinite(Number(params.get(key)))) input.value = params.get(key);
  }
  if (["forward", "central", "complex"].includes(params.get("method"))) controls.method.value = params.get("method");
  if (params.get("h")) hSlider.set(Number(params.get("h")));
  if (params.get("second")) controls.second.checked = params.get("second") === "1";
  if (params.get("numeric")) controls.numeric.checked = params.get("numeric") === "1";
  windowChanged(params.get("x0") !== null ? Number(params.get("x0")) : 1);

  controls.expr.addEventListener("input", debounce(() => { refreshCurves(); refreshPoint(); }, 250));
  controls.examples.addEventListener("change", () => {
    if (!controls.examples.value) return;
    controls.expr.value = controls.examples.value;
    controls.examples.value = "";
    if (controls.expr.value === "log(x)" || controls.expr.value === "sqrt(x)") {
      controls.xmin.value = "-1";
      controls.xmax.value = "5";
      windowChanged(1);
    }
    refreshCurves();
    refreshPoint();
  });
  for (const input of [controls.xmin, controls.xmax]) {
    input.addEventListener("change", () => { windowChanged(Number(controls.x0.value)); refreshCurves(); refreshPoint(); });
  }
  controls.x0.addEventListener("input", () => setX0(Number(controls.x0.value)));
  controls.method.addEventListener("change", () => { refreshCurves(); refreshPoint(); });
  controls.second.addEventListener("change", () => refreshCurves());
  controls.numeric.addEventListener("change", () => { draw(); saveState(); });

  refreshCurves();
  refreshPoint();
}

function windowChanged(x0) {
  const low = Number(controls.xmin.value);
  const high = Number(controls.xmax.value);
  if (Number.isFinite(low) && Number.isFinite(high) && low < high) {
    controls.x0.min = String(low);
    controls.x0.max = String(high);
    controls.x0.step = String((high - low) / 1000);
    x0 = Math.min(high, Math.max(low, Number.isFinite(x0) ? x0 : (low + high) / 2));
  }
  controls.x0.value = String(x0);
  controls.x0Out.textContent = fmt(Number(controls.x0.value), 4);
}

function setX0(x) {
  const low = Number(controls.x0.min);
  const high = Number(controls.x0.max);
  x = Math.min(high, Math.max(low, x));
  controls.x0.value = String(x);
  controls.x0Out.textContent = fmt(x, 4);
  refreshPoint();
}

function body() {
  return {
    expr: controls.expr.value,
    x_min: Number(controls.xmin.value),
    x_max: Number(controls.xmax.value),
    h: hSlider.get(),
    method: controls.method.value,
  };
}

function saveState() {
  ctx.setState({
    expr: controls.expr.value,
    xmin: controls.xmin.value,
    xmax: controls.xmax.value,
    x0: Number(Number(controls.x0.value).toPrecision(6)),
    method: controls.method.value,
    h: hSlider.get(),
    second: controls.second.checked ? 1 : 0,
    numeric: controls.numeric.checked ? 1 : 0,
  });
}

function fail(error) {
  if (!(error instanceof ApiError)) throw error;
  showError(root, error);
}

const refreshCurves = latest(async (signal) => {
  saveState();
  try {
    const answer = await post("/api/derivative", { ...body(), points: 601, second: controls.second.checked }, signal);
    if (!answer) return;
    clearErrors(root);
    curves = answer;
    draw();
  } catch (error) {
    if (error.name !== "AbortError") fail(error);
  }
});

const refreshPoint = coalesce(async () => {
  saveState();
  try {
    point = await post("/api/derivative/point", { ...body(), x0: Number(controls.x0.value) });
    if (point.expr === undefined) point.expr = controls.expr.value;
    drawPoint();
  } catch (error) {
    fail(error);
  }
});

// Robust y-range: the middle 98 % of the values of f and f′, with a margin (so a pole does not flatten all).
function yRange(series) {
  const values = series.flat().filter((v) => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (!values.length) return [-1, 1];
  const low = values[Math.floor(values.length * 0.01)];
  const high = values[Math.ceil(values.length * 0.99) - 1];
  const pad = Math.max((high - low) * 0.12, 1e-9 + Math.abs(high) * 0.05);
  return [low - pad, high + pad];
}

function draw() {
  if (!curves) return;
  const show = controls.numeric.checked;
  const traces = [
    { x: curves.x, y: curves.f, name: "f(x)", line: { color: C.f, width: 2.6 }, hovertemplate: "%{y:.6g}" },
    { x: curves.x, y: curves.df, name: "f′(x) exact (engine)", line: { color: C.df, width: 2.2 }, hovertemplate: "%{y:.6g}" },
  ];
  if (show) {
    traces.push({
      x: curves.x, y: curves.numeric, name: `f′ ≈ ${curves.method} difference`,
      line: { color: C.numeric, width: 2, dash: "dot" }, hovertemplate: "%{y:.6g}",
    });
  }
  if (curves.d2f) {
    traces.push({ x: curves.x, y: curves.d2f, name: "f″(x) exact", line: { color: C.d2f, width: 2, dash: "dash" }, hovertemplate: "%{y:.6g}" });
  }
  const range = yRange([curves.f, curves.df, ...(curves.d2f ? [curves.d2f] : [])]);
  traces.push(...pointTraces());
  plot($("#d-plot", root), traces, layout({
    title: `f(x) = ${curves.expr} and its derivative`,
    hovermode: "x unified",
    dragmode: false,
    xaxis: { title: axisTitle("x"), range: [curves.x[0], curves.x[curves.x.length - 1]] },
    yaxis: { title: axisTitle("value"), range },
    margin: { l: 58, r: 18, t: 66, b: 46 },
    legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom" },
  })).then(attachDrag);

  const errors = curves.error.map((e) => (e === null || e <= 0 ? null : e));
  const exact = curves.error.every((e) => e === null || e === 0);
  plot($("#d-error", root), [
    { x: curves.x, y: errors, name: "|estimate − exact|", mode: "lines+markers", marker: { size: 3 }, line: { color: METHOD_COLORS[curves.method], width: 1.8 }, hovertemplate: "x = %{x:.4g}<br>error %{y:.3e}<extra></extra>" },
  ], layout({
    title: `error of the ${curves.method} difference, h = ${fmt(curves.h, 3)}`,
    xaxis: { title: axisTitle("x") },
    yaxis: { title: axisTitle("|estimate − exact f′|"), type: "log", exponentformat: "power" },
    showlegend: false,
    annotations: exact ? [{ text: "the estimate equals the engine's f′ exactly at every x", showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { color: "#64748b" } }]
      : errors.some((e) => e !== null) && curves.error.some((e) => e === 0) ? [{ text: "gaps: error exactly 0 there", showarrow: false, xref: "paper", yref: "paper", x: 1, y: 1, xanchor: "right", yanchor: "bottom", font: { color: "#64748b", size: 11 } }] : [],
  }));
}

function pointTraces() {
  if (!point || !curves) return [];
  const traces = [];
  if (point.tangent.y.every((v) => v !== null)) {
    traces.push({
      x: point.tangent.x, y: point.tangent.y, name: "tangent at x₀", mode: "lines",
      line: { color: C.tangent, width: 1.6, dash: "dash" }, hoverinfo: "skip",
    });
  }
  if (point.f !== null) {
    traces.push({
      x: [point.x0], y: [point.f], name: "x₀", mode: "markers", showlegend: false,
      marker: { color: C.f, size: 12, line: { color: "#fff", width: 2 } }, hoverinfo: "skip",
    });
  }
  return traces;
}

// Press and drag anywhere on the plot: x₀ follows the pointer (mouse, pen or touch).
function attachDrag(element) {
  if (element.dataset.dragReady) return;
  element.dataset.dragReady = "1";
  const pointerX = (event) => {
    const area = element.querySelector(".nsewdrag");
    const axis = element._fullLayout?.xaxis;
    if (!area || !axis) return null;
    const box = area.getBoundingClientRect();
    const px = event.clientX - box.left;
    if (event.type === "pointerdown" && (px < 0 || px > box.width || event.clientY < box.top || event.clientY > box.bottom)) return null;
    return axis.p2c(Math.max(0, Math.min(box.width, px)));
  };
  element.addEventListener("pointerdown", (event) => {
    const x = pointerX(event);
    if (x === null || !Number.isFinite(x)) return;
    dragging = true;
    element.setPointerCapture?.(event.pointerId);
    setX0(x);
  }, true);
  element.addEventListener("pointermove", (event) => {
    if (!dragging) return;
    const x = pointerX(event);
    if (x !== null && Number.isFinite(x)) setX0(x);
  }, true);
  const release = () => { dragging = false; };
  element.addEventListener("pointerup", release, true);
  element.addEventListener("pointercancel", release, true);
}

function drawPoint() {
  if (!point) return;
  const element = $("#d-plot", root);
  if (curves && element.data) {
    const base = element.data.filter((t) => t.name !== "tangent at x₀" && t.name !== "x₀");
    Plotly.react(element, [...base, ...pointTraces()], element.layout);
  }
  const method = controls.method.value;
  const rows = [
    ["x₀", fmt(point.x0, 6), { id: "d-x0-value", value: point.x0 }],
    ["f(x₀)", fmt(point.f, 8)],
    ["f′(x₀) exact (engine)", fmt(point.df, 10), { id: "d-df-value", value: point.df }],
    [`f′(x₀) ≈ ${method}, h = ${fmt(hSlider.get(), 2)}`, fmt(point.numeric, 10)],
    ["|estimate − exact|", fmt(point.error, 3), { id: "d-error-value", value: point.error }],
    ["f″(x₀) exact (engine)", fmt(point.d2f, 8)],
    ["tangent", point.tangent.intercept === null ? "—" : `y = ${fmt(point.tangent.slope, 5)}·x ${point.tangent.intercept < 0 ? "−" : "+"} ${fmt(Math.abs(point.tangent.intercept), 5)}`],
  ];
  if (point.undefined) rows.push(["note", point.undefined]);
  if (point.numeric_note) rows.push(["note", point.numeric_note]);
  readout($("#d-readout", root), rows);

  const study = point.study;
  if (!study) {
    plot($("#d-study", root), [], layout({
      title: `error at x₀ = ${fmt(point.x0, 4)} against the step h`,
      xaxis: { visible: false }, yaxis: { visible: false },
      annotations: [{ text: point.undefined || "no derivative here", showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { color: "#64748b" } }],
    }));
    return;
  }
  const traces = Object.entries(study.errors).map(([name, errors]) => ({
    x: study.h,
    y: errors.map((e) => (e === null || e <= 0 ? null : e)),
    name: `${name} (best h ≈ ${fmt(study.best[name], 1)})`,
    mode: "lines+markers",
    marker: { size: 4 },
    line: { color: METHOD_COLORS[name], width: name === method ? 2.6 : 1.4 },
    hovertemplate: `${name}: h = %{x:.1e}, error %{y:.2e}<extra></extra>`,
  }));
  if (point.error !== null && point.error > 0) {
    traces.push({
      x: [hSlider.get()], y: [point.error], name: "your h", mode: "markers",
      marker: { color: METHOD_COLORS[method], size: 13, symbol: "star", line: { color: "#111827", width: 1 } },
      hovertemplate: "your h = %{x:.1e}: error %{y:.2e}<extra></extra>",
    });
  }
  const exactHere = point.error === 0 ? " (your h: error 0)" : "";
  plot($("#d-study", root), traces, layout({
    title: `error at x₀ = ${fmt(point.x0, 4)} against the step h${exactHere}`,
    xaxis: { title: axisTitle("step h"), type: "log", exponentformat: "power", dtick: 3 },
    yaxis: { title: axisTitle("|estimate − exact f′(x₀)|"), type: "log", exponentformat: "power" },
    shapes: [{ type: "line", x0: hSlider.get(), x1: hSlider.get(), xref: "x", yref: "paper", y0: 0, y1: 1, line: { color: "#94a3b8", dash: "dot", width: 1 } }],
    legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom", font: { size: 11 } },
    margin: { l: 58, r: 18, t: 62, b: 46 },
  }));
}

export function activate() {}
