// The page: five views behind tabs. Each view is set up the first time it is shown, with the
// state read from the URL hash, and writes its state back to the hash as it changes.

import { get, readHash, writeHash } from "./api.js";
import { arrangeForScreen, debounce, PHONE, resizePlots, watchOverflow } from "./ui.js";
import * as derivatives from "./derivatives.js";
import * as descent from "./descent.js";
import * as race from "./race.js";
import * as backprop from "./backprop.js";
import * as graph from "./graph.js";

const VIEWS = { derivatives, descent, race, backprop, graph };
const started = {};
const lastState = {};
let current = null;

function show(name, params) {
  if (!VIEWS[name]) name = "derivatives";
  if (current && current !== name) VIEWS[current].deactivate?.();
  for (const section of document.querySelectorAll("section.view")) section.hidden = section.dataset.view !== name;
  for (const tab of document.querySelectorAll(".tabs a")) {
    tab.setAttribute("aria-selected", String(tab.dataset.view === name));
  }
  const root = document.getElementById(`view-${name}`);
  current = name;
  const write = debounce(() => { if (current === name) writeHash(name, lastState[name]); }, 250);
  const setState = (state) => {
    lastState[name] = state;
    write();
  };
  if (!started[name]) {
    started[name] = true;
    VIEWS[name].init(root, params, { meta: window.labMeta, setState });
  } else {
    if (lastState[name]) writeHash(name, lastState[name]);
    resizePlots(root);
    VIEWS[name].activate?.();
  }
  const tab = document.querySelector(`.tabs a[data-view="${name}"]`);
  tab.scrollIntoView({ block: "nearest", inline: "center" }); // on a phone the tab bar scrolls: show the tab clear of its faded edges
  document.title = `gradlab lab · ${tab.textContent.replace(/^\d · /, "")}`;
}

async function boot() {
  const meta = await get("/api/meta");
  window.labMeta = meta;
  for (const span of document.querySelectorAll(".limit[data-limit]")) {
    span.textContent = String(meta.limits[span.dataset.limit]);
  }
  document.getElementById("boot").remove();
  arrangeForScreen();
  PHONE.addEventListener("change", () => {
    arrangeForScreen();
    if (current) resizePlots(document.getElementById(`view-${current}`));
  });
  for (const box of document.querySelectorAll(".tabs, .graph-scroll, .network-scroll, .table-scroll")) watchOverflow(box);
  for (const tab of document.querySelectorAll(".tabs a")) {
    tab.addEventListener("click", (event) => {
      event.preventDefault();
      const name = tab.dataset.view;
      if (name === current) return;
      history.pushState(null, "", `#${name}`);
      show(name, new URLSearchParams());
    });
  }
  window.addEventListener("hashchange", () => {
    const { view, params } = readHash();
    if (view !== current) show(view, params);
    else location.reload(); // a link to another picture of the same view: start it afresh
  });
  const { view, params } = readHash();
  show(view, params);
}

boot().catch((error) => {
  const box = document.getElementById("boot");
  if (box) box.textContent = `The lab could not start: ${error.message}`;
  throw error;
});
