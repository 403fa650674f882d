// View 5 — computation graph: the ops the engine recorded for f(x, y), each with its value and
// its gradient ∂f/∂node after backward(retain_graph=True), and the chain rule at a clicked node.

import { ApiError, clearErrors, latest, post, showError } from "./api.js";
import { $, debounce, fmt, readout } from "./ui.js";

const SVG = "http://www.w3.org/2000/svg";
const OPS = { Add: "+", Sub: "−", Mul: "×", Div: "÷", Power: "^", Neg: "negate" };
const BOX = { w: 132, h: 60, cw: 118, ch: 40, dx: 212, gap: 22, dummy: 14, pad: 24 };

let root, ctx, c;
let graph = null;
let selected = null;
let positions = {};

export function init(section, params, context) {
  root = section;
  ctx = context;
  c = { expr: $("#c-expr", root), examples: $("#c-examples", root), x: $("#c-x", root), y: $("#c-y", root) };
  for (const example of ctx.meta.examples.graphs) c.examples.add(new Option(example, example));
  if (params.get("expr")) c.expr.value = params.get("expr");
  if (params.get("x") !== null && Number.isFinite(Number(params.get("x")))) c.x.value = params.get("x");
  if (params.get("y") !== null && Number.isFinite(Number(params.get("y")))) c.y.value = params.get("y");
  selected = params.get("node");
  c.expr.addEventListener("input", debounce(() => { selected = null; refresh(); }, 300));
  c.examples.addEventListener("change", () => {
    if (!c.examples.value) return;
    c.expr.value = c.examples.value;
    c.examples.value = "";
    selected = null;
    refresh();
  });
  for (const input of [c.x, c.y]) input.addEventListener("input", debounce(() => refresh(), 250));
  refresh();
}

function saveState() {
  ctx.setState({ expr: c.expr.value, x: c.x.value, y: c.y.value, node: selected });
}

const refresh = latest(async (signal) => {
  saveState();
  try {
    const answer = await post("/api/graph", { expr: c.expr.value, x: numberOr(c.x.value), y: numberOr(c.y.value) }, signal);
    if (!answer) return;
    clearErrors(root);
    graph = answer;
    if (!graph.nodes.some((n) => n.id === selected)) selected = graph.nodes.find((n) => n.kind === "variable")?.id ?? graph.nodes[0].id;
    draw();
    explain();
  } catch (error) {
    if (error.name === "AbortError") return;
    if (!(error instanceof ApiError)) throw error;
    showError(root, error);
  }
});

function numberOr(text) {
  return text.trim() === "" ? text : Number(text);
}

function make(tag, attributes, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function title(node) {
  if (node.kind === "variable") return node.label;
  if (node.kind === "constant") return fmt(node.value, 4);
  return OPS[node.label] ? `${OPS[node.label]}  ${node.label}` : node.label.toLowerCase();
}

// Columns from the server (longest path from an input). An edge that skips columns passes through a
// "dummy" slot in each column it crosses, so it never runs behind a box; rows are ordered by the mean
// row of each item's inputs (a few sweeps of the barycentre heuristic).
function layout() {
  const byId = Object.fromEntries(graph.nodes.map((n) => [n.id, n]));
  const columns = [];
  const put = (item) => (columns[item.layer] ||= []).push(item);
  for (const node of graph.nodes) put({ id: node.id, layer: node.layer, height: size(node)[1], inputs: [] });
  const items = Object.fromEntries(columns.flat().map((item) => [item.id, item]));
  routes = graph.edges.map((e, index) => {
    const from = byId[e.source].layer, to = byId[e.target].layer;
    let previous = e.source;
    const via = [];
    for (let l = from + 1; l < to; l++) {
      const dummy = { id: `d${index}-${l}`, layer: l, height: BOX.dummy, inputs: [previous], dummy: true };
      put(dummy);
      items[dummy.id] = dummy;
      via.push(dummy.id);
      previous = dummy.id;
    }
    items[e.target].inputs.push(previous);
    return via;
  });
  const row = {};
  columns.forEach((column) => column.forEach((item, i) => { row[item.id] = i; }));
  for (let sweep = 0; sweep < 4; sweep++) {
    columns.forEach((column, l) => {
      if (l === 0) return;
      const key = (item) => (item.inputs.length ? item.inputs.reduce((s, id) => s + row[id], 0) / item.inputs.length : row[item.id]);
      column.sort((a, b) => key(a) - key(b));
      column.forEach((item, i) => { row[item.id] = i; });
    });
  }
  const heightOf = (column) => column.reduce((sum, item) => sum + item.height, 0) + BOX.gap * (column.length - 1);
  const tallest = Math.max(...columns.map(heightOf));
  positions = {};
  columns.forEach((column, l) => {
    let y = BOX.pad + (tallest - heightOf(column)) / 2;
    for (const item of column) {
      positions[item.id] = { x: BOX.pad + l * BOX.dx, y, height: item.height };
      y += item.height + BOX.gap;
    }
  });
  return { width: BOX.pad * 2 + (columns.length - 1) * BOX.dx + BOX.w + 10, height: BOX.pad * 2 + tallest };
}

let routes = [];

function size(node) {
  return node.kind === "constant" ? [BOX.cw, BOX.ch] : [BOX.w, BOX.h];
}

function draw() {
  const svg = $("#c-svg", root);
  svg.replaceChildren();
  const { width, height } = layout();
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  const defs = make("defs", {}, svg);
  const marker = make("marker", { id: "c-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "9", markerHeight: "9", markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" }, defs);
  make("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#94a3b8" }, marker);
  const byId = Object.fromEntries(graph.nodes.map((n) => [n.id, n]));
  const edgeLayer = make("g", {}, svg);
  const labelLayer = make("g", {}, svg);
  graph.edges.forEach((e, index) => {
    const a = positions[e.source], b = positions[e.target];
    const [aw] = size(byId[e.source]);
    const points = [[a.x + aw, a.y + a.height / 2]];
    for (const id of routes[index]) {
      const d = positions[id];
      points.push([d.x, d.y + d.height / 2], [d.x + BOX.w, d.y + d.height / 2]);
    }
    points.push([b.x - 2, b.y + b.height / 2]);
    let d = `M ${points[0][0]} ${points[0][1]}`;
    for (let i = 1; i < points.length; i++) {
      const [x1, y1] = points[i - 1], [x2, y2] = points[i];
      if (i % 2 === 0 && routes[index].length) d += ` L ${x2} ${y2}`; // straight through a dummy slot
      else {
        const mx = (x1 + x2) / 2;
        d += ` C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`;
      }
    }
    const path = make("path", { d, class: "edge", "marker-end": "url(#c-arrow)", "data-edge": index }, edgeLayer);
    path.dataset.source = e.source;
    if (e.local !== null && e.local !== undefined) {
      const [x1, y1] = points[points.length - 2], [x2, y2] = points[points.length - 1];
      const label = make("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 5, "text-anchor": "middle", class: "elabel", "data-source": e.source }, labelLayer);
      label.textContent = `×${fmt(e.local, 4)}`;
    }
  });
  for (const node of graph.nodes) {
    const p = positions[node.id];
    const [w, h] = size(node);
    const classes = ["gnode", node.kind, node.output ? "output" : "", node.id === selected ? "selected" : ""].join(" ");
    const g = make("g", { class: classes, transform: `translate(${p.x} ${p.y})`, tabindex: "0", role: "button", "data-node": node.id, "aria-label": `${title(node)}: value ${fmt(node.value)}, gradient ${fmt(node.grad)}` }, svg);
    make("rect", { width: w, height: h, rx: 8 }, g);
    if (node.kind === "constant") {
      make("text", { x: w / 2, y: 16, "text-anchor": "middle", class: "title" }, g).textContent = title(node);
      make("text", { x: w / 2, y: 32, "text-anchor": "middle", class: "val" }, g).textContent = "constant";
    } else {
      make("text", { x: w / 2, y: 17, "text-anchor": "middle", class: "title" }, g).textContent = node.output ? `${title(node)} = f` : title(node);
      make("text", { x: 8, y: 35, class: "val" }, g).textContent = `value ${fmt(node.value, 6)}`;
      make("text", { x: 8, y: 51, class: "grad" }, g).textContent = `∂f/∂· ${fmt(node.grad, 6)}`;
    }
    g.addEventListener("click", () => select(node.id));
    g.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(node.id); } });
  }
  highlight();
}

function select(id) {
  selected = id;
  saveState();
  for (const g of root.querySelectorAll("#c-svg .gnode")) g.classList.toggle("selected", g.dataset.node === id);
  highlight();
  explain();
}

function highlight() {
  for (const path of root.querySelectorAll("#c-svg .edge")) path.classList.toggle("active", path.dataset.source === selected);
  for (const label of root.querySelectorAll("#c-svg .elabel")) label.classList.toggle("active", label.dataset.source === selected);
}

function name(node) {
  if (node.kind === "variable") return node.label;
  if (node.kind === "constant") return `constant ${fmt(node.value, 4)}`;
  return node.label;
}

function explain() {
  const byId = Object.fromEntries(graph.nodes.map((n) => [n.id, n]));
  const g = graph.gradient, n = graph.numeric_gradient;
  readout($("#c-readout", root), [
    ["f(x, y)", fmt(graph.value, 10), { id: "c-value", value: graph.value }],
    ["∂f/∂x (engine)", fmt(g.x, 10), { id: "c-grad-x", value: g.x }],
    ["∂f/∂y (engine)", fmt(g.y, 10), { id: "c-grad-y", value: g.y }],
    ["finite differences", "", { section: true }],
    ["∂f/∂x ≈ central", fmt(n.x, 10)],
    ["∂f/∂y ≈ central", fmt(n.y, 10)],
    ["recorded ops", String(graph.ops)],
  ]);
  // where f has no value (x/y at y = 0) the page says why, instead of "—" and a meaningless estimate
  const note = $("#c-undefined", root);
  note.hidden = !graph.undefined;
  note.textContent = graph.undefined ? `${graph.undefined}, so f has no gradient here to check.` : "";
  const box = $("#c-chain", root);
  box.replaceChildren();
  const node = byId[selected];
  if (!node) return;
  const heading = document.createElement("h4");
  heading.textContent = `Chain rule at ${name(node)}`;
  box.appendChild(heading);
  const term = (text) => {
    const div = document.createElement("div");
    div.className = "term";
    div.textContent = text;
    box.appendChild(div);
  };
  if (node.output) {
    term("∂f/∂f = 1: backward() starts here with the gradient 1.");
    return;
  }
  if (node.kind === "constant") {
    term("A constant: no gradient flows into it (nothing asked for one).");
    return;
  }
  const uses = graph.edges.filter((e) => e.source === node.id);
  const symbol = `∂f/∂(${name(node)})`;
  const parts = uses.map((e) => `∂f/∂(${name(byId[e.target])}) × ∂${byId[e.target].label}/∂(input ${e.argument + 1})`);
  const numbers = uses.map((e) => `${fmt(byId[e.target].grad, 5)} × ${fmt(e.local, 5)}`);
  term(`${symbol}\n  = ${parts.join("\n  + ")}\n  = ${numbers.join("\n  + ")}\n  = ${fmt(node.grad, 8)}`);
  if (uses.length > 1) term(`${name(node)} is used ${uses.length} times: the gradients from every use add up.`);
}

export function activate() {}
