// snapline dashboard: one WebSocket, no build step, no CDN.
"use strict";
const levels = new Map();   // level id -> {last signal, scores: [[t, s]]}
const spots = [];           // [[t_ms, spot]]
const WINDOW_MS = 5 * 60 * 1000, SCORE_MS = 60 * 1000;
const COLORS = { BREAK: "#ff5a5f", BOUNCE: "#2ecc71", NEUTRAL: "#9aa0a6", ABSTAIN: "#6c7079" };
const BEHIND_MS = 1000;      // a row this far behind the newest snap is shown as lagging
let updates = 0, dirty = false, newest = 0;

function connect() {
  const params = new URLSearchParams(location.search);
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws?${params}`);
  const status = document.getElementById("status");
  ws.onopen = () => { status.textContent = "live"; status.className = "status live"; };
  ws.onclose = (e) => {
    status.textContent = `disconnected (${e.code}${e.reason ? ": " + e.reason : ""}), retrying`;
    status.className = "status down";
    setTimeout(connect, 1000);
  };
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.type) return;                 // heartbeat / subscribed / error
    if (msg.event_id) return addEvent(msg);
    onSignal(msg);
  };
}

function onSignal(s) {
  const t = s.ts_event_ns / 1e6;
  newest = Math.max(newest, t);  // catching up, partitions (levels) arrive at different paces
  if (s.active === false) {  // the level left the active set: its row goes
    levels.delete(s.level_id);
    document.body.dataset.updates = String(++updates);
    dirty = true;
    return;
  }
  const entry = levels.get(s.level_id) || { scores: [] };
  entry.last = s;
  if (s.break_score !== null) entry.scores.push([t, s.break_score]);
  while (entry.scores.length && entry.scores[0][0] < t - SCORE_MS) entry.scores.shift();
  levels.set(s.level_id, entry);
  if (!spots.length || spots[spots.length - 1][0] < t) spots.push([t, s.spot]);
  while (spots.length && spots[0][0] < t - WINDOW_MS) spots.shift();
  document.body.dataset.updates = String(++updates);
  dirty = true;
}

function addEvent(e) {
  const li = document.createElement("li");
  const when = new Date(e.ts_event_ns / 1e6).toISOString().slice(11, 23);
  const call = e.test_call ? ` (called ${e.test_call}${e.call_correct === null ? "" : e.call_correct ? ", right" : ", wrong"})` : "";
  li.innerHTML = `<b>${when} ${e.kind}</b> ${e.level_id} ${e.side} spot ${e.spot.toFixed(2)}${call}`;
  const list = document.getElementById("events");
  list.prepend(li);
  while (list.children.length > 50) list.lastChild.remove();
}

// when spot, at its pace through the level's defence, reaches the touch band (schema: eta_s)
function eta(x) { return x === null || x === undefined ? "" : x === 0 ? " · at" : ` · ${fmt(x, 1)} s`; }

function fmt(x, d = 2) { return x === null || x === undefined ? "—" : Number(x).toFixed(d); }

function sparkline(scores) {
  if (scores.length < 2) return "";
  const t0 = scores[0][0], t1 = scores[scores.length - 1][0] || t0 + 1;
  const pts = scores.map(([t, s]) => `${((t - t0) / (t1 - t0 || 1) * 120).toFixed(1)},${(20 - s * 18).toFixed(1)}`);
  return `<svg width="120" height="40" viewBox="0 0 120 40"><line x1="0" y1="20" x2="120" y2="20" stroke="#23262d"/>` +
    `<polyline fill="none" stroke="#e6e6e6" stroke-width="1.5" points="${pts.join(" ")}"/></svg>`;
}

// the fuel's score weighs the dealers' hedge against what a tick of the move must clear
function hedge(f) {
  if (f.hedge_lots_per_tick == null || f.lots_to_clear == null) return "";
  return ` title="hedge ${f.hedge_lots_per_tick.toFixed(1)} lots a tick against ${f.lots_to_clear.toFixed(1)}"`;
}

function renderTable() {
  const body = document.querySelector("#levels tbody");
  const rows = [...levels.values()].map((e) => e.last).sort((a, b) => b.level_price - a.level_price);
  body.innerHTML = rows.map((s) => {
    const behind = newest - s.ts_event_ns / 1e6;
    const lag = behind > BEHIND_MS ? ` class="behind" title="${(behind / 1000).toFixed(1)} s behind the newest snap"` : "";
    return `
    <tr data-level="${s.level_id}" data-call="${s.signal}"${lag}>
      <td><b>${s.level_id}</b></td><td>${s.level_kinds.join(", ")}</td><td>${s.side}</td>
      <td>${fmt(s.distance)}${eta(s.eta_s)}</td><td><span class="call ${s.signal}">${s.signal}</span></td>
      <td>${fmt(s.confidence)}</td><td>${sparkline(levels.get(s.level_id).scores)}</td>
      <td>${s.barrier.state.toLowerCase()} ${s.barrier.depth}</td>
      <td>ofi ${fmt(s.tape.ofi)}</td>
      <td class="${s.fuel.regime}"${hedge(s.fuel)}>${s.fuel.regime.toLowerCase()}${s.fuel.gex_near_level === null ? "" : " " + (s.fuel.gex_near_level / 1e6).toFixed(0) + "M " + fmt(s.fuel.score)}</td>
      <td class="why">${s.reason}</td>
    </tr>`;
  }).join("");
}

function renderChart() {
  const c = document.getElementById("chart"), g = c.getContext("2d");
  const w = c.width = c.clientWidth * devicePixelRatio, h = c.height = c.clientHeight * devicePixelRatio;
  g.clearRect(0, 0, w, h);
  if (!spots.length) return;
  const lv = [...levels.values()].map((e) => e.last);
  const ys = spots.map((p) => p[1]).concat(lv.map((s) => s.level_price));
  const lo = Math.min(...ys) - 0.1, hi = Math.max(...ys) + 0.1;
  const t0 = spots[0][0], t1 = Math.max(spots[spots.length - 1][0], t0 + 1);
  const X = (t) => 60 + (t - t0) / (t1 - t0) * (w - 80), Y = (p) => h - 20 - (p - lo) / (hi - lo) * (h - 40);
  g.font = `${11 * devicePixelRatio}px system-ui`;
  for (const s of lv) {
    g.strokeStyle = COLORS[s.signal]; g.setLineDash(s.signal === "ABSTAIN" ? [6, 6] : []);
    g.lineWidth = s.signal === "NEUTRAL" ? 1 : 2 * devicePixelRatio;
    g.beginPath(); g.moveTo(60, Y(s.level_price)); g.lineTo(w - 20, Y(s.level_price)); g.stroke();
    g.fillStyle = COLORS[s.signal]; g.fillText(`${s.level_id} ${s.signal}`, 4, Y(s.level_price) - 3);
  }
  g.setLineDash([]); g.strokeStyle = "#e6e6e6"; g.lineWidth = 1.5 * devicePixelRatio;
  g.beginPath(); spots.forEach(([t, p], i) => (i ? g.lineTo(X(t), Y(p)) : g.moveTo(X(t), Y(p)))); g.stroke();
  const last = spots[spots.length - 1];
  document.getElementById("spot").textContent = `SPY ${last[1].toFixed(2)}`;
  document.getElementById("clock").textContent = new Date(last[0]).toISOString().replace("T", " ").slice(0, 23) + " UTC (event time)";
}

function frame() {
  if (dirty) { renderTable(); renderChart(); dirty = false; }
  requestAnimationFrame(frame);
}

connect();
requestAnimationFrame(frame);
