// The studio's page: plays a run's history from the server, window by window, never whole.
// One clock (T, run seconds) drives every pane, so two designs on one seed stay in step.
"use strict";

const PLACES = {
  world: [90, 240, "the world"], cpq: [90, 70, "CPQ"], orchestrator: [360, 150, "orchestrator"],
  broker: [360, 262, "broker"], erp: [630, 50, "ERP"], erp_cloud: [630, 110, "cloud ERP"],
  billing: [630, 170, "billing"], support: [630, 250, "support"],
};
const STATE_ORDER = ["outage", "orchestrator_crash", "partition", "maintenance", "read_only", "brownout",
  "ghost_writes", "duplicate_storm", "webhook_delay", "vendor_upgrade", "master_data_gap"];
const STATE_CLASS = { outage: "down", orchestrator_crash: "down", partition: "down", maintenance: "maintenance",
  read_only: "maintenance", brownout: "degraded" };
const TRACEABLE = ["quote", "invoice", "order", "contract", "case", "message", "workflow"];  // a record's keys worth a link
const LOG_LINES = 150, DOTS_PER_FRAME = 24, LOG_PER_FRAME = 30;

const $ = (id) => document.getElementById(id);
const svg = (tag, attrs) => {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  return node;
};

const studio = { session: null, panes: [], T: 0, playing: false, last: 0, act: 0, waiting: false, shown: new Set() };

async function api(path, options) {
  const answer = await fetch(path, options);
  const body = await answer.json();
  if (!answer.ok) throw new Error(body.error ? body.error.message : `${answer.status}`);
  return body;
}

// -- time --------------------------------------------------------------------------------------

function calendar(pane, t) {
  const start = new Date(pane.overview.run.start || "2026-01-01T00:00:00Z");
  const at = new Date(start.getTime() + t * 1000);
  const day = Math.floor(t / 86400) + 1;
  return `${at.toUTCString().slice(0, 22)} UTC · day ${day}`;
}
const clockText = (t) => new Date(t * 1000).toISOString().slice(11, 19);
function duration(seconds) {
  if (seconds < 90) return `${seconds.toFixed(1)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}
const end = () => Math.max(1, ...studio.panes.filter((p) => !p.el.hidden).map((p) => p.overview.end || 0));

// -- panes ---------------------------------------------------------------------------------------

function buildPane(index, described) {
  const el = $("pane-template").content.firstElementChild.cloneNode(true);
  el.dataset.pane = index;
  $("panes").appendChild(el);
  return { index, live: described.live, label: described.label, el, overview: null, marks: null,
    buffer: { t0: 0, t1: -1, records: [] }, cursor: 0, fetching: null, boxes: {}, shownMark: -1, statuses: {} };
}

function drawFlow(pane) {
  const flow = pane.el.querySelector(".flow");
  flow.replaceChildren();
  const names = ["world", ...pane.overview.systems.filter((s) => PLACES[s] || true), "orchestrator"];
  if (pane.overview.run.design === "choreography" || pane.overview.run.design === "batch-esb") names.push("broker");
  let spare = 0;
  for (const name of new Set(names)) {
    if (!PLACES[name]) PLACES[name] = [90 + 270 * (spare % 3), 20 + 30 * spare++, name];
  }
  for (const name of new Set(names)) {
    if (name === "orchestrator") continue;
    const [x1, y1] = PLACES[name], [x2, y2] = PLACES.orchestrator;
    flow.appendChild(svg("line", { class: "link", x1, y1, x2, y2 }));
  }
  pane.boxes = {};
  for (const name of new Set(names)) {
    const [x, y, label] = PLACES[name];
    const box = svg("g", { class: "box", transform: `translate(${x - 68},${y - 24})`, "data-system": name });
    box.append(svg("rect", { width: 136, height: 48 }));
    const title = svg("text", { x: 68, y: 20 }); title.textContent = label;
    const state = svg("text", { x: 68, y: 38, class: "state" }); state.textContent = "up";
    box.append(title, state);
    flow.appendChild(box);
    pane.boxes[name] = { box, state };
  }
}

function stateAt(pane, system, t) {
  const open = pane.overview.faults.filter((f) => f.party === system && f.start <= t && (f.end === null || t < f.end));
  open.sort((a, b) => STATE_ORDER.indexOf(a.kind) - STATE_ORDER.indexOf(b.kind));
  return open.map((f) => f.kind);
}

function bucketAt(pane, t) {
  return Math.max(0, Math.min(719, Math.floor(t / pane.overview.bucket_s)));
}

function renderSystems(pane) {
  const bucket = bucketAt(pane, studio.T);
  const breakers = new Set(pane.overview.breakers[bucket] || []);
  for (const [name, { box, state }] of Object.entries(pane.boxes)) {
    if (name === "world") continue;
    const kinds = stateAt(pane, name, studio.T);
    const shown = kinds.length ? kinds.join(", ").replaceAll("_", " ") : "up";
    const text = breakers.has(name) ? `${shown} · breaker open` : shown;
    if (state.textContent !== text) state.textContent = text;
    box.setAttribute("class", `box ${kinds.length ? STATE_CLASS[kinds[0]] || "degraded" : ""} ${breakers.has(name) ? "breaker" : ""}`);
    box.dataset.state = kinds[0] || "up";
  }
  const depths = pane.overview.depths;
  const counts = (figure) => Object.values(pane.overview.counts[figure] || {}).reduce((sum, series) => sum + series[bucket], 0);
  pane.el.querySelector(".queues").innerHTML =
    `<span>in flight <b data-figure="in_flight">${depths.in_flight[bucket]}</b></span>` +
    `<span>parked <b data-figure="parked">${depths.parked[bucket]}</b></span>` +
    `<span>dead-lettered <b data-figure="dead_lettered">${depths.dead_lettered[bucket]}</b></span>` +
    `<span>outbox <b data-figure="outbox">${depths.outbox[bucket]}</b></span>` +
    `<span class="muted">calls ${counts("calls")} · failed ${counts("failed")} · duplicates ${counts("duplicates")} ` +
    `per ${duration(pane.overview.bucket_s)}</span>`;
}

// -- running verdicts --------------------------------------------------------------------------

function markAt(pane, t) {
  const marks = pane.marks && pane.marks.ready ? pane.marks.marks : null;
  if (!marks || !marks.length) return -1;
  let low = 0, high = marks.length - 1, found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (marks[middle].t <= t) { found = middle; low = middle + 1; } else high = middle - 1;
  }
  return found;
}

function evidenceIds(pane, checker) {
  return (pane.overview.evidence_ids || {})[checker] || [];  // found as reports/evidence.py finds them
}

function renderVerdicts(pane, force) {
  const index = pane.live ? (pane.marks && pane.marks.ready ? pane.marks.marks.length - 1 : -1) : markAt(pane, studio.T);
  if (index === pane.shownMark && !force) return;
  pane.shownMark = index;
  const body = pane.el.querySelector(".verdicts tbody");
  const ready = pane.marks && pane.marks.ready;
  const judging = pane.el.querySelector(".judging");
  judging.textContent = ready ? "" : `(judging the history: ${pane.marks ? Math.round(100 * pane.marks.done / Math.max(1, pane.marks.of)) : 0}%)`;
  const rows = index >= 0 ? pane.marks.marks[index].verdicts
    : (pane.overview.verdicts || []).map((v) => ({ checker: v.checker, status: "pending", summary: ready ? "nothing judged yet" : "" }));
  body.replaceChildren();
  for (const row of rows) {
    const tr = document.createElement("tr");
    tr.dataset.checker = row.checker; tr.dataset.status = row.status;
    if (row.status === "fail" && pane.statuses[row.checker] && pane.statuses[row.checker] !== "fail") tr.className = "turned";
    pane.statuses[row.checker] = row.status;
    const chip = `<span class="chip ${row.status}">${row.status}</span>`;
    const ids = row.status === "fail" ? evidenceIds(pane, row.checker) : [];
    const links = ids.map((id) => `<a class="id" data-id="${id}">${id}</a>`).join(" ");
    tr.innerHTML = `<td>${chip}</td><td><b>${row.checker}</b><br><span class="muted">${escapeHtml(row.summary)}</span> ${links}</td>`;
    body.appendChild(tr);
  }
}

const escapeHtml = (text) => String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

// -- records: windows from the server, dots and the log --------------------------------------

async function ensureRecords(pane) {
  const speed = Number($("speed").value);
  const { buffer } = pane;
  if (pane.fetching || (studio.T >= buffer.t0 && studio.T + speed * 1.5 <= buffer.t1) || (buffer.t1 >= pane.overview.end && studio.T >= buffer.t0)) return;
  const t0 = Math.max(studio.T, buffer.t1 >= studio.T && buffer.t1 > buffer.t0 ? buffer.t1 : studio.T);
  const t1 = Math.min(pane.overview.end + 1, t0 + Math.max(speed * 4, 60));
  pane.fetching = api(`/api/panes/${pane.index}/window?t0=${t0}&t1=${t1}&limit=800`).then((window) => {
    const keep = buffer.records.filter((r) => r.t >= studio.T);
    buffer.records = keep.concat(window.records.filter((r) => r.t >= t0 && (!keep.length || r.t > keep[keep.length - 1].t || r.position > keep[keep.length - 1].position)));
    buffer.t0 = Math.min(studio.T, t0); buffer.t1 = t1;
    pane.el.querySelector(".rate").textContent = window.count > window.records.length ? `(showing ${window.records.length} of ${window.count} records ahead)` : "";
  }).catch((error) => status(`could not read the history: ${error.message}`)).finally(() => { pane.fetching = null; });
}

function advance(pane, from, to) {
  const due = [];
  const records = pane.buffer.records;
  while (records.length && records[0].t <= to) {
    const record = records.shift();
    if (record.t > from || (from === to && record.t === to)) due.push(record);
  }
  const step = Math.max(1, Math.ceil(due.length / DOTS_PER_FRAME));
  due.forEach((record, i) => { if (i % step === 0) animate(pane, record); });
  const logged = due.length > LOG_PER_FRAME ? due.filter((_, i) => i % Math.ceil(due.length / LOG_PER_FRAME) === 0) : due;
  logged.forEach((record) => log(pane, record));
}

function ends(pane, record) {
  const world = (record.trace || "").startsWith("world:");
  const caller = world ? "world" : "orchestrator";
  const system = String(record.system || "").startsWith("broker") ? "broker" : record.system;
  if (record.kind === "call") return record.type === "invoke" ? [caller, system, "call"] : [system, caller, record.type === "ok" ? "ok" : "fail"];
  if (record.kind === "event" && record.type === "delivered") return [system, "orchestrator", record.delivery > 1 ? "duplicate" : "event"];
  return null;
}

function animate(pane, record) {
  const route = ends(pane, record);
  if (!route) return;
  const [from, to, kind] = route;
  if (!PLACES[from] || !PLACES[to] || !pane.boxes[from] || !pane.boxes[to]) return;
  const dot = svg("circle", { class: `dot ${kind}`, r: 4, cx: PLACES[from][0], cy: PLACES[from][1] });
  pane.el.querySelector(".flow").appendChild(dot);
  const began = performance.now();
  const move = (now) => {
    const share = Math.min(1, (now - began) / 600);
    dot.setAttribute("cx", PLACES[from][0] + (PLACES[to][0] - PLACES[from][0]) * share);
    dot.setAttribute("cy", PLACES[from][1] + (PLACES[to][1] - PLACES[from][1]) * share);
    if (share < 1) requestAnimationFrame(move); else dot.remove();
  };
  requestAnimationFrame(move);
}

function describe(record) {
  const keys = record.keys || {};
  switch (record.kind) {
    case "call": {
      const what = `${record.system}.${record.operation}${record.attempt > 1 ? ` (attempt ${record.attempt})` : ""}`;
      if (record.type === "invoke") return ["→ " + what, ""];
      if (record.type === "ok") return [`← ${what} ok${record.latency ? " in " + duration(record.latency) : ""}`, ""];
      return [`✗ ${what} ${record.type === "info" ? "no answer" : "failed"}: ${record.error_code || record.cause || ""}`, "fail"];
    }
    case "state": return [`${record.system} ${record.entity} ${record.entity_id} ${record.change} v${keys.contract_version || record.version}`, ""];
    case "event": return [`${record.system} ${record.event_type} ${record.type}${record.delivery > 1 ? ` (copy ${record.delivery})` : ""}`, ""];
    case "workflow": return [`workflow ${record.workflow} ${record.status}${record.reason ? ": " + record.reason : ""}`, record.status === "failed" ? "fail" : ""];
    case "fault": return [`fault: ${record.system} ${record.fault.replaceAll("_", " ")} ${record.phase}`, "fault"];
    case "policy": return [`${record.policy} ${record.subject}: ${record.event}`, ""];
    default: return [record.kind, ""];
  }
}

function log(pane, record) {
  const list = pane.el.querySelector(".log");
  const [text, kind] = describe(record);
  const item = document.createElement("li");
  item.className = kind;
  item.dataset.position = record.position;
  const keys = record.keys || {};
  const ids = TRACEABLE.filter((k) => k in keys).slice(0, 2).map((k) => `<a class="id" data-id="${keys[k]}">${keys[k]}</a>`);
  item.innerHTML = `${clockText(record.t)} ${escapeHtml(text)} ${ids.join(" ")}`;
  list.appendChild(item);
  while (list.children.length > LOG_LINES) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

// -- the transport -----------------------------------------------------------------------------

function status(text) { $("failure-note").textContent = text; }

function seek(t, options = {}) {
  studio.T = Math.max(0, Math.min(t, end()));
  for (const pane of studio.panes) {
    pane.buffer = { t0: studio.T, t1: studio.T, records: [] };
    if (!options.keepLog) pane.el.querySelector(".log").replaceChildren();
  }
  render();
}

function setPlaying(playing) {
  studio.playing = playing;
  $("play").textContent = playing ? "Pause" : "Play";
  studio.last = performance.now();
}

async function step() {
  setPlaying(false);
  const panes = visiblePanes();
  const next = await Promise.all(panes.map((pane) =>
    api(`/api/panes/${pane.index}/window?t0=${studio.T + 1e-6}&t1=${pane.overview.end + 1}&limit=1&head=true`)));
  const times = next.map((w) => (w.records.length ? w.records[0].t : Infinity));
  const t = Math.min(...times);
  if (!isFinite(t)) { status("the end of the history"); return; }
  const from = studio.T;
  studio.T = t;
  panes.forEach((pane, i) => { if (next[i].records.length && times[i] === t) { pane.buffer.records = []; log(pane, next[i].records[0]); animate(pane, next[i].records[0]); } });
  panes.forEach((pane) => { pane.buffer = { t0: t, t1: t, records: [] }; });
  status(`stepped ${duration(t - from)} to the next record`);
  render();
}

function breaches() {
  const found = [];
  for (const pane of visiblePanes()) for (const b of (pane.marks && pane.marks.breaches) || []) found.push({ ...b, pane });
  return found.sort((a, b) => a.t - b.t);
}

async function nextFailure() {
  const next = breaches().find((b) => b.t > studio.T + 1e-6);
  if (!next) { status("no invariant breaks after this point"); return; }
  setPlaying(false);
  seek(next.t);
  await contextLog(next.t);
  const pane = next.pane;
  status(`${pane.label}: ${next.checker} turned to fail at ${calendar(pane, next.t)}: ${next.summary}`);
  const row = pane.el.querySelector(`tr[data-checker="${next.checker}"]`);
  if (row) row.className = "turned";
}

async function contextLog(t) {
  await Promise.all(visiblePanes().map(async (pane) => {
    const window = await api(`/api/panes/${pane.index}/window?t0=${Math.max(0, t - 900)}&t1=${t}&limit=40`);
    pane.el.querySelector(".log").replaceChildren();
    window.records.forEach((record) => log(pane, record));
  }));
}

const visiblePanes = () => studio.panes.filter((p) => !p.el.hidden);

function drawStrip() {
  const strip = $("strip");
  const width = strip.clientWidth || 1000, horizon = end();
  strip.setAttribute("viewBox", `0 0 ${width} 46`);
  strip.replaceChildren();
  const panes = visiblePanes();
  panes.forEach((pane, row) => {
    const top = (row * 46) / panes.length, height = 46 / panes.length;
    for (const fault of pane.overview.faults) {
      const x = (fault.start / horizon) * width, w = Math.max(2, (((fault.end ?? horizon) - fault.start) / horizon) * width);
      const rect = svg("rect", { x, y: top + 2, width: w, height: height - 4, fill: `var(--${fault.kind}, #999)`, opacity: 0.35 });
      const title = svg("title"); title.textContent = `${fault.party} ${fault.kind}`; rect.append(title);
      strip.appendChild(rect);
    }
    for (const breach of (pane.marks && pane.marks.breaches) || []) {
      const tick = svg("rect", { x: (breach.t / horizon) * width - 1, y: top, width: 2, height, fill: "var(--fail)", class: "breach-tick" });
      const title = svg("title"); title.textContent = `${breach.checker} fails`; tick.append(title);
      strip.appendChild(tick);
    }
  });
}

function render() {
  for (const pane of visiblePanes()) { renderSystems(pane); renderVerdicts(pane); }
  const first = visiblePanes()[0];
  if (first) $("clock").textContent = calendar(first, studio.T);
  $("scrubber").max = end();
  if (document.activeElement !== $("scrubber")) $("scrubber").value = studio.T;
}

function tick(now) {
  const elapsed = (now - studio.last) / 1000;
  studio.last = now;
  const live = studio.panes.some((p) => p.live);
  if (live && $("follow").checked) {
    studio.T = Math.max(0, end() - 1);
  } else if (studio.playing && !studio.waiting) {
    const from = studio.T;
    let to = Math.min(end(), studio.T + elapsed * Number($("speed").value));
    to = lessonStop(from, to);
    studio.T = to;
    for (const pane of visiblePanes()) advance(pane, from, to);
    if (studio.T >= end() && !live) { setPlaying(false); atEnd(); }
  }
  for (const pane of visiblePanes()) if (!pane.live) ensureRecords(pane);
  render();
  requestAnimationFrame(tick);
}

// -- lineage -----------------------------------------------------------------------------------

async function showLineage(pane, id) {
  $("lineage").hidden = false;
  $("lineage-title").textContent = `Lineage of ${id}: loading…`;
  let found;
  try { found = await api(`/api/panes/${pane.index}/lineage/${encodeURIComponent(id)}`); } catch (error) {
    $("lineage-title").textContent = `Lineage of ${id}: ${error.message}`; return;
  }
  const steps = found.steps;
  $("lineage-title").textContent = `Lineage of ${id}: ${steps.length} steps`;
  const lanes = [...new Set(steps.map((s) => s.lane))];
  const chart = $("lineage-lanes");
  const width = chart.clientWidth || 520, height = 30 + lanes.length * 34;
  chart.setAttribute("viewBox", `0 0 ${width} ${height}`); chart.style.height = `${height}px`;
  chart.replaceChildren();
  const t0 = steps[0].t, span = Math.max(1e-6, steps[steps.length - 1].t - t0);
  lanes.forEach((lane, i) => {
    const label = svg("text", { x: 4, y: 24 + i * 34, "font-size": 12 }); label.textContent = lane;
    chart.append(label, svg("line", { x1: 90, x2: width - 10, y1: 20 + i * 34, y2: 20 + i * 34, stroke: "#d7dbe2" }));
  });
  const list = $("lineage-steps");
  list.replaceChildren();
  for (const s of steps) {
    const x = 90 + ((s.t - t0) / span) * (width - 110), y = 20 + lanes.indexOf(s.lane) * 34;
    const colour = s.outcome === "fail" || s.outcome === "info" ? "var(--fail)" : s.kind === "event" ? "var(--event)" : s.kind === "state" ? "var(--ok)" : "#1d2330";
    const mark = svg("circle", { cx: x, cy: y, r: 5, fill: colour }); const tip = svg("title"); tip.textContent = s.text; mark.append(tip);
    chart.appendChild(mark);
    const item = document.createElement("li");
    item.className = s.outcome === "fail" ? "fail" : "";
    item.textContent = `day ${Math.floor(s.t / 86400) + 1} ${clockText(s.t)} ${s.lane}: ${s.text}`;
    item.onclick = () => { setPlaying(false); seek(s.t); };
    list.appendChild(item);
  }
}

// -- start -------------------------------------------------------------------------------------

async function pollMarks(pane) {
  pane.marks = await api(`/api/panes/${pane.index}/marks`);
  renderVerdicts(pane, true);
  if (!pane.marks.ready) setTimeout(() => pollMarks(pane), 500);
  else drawStrip();
}

async function main() {
  studio.session = await api("/api/session");
  $("mode").textContent = { replay: "replay", side: "side by side", live: "live", lesson: "lesson" }[studio.session.mode];
  studio.session.panes.forEach((described, index) => studio.panes.push(buildPane(index, described)));
  await Promise.all(studio.panes.map(async (pane) => {
    pane.overview = await api(`/api/panes/${pane.index}/overview`);
    const run = pane.overview.run;
    pane.el.querySelector(".pane-title").textContent = `${pane.label} · ${run.scenario} · ${run.design} · seed ${run.seed}`;
    drawFlow(pane);
    if (pane.live) { buildControl(pane); setInterval(() => pollLive(pane).catch((e) => status(e.message)), 1000); await pollLive(pane); }
    else pollMarks(pane);
  }));
  $("play").onclick = () => (studio.waiting ? goOn() : setPlaying(!studio.playing));
  $("step").onclick = step;
  $("next-failure").onclick = nextFailure;
  $("continue").onclick = goOn;
  $("lineage-close").onclick = () => { $("lineage").hidden = true; };
  $("scrubber").oninput = () => { setPlaying(false); seek(Number($("scrubber").value)); $("follow").checked = false; };
  $("scrubber").onchange = () => contextLog(studio.T);
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.id");
    if (!link) return;
    const pane = studio.panes[Number(link.closest("[data-pane]").dataset.pane)];
    showLineage(pane, link.dataset.id);
  });
  document.addEventListener("keydown", (event) => {
    if (event.target.tagName === "INPUT" || event.target.tagName === "SELECT") return;
    if (event.key === " ") { event.preventDefault(); $("play").click(); }
    if (event.key === "ArrowRight") step();
  });
  const speed = new URLSearchParams(location.search).get("speed");
  if (speed) { const option = new Option(`${speed}×`, speed, true, true); $("speed").add(option); }
  drawStrip();
  render();
  if (studio.session.mode === "lesson") await startLesson();
  document.body.dataset.ready = "true";
  requestAnimationFrame((now) => { studio.last = now; tick(now); });
}

main().catch((error) => { document.body.dataset.failed = error.message; status(`the studio could not start: ${error.message}`); });
