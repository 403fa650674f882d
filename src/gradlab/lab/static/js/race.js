// View 3 — the optimizer race: several optimizers from one start (gradlab.optim.race), animated
// together on the contour map, with the loss per step and the race table.

import { ApiError, clearErrors, coalesce, latest, post, showError } from "./api.js";
import { $, COLORS, axisTitle, debounce, el, fmt, layout, Player, plot } from "./ui.js";
import {
  HYPER, OPTIMIZER_LABELS, colorbarTrace, fillLandscapes, hyperNames, landscapeBody, minimaTrace, parseStart,
  startText, surfaceImage, transform, watchMap, windowAxes,
} from "./surfaces.js";

const DEFAULT_RACERS = [
  { optimizer: "sgd", lr: 1e-3, hyper: {} },
  { optimizer: "momentum", lr: 1e-3, hyper: { momentum: 0.9 } },
  { optimizer: "nesterov", lr: 1e-3, hyper: { momentum: 0.9 } },
  { optimizer: "rmsprop", lr: 1e-2, hyper: {} },
  { optimizer: "adam", lr: 5e-2, hyper: {} },
];

let root, ctx, c, kappa, player;
let surface = null;
let result = null;
let start = null;
let racers = [];

export function init(section, params, context) {
  root = section;
  ctx = context;
  const meta = ctx.meta;
  c = {
    landscape: $("#r-landscape", root),
    description: $("#r-description", root),
    typed: $("#r-typed", root),
    expr: $("#r-expr", root),
    xr: $("#r-xr", root),
    yr: $("#r-yr", root),
    conditionField: $("#r-condition-field", root),
    steps: $("#r-steps", root),
    tol: $("#r-tol", root),
    entries: $("#r-entries", root),
    condition: () => kappa.get(),
  };
  const chosen = params.get("f") || "rosenbrock";
  fillLandscapes(c.landscape, meta, meta.landscapes.some((l) => l.name === chosen) || chosen === "typed" ? chosen : "rosenbrock");
  if (params.get("expr")) c.expr.value = params.get("expr");
  if (params.get("xr")) c.xr.value = params.get("xr");
  if (params.get("yr")) c.yr.value = params.get("yr");
  if (params.get("steps")) c.steps.value = params.get("steps");
  if (params.get("tol")) c.tol.value = params.get("tol");
  start = parseStart(params.get("start"));
  racers = parseRacers(params.get("racers")) || DEFAULT_RACERS.map((r) => ({ ...r, hyper: { ...r.hyper } }));

  kappa = sliderLog($("#r-condition", root), $("#r-condition-out", root), () => refreshSurface());
  if (params.get("kappa")) kappa.set(Number(params.get("kappa")));

  player = new Player($("#r-player", root), (k) => { showStep(k); });
  c.landscape.addEventListener("change", () => { start = null; refreshSurface(); });
  const typedChanged = debounce(() => refreshSurface(), 300);
  for (const input of [c.expr, c.xr, c.yr]) input.addEventListener("input", typedChanged);
  for (const input of [c.steps, c.tol]) input.addEventListener("change", () => runSoon());
  $("#r-start-reset", root).addEventListener("click", () => { start = null; runSoon(); });
  $("#r-add", root).addEventListener("click", () => {
    if (racers.length >= ctx.meta.limits.max_race_optimizers) return;
    racers.push({ optimizer: "adam", lr: 1e-2, hyper: {} });
    buildEntries();
    runSoon();
  });
  buildEntries();
  refreshSurface();
}

function sliderLog(input, output, onInput) {
  const value = () => Number((10 ** Number(input.value)).toPrecision(3));
  const show = () => { output.textContent = fmt(value(), 3); };
  input.addEventListener("input", () => { show(); onInput(); });
  show();
  return { get: value, set(v) { if (v > 0) input.value = Math.log10(v); show(); } };
}

// "sgd:0.001;momentum:0.001:momentum=0.9" ↔ racers
function parseRacers(text) {
  if (!text) return null;
  const list = [];
  for (const part of text.split(";").slice(0, 6)) {
    const [optimizer, lr, ...rest] = part.split(":");
    if (!ctx.meta.optimizers[optimizer] || !(Number(lr) > 0)) continue;
    const hyper = {};
    for (const pair of rest) {
      const [key, value] = pair.split("=");
      if (key in HYPER && Number.isFinite(Number(value))) hyper[key] = Number(value);
    }
    list.push({ optimizer, lr: Number(lr), hyper });
  }
  return list.length ? list : null;
}

function racersText() {
  return racers.map((r) => [r.optimizer, r.lr, ...Object.entries(r.hyper).map(([k, v]) => `${k}=${v}`)].join(":")).join(";");
}

function buildEntries() {
  c.entries.replaceChildren();
  racers.forEach((racer, i) => {
    const color = COLORS[i % COLORS.length];
    const entry = el("div", { class: "entry", style: `border-left-color: ${color}`, "data-index": i });
    const select = el("select", { "aria-label": `optimizer ${i + 1}` });
    for (const name of Object.keys(ctx.meta.optimizers)) select.add(new Option(OPTIMIZER_LABELS[name] || name, name, false, name === racer.optimizer));
    const remove = el("button", { type: "button", class: "remove", title: "remove", "aria-label": `remove optimizer ${i + 1}`, text: "×" });
    const lrInput = el("input", { type: "range", min: "-5", max: "1", step: "0.05", value: String(Math.log10(racer.lr)), "aria-label": `learning rate ${i + 1}` });
    const lrOut = el("output", { text: fmt(racer.lr, 3) });
    const hyperBox = el("div", { class: "hyper" });
    for (const key of hyperNames(ctx.meta, racer.optimizer)) {
      const spec = HYPER[key];
      const value = racer.hyper[key] ?? ctx.meta.optimizers[racer.optimizer][key];
      const input = el("input", { type: "number", min: spec.min, max: spec.max, step: spec.step, value, title: spec.title, "aria-label": `${spec.title} ${i + 1}` });
      input.addEventListener("change", () => { racer.hyper[key] = Number(input.value); runSoon(); });
      hyperBox.append(el("label", { title: spec.title }, `${spec.label} `, input));
    }
    entry.append(
      el("div", { class: "row" }, select, remove),
      el("div", { class: "lr" }, el("span", { text: "η" }), lrInput, lrOut),
      hyperBox,
      el("div", { class: "error", "data-error-for": `optimizers.${i}`, role: "alert", hidden: "" }),
    );
    select.addEventListener("change", () => { racer.optimizer = select.value; racer.hyper = {}; buildEntries(); runSoon(); });
    remove.addEventListener("click", () => { if (racers.length > 1) { racers.splice(i, 1); buildEntries(); runSoon(); } });
    lrInput.addEventListener("input", () => {
      racer.lr = Number((10 ** Number(lrInput.value)).toPrecision(3));
      lrOut.textContent = fmt(racer.lr, 3);
      runSoon();
    });
    c.entries.appendChild(entry);
  });
  $("#r-add", root).disabled = racers.length >= ctx.meta.limits.max_race_optimizers;
}

function saveState() {
  const typed = c.landscape.value === "typed";
  ctx.setState({
    f: c.landscape.value,
    expr: typed ? c.expr.value : null,
    xr: typed ? c.xr.value : null,
    yr: typed ? c.yr.value : null,
    kappa: c.landscape.value === "quadratic" ? kappa.get() : null,
    steps: c.steps.value,
    tol: c.tol.value,
    start: start ? start.map((v) => Number(v.toPrecision(5))).join(",") : null,
    racers: racersText(),
  });
}

function status(text, kind = "") {
  const box = $("#r-status", root);
  box.className = `status ${kind}`;
  box.textContent = text;
}

function fail(error) {
  if (!(error instanceof ApiError)) throw error;
  showError(root, error);
  status("Fix the input marked in red to run the race.", "warn");
}

const refreshSurface = latest(async (signal) => {
  c.typed.hidden = c.landscape.value !== "typed";
  c.conditionField.hidden = c.landscape.value !== "quadratic";
  const chosen = ctx.meta.landscapes.find((l) => l.name === c.landscape.value);
  c.description.textContent = chosen ? chosen.description : "Its window is the x and y range below.";
  try {
    const answer = await post("/api/surface", { ...landscapeBody(c), n: 90 }, signal);
    if (!answer) return;
    clearErrors(root);
    surface = answer;
    result = null;
    drawContour();
    run();
  } catch (error) {
    if (error.name !== "AbortError") fail(error);
  }
});

const run = coalesce(async () => {
  if (!surface) return;
  saveState();
  $("#r-start", root).textContent = startText(start || surface.start);
  status(`Running ${racers.length} optimizers × ${c.steps.value} steps…`, "busy");
  const body = {
    ...landscapeBody(c),
    start: start || undefined,
    steps: Number(c.steps.value),
    tol: Number(c.tol.value),
    optimizers: racers.map((r) => ({ optimizer: r.optimizer, lr: r.lr, hyper: r.hyper })),
  };
  try {
    result = await post("/api/race", body);
    clearErrors(root);
  } catch (error) {
    fail(error);
    return;
  }
  const diverged = result.runs.filter((r) => r.diverged).map((r) => r.label);
  const reached = result.table.filter((r) => r.steps_to_tol !== null);
  let text = `${result.landscape} from ${startText(result.start)}: ${result.runs.length} optimizers, ${result.steps} steps each.`;
  if (reached.length) {
    const best = reached.reduce((a, b) => (a.steps_to_tol <= b.steps_to_tol ? a : b));
    text += ` First within ${fmt(result.tol, 2)} of the minimum: ${best.label} (step ${best.steps_to_tol}).`;
  } else if (result.best !== null) {
    text += ` None came within ${fmt(result.tol, 2)} of the minimum.`;
  }
  if (diverged.length) text += ` Diverged: ${diverged.join(", ")}.`;
  status(text, diverged.length ? "bad" : "");
  drawContour();
  drawLoss();
  drawTable();
  player.pause();
  player.setTotal(result.steps, result.steps);
});

const runSoon = debounce(() => run(), 350);

function at(runData, k) {
  return Math.min(k, runData.x.length - 1);
}

function drawContour() {
  if (!surface) return;
  const t = transform(surface, true);
  const traces = [colorbarTrace(surface, t, false), minimaTrace(surface)];
  const first = result ? [result.runs[0].x[0], result.runs[0].y[0]] : start || surface.start;
  traces.push({ type: "scatter", mode: "markers", x: [first[0]], y: [first[1]], name: "start", marker: { size: 12, color: "#fff", line: { color: "#111827", width: 2 } }, hovertemplate: "start<extra></extra>", showlegend: false });
  const k = player ? player.step : 0;
  (result?.runs || []).forEach((runData, i) => {
    const color = COLORS[i % COLORS.length];
    const j = at(runData, k);
    traces.push(
      { type: "scatter", mode: "lines", x: runData.x, y: runData.y, line: { color, width: 1, dash: "dot" }, opacity: 0.5, hoverinfo: "skip", showlegend: false, legendgroup: runData.label },
      { type: "scatter", mode: "lines", x: runData.x.slice(0, j + 1), y: runData.y.slice(0, j + 1), line: { color, width: 2.6 }, name: runData.label + (runData.diverged ? " (diverged)" : ""), legendgroup: runData.label, meta: "race-path", hovertemplate: `${runData.label}<br>step %{pointNumber}: (%{x:.4g}, %{y:.4g})<extra></extra>` },
      { type: "scatter", mode: "markers", x: [runData.x[j]], y: [runData.y[j]], marker: { color, size: 11, line: { color: "#fff", width: 2 } }, showlegend: false, legendgroup: runData.label, hoverinfo: "skip" },
    );
  });
  const contour = $("#r-contour", root);
  plot(contour, traces, layout({
    title: `${surface.name}: the paths`,
    ...windowAxes(surface),
    images: [surfaceImage(surface, t)],
    hovermode: "closest",
    dragmode: false,
    showlegend: true,
    legend: { orientation: "h", x: 0, y: -0.2, yanchor: "top", font: { size: 11 } },
    margin: { l: 52, r: 12, t: 40, b: 88 },
  })).then(() => {
    watchMap(contour, () => surface, (p) => { start = p; run(); });
  });
}

function drawLoss() {
  const known = result.best !== null;
  const traces = result.runs.map((runData, i) => {
    const values = (known ? runData.gap : runData.loss).map((v) => (v === null ? null : known ? Math.max(v, 1e-16) : v));
    return { x: values.map((_, s) => s), y: values, mode: "lines", name: runData.label, line: { color: COLORS[i % COLORS.length], width: 2 }, hovertemplate: `${runData.label}: step %{x}, %{y:.4g}<extra></extra>` };
  });
  const positive = traces.every((t) => t.y.every((v) => v === null || v > 0));
  plot($("#r-loss", root), traces, layout({
    title: known ? "loss − best known minimum, per step" : "loss per step",
    xaxis: { title: axisTitle("step") },
    yaxis: { title: axisTitle(known ? "f(xₖ) − f(x*)" : "f(xₖ)"), type: positive ? "log" : "linear", exponentformat: "power" },
    showlegend: false,
    margin: { l: 62, r: 12, t: 40, b: 84 },
    shapes: [stepLine(player ? player.step : 0)],
  }));
}

function stepLine(k) {
  return { type: "line", x0: k, x1: k, yref: "paper", y0: 0, y1: 1, line: { color: "#64748b", dash: "dot", width: 1 } };
}

function drawTable() {
  const rows = result.table;
  const reached = rows.filter((r) => r.steps_to_tol !== null);
  const live = rows.filter((r) => !r.diverged && r.final_loss !== null);
  let winner = null;
  if (reached.length) winner = reached.reduce((a, b) => (a.steps_to_tol <= b.steps_to_tol ? a : b)).label;
  else if (live.length) winner = live.reduce((a, b) => (a.final_loss <= b.final_loss ? a : b)).label;
  const head = el("tr", {}, ...["optimizer", "η", "steps to tol", "final loss", "to minimum", "path length", "diverged?"].map((h) => el("th", { text: h })));
  const body = rows.map((r, i) => el("tr", { class: r.label === winner ? "winner" : "" },
    el("td", {}, el("span", { class: "dot", style: `background:${COLORS[i % COLORS.length]}` }), `${OPTIMIZER_LABELS[result.runs[i].optimizer] || r.label}${r.label.includes("#") ? " " + r.label.split(" ").pop() : ""}`),
    el("td", { text: fmt(result.runs[i].lr, 3) }),
    el("td", { text: r.steps_to_tol === null ? "—" : String(r.steps_to_tol) }),
    el("td", { text: fmt(r.final_loss, 4) }),
    el("td", { text: r.distance === null ? "—" : fmt(r.distance, 3) }),
    el("td", { text: fmt(r.path_length, 3) }),
    el("td", { class: r.diverged ? "diverged" : "", text: r.diverged ? `yes, from step ${r.diverged_at}` : "no" }),
  ));
  $("#r-table", root).replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
}

function showStep(k) {
  if (!result) return;
  const contour = $("#r-contour", root);
  if (!contour.data) return;
  const data = [], indices = [];
  result.runs.forEach((runData, i) => {
    const j = at(runData, k);
    const base = 3 + 3 * i;
    data.push({ x: runData.x.slice(0, j + 1), y: runData.y.slice(0, j + 1) }, { x: [runData.x[j]], y: [runData.y[j]] });
    indices.push(base + 1, base + 2);
  });
  if (contour.data.length >= 3 + 3 * result.runs.length) {
    Plotly.restyle(contour, { x: data.map((d) => d.x), y: data.map((d) => d.y) }, indices);
  }
  const loss = $("#r-loss", root);
  if (loss.data) Plotly.relayout(loss, { shapes: [stepLine(k)] });
}

export function activate() {}

export function deactivate() { player?.pause(); }
