// The page of `lstmkit serve`: a panel per task over the JSON API (each task's panel.js), and inside the LSTM. No libraries, no network but this server.
"use strict";

const $ = (id) => document.getElementById(id);
let models = [];

async function api(path, body) {
  const headers = { "Content-Type": "application/json" };
  const key = $("api-key").value;
  if (key) headers["X-API-Key"] = key;
  let response;
  try {
    response = await fetch(path, { method: body === undefined ? "GET" : "POST", headers,
                                   body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new Error("could not reach the server (" + error.message + ")");
  }
  if (response.status === 401) $("key-row").hidden = false;
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try { message = (await response.json()).error || message; } catch (ignored) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

function showError(panel, error) {
  $(panel + "-error").textContent = error ? "Error: " + error.message : "";
}

async function loadModels() {
  try {
    models = (await (await api("/v1/models")).json()).models;
  } catch (error) {
    $("models").textContent = "Could not list the models: " + error.message;
    return;
  }
  $("models").textContent = "Serving: " + models.map((m) => m.name + " (" + m.task + ")").join(", ");
  for (const select of document.querySelectorAll("select[data-task]")) {
    const task = select.dataset.task;
    select.replaceChildren(...models.filter((m) => task === "any" || m.task === task).map((m) => {
      const option = document.createElement("option");
      option.value = m.name;
      option.textContent = m.name + (task === "any" ? " (" + m.task + ")" : "");
      return option;
    }));
    if (!select.options.length) {
      const option = document.createElement("option");
      option.textContent = "no " + task + " model is served: start lstmkit serve with a " + task +
        " run, or with no run for the installed models";
      option.value = "";
      select.append(option);
    }
  }
  // open on a task that is served, if the one shown is not
  const served = new Set(models.map((m) => m.task));
  const shown = tabs.find((tab) => tab.getAttribute("aria-selected") === "true");
  const first = tabs.find((tab) => served.has(tab.getAttribute("aria-controls")));
  if (first && shown && !served.has(shown.getAttribute("aria-controls"))) selectTab(first, false);
}

// Tabs: click, or the arrow keys on the tab list.
const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
function selectTab(tab, focus = true) {
  for (const other of tabs) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(other.getAttribute("aria-controls")).hidden = !selected;
  }
  if (focus) tab.focus();
}
tabs.forEach((tab, index) => {
  tab.tabIndex = index === 0 ? 0 : -1;
  tab.addEventListener("click", () => selectTab(tab));
  tab.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (step) selectTab(tabs[(index + step + tabs.length) % tabs.length]);
  });
});
selectTab(tabs[0], false);

function heatMap(canvas, values, rowLabels, columnLabels, colour, title) {
  const cell = 18, left = 10 + 7 * Math.max(...rowLabels.map((l) => l.length)), top = title ? 24 : 6;
  const bottom = 10 + 7 * Math.max(1, ...columnLabels.map((l) => l.length));
  canvas.width = Math.max(left + cell * columnLabels.length + 10, title ? 7.5 * title.length + 10 : 0);
  canvas.height = top + cell * rowLabels.length + bottom;
  const context = canvas.getContext("2d");
  context.fillStyle = "white";
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.font = "12px monospace";
  context.fillStyle = "#111";
  if (title) context.fillText(title, 4, 16);
  values.forEach((row, r) => {
    context.fillStyle = "#111";
    context.textAlign = "right";
    context.fillText(rowLabels[r], left - 4, top + r * cell + 13);
    row.forEach((value, c) => {
      context.fillStyle = colour(value);
      context.fillRect(left + c * cell, top + r * cell, cell - 1, cell - 1);
    });
  });
  context.textAlign = "left";
  columnLabels.forEach((label, c) => {
    context.save();
    context.translate(left + c * cell + 12, top + rowLabels.length * cell + 4);
    context.rotate(Math.PI / 2);
    context.fillStyle = "#111";
    context.fillText(label, 0, 0);
    context.restore();
  });
}

const shown = (token) => token === " " ? "␣" : token === "\n" ? "⏎" : token;
const gateColour = (v) => `rgb(${255 - 230 * v}, ${255 - 160 * v}, 255)`;  // 0 white .. 1 blue

// Translation, with the attention matrix for models that have attention.
function correlation(a, b) {
  const n = a.length, ma = a.reduce((s, x) => s + x, 0) / n, mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let k = 0; k < n; k++) {
    sab += (a[k] - ma) * (b[k] - mb); saa += (a[k] - ma) ** 2; sbb += (b[k] - mb) ** 2;
  }
  return saa && sbb ? sab / Math.sqrt(saa * sbb) : 0;
}

function features(tokens) {
  let quoted = 0, column = 0;
  const inQuotes = [], lineLength = [], isSpace = [];
  for (const token of tokens) {
    if (token.includes('"')) quoted = 1 - quoted;
    column = token === "\n" ? 0 : column + 1;
    inQuotes.push(quoted); lineLength.push(column); isSpace.push(token.trim() ? 0 : 1);
  }
  return { "inside quotes": inQuotes, "position in the line": lineLength, "a space or line end": isSpace };
}

$("inspect-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("inspect");
  $("inspect-tracking").replaceChildren();
  $("inspect-maps").replaceChildren();
  try {
    const answer = await (await api("/v1/inspect", { model: $("inspect-model").value || null,
                                                    text: $("inspect-text").value })).json();
    const layer = answer.layers[0], steps = answer.tokens.length, width = layer.c[0].length;
    const column = (name, unit) => layer[name].map((step) => step[unit]);
    const tracking = Object.entries(features(answer.tokens)).map(([feature, values]) => {
      let best = { unit: 0, r: 0 };
      for (let unit = 0; unit < width; unit++) {
        const r = correlation(column("c", unit), values);
        if (Math.abs(r) > Math.abs(best.r)) best = { unit, r };
      }
      return { feature, ...best };
    });
    const typed = $("inspect-units").value.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
    const bad = typed.find((u) => !Number.isInteger(u) || u < 0 || u >= width);
    if (bad !== undefined) throw new Error(`unit ${bad} does not exist: this layer has units 0 to ${width - 1}`);
    const units = typed.length ? typed : [...new Set(tracking.map((t) => t.unit))];
    const list = document.createElement("ul");
    for (const t of tracking) {
      const item = document.createElement("li");
      item.textContent = `unit ${t.unit} follows "${t.feature}" (correlation of its cell state ${t.r.toFixed(2)})`;
      list.append(item);
    }
    const heading = document.createElement("p");
    heading.textContent = `${layer.name} of ${answer.model} (${answer.task}), ${width} units, ${steps} steps. ` +
                          "Units whose cell state follows something visible in the text:";
    $("inspect-tracking").append(heading, list);
    const labels = answer.tokens.map(shown);
    const names = { f: "forget gate f", i: "input gate i", o: "output gate o", c: "cell state c" };
    for (const [key, title] of Object.entries(names)) {
      const rows = units.map((unit) => column(key, unit));
      const largest = Math.max(1e-6, ...rows.flat().map(Math.abs));
      const colour = key === "c"
        ? (v) => (v >= 0 ? `rgb(255, ${255 - 200 * v / largest}, ${255 - 200 * v / largest})`
                         : `rgb(${255 + 200 * v / largest}, ${255 + 200 * v / largest}, 255)`)
        : gateColour;
      const canvas = document.createElement("canvas");
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", `${title} of units ${units.join(", ")} over the text`);
      const scale = key === "c" ? `(red > 0, blue < 0, up to ±${largest.toFixed(2)})` : "(white 0 … blue 1)";
      heatMap(canvas, rows, units.map((u) => "unit " + u), labels, colour, `${title} ${scale}`);
      $("inspect-maps").append(canvas);
    }
  } catch (error) {
    showError("inspect", error);
  }
});

loadModels();
