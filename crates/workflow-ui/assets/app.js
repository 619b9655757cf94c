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
      if (!executions.length) body.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No workflows match.")));
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
      h("td", {}, time(info.startTime)),
      h("td", {}, time(info.closeTime)));
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
      h("thead", {}, h("tr", {}, ["Status", "Workflow ID", "Run ID", "Type", "Task queue", "Start", "Close"].map((t) => h("th", {}, t)))),
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

let following;

async function detailPage(namespace, workflowId, runId, view = {}) {
  clearInterval(following);
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

  const activities = (described.pendingActivities || []).map((p) => [
    p.activityId, (p.activityType || {}).name || "", enumName(p.state, "PENDING_ACTIVITY_STATE_"),
    String(p.attempt || 1) + (p.maximumAttempts ? ` of ${p.maximumAttempts}` : ""),
    p.lastFailure ? p.lastFailure.message : "",
    p.heartbeatDetails ? JSON.stringify(payloadValues(p.heartbeatDetails)) : "",
    time(p.lastHeartbeatTime),
  ]);
  const children = (described.pendingChildren || []).map((c) => [
    h("a", { href: workflowPath(namespace, c.workflowId, c.runId) }, c.workflowId), c.runId || "", c.workflowTypeName || "",
  ]);
  const timers = pendingTimers(events).map((t) => [t.timerId, t.startToFireTimeout || "", time(t.startedAt)]);

  const stack = h("div", { id: "stack" });
  const rawJson = h("pre", { id: "history-json", hidden: true }, JSON.stringify({ events }, null, 2));
  const timeline = table("timeline", ["ID", "Time", "Event", "Details"], events.map((e) => [
    e.eventId, time(e.eventTime), h("span", { class: "event-type" }, eventName(e.eventType)), eventSummary(e),
  ]), "No events.");
  const timelineTab = h("button", { type: "button", class: "tab active", id: "tab-timeline" }, "Timeline");
  const jsonTab = h("button", { type: "button", class: "tab", id: "tab-json" }, "JSON");
  const showTab = (json) => {
    view.json = json;
    timeline.hidden = json; rawJson.hidden = !json;
    timelineTab.classList.toggle("active", !json); jsonTab.classList.toggle("active", json);
  };
  timelineTab.addEventListener("click", () => showTab(false));
  jsonTab.addEventListener("click", () => showTab(true));
  showTab(Boolean(view.json));

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
    h("button", { type: "button", id: "cancel", disabled: !running, onclick: () => cancelDialog(namespace, shown) }, "Cancel"),
    h("button", { type: "button", id: "terminate", class: "danger", disabled: !running, onclick: () => terminateDialog(namespace, shown) }, "Terminate"));

  show(
    h("div", { class: "title" }, h("h1", { id: "workflow-id" }, shown.workflowId), statusBadge(info.status), actions,
      running ? h("label", { class: "muted" }, follow, " Auto-refresh") : null),
    h("dl", { class: "summary" },
      h("dt", {}, "Run ID"), h("dd", { class: "mono", id: "run-id" }, shown.runId),
      h("dt", {}, "Type"), h("dd", { id: "workflow-type" }, (info.type && info.type.name) || ""),
      h("dt", {}, "Task queue"), h("dd", {}, info.taskQueue || ""),
      h("dt", {}, "Start"), h("dd", {}, time(info.startTime)),
      h("dt", {}, "Close"), h("dd", {}, time(info.closeTime)),
      h("dt", {}, "History"), h("dd", {}, `${events.length} events`),
      fieldsView("Memo", info.memo && info.memo.fields, "memo"),
      fieldsView("Search attributes", info.searchAttributes && info.searchAttributes.indexedFields, "search-attributes"),
      started.parentWorkflowExecution ? [h("dt", {}, "Parent"), h("dd", {}, h("a", { href: workflowPath(started.parentWorkflowNamespace || namespace, started.parentWorkflowExecution.workflowId, started.parentWorkflowExecution.runId) }, started.parentWorkflowExecution.workflowId))] : null,
    ),
    h("section", {}, h("h2", {}, "Input"), payloadsView(started.input, "input")),
    outcomeView(namespace, events),
    h("section", {}, h("h2", {}, "Pending activities"),
      table("pending-activities", ["Activity ID", "Type", "State", "Attempt", "Last failure", "Heartbeat details", "Last heartbeat"], activities, "None.")),
    h("section", {}, h("h2", {}, "Pending child workflows"),
      table("pending-children", ["Workflow ID", "Run ID", "Type"], children, "None.")),
    h("section", {}, h("h2", {}, "Pending timers"),
      table("pending-timers", ["Timer ID", "Fires after", "Started"], timers, "None.")),
    running ? h("section", {}, h("h2", {}, "Call stack"),
      h("button", { type: "button", id: "load-stack", onclick: () => loadStack(namespace, shown, stack) }, "Ask the worker"), stack) : null,
    h("section", {}, h("h2", {}, "History"), h("div", { class: "tabs" }, timelineTab, jsonTab), timeline, rawJson),
  );
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
