// Shared pieces of the page: number formatting, plot styling, log-scale sliders and the player.

export const COLORS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#db2777", "#0891b2", "#ca8a04", "#475569"];

export const $ = (selector, root = document) => root.querySelector(selector);

// A number for people: "—" for a missing (undefined, NaN, infinite) value.
export function fmt(value, digits = 5) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
  if (value === 0) return "0";
  const size = Math.abs(value);
  let text;
  if (size >= 1e5 || size < 1e-3) {
    text = value.toExponential(Math.max(1, digits - 2)).replace(/\.?0+e/, "e");
  } else {
    text = Number(value.toPrecision(digits)).toString();
  }
  return text.replace("-", "−");
}

export const sci = (value) => fmt(value, 3);

export function debounce(run, wait = 200) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => run(...args), wait);
  };
}

// --- plots -----------------------------------------------------------------------------------------

export const PLOT_CONFIG = {
  displaylogo: false,
  responsive: true,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines", "hoverCompareCartesian", "hoverClosestCartesian"],
};

export function layout(extra = {}) {
  const base = {
    font: { family: "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", size: 12, color: "#1e293b" },
    margin: { l: 58, r: 18, t: 40, b: 46 },
    paper_bgcolor: "#ffffff",
    plot_bgcolor: "#ffffff",
    hoverlabel: { font: { family: "ui-monospace, DejaVu Sans Mono, monospace", size: 12 } },
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", bgcolor: "rgba(255,255,255,0.8)" },
    title: { font: { size: 14 }, x: 0.01, xanchor: "left", y: 0.98 },
  };
  const merged = { ...base, ...extra };
  for (const axis of ["xaxis", "yaxis"]) {
    merged[axis] = { gridcolor: "#eef2f7", zerolinecolor: "#cbd5e1", linecolor: "#cbd5e1", ...(extra[axis] || {}) };
  }
  if (extra.title && typeof extra.title === "string") merged.title = { ...base.title, text: extra.title };
  return merged;
}

export function axisTitle(text) {
  return { text, font: { size: 12.5 } };
}

export function plot(element, traces, plotLayout, config = {}) {
  return Plotly.react(element, traces, plotLayout, { ...PLOT_CONFIG, ...config });
}

export function resizePlots(root) {
  for (const element of root.querySelectorAll(".js-plotly-plot")) Plotly.Plots.resize(element);
}

// --- controls ----------------------------------------------------------------------------------------

// A range input holding log10 of the value; returns {get(), set(value)} and writes the value to `output`.
export function logSlider(input, output, onInput, { zeroAtMin = false } = {}) {
  const value = () => {
    const v = Number(input.value);
    if (zeroAtMin && v <= Number(input.min)) return 0;
    return Number((10 ** v).toPrecision(3));
  };
  const show = () => { output.textContent = fmt(value(), 3); };
  input.addEventListener("input", () => { show(); onInput?.(value()); });
  show();
  return {
    get: value,
    set(v) {
      const number = Number(v);
      if (zeroAtMin && number === 0) input.value = input.min;
      else if (number > 0) input.value = Math.min(Number(input.max), Math.max(Number(input.min), Math.log10(number)));
      show();
    },
  };
}

// "a, b" → [a, b] (numbers), or null.
export function parseRange(text) {
  const parts = String(text).split(/[,;\s]+/).filter(Boolean).map(Number);
  return parts.length === 2 && parts.every(Number.isFinite) ? parts : null;
}

export function fillSelect(select, options, selected) {
  select.replaceChildren(...options.map(([value, label]) => {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = label;
    if (value === selected) option.selected = true;
    return option;
  }));
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

export function readout(table, rows) {
  table.replaceChildren(...rows.map(([label, value, options = {}]) => {
    const row = document.createElement("tr");
    if (options.section) row.className = "section";
    const th = document.createElement("th");
    th.textContent = label;
    if (options.section) th.colSpan = 2;
    row.appendChild(th);
    if (!options.section) {
      const td = document.createElement("td");
      td.textContent = value;
      if (options.id) td.id = options.id;
      if (options.value !== undefined) td.dataset.value = String(options.value);
      row.appendChild(td);
    }
    return row;
  }));
}

// --- play / pause / step over a recorded path --------------------------------------------------------

export class Player {
  constructor(root, onStep) {
    this.root = root;
    this.onStep = onStep;
    this.step = 0;
    this.total = 0;
    this.playing = false;
    this.slider = root.querySelector('[data-role="slider"]');
    this.stepOut = root.querySelector('[data-role="step"]');
    this.totalOut = root.querySelector('[data-role="total"]');
    this.speed = root.querySelector('[data-role="speed"]');
    this.playButton = root.querySelector('[data-act="play"]');
    root.addEventListener("click", (event) => {
      const act = event.target.closest("button")?.dataset.act;
      if (act === "play") this.toggle();
      else if (act === "first") { this.pause(); this.go(0); }
      else if (act === "back") { this.pause(); this.go(this.step - 1); }
      else if (act === "forward") { this.pause(); this.go(this.step + 1); }
    });
    this.slider.addEventListener("input", () => { this.pause(); this.go(Number(this.slider.value)); });
  }

  setTotal(total, step = total) {
    this.total = total;
    this.slider.max = String(total);
    this.totalOut.textContent = String(total);
    this.go(step);
  }

  go(step) {
    this.step = Math.max(0, Math.min(this.total, Math.round(step)));
    this.slider.value = String(this.step);
    this.stepOut.textContent = String(this.step);
    this.onStep(this.step);
  }

  toggle() { if (this.playing) this.pause(); else this.play(); }

  play() {
    if (this.total === 0) return;
    if (this.step >= this.total) this.go(0);
    this.playing = true;
    this.playButton.textContent = "⏸ pause";
    this.playButton.setAttribute("aria-label", "pause");
    let last = performance.now();
    let carry = 0;
    const tick = (now) => {
      if (!this.playing) return;
      carry += ((now - last) / 1000) * Number(this.speed.value);
      last = now;
      const advance = Math.floor(carry);
      if (advance > 0) {
        carry -= advance;
        this.go(this.step + advance);
      }
      if (this.step >= this.total) { this.pause(); return; }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  pause() {
    this.playing = false;
    this.playButton.textContent = "▶ play";
    this.playButton.setAttribute("aria-label", "play");
  }
}

// Run at most once every `wait` ms; the last call always runs (after the wait).
export function throttle(run, wait) {
  let last = 0;
  let timer = null;
  let pending = null;
  const fire = () => {
    timer = null;
    last = performance.now();
    const args = pending;
    pending = null;
    run(...args);
  };
  const throttled = (...args) => {
    pending = args;
    if (timer) return;
    const due = last + wait - performance.now();
    if (due <= 0) fire();
    else timer = setTimeout(fire, due);
  };
  throttled.now = (...args) => {
    clearTimeout(timer);
    timer = null;
    pending = args;
    fire();
  };
  return throttled;
}

// --- narrow screens ------------------------------------------------------------------------------------

// Marks a scrolling box with data-overflow="start", "end" or "start end" while its content runs past
// that edge (the CSS fades the edge, so the box shows that it scrolls); no attribute when all fits.
export function watchOverflow(box) {
  const update = () => {
    const hidden = box.scrollWidth - box.clientWidth;
    const edges = [];
    if (hidden > 1 && box.scrollLeft > 1) edges.push("start");
    if (hidden > 1 && box.scrollLeft < hidden - 1) edges.push("end");
    if (edges.length) box.dataset.overflow = edges.join(" ");
    else delete box.dataset.overflow;
  };
  box.addEventListener("scroll", update, { passive: true });
  const sizes = new ResizeObserver(update);
  sizes.observe(box);
  for (const child of box.children) sizes.observe(child); // a redrawn graph, network or table
  update();
  return update;
}

export const PHONE = window.matchMedia("(max-width: 760px)");

// On a phone the views stack (controls, then plots), and a readout under the controls would push the
// plot they steer off the screen: each [data-phone-after="id"] moves below the card of element #id
// there, and back into its place on a wider screen.
export function arrangeForScreen() {
  for (const item of document.querySelectorAll("[data-phone-after]")) {
    if (!item.labHome) {
      item.labHome = document.createComment(" its place on a wide screen ");
      item.before(item.labHome);
    }
    const card = document.getElementById(item.dataset.phoneAfter)?.closest(".card");
    if (PHONE.matches && card) {
      card.after(item);
      item.classList.add("card");
    } else {
      item.labHome.after(item);
      item.classList.remove("card");
    }
  }
}
