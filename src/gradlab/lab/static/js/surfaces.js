// What the descent and race views share: choosing a landscape (or typing f(x, y)), the optimizer
// names and hyper-parameter controls, and drawing a landscape as a contour map.

import { layoutImage, rasterise } from "./raster.js";
import { fillSelect, fmt, parseRange } from "./ui.js";

export const OPTIMIZER_LABELS = {
  sgd: "SGD",
  momentum: "Momentum (heavy ball)",
  nesterov: "Nesterov momentum",
  adagrad: "AdaGrad",
  rmsprop: "RMSProp",
  adam: "Adam",
  adamw: "AdamW",
  amsgrad: "AMSGrad",
};

// The hyper-parameters the page lets you change (eps and weight decay keep gradlab's defaults).
export const HYPER = {
  momentum: { label: "μ", title: "momentum μ", min: 0, max: 0.99, step: 0.01 },
  beta1: { label: "β₁", title: "β₁ (first-moment decay)", min: 0, max: 0.999, step: 0.001 },
  beta2: { label: "β₂", title: "β₂ (second-moment decay)", min: 0.9, max: 0.9999, step: 0.0001 },
  rho: { label: "ρ", title: "ρ (decay of the squared-gradient average)", min: 0, max: 0.999, step: 0.001 },
};

export function hyperNames(meta, optimizer) {
  return Object.keys(meta.optimizers[optimizer] || {}).filter((key) => key in HYPER);
}

export function fillLandscapes(select, meta, selected) {
  const options = meta.landscapes.map((l) => [l.name, `${l.name.replace(/_/g, " ")} — ${l.description}`]);
  options.push(["typed", "type your own f(x, y)…"]);
  fillSelect(select, options, selected);
}

export function fillOptimizers(select, meta, selected) {
  fillSelect(select, Object.keys(meta.optimizers).map((name) => [name, OPTIMIZER_LABELS[name] || name]), selected);
}

// The request fields that name the landscape, from the view's controls.
export function landscapeBody(c) {
  const typed = c.landscape.value === "typed";
  const body = { landscape: typed ? "rosenbrock" : c.landscape.value, condition: c.condition() };
  if (typed) {
    body.expr = c.expr.value;
    body.x_range = parseRange(c.xr.value) || c.xr.value;
    body.y_range = parseRange(c.yr.value) || c.yr.value;
  }
  return body;
}

// Colour transform: log10(f - min + δ) shows valleys that a linear scale flattens.
export function transform(surface, useLog) {
  const low = surface.z_min ?? 0;
  const spread = (surface.z_max ?? 1) - low;
  const delta = Math.max(spread * 1e-3, 1e-12);
  if (!useLog) return { f: (v) => v, title: "f(x, y)" };
  return {
    f: (v) => (v === null || !Number.isFinite(v) ? null : Math.log10(Math.max(v - low, 0) + delta)),
    title: "log₁₀(f − min)",
  };
}

// --- the landscape as a picture --------------------------------------------------------------------
// plotly redraws a contour trace on every change of the figure (~0.2 s here), which makes animated
// paths stutter; so the filled contour map is drawn once into an image (from gradlab's grid values,
// smoothed bilinearly, in 28 colour bands with a thin line between bands) and placed under the axes.

const VIRIDIS = [
  [0, [68, 1, 84]], [0.13, [71, 44, 122]], [0.25, [59, 81, 139]], [0.38, [44, 113, 142]], [0.5, [33, 144, 141]],
  [0.63, [39, 173, 129]], [0.75, [92, 200, 99]], [0.88, [170, 220, 50]], [1, [253, 231, 37]],
];
export const VIRIDIS_SCALE = VIRIDIS.map(([s, [r, g, b]]) => [s, `rgb(${r},${g},${b})`]);

function viridis(s) {
  for (let i = 1; i < VIRIDIS.length; i++) {
    const [b, cb] = VIRIDIS[i];
    const [a, ca] = VIRIDIS[i - 1];
    if (s <= b) {
      const t = (s - a) / (b - a);
      return ca.map((v, k) => v + (cb[k] - v) * t);
    }
  }
  return VIRIDIS[VIRIDIS.length - 1][1];
}

const BANDS = 28;
// each band's colour (viridis at the band's middle), and the same lightened for a line between bands
const BAND_COLOURS = Array.from({ length: BANDS }, (_, k) => viridis((k + 0.5) / BANDS));
const LINE_COLOURS = BAND_COLOURS.map((colour) => colour.map((c) => c + (255 - c) * 0.35));

export function fieldRange(surface, t) {
  let low = Infinity, high = -Infinity;
  for (const row of surface.z) for (const v of row) {
    const w = t.f(v);
    if (w !== null && Number.isFinite(w)) { low = Math.min(low, w); high = Math.max(high, w); }
  }
  if (!Number.isFinite(low)) return [0, 1];
  return high > low ? [low, high] : [low - 1, high + 1];
}

// Cached on the surface object: one image per colour transform.
export function surfaceImage(surface, t, pixels = 360) {
  surface.images ||= {};
  if (!surface.images[t.title]) surface.images[t.title] = drawSurfaceImage(surface, t, pixels);
  return surface.images[t.title];
}

function drawSurfaceImage(surface, t, pixels) {
  const [low, high] = fieldRange(surface, t);
  // the colour band of a value, -1 where f has none
  const bandOf = (w) => {
    if (Number.isNaN(w)) return -1;
    const s = Math.min(1, Math.max(0, (w - low) / (high - low)));
    return Math.min(BANDS - 1, Math.floor(s * BANDS));
  };
  const colour = (values, at, u, v) => {
    const band = bandOf(values[at]);
    if (band < 0) return null;
    const other = (k) => { const b = bandOf(values[k]); return b >= 0 && b !== band; };
    const edge = (u + 1 < pixels && other(at + 1)) || (v + 1 < pixels && other(at + pixels));
    return (edge ? LINE_COLOURS : BAND_COLOURS)[band];
  };
  const source = rasterise(surface.z.map((row) => row.map(t.f)), pixels, colour);
  return layoutImage(source, surface.x, surface.y);
}

// A trace that only carries the colour bar of the image (drawn invisible, off to the side).
export function colorbarTrace(surface, t, showscale = true) {
  const [low, high] = fieldRange(surface, t);
  return {
    type: "heatmap", z: [[low, high]], x: [surface.x[0], surface.x[0]], y: [surface.y[0], surface.y[0]],
    zmin: low, zmax: high, colorscale: VIRIDIS_SCALE, opacity: 0, hoverinfo: "skip", showscale, showlegend: false,
    colorbar: { title: { text: t.title, side: "right", font: { size: 11 } }, thickness: 12, len: 0.9 },
    name: "f",
  };
}

// Clicks anywhere on the map (plotly reports clicks only near a trace's points), in data
// coordinates, and a note with the grid value of f nearest the pointer.
export function watchMap(element, getSurface, onClick) {
  if (element.dataset.mapReady) return;
  element.dataset.mapReady = "1";
  const note = document.createElement("div");
  note.className = "maphover";
  note.hidden = true;
  element.parentElement.appendChild(note);
  const where = (event) => {
    const area = element.querySelector(".nsewdrag");
    const full = element._fullLayout;
    if (!area || !full) return null;
    const box = area.getBoundingClientRect();
    const px = event.clientX - box.left, py = event.clientY - box.top;
    if (px < 0 || py < 0 || px > box.width || py > box.height) return null;
    return [full.xaxis.p2c(px), full.yaxis.p2c(py)];
  };
  element.addEventListener("click", (event) => {
    const p = where(event);
    if (p && p.every(Number.isFinite)) onClick(p);
  });
  element.addEventListener("mousemove", (event) => {
    const surface = getSurface();
    const p = where(event);
    if (!p || !surface) { note.hidden = true; return; }
    const j = nearest(surface.x, p[0]), i = nearest(surface.y, p[1]);
    note.textContent = `(${fmt(p[0], 3)}, ${fmt(p[1], 3)})  f ≈ ${fmt(surface.z[i][j], 4)} · click to start here`;
    note.hidden = false;
  });
  element.addEventListener("mouseleave", () => { note.hidden = true; });
}

function nearest(values, v) {
  const step = (values[values.length - 1] - values[0]) / (values.length - 1);
  return Math.max(0, Math.min(values.length - 1, Math.round((v - values[0]) / step)));
}

export function minimaTrace(surface) {
  return {
    type: "scatter",
    mode: "markers",
    x: surface.minima.map((m) => m.x),
    y: surface.minima.map((m) => m.y),
    name: "known minimum",
    marker: { symbol: "star", size: 15, color: "#facc15", line: { color: "#111827", width: 1 } },
    hovertemplate: "minimum (%{x:.4g}, %{y:.4g})<extra></extra>",
  };
}

export function windowAxes(surface) {
  const [[x0, x1], [y0, y1]] = surface.window;
  return {
    xaxis: { range: [x0, x1], title: { text: "x" }, constrain: "domain", showgrid: false, zeroline: false },
    yaxis: { range: [y0, y1], title: { text: "y" }, showgrid: false, zeroline: false },
  };
}

export function inWindow(surface, x, y) {
  const [[x0, x1], [y0, y1]] = surface.window;
  return x !== null && y !== null && x >= x0 && x <= x1 && y >= y0 && y <= y1;
}

export function startText(start) {
  return start ? `(${fmt(start[0], 4)}, ${fmt(start[1], 4)})` : "the landscape's default";
}

export function parseStart(text) {
  const pair = parseRange(text || "");
  return pair && pair.every((v) => Math.abs(v) <= 1e6) ? pair : null;
}
