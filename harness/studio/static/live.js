// The studio page's live control: fault buttons, the load slider, polling the live history.
// Loaded before studio.js, whose helpers (studio, $, api, seek…) these functions use when run.
"use strict";

const LIVE_FAULTS = { outage: {}, maintenance: {}, brownout: {}, read_only: {}, partition: {},
  ghost_writes: { probability: 0.3 }, duplicate_storm: { probability: 0.5 }, webhook_delay: { factor: 10 },
  vendor_upgrade: { schema_version: 2 } };

// -- live control ------------------------------------------------------------------------------

function buildControl(pane) {
  $("control").hidden = false;
  $("follow-label").hidden = false;
  $("rate").max = pane.overview.max_rate;
  $("rate").value = pane.overview.rate;
  $("rate-shown").textContent = pane.overview.rate;
  $("rate").oninput = () => { $("rate-shown").textContent = $("rate").value; };
  $("rate").onchange = async () => {
    const answer = await api(`/api/panes/${pane.index}/load`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ rate: Number($("rate").value) }) });
    $("control-status").textContent = `load set to ${answer.rate} quotes a second`;
  };
  const holder = $("fault-buttons");
  holder.replaceChildren();
  for (const system of pane.overview.systems) {
    const label = document.createElement("b"); label.textContent = system;
    const row = document.createElement("div");
    const kinds = system === "orchestrator" ? { orchestrator_crash: {} } : LIVE_FAULTS;
    for (const [kind, params] of Object.entries(kinds)) {
      const button = document.createElement("button");
      button.id = `fault-${system}-${kind}`;
      button.textContent = kind.replaceAll("_", " ");
      button.onclick = () => toggleFault(pane, system, kind, params, button);
      row.appendChild(button);
    }
    holder.append(label, row);
  }
}

async function toggleFault(pane, system, kind, params, button) {
  const on = button.classList.contains("on");
  try {
    await api(`/api/panes/${pane.index}/faults`, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ system, kind, action: on ? "stop" : "start", params }) });
    button.classList.toggle("on", !on);
    $("control-status").textContent = `${on ? "stopped" : "started"} ${kind.replaceAll("_", " ")} on ${system}`;
  } catch (error) {
    $("control-status").textContent = `${kind} on ${system}: ${error.message}`;
  }
}

async function pollLive(pane) {
  pane.overview = await api(`/api/panes/${pane.index}/overview`);
  // What arrived since the last poll plays at once: dots and the log follow the live history.
  const since = pane.liveCursor ?? Math.max(0, pane.overview.end - 60);
  const fresh = await api(`/api/panes/${pane.index}/window?t0=${since}&t1=${pane.overview.end}&limit=200`);
  const unseen = fresh.records.filter((r) => r.t > since || pane.liveCursor === undefined);
  unseen.slice(-DOTS_PER_FRAME).forEach((record) => animate(pane, record));
  unseen.slice(-LOG_PER_FRAME).forEach((record) => log(pane, record));
  pane.liveCursor = pane.overview.end;
  pane.marks = await api(`/api/panes/${pane.index}/marks`);
  $("sold").textContent = `${pane.overview.sold} quotes approved by the studio's sales floor`;
  for (const system of pane.overview.systems) {
    for (const kind of Object.keys(system === "orchestrator" ? { orchestrator_crash: 1 } : LIVE_FAULTS)) {
      const button = $(`fault-${system}-${kind}`);
      if (button) button.classList.toggle("on", stateAt(pane, system, Infinity).includes(kind) || pane.overview.faults.some((f) => f.party === system && f.kind === kind && f.end === null));
    }
  }
  renderVerdicts(pane, true);
  drawStrip();
}
