// View 4 — backprop flow: a small network trained live on the server (frames arrive as
// Server-Sent Events), drawn in SVG with each edge showing |∂J/∂w| of the latest step.

import { ApiError, clearErrors, del, get, post, showError } from "./api.js";
import { $, axisTitle, fillSelect, fmt, layout, logSlider, plot, readout, throttle } from "./ui.js";
import { layoutImage, rasterise } from "./raster.js";
import { OPTIMIZER_LABELS } from "./surfaces.js";

const SVG = "http://www.w3.org/2000/svg";
const CLASS_COLORS = ["#ea580c", "#2563eb"];
const DECADES = 6; // the gradient colour scale spans this many powers of ten below the largest edge

let root, ctx, c, lr, l2;
let session = null; // the /api/train answer
let frame = null;
let source = null; // the EventSource while training
let net = null; // SVG elements of the drawn network
let creating = null;

export function init(section, params, context) {
  root = section;
  ctx = context;
  c = {
    dataset: $("#b-dataset", root),
    noise: $("#b-noise", root),
    noiseOut: $("#b-noise-out", root),
    layers: $("#b-layers", root),
    width: $("#b-width", root),
    activation: $("#b-activation", root),
    optimizer: $("#b-optimizer", root),
    batch: $("#b-batch", root),
    seed: $("#b-seed", root),
    speed: $("#b-speed", root),
    edges: $("#b-edges", root),
    play: $("#b-play", root),
  };
  fillSelect(c.optimizer, Object.keys(ctx.meta.optimizers).map((n) => [n, OPTIMIZER_LABELS[n] || n]), "adam");
  c.layers.max = String(ctx.meta.limits.max_hidden_layers);
  c.width.max = String(ctx.meta.limits.max_width);
  const set = (input, key) => { if (params.get(key) !== null) input.value = params.get(key); };
  set(c.dataset, "dataset");
  set(c.noise, "noise");
  set(c.layers, "layers");
  set(c.width, "width");
  set(c.activation, "activation");
  set(c.optimizer, "opt");
  set(c.batch, "batch");
  set(c.seed, "seed");
  set(c.speed, "speed");
  set(c.edges, "edges");
  if (!c.dataset.value) c.dataset.value = "moons";
  if (!c.activation.value) c.activation.value = "tanh";
  if (!c.optimizer.value) c.optimizer.value = "adam";
  c.noiseOut.textContent = c.noise.value;
  lr = logSlider($("#b-lr", root), $("#b-lr-out", root), (value) => changeSettings({ lr: value }));
  l2 = logSlider($("#b-l2", root), $("#b-l2-out", root), (value) => changeSettings({ l2: value }), { zeroAtMin: true });
  lr.set(params.get("lr") ? Number(params.get("lr")) : 0.03);
  l2.set(params.get("l2") ? Number(params.get("l2")) : 0);

  c.noise.addEventListener("input", () => { c.noiseOut.textContent = c.noise.value; });
  for (const input of [c.dataset, c.noise, c.layers, c.width, c.activation, c.optimizer, c.batch, c.seed]) {
    input.addEventListener("change", () => newSession());
  }
  c.speed.addEventListener("change", async () => { saveState(); if (source) { await stop(); play(); } });
  c.edges.addEventListener("change", () => { saveState(); drawNetwork(); });
  // a wider or narrower card (a turned phone, a resized window) redraws the network at its new width
  new ResizeObserver(() => { if (net && !root.hidden) drawNetwork(); }).observe($(".network-scroll", root));
  c.play.addEventListener("click", () => (source ? stop("Paused.") : play()));
  $("#b-step", root).addEventListener("click", () => stepOnce());
  $("#b-reset", root).addEventListener("click", () => newSession());
  window.addEventListener("pagehide", () => { if (session) navigator.sendBeacon?.(`/api/train/${session.id}/end`); });
  newSession();
}

function config() {
  const layers = Math.round(Number(c.layers.value));
  const width = Math.round(Number(c.width.value));
  return {
    dataset: c.dataset.value,
    noise: Number(c.noise.value),
    hidden: Array.from({ length: Math.max(0, Number.isFinite(layers) ? layers : 0) }, () => width),
    activation: c.activation.value,
    optimizer: c.optimizer.value,
    lr: lr.get(),
    l2: l2.get(),
    batch_size: Number(c.batch.value),
    seed: Math.round(Number(c.seed.value)) || 0,
  };
}

function saveState() {
  ctx.setState({
    dataset: c.dataset.value,
    noise: c.noise.value,
    layers: c.layers.value,
    width: c.width.value,
    activation: c.activation.value,
    opt: c.optimizer.value,
    lr: lr.get(),
    l2: l2.get(),
    batch: c.batch.value,
    seed: c.seed.value,
    speed: c.speed.value,
    edges: c.edges.value,
  });
}

function status(text, kind = "") {
  const box = $("#b-status", root);
  box.className = `status ${kind}`;
  box.textContent = text;
}

function fail(error) {
  if (!(error instanceof ApiError)) throw error;
  const field = error.field === "hidden" || String(error.field).startsWith("hidden.") ? "hidden" : error.field;
  showError(root, { message: error.message, field });
  status("Fix the input marked in red to train.", "warn");
}

async function newSession() {
  await stop();
  saveState();
  const old = session;
  session = null;
  if (old) del(`/api/train/${old.id}`).catch(() => {});
  const mine = (creating = config());
  try {
    const answer = await post("/api/train", mine);
    if (creating !== mine) { del(`/api/train/${answer.id}`).catch(() => {}); return; }
    clearErrors(root);
    session = answer;
    frame = answer.frame;
    pendingLoss.length = 0;
    net = null;
    drawAll();
    status(`A fresh ${describeNet()} with ${session.parameters} weights and biases, on ${session.data.train.y.length} training and ${session.data.test.y.length} test points. Press ▶ train or +1 step.`);
  } catch (error) {
    fail(error);
  }
}

function describeNet() {
  const hidden = session.config.hidden;
  const shape = ["2", ...hidden.map(String), "1"].join("–");
  return hidden.length ? `${shape} ${session.config.activation} network` : "logistic regression (no hidden layer)";
}

async function ensureSession(error) {
  if (error instanceof ApiError && error.status === 404 && error.field === "session") {
    await newSession();
    status(`The previous session had ended (${error.message.split(";")[0].replace(/^this /, "")}); this is a fresh network.`, "warn");
    return true;
  }
  return false;
}

async function changeSettings(change) {
  saveState();
  if (!session) return;
  try {
    await post(`/api/train/${session.id}/settings`, change);
    clearErrors(root);
  } catch (error) {
    if (!(await ensureSession(error))) fail(error);
  }
}

async function stepOnce() {
  if (!session) return;
  await stop();
  try {
    const answer = await post(`/api/train/${session.id}/step`, { steps: 1 });
    receive(answer);
    status(answer.stopped || `Took one step: step ${answer.step}. Edge widths show the gradient that step followed.`, answer.stopped ? "bad" : "");
  } catch (error) {
    if (!(await ensureSession(error))) fail(error);
  }
}

function play() {
  if (!session || source) return;
  const id = session.id;
  const perFrame = Number(c.speed.value);
  source = new EventSource(`/api/train/${id}/stream?steps_per_frame=${perFrame}`);
  c.play.textContent = "⏸ pause";
  c.play.setAttribute("aria-label", "pause");
  status(`Training… ${perFrame} step(s) per frame, streamed from the server.`, "busy");
  source.addEventListener("frame", (event) => receive(JSON.parse(event.data)));
  source.addEventListener("end", (event) => {
    const info = JSON.parse(event.data);
    stop(info.reason, info.expired ? "warn" : frame?.stopped ? "bad" : "warn");
    if (info.expired) newSession();
  });
  source.addEventListener("error", async () => {
    if (!source) return;
    await stop("The connection to the server closed; press ▶ train to go on.", "warn");
    try {
      await get(`/api/train/${id}`); // still there: the connection itself failed
    } catch (error) {
      await ensureSession(error); // the session ended while the page was idle: start a fresh one
    }
  });
}

// Stop training: close the stream, and ask the server to stop too (a step it is taking finishes
// first); the frame it stopped at is what the page then shows.
async function stop(message, kind = "") {
  const wasStreaming = source !== null;
  if (source) {
    source.close();
    source = null;
  }
  if (wasStreaming && session) {
    try {
      receive(await post(`/api/train/${session.id}/pause`, {}));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error; // gone or unreachable: keep the last frame shown
    }
  }
  if (session && frame && $("#b-loss", root).data) slowPlots.now();
  c.play.textContent = "▶ train";
  c.play.setAttribute("aria-label", "train");
  if (message) status(frame ? `${message} (step ${frame.step})` : message, kind);
}

// The loss curves and the bar chart cost plotly a full redraw: at most twice a second while training.
const slowPlots = throttle(() => { updateLoss(); updateNorms(); }, 500);

// Frames may arrive faster than the page can draw them: draw only the newest, once per animation frame.
let drawPending = false;
const pendingLoss = [];

function receive(next) {
  frame = next;
  pendingLoss.push([next.step, next.train_loss, next.test_loss]);
  if (!session) return;
  updateReadout(); // cheap, and at once: the numbers always match the latest frame
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    updateBoundary();
    drawNetwork();
    slowPlots();
  });
}

// --- drawing ------------------------------------------------------------------------------------

function drawAll() {
  updateReadout();
  drawBoundary();
  drawLoss();
  drawNorms();
  drawNetwork();
}

function updateReadout() {
  readout($("#b-readout", root), [
    ["step", `${frame.step} (limit ${frame.max_steps})`, { id: "b-step-value", value: frame.step }],
    ["train loss (BCE)", fmt(frame.train_loss, 5), { id: "b-train-loss", value: frame.train_loss }],
    ["test loss (BCE)", fmt(frame.test_loss, 5), { id: "b-test-loss", value: frame.test_loss }],
    ["train accuracy", `${fmt(100 * frame.train_accuracy, 4)} %`],
    ["test accuracy", `${fmt(100 * frame.test_accuracy, 4)} %`, { id: "b-test-accuracy", value: frame.test_accuracy }],
    ["weights and biases", String(session.parameters)],
  ]);
}

// The probability field as an image (drawn here from the server's grid, bilinearly smoothed, with
// the p = 0.5 line marked): swapping an image is far cheaper for plotly than re-contouring a heatmap.
const PIXELS = 220;
const LOW = [253, 186, 116], MID = [248, 250, 252], HIGH = [147, 197, 253], LINE = [15, 23, 42];

function fieldColour(values, at, u, v) {
  const value = values[at];
  const side = value >= 0.5;
  const across = (k) => (values[k] >= 0.5) !== side;
  if ((u + 1 < PIXELS && across(at + 1)) || (v + 1 < PIXELS && across(at + PIXELS))
    || (u > 0 && across(at - 1)) || (v > 0 && across(at - PIXELS))) return LINE;
  if (value < 0.5) return MID.map((m, k) => m + (LOW[k] - m) * (1 - 2 * value));
  return MID.map((m, k) => m + (HIGH[k] - m) * (2 * value - 1));
}

function fieldImage(boundary) {
  // a missing probability (null) counts as undecided, p = 0.5
  return rasterise(boundary.p, PIXELS, fieldColour, { fill: 0.5, into: Float32Array });
}

function fieldLayoutImage(boundary) {
  return layoutImage(fieldImage(boundary), boundary.x, boundary.y);
}

function drawBoundary() {
  const data = session.data;
  const b = frame.boundary;
  const traces = [{
    // only for its colour bar: the field itself is the layout image below the traces
    type: "heatmap", x: [b.x[0], b.x[b.x.length - 1]], y: [b.y[0], b.y[b.y.length - 1]], z: [[0, 1], [1, 0]], zmin: 0, zmax: 1,
    opacity: 0, hoverinfo: "skip", showlegend: false,
    colorscale: [[0, "#fdba74"], [0.5, "#f8fafc"], [1, "#93c5fd"]],
    colorbar: { title: { text: "p(class 1)", side: "right", font: { size: 11 } }, thickness: 10, len: 0.8 },
  }];
  for (const [part, symbol, size] of [["train", "circle", 6], ["test", "diamond-open", 7]]) {
    for (const label of [0, 1]) {
      const xs = [], ys = [];
      data[part].x.forEach((p, i) => { if (data[part].y[i] === label) { xs.push(p[0]); ys.push(p[1]); } });
      traces.push({
        type: "scatter", mode: "markers", x: xs, y: ys, name: `${part} ${label}`,
        marker: { symbol, size, color: CLASS_COLORS[label], line: { color: part === "train" ? "#ffffff" : CLASS_COLORS[label], width: part === "train" ? 0.8 : 1.6 } },
        hovertemplate: `${part} point, class ${label}: (%{x:.2f}, %{y:.2f})<extra></extra>`,
      });
    }
  }
  plot($("#b-boundary", root), traces, layout({
    title: "decision boundary (black line: p = ½)",
    xaxis: { title: axisTitle("x₁"), range: data.extent.x, constrain: "domain", showgrid: false, zeroline: false },
    yaxis: { title: axisTitle("x₂"), range: data.extent.y, scaleanchor: "x", constrain: "domain", showgrid: false, zeroline: false },
    images: [fieldLayoutImage(b)],
    legend: { orientation: "h", x: 0, y: -0.16, yanchor: "top", font: { size: 10.5 }, title: { text: "points (set, class)", side: "left" } },
    margin: { l: 46, r: 8, t: 36, b: 60 },
  }));
}

function updateBoundary() {
  const element = $("#b-boundary", root);
  if (element.layout?.images?.length) Plotly.relayout(element, { "images[0].source": fieldImage(frame.boundary) });
}

function drawLoss() {
  const history = session.history;
  const mode = history.length > 1 ? "lines" : "markers"; // a single point has no line to draw
  plot($("#b-loss", root), [
    { x: history.map((h) => h.step), y: history.map((h) => h.train_loss), mode, name: "train loss", line: { color: "#2563eb", width: 2 }, marker: { size: 7 } },
    { x: history.map((h) => h.step), y: history.map((h) => h.test_loss), mode, name: "test loss", line: { color: "#ea580c", width: 2 }, marker: { size: 7 } },
  ], layout({
    title: "loss per step (binary cross-entropy)",
    xaxis: { title: axisTitle("step"), rangemode: "tozero" },
    yaxis: { title: axisTitle("loss"), type: "log", exponentformat: "power" },
    margin: { l: 58, r: 10, t: 56, b: 46 },
    legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom" },
  }));
}

function updateLoss() {
  const element = $("#b-loss", root);
  const points = pendingLoss.splice(0);
  if (!element.data) return;
  const last = element.data[0].x[element.data[0].x.length - 1];
  const fresh = points.filter(([step]) => step !== last);
  if (!fresh.length) return;
  const steps = fresh.map((p) => p[0]);
  if (element.data[0].mode !== "lines") Plotly.restyle(element, { mode: "lines" }, [0, 1]);
  Plotly.extendTraces(element, { x: [steps, steps], y: [fresh.map((p) => p[1]), fresh.map((p) => p[2])] }, [0, 1], 20000);
}

function layerNames() {
  return frame.layers.map((_, i) => (i === frame.layers.length - 1 ? "W out" : `W${sub(i + 1)}`));
}

function sub(n) {
  return String(n).replace(/\d/g, (d) => "₀₁₂₃₄₅₆₇₈₉"[d]);
}

function drawNorms() {
  plot($("#b-norms", root), [{
    type: "bar", x: layerNames(), y: frame.layers.map((l) => l.grad_norm),
    marker: { color: frame.layers.map((l) => heat(scale(l.grad_norm, maxNorm()))) , line: { color: "#7c2d12", width: 1 } },
    hovertemplate: "%{x}: ‖∂J/∂W‖ = %{y:.3e}<extra></extra>", text: frame.layers.map((l) => fmt(l.grad_norm, 2)), textposition: "outside", cliponaxis: false,
  }], layout({
    title: "gradient norm per layer ‖∂J/∂W‖",
    xaxis: { title: axisTitle("layer (input → output)") },
    yaxis: { title: axisTitle("‖∂J/∂W‖"), type: "log", exponentformat: "power", dtick: 1, range: normRange() },
    showlegend: false,
    margin: { l: 58, r: 10, t: 36, b: 46 },
  }));
}

// Whole decades around the norms, so the log axis always shows labelled powers of ten.
function normRange() {
  const values = frame.layers.map((l) => l.grad_norm).filter((v) => v > 0);
  if (!values.length) return [-1, 1];
  return [Math.floor(Math.log10(Math.min(...values))) - 0.1, Math.ceil(Math.log10(Math.max(...values))) + 0.35];
}

function maxNorm() {
  return Math.max(...frame.layers.map((l) => l.grad_norm || 0), 1e-300);
}

function updateNorms() {
  const element = $("#b-norms", root);
  if (!element.data) return;
  const top = maxNorm();
  Plotly.update(element, {
    y: [frame.layers.map((l) => l.grad_norm)],
    text: [frame.layers.map((l) => fmt(l.grad_norm, 2))],
    "marker.color": [frame.layers.map((l) => heat(scale(l.grad_norm, top)))],
  }, { "yaxis.range": normRange() }, [0]);
}

// 0..1 on a log scale: 1 at `top`, 0 at DECADES powers of ten below it (or less).
function scale(value, top) {
  if (!(value > 0) || !(top > 0)) return 0;
  return Math.max(0, Math.min(1, 1 + Math.log10(value / top) / DECADES));
}

const STOPS = [[0, [226, 232, 240]], [0.45, [251, 191, 36]], [0.75, [234, 88, 12]], [1, [153, 27, 27]]];
function heat(s) {
  for (let i = 1; i < STOPS.length; i++) {
    const [b, cb] = STOPS[i];
    const [a, ca] = STOPS[i - 1];
    if (s <= b) {
      const t = (s - a) / (b - a);
      return `rgb(${ca.map((v, j) => Math.round(v + (cb[j] - v) * t)).join(",")})`;
    }
  }
  return "rgb(153,27,27)";
}

function weightColor(w, top) {
  const s = Math.min(1, Math.abs(w) / (top || 1));
  const base = w >= 0 ? [37, 99, 235] : [234, 88, 12];
  const pale = [226, 232, 240];
  return `rgb(${pale.map((v, j) => Math.round(v + (base[j] - v) * s)).join(",")})`;
}

function make(tag, attributes, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

// The drawing is as wide as its card, but never narrower than its labels need (about 100 px between
// columns): on a phone it scrolls sideways inside the card instead of shrinking its text.
const COLUMN_GAP = 100;

function networkWidth(columns) {
  const box = $(".network-scroll", root);
  return Math.round(Math.max(box.clientWidth, 190 + COLUMN_GAP * (columns - 1)));
}

function buildNetwork() {
  const svg = $("#b-network", root);
  svg.replaceChildren();
  const sizes = [2, ...frame.layers.map((l) => l.shape[1])];
  const columns = sizes.length;
  const W = networkWidth(columns), H = 330, top = 30, bottom = 62;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", String(W));
  svg.setAttribute("height", String(H));
  const xOf = (l) => 70 + (l * (W - 190)) / (columns - 1);
  const positions = sizes.map((n, l) => {
    const gap = Math.min(34, (H - top - bottom) / Math.max(n, 1));
    const mid = top + (H - top - bottom) / 2;
    return Array.from({ length: n }, (_, i) => [xOf(l), mid + (i - (n - 1) / 2) * gap]);
  });
  const edges = [];
  const gEdges = make("g", {}, svg);
  frame.layers.forEach((_, l) => {
    const list = [];
    positions[l].forEach(([x1, y1], i) => {
      positions[l + 1].forEach(([x2, y2], j) => {
        const line = make("line", { x1, y1, x2, y2, "stroke-linecap": "round" }, gEdges);
        const title = make("title", {}, line);
        list.push({ line, title, i, j });
      });
    });
    edges.push(list);
  });
  const nodes = [];
  const radius = Math.max(6, Math.min(11, (H - top - bottom) / Math.max(...sizes) / 2.6));
  positions.forEach((column, l) => {
    const kind = l === 0 ? "input" : l === columns - 1 ? "output" : "hidden";
    const list = column.map(([x, y]) => {
      const circle = make("circle", { cx: x, cy: y, r: kind === "hidden" ? radius : 12, class: `node ${kind}` }, svg);
      make("title", {}, circle);
      return circle;
    });
    nodes.push(list);
  });
  make("text", { x: xOf(0) - 22, y: positions[0][0][1] + 4, "text-anchor": "end" }, svg).textContent = "x₁";
  make("text", { x: xOf(0) - 22, y: positions[0][1][1] + 4, "text-anchor": "end" }, svg).textContent = "x₂";
  const out = positions[columns - 1][0];
  make("text", { x: out[0] + 20, y: out[1] - 4 }, svg).textContent = "σ → p(class 1)";
  make("text", { x: out[0] + 20, y: out[1] + 12, class: "small" }, svg).textContent = "loss J";
  sizes.forEach((n, l) => {
    const label = l === 0 ? "input" : l === columns - 1 ? "output" : `hidden ${l}`;
    make("text", { x: xOf(l), y: 16, "text-anchor": "middle", class: "small" }, svg).textContent = `${label} (${n})`;
  });
  const norms = frame.layers.map((_, l) => {
    const x = (xOf(l) + xOf(l + 1)) / 2;
    make("text", { x, y: H - 38, "text-anchor": "middle", class: "small" }, svg).textContent = layerNames()[l];
    return make("text", { x, y: H - 20, "text-anchor": "middle", class: "norm" }, svg);
  });
  net = { edges, nodes, norms, key: `${sizes.join("-")}@${W}` };
}

function drawNetwork() {
  if (!frame) return;
  const sizes = [2, ...frame.layers.map((l) => l.shape[1])];
  const key = `${sizes.join("-")}@${networkWidth(sizes.length)}`;
  if (!net || net.key !== key) buildNetwork();
  const byGradient = c.edges.value === "grad";
  let top = 0;
  for (const layer of frame.layers) for (const row of layer[byGradient ? "edge_grad" : "weight"]) for (const v of row) top = Math.max(top, Math.abs(v ?? 0));
  frame.layers.forEach((layer, l) => {
    for (const edge of net.edges[l]) {
      const g = layer.edge_grad[edge.i][edge.j];
      const w = layer.weight[edge.i][edge.j];
      let s, color;
      if (byGradient) {
        s = scale(g, top);
        color = heat(s);
      } else {
        s = Math.min(1, Math.abs(w) / (top || 1));
        color = weightColor(w, top);
      }
      edge.line.setAttribute("stroke", color);
      edge.line.setAttribute("stroke-width", (0.4 + 5.6 * s).toFixed(2));
      edge.line.setAttribute("stroke-opacity", (0.35 + 0.65 * s).toFixed(2));
      edge.title.textContent = `w = ${fmt(w, 4)}, |∂J/∂w| = ${fmt(g, 3)}`;
    }
    net.norms[l].textContent = `‖∇‖ = ${fmt(layer.grad_norm, 2)}`;
    net.nodes[l + 1].forEach((circle, j) => {
      const bg = layer.bias_grad[j];
      if (circle.classList.contains("hidden")) circle.setAttribute("fill", heat(scale(bg, top) * 0.7));
      circle.firstChild.textContent = `|∂J/∂b| = ${fmt(bg, 3)}`;
    });
  });
  const legend = $("#b-legend", root);
  if (byGradient) {
    legend.innerHTML = `<span>edge width and colour: |∂J/∂w| of the latest step, on a log scale</span>
      <span>${fmt(top * 10 ** -DECADES, 2)} or less<span class="ramp" style="background: linear-gradient(90deg, ${[0, 0.25, 0.45, 0.6, 0.75, 1].map(heat).join(", ")})"></span>${fmt(top, 2)}</span>
      <span>‖∇‖ under each weight matrix: ‖∂J/∂W‖ of that layer (hover an edge or node for its numbers)</span>`;
  } else {
    legend.innerHTML = `<span>edge width: |w| (largest ${fmt(top, 3)}); colour: <b style="color:#2563eb">positive</b> / <b style="color:#ea580c">negative</b> weight</span>`;
  }
}

export function activate() {
  for (const id of ["#b-boundary", "#b-loss", "#b-norms"]) {
    const element = $(id, root);
    if (element.data) Plotly.Plots.resize(element);
  }
}

export function deactivate() {
  if (source) stop("Paused (another view is open).");
}
