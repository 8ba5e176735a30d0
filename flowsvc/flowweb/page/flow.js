// The flow page: one row per order, fed by the Server-Sent Events of
// /events, and a form that places demo orders through /orders (flowsvc
// passes them to the gateway). Steps are applied to a model bounded to
// MAX_ROWS orders as they come; the table is redrawn at most ten times a
// second, only the rows that changed, so thousands of orders a minute
// keep the page readable.
"use strict";

const MAX_ROWS = 100;
const RENDER_EVERY_MS = 100;

const rows = document.getElementById("rows");
const conn = document.getElementById("conn");
const empty = document.getElementById("empty");
const placed = document.getElementById("placed");
const formError = document.getElementById("form-error");
document.getElementById("max-rows").textContent = MAX_ROWS;

// orders: id -> {id, steps: {created: {at, detail, times, correlationId}, ...}, cells}
// in the order first seen, oldest first.
const orders = new Map();
const dirty = new Set();
let renderPending = false;
let lastPlaced = "";
let dropped = 0;

// ---- the model -----------------------------------------------------------

function apply(step) {
  let o = orders.get(step.orderId);
  if (!o) {
    o = { id: step.orderId, steps: {}, cells: null };
    orders.set(o.id, o);
    if (orders.size > MAX_ROWS) {
      const [oldest] = orders.values();
      orders.delete(oldest.id);
      dirty.delete(oldest.id);
      if (oldest.cells) oldest.cells.row.remove();
    }
  }
  const seen = o.steps[step.step];
  if (seen) {
    seen.times = Math.max(seen.times, step.times);
  } else {
    o.steps[step.step] = {
      at: new Date(step.at), detail: step.detail, times: step.times, correlationId: step.correlationId,
    };
  }
  dirty.add(o.id);
  scheduleRender();
}

function reset() {
  orders.clear();
  dirty.clear();
  rows.replaceChildren();
  scheduleRender();
}

// status is what the order's steps add up to, as the API would say it.
function status(steps) {
  if (steps.refunded) return "Refunded";
  if (steps.cancelled) return steps.paid ? "Refunding" : "Cancelled";
  if (steps.paid) return "Paid";
  if (steps.declined) return "Declined";
  return "Processing";
}

// ---- drawing -------------------------------------------------------------

function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  setTimeout(render, RENDER_EVERY_MS);
}

function render() {
  renderPending = false;
  for (const id of dirty) {
    const o = orders.get(id);
    if (!o) continue;
    if (!o.cells) {
      o.cells = makeRow(o);
      rows.prepend(o.cells.row);
    }
    fill(o);
  }
  dirty.clear();
  empty.hidden = orders.size > 0;
  document.getElementById("stat-shown").textContent = orders.size;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function makeRow(o) {
  const row = el("tr", "fresh");
  row.dataset.orderId = o.id;
  const cells = { row };
  for (const name of ["order", "status", "created", "payment", "cancelled", "refunded", "settle"]) {
    cells[name] = el("td", "c-" + name);
    row.append(cells[name]);
  }
  return cells;
}

function fill(o) {
  const c = o.cells, s = o.steps;
  c.row.classList.toggle("mine", o.id === lastPlaced);

  const created = s.created;
  c.order.replaceChildren(el("span", "id", o.id));
  if (created) c.order.append(el("span", "detail", created.detail));
  c.order.title = created ? "correlation id " + created.correlationId : "";

  const st = status(s);
  c.status.replaceChildren(el("span", "status s-" + st.toLowerCase(), st));
  if (st === "Paid") {
    const cancel = el("button", "cancel", "cancel");
    cancel.type = "button";
    cancel.title = "PUT /orders: cancel this order, which refunds it";
    cancel.addEventListener("click", () => cancelOrder(o.id, cancel));
    c.status.append(cancel);
  }

  stepCell(c.created, created, null, "", clock(created));
  const payment = s.paid || s.declined;
  const paymentName = s.paid ? "paid" : "declined";
  stepCell(c.payment, payment, created, "step-" + paymentName, paymentName);
  stepCell(c.cancelled, s.cancelled, created, "step-cancelled", "cancelled");
  stepCell(c.refunded, s.refunded, s.cancelled, "step-refunded", "refunded");

  c.settle.replaceChildren();
  if (created && payment) {
    c.settle.append(el("span", "settle", duration(payment.at - created.at)));
  } else {
    c.settle.append(el("span", "none", "…"));
  }
  if (s.cancelled && s.refunded) {
    c.settle.append(el("span", "detail", "refund " + duration(s.refunded.at - s.cancelled.at)));
  }
}

// stepCell shows a step: its name (or time), how long after the step
// before it came, and how often it was seen.
function stepCell(td, step, before, className, label) {
  td.replaceChildren();
  if (!step) {
    td.append(el("span", "none", "–"));
    td.title = "";
    return;
  }
  td.append(el("span", className, label));
  if (step.times > 1) {
    const again = el("span", "again", "↻" + step.times);
    again.title = "seen " + step.times + " times: a redelivery or a duplicate";
    td.append(again);
  }
  if (before) {
    td.append(el("span", "at", "+" + duration(step.at - before.at) + " · " + clock(step)));
  } else {
    td.append(el("span", "at", "stored, published"));
  }
  td.title = step.detail || "";
}

function pad(n, width) {
  return String(n).padStart(width, "0");
}

function clock(step) {
  if (!step) return "";
  const t = step.at;
  return pad(t.getHours(), 2) + ":" + pad(t.getMinutes(), 2) + ":" + pad(t.getSeconds(), 2) + "." + pad(t.getMilliseconds(), 3);
}

// duration writes a time in ms; a fraction only where it means something
// (the stats' median, not the difference of two times to the ms).
function duration(ms) {
  if (ms < 0) ms = 0;
  if (ms < 10 && !Number.isInteger(ms)) return ms.toFixed(1) + " ms";
  if (ms < 1000) return Math.round(ms) + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
  return (ms / 60000).toFixed(1) + " min";
}

// ---- the stream ----------------------------------------------------------

function setConn(state, text) {
  document.body.dataset.stream = state;
  conn.textContent = text + (dropped > 0 ? " · " + dropped + " steps missed (this page read too slowly): reload for the full picture" : "");
}

function showStats(st) {
  dropped = st.dropped;
  document.getElementById("stat-rate").textContent = st.ordersPerMinute;
  const settle = document.getElementById("stat-settle");
  settle.textContent = st.settleSamples > 0 ? duration(st.settleMedianMs) : "–";
  settle.title = "of the last " + st.settleSamples + " orders charged";
  const receivers = document.getElementById("stat-receivers");
  if (st.receivers) {
    receivers.textContent = st.receivers["orders.created"] ?? 0;
    receivers.title = "subscribers of each channel now (PUBSUB NUMSUB), flowsvc's own included:\n" +
      Object.entries(st.receivers).map(([ch, n]) => ch + ": " + n).join("\n");
  } else {
    receivers.textContent = "?";
    receivers.title = "Redis does not say";
  }
  if (document.body.dataset.stream === "live") {
    setConn("live", "live · " + st.watchers + " watching · " + st.orders + " orders remembered");
  }
}

function connect() {
  const es = new EventSource("/events");
  es.addEventListener("reset", reset);
  es.addEventListener("step", (e) => apply(JSON.parse(e.data)));
  es.addEventListener("live", () => setConn("live", "live"));
  es.addEventListener("stats", (e) => showStats(JSON.parse(e.data)));
  es.addEventListener("error", () => {
    setConn(es.readyState === EventSource.CLOSED ? "down" : "connecting",
      es.readyState === EventSource.CLOSED ? "stream closed: reload the page" : "reconnecting…");
  });
}

// ---- the form ------------------------------------------------------------

async function call(method, body) {
  const headers = { "Content-Type": "application/json" };
  if (method === "POST") {
    headers["Idempotency-Key"] = "flow-page-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }
  let resp;
  try {
    resp = await fetch("/orders", { method, headers, body: JSON.stringify(body) });
  } catch (err) {
    throw new Error("The flow service did not answer (" + err.message + ").");
  }
  let data = null;
  try {
    data = await resp.json();
  } catch (_) {
    // not JSON: explained below by its status
  }
  if (resp.ok && data && data.ok) return data;
  const message = (data && data.error && data.error.message) || resp.statusText || "no message";
  switch (resp.status) {
    case 401:
      throw new Error("Sign-in is on (401): " + message + " This page sends no token; place orders with curl and a token (make token).");
    case 429:
      throw new Error("Too many requests (429): " + message);
    default:
      throw new Error("The API answered " + resp.status + ": " + message);
  }
}

function showError(err) {
  formError.textContent = err.message;
  formError.hidden = false;
}

async function place(button) {
  formError.hidden = true;
  button.disabled = true;
  try {
    const data = await call("POST", {
      userId: "demo", productId: button.dataset.product, productName: "Demo keyboard", totalOrderAmount: "RM 12.50",
    });
    lastPlaced = data.created.id;
    document.body.dataset.lastOrder = lastPlaced;
    placed.textContent = "Order " + lastPlaced + " accepted (201): watch its row.";
    for (const o of orders.values()) dirty.add(o.id);
    scheduleRender();
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
  }
}

async function cancelOrder(id, button) {
  formError.hidden = true;
  button.disabled = true;
  try {
    await call("PUT", { orderId: id, orderStatus: "Cancelled" });
    placed.textContent = "Order " + id + " cancelled (200): its refund follows.";
  } catch (err) {
    showError(err);
    button.disabled = false;
  }
}

for (const id of ["order-paid", "order-declined"]) {
  const button = document.getElementById(id);
  button.addEventListener("click", () => place(button));
}

connect();
