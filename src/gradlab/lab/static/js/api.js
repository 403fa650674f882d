// Talking to the lab's server, showing its refusals next to the right control, and keeping each
// view's state in the URL hash (#view?key=value&...) so a link reopens the same picture.

export class ApiError extends Error {
  constructor(message, field, status, column) {
    super(message);
    this.field = field;
    this.status = status;
    this.column = column;
  }
}

async function call(method, url, body, signal) {
  const options = { method, signal, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError("the lab's server did not answer (is `gradlab lab` still running?)", null, 0);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = { detail: `the server answered HTTP ${response.status}` };
  }
  if (!response.ok) throw new ApiError(data.detail || `HTTP ${response.status}`, data.field, response.status, data.column);
  return data;
}

export const get = (url, signal) => call("GET", url, undefined, signal);
export const post = (url, body, signal) => call("POST", url, body, signal);
export const del = (url) => call("DELETE", url);

// A request that replaces the previous one: answers to outdated requests are dropped.
export function latest(run) {
  let controller = null;
  return async (...args) => {
    if (controller) controller.abort();
    controller = new AbortController();
    const mine = controller;
    try {
      return await run(mine.signal, ...args);
    } catch (error) {
      if (error.name === "AbortError" || mine.signal.aborted) return undefined;
      throw error;
    } finally {
      if (controller === mine) controller = null;
    }
  };
}

// --- errors next to controls ------------------------------------------------------------------------

export function clearErrors(root) {
  for (const box of root.querySelectorAll(".error[data-error-for]")) {
    box.hidden = true;
    box.textContent = "";
  }
  for (const input of root.querySelectorAll(".invalid")) {
    input.classList.remove("invalid");
    input.removeAttribute("aria-invalid");
  }
}

// Show `error` in the box for its field: "optimizers.2.lr" tries that, then "optimizers.2", then
// "optimizers", then "lr", then the view's general box.
export function showError(root, error, fallbackField) {
  if (error.name === "AbortError") return;
  const field = error.field || fallbackField || "*";
  const parts = String(field).split(".");
  let box = null;
  for (let n = parts.length; n > 0 && !box; n--) {
    box = root.querySelector(`.error[data-error-for="${CSS.escape(parts.slice(0, n).join("."))}"]`);
  }
  // "hyper.momentum": the box of the momentum control
  if (!box && parts.length > 1) box = root.querySelector(`.error[data-error-for="${CSS.escape(parts.at(-1))}"]`);
  box = box || root.querySelector('.error[data-error-for="*"]');
  if (!box) return;
  const message = String(error.message || error);
  const [first, ...rest] = message.split("\n");
  box.textContent = first;
  if (rest.length) {
    const code = document.createElement("span");
    code.className = "code";
    code.textContent = rest.map((line) => line.replace(/^ {2}/, "")).join("\n");
    box.appendChild(code);
  }
  box.hidden = false;
  const input = box.closest(".field, .entry")?.querySelector("input.formula, input[type=number], input[type=text]");
  if (input && box.dataset.errorFor !== "*") {
    input.classList.add("invalid");
    input.setAttribute("aria-invalid", "true");
  }
}

// --- state in the URL ------------------------------------------------------------------------------

export function readHash() {
  const text = location.hash.replace(/^#/, "");
  const cut = text.indexOf("?");
  const view = cut < 0 ? text : text.slice(0, cut);
  return { view: view || "derivatives", params: new URLSearchParams(cut < 0 ? "" : text.slice(cut + 1)) };
}

export function writeHash(view, state) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(state)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const hash = `#${view}` + (params.toString() ? `?${params}` : "");
  if (hash !== location.hash) history.replaceState(null, "", hash);
}

// At most one request at a time; while one runs, only the newest waiting arguments are kept.
// (For sliders and dragging: every answer arrives, and the last position always gets one.)
export function coalesce(run) {
  let running = false;
  let waiting = null;
  const pump = async () => {
    while (waiting) {
      const args = waiting;
      waiting = null;
      running = true;
      try {
        await run(...args);
      } finally {
        running = false;
      }
    }
  };
  return (...args) => {
    waiting = args;
    if (!running) pump();
  };
}
