// The pages of the Web UI. Each page load reads the path, calls the JSON API under /api/v1
// (Temporal's HTTP API shapes: proto3 JSON) and renders with DOM calls, never innerHTML, so
// nothing a workflow stores can inject markup.
"use strict";

const PAGE_SIZE = 20;
const REFRESH_EVERY_MS = 5000;
const STATUSES = ["Running", "Completed", "Failed", "Canceled", "Terminated", "ContinuedAsNew", "TimedOut"];

// ---- DOM and formatting helpers -------------------------------------------------------------

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function show(...nodes) {
  const app = document.getElementById("app");
  app.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
}

function crumbs(...items) {
  const nav = document.getElementById("crumbs");
  nav.replaceChildren(...items.flatMap((item, i) => (i ? [h("span", { class: "sep" }, "/"), item] : [item])));
}

function time(value) {
  if (!value) return "";
  const date = new Date(value);
  return isNaN(date) ? value : date.toISOString().replace("T", " ").replace("Z", " UTC");
}

// Milliseconds since the epoch of an API timestamp. The API writes nanoseconds
// ("…47.123456789Z"); only milliseconds are kept, so every browser parses it the same way.
function ms(value) {
  if (!value) return null;
  const t = Date.parse(String(value).replace(/(\.\d{3})\d+/, "$1"));
  return isNaN(t) ? null : t;
}

// A length of time for people: "850 ms", "4.2 s", "3 min 12 s", "2 h 5 min", "3 d 4 h".
// Two units at most: nobody reads "1 d 2 h 3 min 4 s" at a glance.
function formatDuration(length) {
  length = Math.max(0, length);
  if (length < 1000) return `${Math.round(length)} ms`;
  const seconds = length / 1000;
  if (seconds < 10) return `${Math.round(seconds * 10) / 10} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const units = [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];
  let rest = Math.round(seconds);
  const parts = [];
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (parts.length || n) parts.push([n, name]);
  }
  return parts.slice(0, 2).filter(([n], i) => n || i === 0).map(([n, name]) => `${n} ${name}`).join(" ");
}

// "3 s ago" in the one largest unit; a time ahead of this browser's clock (a server whose
// clock runs ahead) reads "just now" rather than a negative age.
function ago(value) {
  const t = ms(value);
  if (t === null) return "";
  const seconds = Math.floor((Date.now() - t) / 1000);
  if (seconds < 1) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

// A time shown relative to now, the exact time on hover; kept current by tickClocks.
function timeAgo(value, id) {
  if (!value) return "";
  return h("time", { datetime: value, title: time(value), "data-ago": value, id }, ago(value));
}

// How long since `value` (until `until`, if given), kept current by tickClocks while open.
function sinceView(value, until, id) {
  const from = ms(value);
  if (from === null) return "";
  const to = ms(until);
  return h("span", { class: "duration", id, title: to === null ? `since ${time(value)}` : `${time(value)} to ${time(until)}`, "data-since": to === null ? value : null },
    formatDuration((to === null ? Date.now() : to) - from));
}

// Relative times and running durations change every second without any new data, so they
// are refreshed in place rather than by redrawing their page.
function tickClocks() {
  for (const node of document.querySelectorAll("[data-ago]")) node.textContent = ago(node.dataset.ago);
  for (const node of document.querySelectorAll("[data-since]")) node.textContent = formatDuration(Date.now() - ms(node.dataset.since));
}

let onTick = null;
let onResize = null;
setInterval(() => { tickClocks(); if (onTick) onTick(); }, 1000);
window.addEventListener("resize", () => { if (onResize) onResize(); });

function enumName(value, prefix) {
  if (!value) return "";
  return value.replace(prefix, "").toLowerCase().split("_")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join("");
}

const statusName = (status) => enumName(status, "WORKFLOW_EXECUTION_STATUS_");
const eventName = (type) => enumName(type, "EVENT_TYPE_");

function statusBadge(status) {
  const name = statusName(status) || "Unknown";
  return h("span", { class: `status status-${name.toLowerCase()}`, "data-status": name }, name);
}

function workflowPath(namespace, workflowId, runId) {
  const base = `/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}` : base;
}

function apiPath(namespace, workflowId, rest) {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}${rest || ""}`;
}

// ---- Payloads ------------------------------------------------------------------------------
// The API writes plain JSON payloads as their values (`["Ada"]`); others come in full, with
// base64 metadata and data (`{"payloads": [{"metadata": {...}, "data": "..."}]}`).

function fromBase64(text) {
  const binary = atob(text || "");
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

const utf8 = new TextDecoder();

function isFullPayload(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    && Object.keys(value).length > 0 && Object.keys(value).every((k) => k === "metadata" || k === "data");
}

// A full-form payload as something to show: its value when it can be read, else its parts.
function decodeFullPayload(payload) {
  const metadata = payload.metadata || {};
  const encoding = metadata.encoding ? utf8.decode(fromBase64(metadata.encoding)) : "";
  if (encoding === "binary/null") return null;
  const text = utf8.decode(fromBase64(payload.data));
  if (encoding.startsWith("json/")) {
    try { return JSON.parse(text); } catch { /* shown raw below */ }
  }
  return { encoding, data: payload.data || "" };
}

// The values of a Payloads field, in either form.
function payloadValues(payloads) {
  if (!payloads) return [];
  if (Array.isArray(payloads)) return payloads;
  return (payloads.payloads || []).map(decodeFullPayload);
}

// The value of a single Payload field, in either form.
function payloadValue(payload) {
  return isFullPayload(payload) ? decodeFullPayload(payload) : payload;
}

// A map of name to Payload (memo, search attributes) as summary rows; nothing when empty.
function fieldsView(label, fields, id) {
  const names = Object.keys(fields || {});
  if (!names.length) return null;
  const text = names.map((name) => `${name} = ${JSON.stringify(payloadValue(fields[name]))}`).join("\n");
  return [h("dt", {}, label), h("dd", { class: "mono", id }, text)];
}

function payloadsView(payloads, id) {
  const values = payloadValues(payloads);
  if (!values.length) return h("p", { class: "muted", id }, "none");
  return h("pre", { class: "payload", id }, values.map((v) => JSON.stringify(v, null, 2)).join("\n"));
}

// ---- The API --------------------------------------------------------------------------------

class ApiFailure extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
  }
}

async function api(path, options) {
  const init = options ? {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(options),
  } : {};
  const response = await fetch(path, init);
  let body = null;
  try { body = await response.json(); } catch { /* an empty or non-JSON answer */ }
  if (!response.ok) throw new ApiFailure(response.status, body);
  return body || {};
}

function errorBox(error, id) {
  return h("p", { class: "error", id: id || "error", role: "alert" }, error.message);
}

// ---- Pages ----------------------------------------------------------------------------------

async function namespacesPage() {
  crumbs(h("span", {}, "Namespaces"));
  document.title = "Namespaces";
  const { namespaces = [] } = await api("/api/v1/namespaces");
  show(
    h("h1", {}, "Namespaces"),
    h("table", { id: "namespaces" },
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "State"), h("th", {}, "Retention"))),
      h("tbody", {}, namespaces.map((ns) => {
        const name = ns.namespaceInfo.name;
        return h("tr", {},
          h("td", {}, h("a", { href: `/namespaces/${encodeURIComponent(name)}/workflows` }, name)),
          h("td", {}, enumName(ns.namespaceInfo.state, "NAMESPACE_STATE_")),
          h("td", {}, (ns.config && ns.config.workflowExecutionRetentionTtl) || ""));
      }))),
  );
}

// The filter sent to the server: the user's, with the status filter added before any ORDER BY.
function combinedQuery(text, status) {
  text = text.trim();
  if (!status) return text;
  const statusClause = `ExecutionStatus = "${status}"`;
  const orderAt = text.search(/\border\s+by\b/i);
  const filter = (orderAt >= 0 ? text.slice(0, orderAt) : text).trim();
  const order = orderAt >= 0 ? " " + text.slice(orderAt) : "";
  return (filter ? `(${filter}) AND ${statusClause}` : statusClause) + order;
}

async function listPage(namespace) {
  crumbs(h("a", { href: "/namespaces" }, "Namespaces"), h("span", {}, namespace), h("span", {}, "Workflows"));
  document.title = `Workflows · ${namespace}`;
  const params = new URLSearchParams(location.search);
  const state = { query: params.get("query") || "", status: params.get("status") || "", tokens: [""], page: 0 };

  const queryInput = h("input", { id: "query", name: "query", type: "search", value: state.query, size: 60,
    placeholder: 'WorkflowType = "YourWorkflow" AND StartTime > "2026-01-01T00:00:00Z"', "aria-label": "Filter" });
  const statusSelect = h("select", { id: "status", name: "status", "aria-label": "Status" },
    h("option", { value: "" }, "All statuses"),
    STATUSES.map((s) => h("option", { value: s, selected: s === state.status }, s)));
  const refresh = h("input", { type: "checkbox", id: "auto-refresh", checked: true });
  const form = h("form", { id: "filter", class: "filters" }, queryInput, statusSelect,
    h("button", { type: "submit" }, "Apply"),
    h("label", {}, refresh, " Auto-refresh"));
  const count = h("p", { id: "count", class: "muted" });
  const errors = h("div", { id: "list-errors" });
  const body = h("tbody", {});
  const previous = h("button", { type: "button", id: "previous", disabled: true }, "Previous");
  const next = h("button", { type: "button", id: "next", disabled: true }, "Next");
  const pageLabel = h("span", { id: "page" }, "Page 1");

  async function load() {
    const query = combinedQuery(state.query, state.status);
    const search = new URLSearchParams({ pageSize: PAGE_SIZE, query });
    if (state.tokens[state.page]) search.set("nextPageToken", state.tokens[state.page]);
    try {
      const [list, counted] = await Promise.all([
        api(`/api/v1/namespaces/${encodeURIComponent(namespace)}/workflows?${search}`),
        api(`/api/v1/namespaces/${encodeURIComponent(namespace)}/workflow-count?${new URLSearchParams({ query: query.replace(/\border\s+by\b[\s\S]*$/i, "") })}`),
      ]);
      errors.replaceChildren();
      const executions = list.executions || [];
      body.replaceChildren(...executions.map(row));
      if (!executions.length) body.append(h("tr", {}, h("td", { colspan: 8, class: "muted" }, "No workflows match.")));
      count.textContent = `${counted.count || 0} workflow${counted.count === "1" ? "" : "s"}`;
      state.tokens[state.page + 1] = list.nextPageToken || "";
      next.disabled = !list.nextPageToken;
      previous.disabled = state.page === 0;
      pageLabel.textContent = `Page ${state.page + 1}`;
    } catch (error) {
      errors.replaceChildren(errorBox(error, "list-error"));
    }
  }

  function row(info) {
    const { workflowId, runId } = info.execution;
    return h("tr", { "data-workflow-id": workflowId, "data-run-id": runId },
      h("td", {}, statusBadge(info.status)),
      h("td", {}, h("a", { href: workflowPath(namespace, workflowId, runId), class: "workflow-link" }, workflowId)),
      h("td", { class: "mono" }, runId),
      h("td", {}, (info.type && info.type.name) || ""),
      h("td", {}, info.taskQueue || ""),
      h("td", {}, timeAgo(info.startTime)),
      h("td", {}, timeAgo(info.closeTime)),
      h("td", { class: "num" }, sinceView(info.startTime, info.closeTime)));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    state.query = queryInput.value;
    state.status = statusSelect.value;
    state.tokens = [""];
    state.page = 0;
    const url = new URLSearchParams();
    if (state.query) url.set("query", state.query);
    if (state.status) url.set("status", state.status);
    history.replaceState(null, "", url.toString() ? `?${url}` : location.pathname);
    load();
  });
  statusSelect.addEventListener("change", () => form.requestSubmit());
  next.addEventListener("click", () => { state.page += 1; load(); });
  previous.addEventListener("click", () => { state.page = Math.max(0, state.page - 1); load(); });
  setInterval(() => { if (refresh.checked && !document.hidden) load(); }, REFRESH_EVERY_MS);

  show(
    h("h1", {}, "Workflows"),
    form, errors, count,
    h("table", { id: "workflows" },
      h("thead", {}, h("tr", {}, ["Status", "Workflow ID", "Run ID", "Type", "Task queue", "Start", "Close", "Duration"].map((t) => h("th", {}, t)))),
      body),
    h("div", { class: "pager" }, previous, pageLabel, next),
  );
  await load();
}

async function fullHistory(namespace, workflowId, runId) {
  const events = [];
  let token = "";
  do {
    const search = new URLSearchParams({ "execution.runId": runId });
    if (token) search.set("nextPageToken", token);
    const page = await api(`${apiPath(namespace, workflowId, "/history")}?${search}`);
    events.push(...((page.history && page.history.events) || []));
    token = page.nextPageToken || "";
  } while (token);
  return events;
}

function attributesOf(event) {
  const key = Object.keys(event).find((k) => k.endsWith("EventAttributes"));
  return key ? event[key] : {};
}

function failureView(failure, id) {
  const chain = [];
  for (let f = failure; f; f = f.cause) chain.push(f);
  return h("ol", { class: "failure", id },
    chain.map((f) => {
      const info = f.applicationFailureInfo || f.activityFailureInfo || f.timeoutFailureInfo
        || f.canceledFailureInfo || f.terminatedFailureInfo || f.childWorkflowExecutionFailureInfo || f.serverFailureInfo;
      const kind = Object.keys(f).find((k) => k.endsWith("FailureInfo")) || "";
      const detail = f.applicationFailureInfo ? f.applicationFailureInfo.type
        : f.timeoutFailureInfo ? enumName(f.timeoutFailureInfo.timeoutType, "TIMEOUT_TYPE_")
        : f.activityFailureInfo ? (f.activityFailureInfo.activityType || {}).name : "";
      return h("li", {},
        h("strong", {}, f.message || "(no message)"),
        // applicationFailureInfo → ApplicationFailure, as the SDKs name the failure classes.
        h("span", { class: "muted" }, ` ${kind.charAt(0).toUpperCase()}${kind.slice(1).replace("Info", "")}${detail ? ": " + detail : ""}`),
        info && info.nonRetryable ? h("span", { class: "muted" }, " (non-retryable)") : null,
        f.stackTrace ? h("pre", { class: "stack" }, f.stackTrace) : null);
    }));
}

// What the run ended with, read from its last event.
function outcomeView(namespace, events) {
  const last = events[events.length - 1];
  if (!last) return h("p", { class: "muted" }, "No history.");
  const a = attributesOf(last);
  switch (last.eventType) {
    case "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED":
      return h("section", {}, h("h2", {}, "Result"), payloadsView(a.result, "result"));
    case "EVENT_TYPE_WORKFLOW_EXECUTION_FAILED":
      return h("section", {}, h("h2", {}, "Failure"), failureView(a.failure, "failure"));
    case "EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT":
      return h("section", {}, h("h2", {}, "Timed out"), h("p", { id: "failure" }, "The workflow timed out."));
    case "EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED":
      return h("section", {}, h("h2", {}, "Terminated"),
        h("p", { id: "failure" }, `Reason: ${a.reason || "(none)"}`, a.identity ? ` — by ${a.identity}` : ""));
    case "EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED":
      return h("section", {}, h("h2", {}, "Canceled"), payloadsView(a.details, "failure"));
    case "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW":
      return h("section", {}, h("h2", {}, "Continued as new"),
        h("p", {}, "Next run: ", h("a", { href: workflowPath(namespace, events[0] && attributesOf(events[0]).workflowId || "", a.newExecutionRunId), id: "next-run" }, a.newExecutionRunId)));
    default:
      return h("section", {}, h("h2", {}, "Result"), h("p", { class: "muted", id: "result" }, "Still running."));
  }
}

function pendingTimers(events) {
  const open = new Map();
  for (const event of events) {
    const a = attributesOf(event);
    if (event.eventType === "EVENT_TYPE_TIMER_STARTED") open.set(event.eventId, { ...a, startedAt: event.eventTime });
    if (event.eventType === "EVENT_TYPE_TIMER_FIRED" || event.eventType === "EVENT_TYPE_TIMER_CANCELED") open.delete(a.startedEventId);
  }
  return [...open.values()];
}

function table(id, headings, rows, empty) {
  if (!rows.length) return h("p", { class: "muted", id }, empty);
  return h("table", { id },
    h("thead", {}, h("tr", {}, headings.map((t) => h("th", {}, t)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c))))));
}

// A one-line summary of an event's attributes for the timeline.
function eventSummary(event) {
  const a = attributesOf(event);
  const parts = [];
  if (a.workflowType) parts.push(`type ${a.workflowType.name}`);
  if (a.activityType) parts.push(`activity ${a.activityType.name}`);
  if (a.activityId) parts.push(`id ${a.activityId}`);
  if (a.timerId) parts.push(`timer ${a.timerId}`);
  if (a.startToFireTimeout) parts.push(`fires after ${a.startToFireTimeout}`);
  if (a.signalName) parts.push(`signal ${a.signalName}`);
  if (a.attempt && a.attempt > 1) parts.push(`attempt ${a.attempt}`);
  if (a.input) parts.push(`input ${JSON.stringify(payloadValues(a.input))}`);
  if (a.result) parts.push(`result ${JSON.stringify(payloadValues(a.result))}`);
  if (a.failure) parts.push(`failure ${a.failure.message}`);
  if (a.reason) parts.push(`reason ${a.reason}`);
  return parts.join(" · ");
}

// ---- The timeline: what the run did, as lanes of bars -------------------------------------
// One item per activity, timer, child, outgoing signal and update (a bar from when it was
// asked for to when it closed, or to now while open), and one per received signal or marker
// (a point). Items are read from the history; the describe answer adds what the history does
// not yet say about pending activities (their attempt, when the current one started).

// How each way of ending reads without colour: an icon and a word.
const OUTCOMES = {
  completed: { icon: "✓", word: "Completed" },
  fired: { icon: "✓", word: "Fired" },
  signaled: { icon: "✓", word: "Delivered" },
  received: { icon: "↓", word: "Received" },
  recorded: { icon: "•", word: "Recorded" },
  failed: { icon: "✕", word: "Failed" },
  timedout: { icon: "◷", word: "Timed out" },
  canceled: { icon: "⊘", word: "Canceled" },
  terminated: { icon: "■", word: "Terminated" },
  continuedasnew: { icon: "↻", word: "Continued as new" },
  running: { icon: "▶", word: "Running" },
  scheduled: { icon: "…", word: "Scheduled" },
  waiting: { icon: "…", word: "Waiting" },
};

const KIND_NAMES = {
  workflow: "Run", activity: "Activity", local: "Local activity", timer: "Timer", child: "Child",
  signal: "Signal", "signal-out": "Signal out", update: "Update", marker: "Marker",
};

const CLOSES = {
  EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "completed",
  EVENT_TYPE_ACTIVITY_TASK_FAILED: "failed",
  EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "timedout",
  EVENT_TYPE_ACTIVITY_TASK_CANCELED: "canceled",
  EVENT_TYPE_TIMER_FIRED: "fired",
  EVENT_TYPE_TIMER_CANCELED: "canceled",
  EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED: "completed",
  EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED: "failed",
  EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED: "canceled",
  EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT: "timedout",
  EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED: "terminated",
  EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED: "failed",
  EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED: "signaled",
  EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: "failed",
};

const RUN_CLOSES = {
  EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "completed",
  EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "failed",
  EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: "timedout",
  EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "canceled",
  EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "terminated",
  EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "continuedasnew",
};

// The event that a later event of the same item names, by attribute.
const LINKS = ["scheduledEventId", "startedEventId", "initiatedEventId", "acceptedEventId"];

function short(value, limit = 80) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined) return "";
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

function timelineModel(events, described) {
  const lanes = [];
  const laneOf = new Map();
  const items = [];
  const byEvent = new Map();
  const first = events[0];
  const start = ms(first && first.eventTime) ?? ms((described.workflowExecutionInfo || {}).startTime) ?? Date.now();

  function lane(key, kind, name) {
    if (!laneOf.has(key)) {
      const made = { key, kind, name, items: [] };
      laneOf.set(key, made);
      lanes.push(made);
    }
    return laneOf.get(key);
  }
  function open(kind, laneKey, name, event, fields) {
    const at = ms(event.eventTime) ?? start;
    const item = { kind, key: `${kind}-${event.eventId}`, name, start: at, end: null, outcome: null,
      events: [String(event.eventId)], attempts: 1, notes: [], ...fields };
    lane(laneKey, kind, name).items.push(item);
    items.push(item);
    byEvent.set(String(event.eventId), item);
    return item;
  }
  function point(kind, laneKey, name, event, outcome, notes) {
    const item = open(kind, laneKey, name, event, { point: true, outcome, notes });
    item.end = item.start;
    return item;
  }
  // The item a later event belongs to, with that event added to it.
  function follow(event, a) {
    for (const link of LINKS) {
      const item = a[link] && byEvent.get(String(a[link]));
      if (item) {
        item.events.push(String(event.eventId));
        byEvent.set(String(event.eventId), item);
        return item;
      }
    }
    return null;
  }

  const run = open("workflow", "run", "This run", first || { eventId: 0, eventTime: null }, {});
  for (const event of events) {
    const a = attributesOf(event);
    const at = ms(event.eventTime) ?? start;
    const type = event.eventType;
    if (type === "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED") continue;
    if (RUN_CLOSES[type]) {
      run.end = at;
      run.outcome = RUN_CLOSES[type];
      run.events.push(String(event.eventId));
      continue;
    }
    switch (type) {
      case "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED":
        open("activity", `activity-${event.eventId}`, (a.activityType || {}).name || "activity", event,
          { id: a.activityId, input: a.input });
        continue;
      case "EVENT_TYPE_TIMER_STARTED":
        open("timer", `timer-${event.eventId}`, `timer ${a.timerId}`, event,
          { id: a.timerId, planned: a.startToFireTimeout });
        continue;
      case "EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED":
        open("child", `child-${event.eventId}`, a.workflowId, event,
          { id: a.workflowId, type: (a.workflowType || {}).name, namespace: a.namespace });
        continue;
      case "EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED":
        open("signal-out", `signal-out-${a.signalName}`, `${a.signalName} → ${(a.workflowExecution || {}).workflowId}`, event, {});
        continue;
      case "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED":
        point("signal", `signal-${a.signalName}`, a.signalName, event, "received",
          [a.input ? `input ${short(payloadValues(a.input))}` : null].filter(Boolean));
        continue;
      case "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED": {
        const request = a.acceptedRequest || {};
        const name = (request.input || {}).name || a.protocolInstanceId || "update";
        open("update", `update-${name}`, name, event, { id: a.protocolInstanceId });
        continue;
      }
      case "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED": {
        const item = follow(event, a);
        if (item) {
          item.end = at;
          item.outcome = a.outcome && a.outcome.failure ? "failed" : "completed";
          if (a.outcome && a.outcome.failure) item.failure = a.outcome.failure;
        }
        continue;
      }
      case "EVENT_TYPE_MARKER_RECORDED": {
        // SDKs record local activities as markers; their names say so ("core_local_activity",
        // "LocalActivity"). Other markers (patches, side effects) share one lane.
        const local = /local_?activity/i.test(a.markerName || "");
        point(local ? "local" : "marker", local ? `local-${event.eventId}` : "markers", a.markerName || "marker", event,
          a.failure ? "failed" : "recorded", a.failure ? [`failure ${a.failure.message}`] : []);
        continue;
      }
      default:
        break;
    }
    const item = follow(event, a);
    if (!item) continue;
    if (type === "EVENT_TYPE_ACTIVITY_TASK_STARTED") {
      item.started = at;
      item.attempts = a.attempt || 1;
      if (a.lastFailure) item.lastFailure = a.lastFailure;
    } else if (type === "EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED") {
      item.started = at;
      item.runId = (a.workflowExecution || {}).runId;
    } else if (type === "EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED") {
      item.notes.push("cancellation requested");
    } else if (CLOSES[type]) {
      item.end = at;
      item.outcome = CLOSES[type];
      if (a.failure) item.failure = a.failure;
      if (a.result) item.result = payloadValues(a.result);
      if (a.cause) item.failure = { message: enumName(a.cause, "START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_") };
    }
  }

  // What only the describe answer knows: the attempt a pending activity is on, when it was
  // scheduled and started, and its last heartbeat.
  for (const p of described.pendingActivities || []) {
    const item = items.find((i) => i.kind === "activity" && i.end === null && i.id === p.activityId);
    if (!item) continue;
    item.attempts = p.attempt || 1;
    item.currentScheduled = ms(p.scheduledTime);
    item.lastStarted = p.state === "PENDING_ACTIVITY_STATE_SCHEDULED" ? null : ms(p.lastStartedTime);
    item.lastHeartbeat = ms(p.lastHeartbeatTime);
    item.maximumAttempts = p.maximumAttempts;
    if (p.lastFailure) item.lastFailure = p.lastFailure;
  }
  return { lanes, items, start, end: run.end, running: run.end === null };
}

// An open item's state, in the words of OUTCOMES.
function stateOf(item) {
  if (item.outcome) return item.outcome;
  if (item.kind === "activity") return item.lastStarted ? "running" : "scheduled";
  if (item.kind === "workflow") return "running";
  if (item.kind === "child") return item.started ? "running" : "scheduled";
  return "waiting";
}

const failed = (item) => ["failed", "timedout", "canceled", "terminated"].includes(stateOf(item));

// The parts of a bar: retries before the last attempt (hatched), waiting for a worker or a
// start (light), and the run of the last attempt (solid, coloured by how it ended).
function segmentsOf(item, now) {
  const end = item.end ?? Math.max(now, item.start);
  if (item.point) return [];
  const segments = [];
  let t = item.start;
  if (item.kind === "activity") {
    const closed = item.end !== null;
    const lastAttemptFrom = closed ? item.started : item.currentScheduled;
    if (item.attempts > 1 && lastAttemptFrom && lastAttemptFrom > t) {
      segments.push({ from: t, to: Math.min(lastAttemptFrom, end), part: "retry" });
      t = Math.min(lastAttemptFrom, end);
    }
    const startedAt = closed ? item.started : item.lastStarted;
    if (startedAt) {
      if (startedAt > t) segments.push({ from: t, to: Math.min(startedAt, end), part: "wait" });
      segments.push({ from: Math.min(Math.max(t, startedAt), end), to: end, part: "run" });
    } else {
      segments.push({ from: t, to: end, part: closed ? "run" : "wait" });
    }
  } else if (item.kind === "child" && item.started) {
    if (item.started > t) segments.push({ from: t, to: item.started, part: "wait" });
    segments.push({ from: item.started, to: end, part: "run" });
  } else {
    segments.push({ from: t, to: end, part: item.kind === "child" && item.end === null ? "wait" : "run" });
  }
  return segments;
}

const offset = (t, start) => `+${formatDuration(t - start)}`;

// Milliseconds of a proto3 JSON duration ("3600s", "0.020s").
function durationMs(text) {
  const seconds = parseFloat(String(text || "").replace(/s$/, ""));
  return isNaN(seconds) ? null : seconds * 1000;
}

// What a bar says on hover or focus, one line each.
function detailsOf(item, model, now) {
  const state = OUTCOMES[stateOf(item)];
  const lines = [`${KIND_NAMES[item.kind]} ${item.name}${item.id && item.id !== item.name ? ` (id ${item.id})` : ""}: ${state.icon} ${state.word}`];
  if (item.type) lines.push(`type ${item.type}`);
  if (item.point) {
    lines.push(`at ${offset(item.start, model.start)} (${time(new Date(item.start).toISOString())})`);
  } else {
    lines.push(`${item.kind === "timer" ? "started" : "scheduled"} at ${offset(item.start, model.start)}`);
    if (item.started) lines.push(`started at ${offset(item.started, model.start)}`);
    if (item.end === null && item.lastStarted) lines.push(`current attempt started at ${offset(item.lastStarted, model.start)}`);
    lines.push(item.end === null ? `open for ${formatDuration(now - item.start)}` : `took ${formatDuration(item.end - item.start)}`);
  }
  if (item.planned) lines.push(`fires after ${item.planned}`);
  if (item.kind === "activity") {
    lines.push(`attempt ${item.attempts}${item.maximumAttempts ? ` of ${item.maximumAttempts}` : ""}`);
    if (item.end === null && item.lastHeartbeat) lines.push(`last heartbeat ${formatDuration(now - item.lastHeartbeat)} ago`);
  }
  if (item.lastFailure) lines.push(`last failure: ${item.lastFailure.message}`);
  if (item.failure) lines.push(`failure: ${item.failure.message}`);
  if (item.result) lines.push(`result ${short(item.result)}`);
  lines.push(...item.notes);
  lines.push(`events ${item.events.join(", ")}`);
  return lines;
}

// Ticks about every 110 px, on steps people count in.
const STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5,
  9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5, 1728e5, 6048e5, 12096e5, 2592e6];

// A tick's offset from the start, exactly: ticks are multiples of their step, so this stays
// short ("1.5 s", "2 min 30 s", "1 d 6 h").
function tickLabel(value) {
  if (value === 0) return "0";
  if (value < 1000) return `${value} ms`;
  if (value < 60000) return `${Math.round(value) / 1000} s`;
  const parts = [];
  let rest = Math.round(value / 1000);
  for (const [name, size] of [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]]) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n) parts.push(`${n} ${name}`);
  }
  return parts.join(" ");
}

const SVG = "http://www.w3.org/2000/svg";
// Like h(), for SVG elements, which need their namespace.
function svgNode(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

// Sizes in px; lane labels are HTML beside the drawing, so CSS sets the same heights there.
const LANE_H = 30;
const AXIS_H = 28;
const PAD_LEFT = 12;
// Room right of the last bar for its outcome label.
const PAD_RIGHT = 240;

// The chart for a model. `view` keeps the zoom and selection across redraws of the page;
// `onSelect` is told the item chosen with a click, Enter or Space.
function chartView(model, view, onSelect) {
  const tip = h("div", { class: "chart-tip", id: "chart-tip", role: "tooltip", hidden: true });
  const svg = svgNode("svg", { id: "timeline-chart", class: "chart-svg", role: "group",
    "aria-label": "Timeline: arrow keys move between bars, Enter selects a bar's events", "aria-describedby": "chart-tip" });
  const defs = svgNode("defs", {},
    // Retries are hatched, so they read as "not one attempt" without relying on colour.
    svgNode("pattern", { id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
      svgNode("rect", { width: 6, height: 6, class: "hatch-bg" }),
      svgNode("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch-line" })));
  const grid = svgNode("g", { class: "grid" });
  const axis = svgNode("g", { class: "axis" });
  const bars = svgNode("g", { class: "bars" });
  svg.append(defs, grid, axis, bars);
  const scroll = h("div", { class: "chart-scroll", onscroll: () => { view.scrollLeft = scroll.scrollLeft; } }, svg);
  const labels = h("div", { class: "chart-labels", "aria-hidden": "true" }, h("div", { class: "axis-spacer" }),
    model.lanes.map((lane) => h("div", { class: `lane-label kind-${lane.kind}`, title: `${KIND_NAMES[lane.kind]} ${lane.name}` },
      h("span", { class: "lane-kind" }, KIND_NAMES[lane.kind]), " ", lane.name)));

  // Each item is one focusable group; only one of them is in the tab order at a time
  // (a roving tabindex), so Tab passes the chart in one step and arrows move inside it.
  const nodes = new Map();
  model.lanes.forEach((lane, row) => {
    const y = AXIS_H + row * LANE_H;
    bars.append(svgNode("rect", { class: `lane-bg ${row % 2 ? "odd" : "even"}`, x: 0, y, height: LANE_H, width: "100%" }));
    for (const item of lane.items) {
      const parts = svgNode("g", { class: "parts" });
      const ring = svgNode("rect", { class: "ring", y: y + 3, height: LANE_H - 6, rx: 4 });
      const label = svgNode("text", { class: "bar-label", y: y + LANE_H / 2 + 4 });
      const node = svgNode("g", {
        class: `bar kind-${item.kind}${item.point ? " point" : ""}`, tabindex: -1, role: "button",
        "data-key": item.key, "data-kind": item.kind, "data-attempts": item.attempts, "data-events": item.events.join(" "),
        onclick: () => onSelect(item),
        onfocus: () => { view.focused = item.key; showTip(item); },
        onblur: () => hideTip(),
        onmouseenter: () => showTip(item),
        onmouseleave: () => { if (document.activeElement !== node) hideTip(); },
      }, ring, parts, label);
      node.dataset.outcome = stateOf(item);
      bars.append(node);
      nodes.set(item.key, { item, node, parts, ring, label, y, row });
    }
  });
  const order = [...nodes.values()];
  const first = nodes.get(view.focused) || order[0];
  if (first) first.node.setAttribute("tabindex", 0);

  let shown = null;
  function showTip(item) {
    shown = item;
    tip.replaceChildren(...detailsOf(item, model, Date.now()).map((line) => h("div", {}, line)));
    tip.hidden = false;
    const box = nodes.get(item.key).node.getBoundingClientRect();
    const frame = tip.parentElement.getBoundingClientRect();
    tip.style.left = `${Math.max(0, Math.min(box.left - frame.left, frame.width - 320))}px`;
    tip.style.top = `${box.bottom - frame.top + 4}px`;
  }
  function hideTip() { shown = null; tip.hidden = true; }

  function move(from, to) {
    if (!to) return;
    from.node.setAttribute("tabindex", -1);
    to.node.setAttribute("tabindex", 0);
    to.node.focus();
    // Keep a focused bar in sight when zoomed in.
    const box = to.node.getBBox();
    if (box.x < scroll.scrollLeft || box.x > scroll.scrollLeft + scroll.clientWidth - 40) scroll.scrollLeft = box.x - 40;
  }
  svg.addEventListener("keydown", (event) => {
    const current = nodes.get(event.target.closest(".bar") && event.target.closest(".bar").dataset.key);
    if (!current) return;
    const lane = model.lanes[current.row].items;
    const inLane = lane.indexOf(current.item);
    const nearestIn = (row) => {
      const items = model.lanes[row] && model.lanes[row].items;
      if (!items) return null;
      const best = items.reduce((a, b) => (Math.abs(b.start - current.item.start) < Math.abs(a.start - current.item.start) ? b : a));
      return nodes.get(best.key);
    };
    const moves = {
      ArrowRight: () => nodes.get((lane[inLane + 1] || {}).key) || order[order.indexOf(current) + 1],
      ArrowLeft: () => nodes.get((lane[inLane - 1] || {}).key) || order[order.indexOf(current) - 1],
      ArrowDown: () => nearestIn(current.row + 1),
      ArrowUp: () => nearestIn(current.row - 1),
      Home: () => order[0],
      End: () => order[order.length - 1],
    };
    if (moves[event.key]) {
      event.preventDefault();
      move(current, moves[event.key]());
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      onSelect(current.item);
    } else if (event.key === "Escape") {
      hideTip();
    }
  });

  // Positions everything for `now`; called again every second while the run is open, so
  // open bars grow. Only geometry changes: the focused bar keeps its focus.
  function layout() {
    const now = Date.now();
    const end = Math.max(model.end ?? now, model.start + 1);
    const span = end - model.start;
    const room = Math.max(scroll.clientWidth - PAD_LEFT - PAD_RIGHT, 200);
    const scale = view.pxPerMs || room / span;
    const x = (t) => PAD_LEFT + (t - model.start) * scale;
    const width = PAD_LEFT + span * scale + PAD_RIGHT;
    const height = AXIS_H + model.lanes.length * LANE_H + 2;
    svg.setAttribute("width", Math.max(width, scroll.clientWidth || 0));
    svg.setAttribute("height", height);
    svg.setAttribute("viewBox", `0 0 ${Math.max(width, scroll.clientWidth || 0)} ${height}`);

    const step = STEPS.find((st) => st * scale >= 110) || STEPS[STEPS.length - 1];
    const ticks = [];
    for (let t = 0; t <= span; t += step) ticks.push(t);
    axis.replaceChildren(...ticks.map((t) => svgNode("text", { x: x(model.start + t), y: AXIS_H - 9, class: "tick" }, tickLabel(t))));
    grid.replaceChildren(...ticks.map((t) => svgNode("line", { x1: x(model.start + t), x2: x(model.start + t), y1: AXIS_H - 4, y2: height, class: "gridline" })),
      model.running ? svgNode("line", { x1: x(now), x2: x(now), y1: AXIS_H - 4, y2: height, class: "now" }) : null);

    for (const { item, node, parts, ring, label, y } of nodes.values()) {
      const top = y + 7;
      const tall = LANE_H - 14;
      let left;
      let right;
      if (item.point) {
        const cx = x(item.start);
        const r = tall / 2 + 1;
        parts.replaceChildren(svgNode("path", { class: `part part-run`, d: `M${cx} ${top - 1}l${r} ${r}l${-r} ${r}l${-r} ${-r}z` }));
        left = cx - r;
        right = cx + r;
      } else {
        const segments = segmentsOf(item, now);
        parts.replaceChildren(...segments.map((seg) => svgNode("rect", {
          class: `part part-${seg.part}`, "data-part": seg.part, x: x(seg.from), y: top, height: tall, rx: 2,
          // At least 3 px, so an instant activity is still a bar one can point at.
          width: Math.max((seg.to - seg.from) * scale, 3),
        })));
        left = x(item.start);
        right = Math.max(x(item.end ?? now), left + 3);
      }
      ring.setAttribute("x", left - 3);
      ring.setAttribute("width", right - left + 6);
      const state = OUTCOMES[stateOf(item)];
      const attempts = item.kind === "activity" && item.attempts > 1 ? ` · ${item.attempts} attempts` : "";
      // An open timer is drawn up to now like other open work; its label says how far along
      // it is, so an hour-long timer does not squash the rest of the chart to fit.
      const planned = item.kind === "timer" && item.end === null && durationMs(item.planned);
      const length = item.point ? "" : ` · ${formatDuration((item.end ?? now) - item.start)}${planned ? ` of ${formatDuration(planned)}` : ""}`;
      label.setAttribute("x", right + 6);
      label.textContent = `${state.icon} ${state.word}${attempts}${length}`;
      node.classList.toggle("open", item.end === null);
      node.classList.toggle("bad", failed(item));
      node.dataset.outcome = stateOf(item);
      node.setAttribute("aria-label", detailsOf(item, model, now).join("; "));
    }
    if (view.scrollLeft && scroll.scrollLeft !== view.scrollLeft) scroll.scrollLeft = view.scrollLeft;
    if (shown) showTip(shown);
  }

  function mark(key) {
    for (const { item, node } of nodes.values()) node.classList.toggle("selected", item.key === key);
  }

  // Zoomed in, the chart keeps a fixed scale (so open bars visibly grow) and scrolls;
  // zooming out as far as the whole run, or Fit, goes back to fitting it (null).
  function zoom(factor) {
    const room = Math.max(scroll.clientWidth - PAD_LEFT - PAD_RIGHT, 200);
    const fit = room / Math.max((model.end ?? Date.now()) - model.start, 1);
    const next = factor === null ? null : (view.pxPerMs || fit) * factor;
    view.pxPerMs = next === null || next <= fit ? null : next;
    if (view.pxPerMs === null) view.scrollLeft = 0;
    layout();
  }
  const tools = h("div", { class: "chart-tools", role: "toolbar", "aria-label": "Zoom" },
    h("button", { type: "button", id: "zoom-out", "aria-label": "Zoom out", onclick: () => zoom(0.5) }, "−"),
    h("button", { type: "button", id: "zoom-in", "aria-label": "Zoom in", onclick: () => zoom(2) }, "+"),
    h("button", { type: "button", id: "zoom-fit", onclick: () => zoom(null) }, "Fit"),
    h("span", { class: "legend", "aria-hidden": "true" },
      h("span", { class: "key key-wait" }), "waiting", h("span", { class: "key key-retry" }), "earlier attempts",
      h("span", { class: "key key-run" }), "running or done", h("span", { class: "key key-bad" }), "✕ failed · ◷ timed out · ⊘ canceled"));
  const root = h("div", { class: "chart-frame" }, tools, h("div", { class: "chart" }, labels, scroll), tip);
  return { root, layout, mark, nodes };
}

// The run `runId` names, or the workflow's latest run without one.
function describeRun(namespace, workflowId, runId) {
  const search = runId ? `?${new URLSearchParams({ "execution.runId": runId })}` : "";
  return api(`${apiPath(namespace, workflowId)}${search}`);
}

const dialogOpen = () => document.getElementById("confirm").open;

// What, of a described run, the workflow page shows and may change while it runs.
function describedState(described) {
  const info = described.workflowExecutionInfo || {};
  return JSON.stringify([info.status, info.historyLength, described.pendingActivities, described.pendingChildren]);
}

// Keyboard use of a table body: rows take focus one at a time (a roving tabindex); arrows,
// Home and End move between them, Enter hands the row to `onEnter`.
function keyboardRows(tbody, onEnter) {
  const rows = [...tbody.rows];
  rows.forEach((row, i) => row.setAttribute("tabindex", i === 0 ? 0 : -1));
  tbody.addEventListener("keydown", (event) => {
    const row = event.target.closest("tr");
    const at = rows.indexOf(row);
    if (at < 0) return;
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: rows.length - 1 }[event.key];
    if (to !== undefined && rows[to]) {
      event.preventDefault();
      row.setAttribute("tabindex", -1);
      rows[to].setAttribute("tabindex", 0);
      rows[to].focus();
    } else if (event.key === "Enter" && onEnter && event.target === row) {
      event.preventDefault();
      onEnter(row);
    }
  });
  return rows;
}

// How an item ended, in words and an icon, for the grouped view.
function outcomeText(item) {
  const state = OUTCOMES[stateOf(item)];
  const why = item.failure ? `: ${item.failure.message}` : item.result ? `: ${short(item.result.length === 1 ? item.result[0] : item.result)}` : "";
  return h("span", { class: `outcome outcome-${stateOf(item)}`, "data-outcome": stateOf(item) },
    h("span", { "aria-hidden": "true" }, `${state.icon} `), state.word, why);
}

function groupedView(namespace, model, onSelect) {
  const items = model.items.filter((i) => i.kind !== "workflow");
  if (!items.length) return { root: h("p", { class: "muted", id: "grouped" }, "Nothing but the run itself."), rows: [] };
  const body = h("tbody", {}, items.map((item) => h("tr", { "data-key": item.key, onclick: () => onSelect(item) },
    h("td", {}, KIND_NAMES[item.kind]),
    h("td", { class: "name" }, item.kind === "child" && item.runId
      ? h("a", { href: workflowPath(item.namespace || namespace, item.id, item.runId) }, item.name) : item.name, item.type ? h("span", { class: "muted" }, ` ${item.type}`) : null),
    h("td", { class: "num attempts" }, item.kind === "activity" ? String(item.attempts) : ""),
    h("td", { class: "num" }, offset(item.start, model.start)),
    h("td", { class: "num" }, item.point ? "" : item.end === null
      ? sinceView(new Date(item.start).toISOString()) : formatDuration(item.end - item.start)),
    h("td", {}, outcomeText(item)),
    h("td", { class: "mono" }, item.events.join(" ")))));
  const rows = keyboardRows(body, (row) => onSelect(items.find((i) => i.key === row.dataset.key)));
  return {
    root: h("table", { id: "grouped" },
      h("thead", {}, h("tr", {}, ["Kind", "Name", "Attempts", "Start", "Duration", "Result", "Events"].map((t) => h("th", {}, t)))),
      body),
    rows,
  };
}

let following;

async function detailPage(namespace, workflowId, runId, view = {}) {
  clearInterval(following);
  onTick = null;
  onResize = null;
  crumbs(h("a", { href: "/namespaces" }, "Namespaces"),
    h("a", { href: `/namespaces/${encodeURIComponent(namespace)}/workflows` }, namespace),
    h("span", {}, workflowId));
  document.title = `${workflowId} · ${namespace}`;
  let described;
  try {
    described = await describeRun(namespace, workflowId, runId);
  } catch (error) {
    if (error.status === 404) return notFoundPage(`No workflow "${workflowId}"${runId ? ` with run ${runId}` : ""} in namespace "${namespace}".`, error.message);
    throw error;
  }
  const info = described.workflowExecutionInfo;
  // Everything below, and every action, is about this exact run.
  const shown = { workflowId: info.execution.workflowId, runId: info.execution.runId };
  const events = await fullHistory(namespace, shown.workflowId, shown.runId);
  const started = attributesOf(events[0] || {});
  const running = info.status === "WORKFLOW_EXECUTION_STATUS_RUNNING";

  const model = timelineModel(events, described);
  const firstScheduled = (activityId) => {
    const item = model.items.find((i) => i.kind === "activity" && i.end === null && i.id === activityId);
    return item ? new Date(item.start).toISOString() : null;
  };
  const activities = (described.pendingActivities || []).map((p) => [
    p.activityId, (p.activityType || {}).name || "", enumName(p.state, "PENDING_ACTIVITY_STATE_"),
    String(p.attempt || 1) + (p.maximumAttempts ? ` of ${p.maximumAttempts}` : ""),
    sinceView(firstScheduled(p.activityId) || p.scheduledTime, null, `scheduled-since-${p.activityId}`),
    p.lastFailure ? p.lastFailure.message : "",
    p.heartbeatDetails ? JSON.stringify(payloadValues(p.heartbeatDetails)) : "",
    p.lastHeartbeatTime ? [sinceView(p.lastHeartbeatTime, null, `heartbeat-since-${p.activityId}`), " ago"] : "never",
  ]);
  const children = (described.pendingChildren || []).map((c) => [
    h("a", { href: workflowPath(namespace, c.workflowId, c.runId) }, c.workflowId), c.runId || "", c.workflowTypeName || "",
  ]);
  const timers = pendingTimers(events).map((t) => [t.timerId, t.startToFireTimeout || "", time(t.startedAt)]);

  const stack = h("div", { id: "stack" });
  const rawJson = h("pre", { id: "history-json", hidden: true }, JSON.stringify({ events }, null, 2));
  const itemOfEvent = new Map(model.items.flatMap((item) => item.events.map((id) => [id, item])));
  const eventBody = h("tbody", {}, events.map((e) => h("tr", { "data-event-id": String(e.eventId),
    onclick: () => { const item = itemOfEvent.get(String(e.eventId)); if (item) select(item, "events"); } },
    h("td", {}, e.eventId),
    h("td", {}, time(e.eventTime), h("span", { class: "muted" }, ` ${offset(ms(e.eventTime) ?? model.start, model.start)}`)),
    h("td", {}, h("span", { class: "event-type" }, eventName(e.eventType))),
    h("td", {}, eventSummary(e)))));
  const eventRows = keyboardRows(eventBody, (row) => { const item = itemOfEvent.get(row.dataset.eventId); if (item) select(item, "events"); });
  const timeline = h("table", { id: "timeline", "aria-label": "History events" },
    h("thead", {}, h("tr", {}, ["ID", "Time", "Event", "Details"].map((t) => h("th", {}, t)))), eventBody);
  const grouped = groupedView(namespace, model, (item) => select(item, "grouped"));
  const chart = chartView(model, view, (item) => select(item, "chart"));
  const selection = h("p", { id: "selection", class: "selection muted", "aria-live": "polite" });

  // Three views of one history; the chosen one survives the redraws of a followed run.
  const tabs = [["events", "Events", timeline], ["grouped", "Grouped", grouped.root], ["json", "JSON", rawJson]];
  const tabButtons = tabs.map(([name, label]) => h("button", { type: "button", class: "tab", id: `tab-${name}`, role: "tab",
    onclick: () => showTab(name) }, label));
  const tabList = h("div", { class: "tabs", role: "tablist", "aria-label": "History views" }, tabButtons);
  tabList.addEventListener("keydown", (event) => {
    const at = tabs.findIndex(([name]) => name === view.tab);
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1 }[event.key];
    if (to === undefined) return;
    const next = tabs[(to + tabs.length) % tabs.length][0];
    showTab(next);
    document.getElementById(`tab-${next}`).focus();
  });
  function showTab(name) {
    view.tab = name;
    tabs.forEach(([tab, , panel], i) => {
      panel.hidden = tab !== name;
      tabButtons[i].classList.toggle("active", tab === name);
      tabButtons[i].setAttribute("aria-selected", tab === name);
      tabButtons[i].setAttribute("tabindex", tab === name ? 0 : -1);
    });
  }
  showTab(view.tab || "events");

  // One item chosen in any view is marked in all of them. A click on the chart shows the
  // events, since finding them is why one clicks a bar.
  function select(item, from) {
    view.selected = item ? item.key : null;
    const ids = new Set(item ? item.events : []);
    for (const row of eventRows) {
      row.classList.toggle("selected", ids.has(row.dataset.eventId));
      row.setAttribute("aria-selected", ids.has(row.dataset.eventId));
    }
    for (const row of grouped.rows) row.classList.toggle("selected", Boolean(item) && row.dataset.key === item.key);
    chart.mark(view.selected);
    selection.replaceChildren(...(item ? [
      `Selected: ${KIND_NAMES[item.kind]} ${item.name}, events ${item.events.join(", ")}. `,
      h("button", { type: "button", id: "clear-selection", onclick: () => select(null) }, "Clear")] : []));
    if (item && from === "chart") {
      if (view.tab === "json") showTab("events");
      const row = (view.tab === "grouped" ? grouped.rows : eventRows).find((r) => r.classList.contains("selected"));
      if (row) row.scrollIntoView({ block: "nearest" });
    }
  }

  // While it runs, the page follows this run: a new event, another status or a change in its
  // pending work redraws it. Never while a dialog is open, so a confirmation is not swept away.
  const follow = h("input", { type: "checkbox", id: "detail-auto-refresh", checked: view.follow !== false });
  follow.addEventListener("change", () => { view.follow = follow.checked; });
  if (running) {
    const seen = describedState(described);
    let checking = false;
    following = setInterval(async () => {
      if (checking || !follow.checked || document.hidden || dialogOpen()) return;
      checking = true;
      try {
        const now = await describeRun(namespace, shown.workflowId, shown.runId);
        if (describedState(now) !== seen && follow.checked && !dialogOpen()) {
          await detailPage(namespace, shown.workflowId, shown.runId, view);
        }
      } catch (error) {
        // A failed check is retried at the next tick; the page keeps what it shows.
      } finally {
        checking = false;
      }
    }, REFRESH_EVERY_MS);
  }

  const actions = h("div", { class: "actions" },
    h("button", { type: "button", id: "signal", disabled: !running, onclick: () => signalDialog(namespace, shown) }, "Signal"),
    h("button", { type: "button", id: "update", disabled: !running, onclick: () => updateDialog(namespace, shown) }, "Update"),
    h("button", { type: "button", id: "cancel", disabled: !running, onclick: () => cancelDialog(namespace, shown) }, "Cancel"),
    h("button", { type: "button", id: "terminate", class: "danger", disabled: !running, onclick: () => terminateDialog(namespace, shown) }, "Terminate"));

  // A redraw of a followed run keeps the keyboard where it was.
  const refocus = document.activeElement && document.activeElement.closest && document.activeElement.closest(".bar")
    ? document.activeElement.closest(".bar").dataset.key : null;
  show(
    h("div", { class: "title" }, h("h1", { id: "workflow-id" }, shown.workflowId), statusBadge(info.status), actions,
      running ? h("label", { class: "muted" }, follow, " Auto-refresh") : null),
    h("dl", { class: "summary" },
      h("dt", {}, "Run ID"), h("dd", { class: "mono", id: "run-id" }, shown.runId),
      h("dt", {}, "Type"), h("dd", { id: "workflow-type" }, (info.type && info.type.name) || ""),
      h("dt", {}, "Task queue"), h("dd", {}, info.taskQueue || ""),
      h("dt", {}, "Start"), h("dd", {}, time(info.startTime), " (", timeAgo(info.startTime), ")"),
      h("dt", {}, "Close"), h("dd", {}, info.closeTime ? [time(info.closeTime), " (", timeAgo(info.closeTime), ")"] : "still running"),
      h("dt", {}, "Duration"), h("dd", {}, sinceView(info.startTime, info.closeTime, "run-duration"), running ? " so far" : ""),
      h("dt", {}, "History"), h("dd", {}, `${events.length} events`),
      fieldsView("Memo", info.memo && info.memo.fields, "memo"),
      fieldsView("Search attributes", info.searchAttributes && info.searchAttributes.indexedFields, "search-attributes"),
      started.parentWorkflowExecution ? [h("dt", {}, "Parent"), h("dd", {}, h("a", { href: workflowPath(started.parentWorkflowNamespace || namespace, started.parentWorkflowExecution.workflowId, started.parentWorkflowExecution.runId) }, started.parentWorkflowExecution.workflowId))] : null,
    ),
    h("section", { class: "timeline" }, h("h2", {}, "Timeline"), chart.root),
    h("section", {}, h("h2", {}, "Input"), payloadsView(started.input, "input")),
    outcomeView(namespace, events),
    h("section", {}, h("h2", {}, "Pending activities"),
      table("pending-activities", ["Activity ID", "Type", "State", "Attempt", "Since scheduled", "Last failure", "Heartbeat details", "Last heartbeat"], activities, "None.")),
    h("section", {}, h("h2", {}, "Pending child workflows"),
      table("pending-children", ["Workflow ID", "Run ID", "Type"], children, "None.")),
    h("section", {}, h("h2", {}, "Pending timers"),
      table("pending-timers", ["Timer ID", "Fires after", "Started"], timers, "None.")),
    running ? h("section", {}, h("h2", {}, "Call stack"),
      h("button", { type: "button", id: "load-stack", onclick: () => loadStack(namespace, shown, stack) }, "Ask the worker"), stack) : null,
    h("section", {}, h("h2", {}, "History"), tabList, selection, timeline, grouped.root, rawJson),
  );
  // Sizes are known once the chart is in the page.
  chart.layout();
  if (view.selected) select(model.items.find((i) => i.key === view.selected) || null);
  if (refocus && chart.nodes.get(refocus)) chart.nodes.get(refocus).node.focus();
  onResize = chart.layout;
  if (running) onTick = chart.layout;
}

async function loadStack(namespace, shown, target) {
  target.replaceChildren(h("p", { class: "muted" }, "Asking the worker…"));
  try {
    const answer = await api(apiPath(namespace, shown.workflowId, "/query/__stack_trace"),
      { execution: { runId: shown.runId }, query: {} });
    const values = payloadValues(answer.queryResult);
    target.replaceChildren(h("pre", { class: "stack" }, values.map((v) => (typeof v === "string" ? v : JSON.stringify(v, null, 2))).join("\n")));
  } catch (error) {
    target.replaceChildren(errorBox(new Error(`The worker gave no call stack: ${error.message}`), "stack-error"));
  }
}

// ---- Actions: each shows the exact run it acts on and waits for confirmation ------------------

function confirmDialog({ title, fields, confirmLabel, act }) {
  const dialog = document.getElementById("confirm");
  const error = document.getElementById("confirm-error");
  document.getElementById("confirm-title").textContent = title.text;
  document.getElementById("confirm-target").replaceChildren(
    "Workflow ", h("code", { id: "confirm-workflow-id" }, title.workflowId),
    ", run ", h("code", { id: "confirm-run-id" }, title.runId));
  document.getElementById("confirm-fields").replaceChildren(...fields);
  error.hidden = true;
  const ok = document.getElementById("confirm-ok");
  ok.textContent = confirmLabel;
  ok.disabled = false;
  const cancel = document.getElementById("confirm-cancel");
  cancel.onclick = () => dialog.close();
  dialog.querySelector("form").onsubmit = async (event) => {
    event.preventDefault();
    ok.disabled = true;
    try {
      await act();
      dialog.close();
      location.reload();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      ok.disabled = false;
    }
  };
  dialog.showModal();
}

function signalDialog(namespace, shown) {
  const name = h("input", { id: "signal-name", required: true, placeholder: "name", "aria-label": "Signal name" });
  const input = h("textarea", { id: "signal-input", rows: 4, placeholder: '{"any": "JSON value"}', "aria-label": "Signal input (JSON)" });
  confirmDialog({
    title: { text: "Send a signal", ...shown },
    confirmLabel: "Send signal",
    fields: [h("label", {}, "Signal name", name), h("label", {}, "Input (JSON, optional)", input)],
    act: async () => {
      if (!name.value.trim()) throw new Error("Give the signal a name.");
      const body = { workflowExecution: shown };
      if (input.value.trim()) {
        let value;
        try { value = JSON.parse(input.value); } catch (e) { throw new Error(`The input is not JSON: ${e.message}`); }
        body.input = [value];
      }
      await api(apiPath(namespace, shown.workflowId, `/signal/${encodeURIComponent(name.value.trim())}`), body);
    },
  });
}

// An update waits for the workflow's answer: a rejection or a failed handler stays in the
// dialog as its error; a result shows in the history once the page reloads.
function updateDialog(namespace, shown) {
  const name = h("input", { id: "update-name", required: true, placeholder: "name", "aria-label": "Update name" });
  const input = h("textarea", { id: "update-input", rows: 4, placeholder: '{"any": "JSON value"}', "aria-label": "Update input (JSON)" });
  confirmDialog({
    title: { text: "Send an update", ...shown },
    confirmLabel: "Send update",
    fields: [h("label", {}, "Update name", name), h("label", {}, "Input (JSON, optional)", input)],
    act: async () => {
      if (!name.value.trim()) throw new Error("Give the update a name.");
      const body = { workflowExecution: shown, request: { input: {} } };
      if (input.value.trim()) {
        let value;
        try { value = JSON.parse(input.value); } catch (e) { throw new Error(`The input is not JSON: ${e.message}`); }
        body.request.input.args = [value];
      }
      const answer = await api(apiPath(namespace, shown.workflowId, `/update/${encodeURIComponent(name.value.trim())}`), body);
      const failure = answer.outcome && answer.outcome.failure;
      if (failure) throw new Error(`The workflow refused the update: ${failure.message}`);
    },
  });
}

function cancelDialog(namespace, shown) {
  confirmDialog({
    title: { text: "Request cancellation", ...shown },
    confirmLabel: "Request cancellation",
    fields: [h("p", {}, "The workflow is asked to cancel; it may clean up first.")],
    act: () => api(apiPath(namespace, shown.workflowId, "/cancel"), { workflowExecution: shown }),
  });
}

function terminateDialog(namespace, shown) {
  const reason = h("input", { id: "terminate-reason", placeholder: "why", "aria-label": "Reason" });
  confirmDialog({
    title: { text: "Terminate", ...shown },
    confirmLabel: "Terminate",
    fields: [h("p", {}, "The workflow stops at once, without running any more code."), h("label", {}, "Reason", reason)],
    act: () => api(apiPath(namespace, shown.workflowId, "/terminate"), { workflowExecution: shown, reason: reason.value }),
  });
}

function notFoundPage(what, detail) {
  document.title = "Not found";
  show(h("h1", {}, "Not found"), h("p", { class: "error", id: "not-found" }, what),
    detail ? h("p", { class: "muted" }, detail) : null,
    h("p", {}, h("a", { href: "/namespaces" }, "Namespaces")));
}

// ---- Routing --------------------------------------------------------------------------------

async function route() {
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== "namespaces") return notFoundPage(`There is no page at ${location.pathname}.`);
  if (parts.length === 1) return namespacesPage();
  if (parts[2] !== "workflows") return notFoundPage(`There is no page at ${location.pathname}.`);
  if (parts.length === 3) return listPage(parts[1]);
  if (parts.length === 4 || parts.length === 5) return detailPage(parts[1], parts[3], parts[4]);
  return notFoundPage(`There is no page at ${location.pathname}.`);
}

route().catch((error) => {
  show(h("h1", {}, "Something went wrong"), errorBox(error));
}).finally(() => {
  document.body.dataset.loaded = "true";
});
