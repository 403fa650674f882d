// View 2 — gradient descent: a landscape as a 3-D surface and a contour map, one optimizer's path
// (gradlab.optim.minimize) walked step by step, the gradient arrow and the loss.

import { ApiError, clearErrors, coalesce, latest, post, showError } from "./api.js";
import { $, axisTitle, debounce, fmt, layout, logSlider, Player, plot, readout, throttle } from "./ui.js";
import {
  HYPER, VIRIDIS_SCALE, colorbarTrace, fillLandscapes, fillOptimizers, hyperNames, inWindow, landscapeBody,
  minimaTrace, parseStart, startText, surfaceImage, transform, watchMap, windowAxes,
} from "./surfaces.js";

const PATH = "#ea580c";
const ARROW = "#dc2626";

let root, ctx, c, lr, kappa, player;
let surface = null;
let path = null;
let start = null; // null: the landscape's own start
let hyper = {};

export function init(section, params, context) {
  root = section;
  ctx = context;
  const meta = ctx.meta;
  c = {
    landscape: $("#g-landscape", root),
    description: $("#g-description", root),
    typed: $("#g-typed", root),
    expr: $("#g-expr", root),
    examples: $("#g-examples", root),
    xr: $("#g-xr", root),
    yr: $("#g-yr", root),
    conditionField: $("#g-condition-field", root),
    optimizer: $("#g-optimizer", root),
    steps: $("#g-steps", root),
    log: $("#g-log", root),
    condition: () => kappa.get(),
  };
  const chosen = params.get("f") || "rosenbrock";
  fillLandscapes(c.landscape, meta, meta.landscapes.some((l) => l.name === chosen) || chosen === "typed" ? chosen : "rosenbrock");
  fillOptimizers(c.optimizer, meta, meta.optimizers[params.get("opt")] ? params.get("opt") : "sgd");
  for (const example of meta.examples.surfaces) c.examples.add(new Option(example, example));
  if (params.get("expr")) c.expr.value = params.get("expr");
  if (params.get("xr")) c.xr.value = params.get("xr");
  if (params.get("yr")) c.yr.value = params.get("yr");
  if (params.get("steps")) c.steps.value = params.get("steps");
  if (params.get("log")) c.log.checked = params.get("log") === "1";
  start = parseStart(params.get("start"));
  for (const key of Object.keys(HYPER)) if (params.get(key) !== null) hyper[key] = Number(params.get(key));

  kappa = logSlider($("#g-condition", root), $("#g-condition-out", root), () => refreshSurface());
  if (params.get("kappa")) kappa.set(Number(params.get("kappa")));
  lr = logSlider($("#g-lr", root), $("#g-lr-out", root), () => refreshPath());
  lr.set(params.get("lr") ? Number(params.get("lr")) : 2.5e-3);

  player = new Player($("#g-player", root), (k) => { showStep(k); if (!player?.playing) saveState(); });
  const wanted = params.get("step") !== null ? Number(params.get("step")) : null;
  player.pendingStep = Number.isFinite(wanted) ? wanted : null;

  c.landscape.addEventListener("change", () => { start = null; refreshSurface(); });
  c.optimizer.addEventListener("change", () => { buildHyper(); refreshPath(); });
  c.steps.addEventListener("change", () => refreshPath());
  c.log.addEventListener("change", () => { drawSurface(); drawPath(); });
  const typedChanged = debounce(() => refreshSurface(), 300);
  for (const input of [c.expr, c.xr, c.yr]) input.addEventListener("input", typedChanged);
  c.examples.addEventListener("change", () => {
    if (!c.examples.value) return;
    c.expr.value = c.examples.value;
    c.examples.value = "";
    if (c.expr.value.includes("11")) { c.xr.value = "-5, 5"; c.yr.value = "-5, 5"; }
    start = null;
    refreshSurface();
  });
  $("#g-start-reset", root).addEventListener("click", () => { start = null; refreshPath(); });
  buildHyper();
  refreshSurface();
}

function buildHyper() {
  const box = $("#g-hyper", root);
  box.replaceChildren();
  const optimizer = c.optimizer.value;
  for (const key of hyperNames(ctx.meta, optimizer)) {
    const spec = HYPER[key];
    const value = hyper[key] ?? ctx.meta.optimizers[optimizer][key];
    const field = document.createElement("div");
    field.className = "field";
    field.innerHTML = `<label for="g-h-${key}">${spec.title} = <output>${value}</output></label>
      <input id="g-h-${key}" type="range" min="${spec.min}" max="${spec.max}" step="${spec.step}" value="${value}">
      <div class="error" data-error-for="${key}" role="alert" hidden></div>`;
    const input = field.querySelector("input");
    input.addEventListener("input", () => {
      hyper[key] = Number(input.value);
      field.querySelector("output").textContent = input.value;
      refreshPath();
    });
    box.appendChild(field);
  }
}

function currentHyper() {
  const result = {};
  for (const key of hyperNames(ctx.meta, c.optimizer.value)) if (hyper[key] !== undefined) result[key] = hyper[key];
  return result;
}

function saveState() {
  const typed = c.landscape.value === "typed";
  const state = {
    f: c.landscape.value,
    expr: typed ? c.expr.value : null,
    xr: typed ? c.xr.value : null,
    yr: typed ? c.yr.value : null,
    kappa: c.landscape.value === "quadratic" ? kappa.get() : null,
    opt: c.optimizer.value,
    lr: lr.get(),
    steps: c.steps.value,
    start: start ? start.map((v) => Number(v.toPrecision(5))).join(",") : null,
    log: c.log.checked ? 1 : 0,
    step: player && path && player.step !== path.steps ? player.step : null,
    ...currentHyper(),
  };
  ctx.setState(state);
}

function status(text, kind = "") {
  const box = $("#g-status", root);
  box.className = `status ${kind}`;
  box.replaceChildren(...(Array.isArray(text) ? text : [text]));
}

function fail(error) {
  if (!(error instanceof ApiError)) throw error;
  showError(root, error);
  status("Fix the input marked in red to see the path.", "warn");
}

// The surface and the path are fetched side by side; each answer remembers which landscape it is
// for, and the path is drawn once both belong to the landscape on screen.
function landscapeKey() {
  return JSON.stringify(landscapeBody(c));
}

function matching() {
  return path && surface && path.key === surface.key ? path : null;
}

const refreshSurface = latest(async (signal) => {
  const typed = c.landscape.value === "typed";
  c.typed.hidden = !typed;
  c.conditionField.hidden = c.landscape.value !== "quadratic";
  const chosen = ctx.meta.landscapes.find((l) => l.name === c.landscape.value);
  c.description.textContent = chosen ? `${chosen.description}; minima: ${chosen.minima.length ? chosen.minima.map((m) => `(${fmt(m[0], 4)}, ${fmt(m[1], 4)})`).join(", ") : "none"}` : "Its window is the x and y range below.";
  const key = landscapeKey();
  refreshPath();
  try {
    const answer = await post("/api/surface", { ...landscapeBody(c), n: 90 }, signal);
    if (!answer) return;
    clearErrors(root);
    answer.key = key;
    surface = answer;
    drawSurface();
    if (matching()) showPath();
  } catch (error) {
    if (error.name !== "AbortError") fail(error);
  }
});

const refreshPath = coalesce(async () => {
  saveState();
  const key = landscapeKey();
  const body = {
    ...landscapeBody(c),
    optimizer: c.optimizer.value,
    lr: lr.get(),
    hyper: currentHyper(),
    steps: Number(c.steps.value),
    start: start || undefined,
  };
  try {
    const answer = await post("/api/descent", body);
    answer.key = key;
    path = answer;
    clearErrors(root);
  } catch (error) {
    fail(error);
    return;
  }
  if (matching()) showPath();
});

function showPath() {
  $("#g-start", root).textContent = startText([path.x[0], path.y[0]]);
  drawPath();
  const k = player.pendingStep ?? path.steps;
  player.pendingStep = null;
  player.pause();
  player.setTotal(path.steps, Math.min(k, path.steps));
  report();
}

function report() {
  const final = el("span", `final loss ${fmt(path.final_loss, 6)}`, "g-final", path.final_loss);
  const name = `${c.optimizer.querySelector(`option[value="${path.optimizer}"]`).textContent}, η = ${fmt(path.lr, 3)}`;
  if (path.diverged) {
    status([`✗ ${name}: ${path.reason}. `, final], "bad");
  } else if (path.converged) {
    status([`✓ ${name} converged after ${path.steps} steps (${path.reason}) · `, final, distance()], "");
  } else {
    status([`${name}: ${path.reason} · `, final, distance()], "warn");
  }
}

function distance() {
  return path.nearest_minimum ? ` · ${fmt(path.distance, 3)} from the minimum (${fmt(path.nearest_minimum[0], 4)}, ${fmt(path.nearest_minimum[1], 4)})` : "";
}

function el(tag, text, id, value) {
  const node = document.createElement(tag);
  node.textContent = text;
  if (id) node.id = id;
  if (value !== undefined) node.dataset.value = String(value);
  return node;
}

function drawSurface() {
  if (!surface) return;
  const t = transform(surface, c.log.checked);
  const contour = $("#g-contour", root);
  plot(contour, [colorbarTrace(surface, t), ...pathTraces(t, 0)], layout({
    title: `${surface.name}: contour map`,
    ...windowAxes(surface),
    images: [surfaceImage(surface, t)],
    annotations: matching() ? arrow(Math.min(player.step, path.steps)) : [],
    hovermode: "closest",
    dragmode: false,
    showlegend: false,
    margin: { l: 52, r: 10, t: 40, b: 44 },
  })).then(() => {
    watchMap(contour, () => surface, (p) => { start = p; refreshPath(); });
  });
  setTimeout(() => drawSurface3d(surface, t), 0); // after the map and the path: the slow part comes last
}

function drawSurface3d(drawn, t) {
  if (drawn !== surface) return;
  // software WebGL redraws cost grows with the mesh: every other grid point is plenty for the 3-D view
  const every = surface.x.length > 50 ? 2 : 1;
  const pick = (list) => list.filter((_, i) => i % every === 0);
  const z = pick(surface.z).map((row) => pick(row).map(t.f));
  plot($("#g-surface", root), [{
    type: "surface", x: pick(surface.x), y: pick(surface.y), z, customdata: pick(surface.z).map(pick), colorscale: VIRIDIS_SCALE, showscale: false,
    opacity: 0.95, hovertemplate: "x = %{x:.3f}<br>y = %{y:.3f}<br>f = %{customdata:.4g}<extra></extra>",
  }, ...path3d(t, matching() ? Math.min(player.step, path.steps) : 0)], layout({
    title: `${surface.name}: surface`,
    margin: { l: 0, r: 0, t: 40, b: 0 },
    showlegend: false,
    scene: {
      xaxis: { title: { text: "x" }, range: surface.window[0], nticks: 5, tickfont: { size: 10 } },
      yaxis: { title: { text: "y" }, range: surface.window[1], nticks: 5, tickfont: { size: 10 } },
      zaxis: { title: { text: c.log.checked ? "log f" : "f" }, nticks: 4, tickfont: { size: 10 } },
      aspectratio: { x: 1, y: 1, z: 0.65 },
      camera: { eye: { x: 1.25, y: -1.65, z: 0.95 } },
    },
  }));
}

function pathTraces(t, k) {
  if (!matching()) {
    const empty = () => ({ type: "scatter", mode: "lines", x: [], y: [], hoverinfo: "skip" });
    return [empty(), empty(), empty(), empty(), minimaTrace(surface)];
  }
  const upto = (list) => list.slice(0, k + 1);
  const here = [path.x[k], path.y[k]];
  return [
    { type: "scatter", mode: "lines", x: path.x, y: path.y, line: { color: "rgba(255,255,255,0.55)", width: 1.5 }, hoverinfo: "skip", name: "whole path" },
    { type: "scatter", mode: "lines+markers", x: upto(path.x), y: upto(path.y), line: { color: PATH, width: 2.5 }, marker: { size: 4, color: PATH }, name: "path", hovertemplate: "step %{pointNumber}<br>(%{x:.4g}, %{y:.4g})<extra></extra>" },
    { type: "scatter", mode: "markers", x: [path.x[0]], y: [path.y[0]], marker: { size: 11, color: "#fff", line: { color: "#111827", width: 2 } }, name: "start", hovertemplate: "start<extra></extra>" },
    { type: "scatter", mode: "markers", x: [here[0]], y: [here[1]], marker: { size: 13, color: PATH, line: { color: "#fff", width: 2 } }, name: "current", hoverinfo: "skip" },
    minimaTrace(surface),
  ];
}

function path3d(t, k) {
  if (!matching()) {
    return [{ type: "scatter3d", mode: "lines", x: [], y: [], z: [], hoverinfo: "skip" }, { type: "scatter3d", mode: "markers", x: [], y: [], z: [], hoverinfo: "skip" }];
  }
  const xs = [], ys = [], zs = [];
  for (let i = 0; i <= k; i++) {
    const ok = inWindow(surface, path.x[i], path.y[i]);
    xs.push(ok ? path.x[i] : null);
    ys.push(ok ? path.y[i] : null);
    zs.push(ok ? t.f(path.loss[i]) : null);
  }
  const ok = inWindow(surface, path.x[k], path.y[k]);
  return [
    { type: "scatter3d", mode: "lines", x: xs, y: ys, z: zs, line: { color: PATH, width: 6 }, hoverinfo: "skip", name: "path" },
    { type: "scatter3d", mode: "markers", x: ok ? [path.x[k]] : [], y: ok ? [path.y[k]] : [], z: ok ? [t.f(path.loss[k])] : [], marker: { color: ARROW, size: 5 }, hoverinfo: "skip", name: "current" },
  ];
}

function drawPath() {
  if (!matching()) return;
  const k = Math.min(player.step, path.steps);
  const t = transform(surface, c.log.checked);
  const contour = $("#g-contour", root);
  if (contour.data && contour.data.length === 6) {
    const traces = pathTraces(t, k).slice(0, 4);
    const update = {};
    for (const key of ["x", "y", "mode", "line", "marker", "hovertemplate", "name"]) update[key] = traces.map((trace) => trace[key]);
    Plotly.update(contour, update, { annotations: arrow(k) }, [1, 2, 3, 4]);
  }
  const losses = path.loss.map((v) => (v === null ? null : v));
  const positive = losses.every((v) => v === null || v > 0);
  plot($("#g-loss", root), [
    { x: losses.map((_, i) => i), y: losses, mode: "lines", name: "loss", line: { color: "#2563eb", width: 2 }, hovertemplate: "step %{x}: f = %{y:.5g}<extra></extra>" },
  ], layout({
    title: "loss f(xₖ) per step",
    xaxis: { title: axisTitle("step k") },
    yaxis: { title: axisTitle("f"), type: positive ? "log" : "linear", exponentformat: "power" },
    showlegend: false,
    margin: { l: 58, r: 14, t: 36, b: 42 },
    shapes: lossShapes(k),
  }));
}

// Redrawing the 3-D view can cost a few hundred ms (WebGL without a GPU): once a second while
// playing, and once the slider rests when stepping by hand.
function draw3d(k) {
  const surf = $("#g-surface", root);
  if (!matching() || !surf.data || surf.data.length !== 3) return;
  const [line, dot] = path3d(transform(surface, c.log.checked), Math.min(k, path.steps));
  Plotly.restyle(surf, { x: [line.x, dot.x], y: [line.y, dot.y], z: [line.z, dot.z] }, [1, 2]);
}
const update3dPlaying = throttle(draw3d, 1000);
const update3dResting = debounce(draw3d, 120);

function lossShapes(k) {
  return [{ type: "line", x0: k, x1: k, yref: "paper", y0: 0, y1: 1, line: { color: PATH, width: 2 } }, ...divergedLine()];
}

function divergedLine() {
  return path.diverged_at !== null ? [{ type: "line", x0: path.diverged_at, x1: path.diverged_at, yref: "paper", y0: 0, y1: 1, line: { color: "#dc2626", width: 1.5 } }] : [];
}

function showStep(k) {
  if (!matching()) return;
  const contour = $("#g-contour", root);
  if (contour.data && contour.data.length >= 5) {
    Plotly.update(contour, { x: [path.x.slice(0, k + 1), [path.x[k]]], y: [path.y.slice(0, k + 1), [path.y[k]]] }, { annotations: arrow(k) }, [2, 4]);
  }
  if (player.playing) update3dPlaying(k);
  else update3dResting(k);
  const loss = $("#g-loss", root);
  if (loss.data) Plotly.relayout(loss, { shapes: lossShapes(k) });
  const next = k < path.steps ? [path.x[k + 1] - path.x[k], path.y[k + 1] - path.y[k]] : null;
  const norm = Math.hypot(path.gx[k], path.gy[k]);
  const rows = [
    ["step k", `${k} of ${path.steps}`, { id: "g-step-value", value: k }],
    ["position xₖ", `(${fmt(path.x[k], 6)}, ${fmt(path.y[k], 6)})`, { id: "g-position", value: `${path.x[k]},${path.y[k]}` }],
    ["loss f(xₖ)", fmt(path.loss[k], 8), { id: "g-loss-value", value: path.loss[k] }],
    ["gradient ∇f(xₖ)", `(${fmt(path.gx[k], 5)}, ${fmt(path.gy[k], 5)})`],
    ["‖∇f(xₖ)‖ (red arrow: −∇f)", fmt(norm, 5)],
    ["update xₖ₊₁ − xₖ", next ? `(${fmt(next[0], 4)}, ${fmt(next[1], 4)})` : "— (last step)"],
  ];
  const state = path.states[k] || {};
  for (const [key, value] of Object.entries(state)) {
    const shown = Array.isArray(value) ? `(${value.map((v) => fmt(v, 4)).join(", ")})` : fmt(value, 4);
    rows.push([`optimizer state: ${key}`, shown]);
  }
  readout($("#g-readout", root), rows);
}

// The steepest-descent direction −∇f at the current point, drawn with a fixed length (its size is in the table).
function arrow(k) {
  const gx = path.gx[k], gy = path.gy[k];
  const norm = Math.hypot(gx, gy);
  if (!Number.isFinite(norm) || norm === 0 || !inWindow(surface, path.x[k], path.y[k])) return [];
  const [[x0, x1], [y0, y1]] = surface.window;
  const length = 0.14;
  const dx = (-gx / norm) * length * (x1 - x0);
  const dy = (-gy / norm) * length * (y1 - y0);
  return [{
    x: path.x[k] + dx, y: path.y[k] + dy, ax: path.x[k], ay: path.y[k], xref: "x", yref: "y", axref: "x", ayref: "y",
    showarrow: true, arrowhead: 2, arrowsize: 1.2, arrowwidth: 2.5, arrowcolor: ARROW, text: "",
    standoff: 0, startstandoff: 0,
  }];
}

export function activate() {}

export function deactivate() { player?.pause(); }
