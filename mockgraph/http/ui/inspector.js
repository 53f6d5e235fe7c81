// The mockgraph inspector. No build step and nothing from the internet: plain modules that
// the browser runs as served. Every control is one request to the same /_mock endpoint that a
// test would make, and the page shows that request, so that the page teaches the API.
//
// Text from the journal is the bot's and the scenario's, so it only ever reaches the page as
// textContent, never as markup.

const CALLS_PER_PAGE = 50;
const ROWS_PER_PAGE = 200;
const RECONNECT_MS = [500, 1000, 2000, 5000];

const state = {
  calls: new Map(), // id -> the call as GET /_mock/calls/{id} shows it
  selected: null, // the id of the call shown
  entries: new Map(), // seq -> journal entry, for the selected call only
  scenarios: [],
  time: { scale: 1, step: false },
  callsPage: 0,
  rowsPage: null, // null follows the last page
  detail: null, // the seq of the entry whose details are shown
  unmatched: new Map(), // seq -> a request that named no call mockgraph knows (a 404, a 401)
};

// --- requests ------------------------------------------------------------------------------

function token() {
  return document.getElementById("token").value.trim();
}

function headers(extra = {}) {
  const given = token();
  return given ? { ...extra, Authorization: `Bearer ${given}` } : extra;
}

class ControlError extends Error {}

// One request to the control plane; with `shown`, it is also the one the page shows.
async function control(method, path, body, { shown = true } = {}) {
  const init = { method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  const text = await response.text();
  const answer = text ? JSON.parse(text) : null;
  if (shown) showRequest(method, path, body, response.status, answer);
  if (!response.ok) {
    const message = answer && answer.error ? answer.error.message : `${response.status}`;
    if (response.status === 401) setLive(false, "needs the control token");
    throw new ControlError(message);
  }
  return answer;
}

function showRequest(method, path, body, status, answer) {
  const line = document.getElementById("api");
  const data = body === undefined ? "" : ` -d '${JSON.stringify(body)}'`;
  const auth = token() ? " -H 'Authorization: Bearer …'" : "";
  const parts = [h("code", {}, `curl -X ${method}${auth} ${location.origin}${path}${data}`), ` → ${status}`];
  if (status >= 400 && answer && answer.error) {
    parts.push(" ", h("span", { class: "error" }, `${answer.error.code}: ${answer.error.message}`));
  }
  line.replaceChildren(...parts);
}

// Reports what a control could not do, where its request is shown.
function guarded(action) {
  return async (event) => {
    if (event) event.preventDefault();
    try {
      await action(event);
    } catch (error) {
      if (!(error instanceof ControlError)) throw error;
    }
  };
}

// --- the event stream ----------------------------------------------------------------------

// The stream is read with fetch, not EventSource, so that it can carry the control token in
// a header (a token in the URL would end up in logs and the browser's history).
async function follow() {
  for (let failures = 0; ; failures += 1) {
    try {
      const response = await fetch("/_mock/events", { headers: headers(), cache: "no-store" });
      if (response.status === 401) {
        setLive(false, "needs the control token");
        await tokenChanged();
        failures = -1;
        continue;
      }
      if (!response.ok || !response.body) throw new Error(`${response.status}`);
      await read(response.body, () => { failures = 0; });
    } catch (error) {
      // The server went away or restarted: say so, and try again below.
    }
    setLive(false, "reconnecting…");
    await pause(RECONNECT_MS[Math.min(Math.max(failures, 0), RECONNECT_MS.length - 1)]);
  }
}

let tokenWaiter = null;

function tokenChanged() {
  return new Promise((resolve) => { tokenWaiter = resolve; });
}

function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function read(body, opened) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let open = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll("\r\n", "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!open) {
        // The stream is open, so nothing from now on is missed: load what happened before.
        open = true;
        opened();
        await load();
        setLive(true, "live");
      }
      dispatch(block);
    }
  }
}

function dispatch(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (!data.length) return; // a comment: the opening line or a heartbeat
  const payload = JSON.parse(data.join("\n"));
  if (name === "calls") payload.forEach(keepCall);
  else if (name === "entries") payload.forEach(keepEntry);
  else if (name === "reset") forgetAll();
  render();
}

function setLive(on, text) {
  const badge = document.getElementById("live");
  badge.textContent = text;
  badge.className = on ? "live-on" : "live-off";
}

// --- the model -----------------------------------------------------------------------------

async function load() {
  const [calls, scenarios, time] = await Promise.all([
    control("GET", "/_mock/calls", undefined, { shown: false }),
    control("GET", "/_mock/scenarios", undefined, { shown: false }),
    control("GET", "/_mock/time", undefined, { shown: false }),
  ]);
  calls.value.forEach(keepCall);
  const journal = await control("GET", "/_mock/journal", undefined, { shown: false });
  journal.value.forEach(keepUnmatched);
  state.scenarios = scenarios.value.map((scenario) => scenario.name);
  renderScenarios(scenarios.value);
  state.time = time;
  showTime();
  if (state.selected) await loadEntries(state.selected);
  render();
}

async function loadEntries(callId) {
  const journal = await control("GET", `/_mock/journal?callId=${encodeURIComponent(callId)}`, undefined, { shown: false });
  if (state.selected === callId) journal.value.forEach(keepEntry);
}

function keepCall(call) {
  state.calls.set(call.id, call);
}

function isFinal(entry) {
  return entry.kind === "request" ? entry.status !== 0 : entry.outcome !== "pending";
}

// What a newcomer debugs first: a request with no token, or for a call id mockgraph never had.
function keepUnmatched(entry) {
  if (entry.kind !== "request") return;
  if (entry.callId && state.calls.has(entry.callId)) {
    state.unmatched.delete(entry.seq); // a create's request names its call once answered
    return;
  }
  const known = state.unmatched.get(entry.seq);
  if (known && isFinal(known) && !isFinal(entry)) return;
  state.unmatched.set(entry.seq, entry);
}

// The snapshot and the stream overlap: an entry may come twice, and a final one wins.
function keepEntry(entry) {
  keepUnmatched(entry);
  if (entry.callId !== state.selected) return;
  const known = state.entries.get(entry.seq);
  if (known && isFinal(known) && !isFinal(entry)) return;
  state.entries.set(entry.seq, entry);
}

function forgetAll() {
  state.calls.clear();
  state.entries.clear();
  state.unmatched.clear();
  state.selected = null;
  state.detail = null;
  state.callsPage = 0;
  // The time settings went back to their start-up values.
  control("GET", "/_mock/time", undefined, { shown: false }).then((time) => { state.time = time; showTime(); }, () => {});
}

function select(callId) {
  if (state.selected === callId) return;
  state.selected = callId;
  // The address names the call, so it can be bookmarked or sent: #call=ID.
  const fragment = new URLSearchParams(location.hash.slice(1));
  fragment.set("call", callId);
  fragment.delete("token");
  history.replaceState(null, "", `${location.pathname}#${fragment}`);
  state.entries.clear();
  state.detail = null;
  state.rowsPage = null;
  render();
  loadEntries(callId).then(render, () => {});
}

// --- rendering -----------------------------------------------------------------------------

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "style") Object.assign(element.style, value); // not an attribute: the policy forbids those
    else element.setAttribute(key, value === true ? "" : value);
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

let scheduled = false;

// Batches of events come faster than frames: draw once per frame.
function render() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    renderCalls();
    renderCall();
  });
}

function filteredCalls() {
  const text = document.getElementById("filter-id").value.trim().toLowerCase();
  const wanted = document.getElementById("filter-state").value;
  const newestFirst = [...state.calls.values()].reverse();
  return newestFirst.filter((call) => (!text || call.id.toLowerCase().includes(text)) && (!wanted || call.state === wanted));
}

function renderCalls() {
  const chooser = document.getElementById("filter-state");
  const states = new Set([...state.calls.values()].map((call) => call.state));
  if (chooser.value) states.add(chooser.value);
  const options = [...states].sort();
  const shown = [...chooser.options].slice(1).map((option) => option.value);
  if (options.join() !== shown.join()) {
    const keep = chooser.value;
    chooser.replaceChildren(h("option", { value: "" }, "every state"), ...options.map((name) => h("option", { value: name }, name)));
    chooser.value = keep;
  }
  const calls = filteredCalls();
  const pages = Math.max(1, Math.ceil(calls.length / CALLS_PER_PAGE));
  state.callsPage = Math.min(state.callsPage, pages - 1);
  const first = state.callsPage * CALLS_PER_PAGE;
  const rows = calls.slice(first, first + CALLS_PER_PAGE).map((call) => {
    const direction = call.call.direction || "";
    return h("tr", { class: call.id === state.selected ? "selected" : null, "data-call": call.id },
      h("td", { title: call.id }, h("button", { type: "button", onclick: () => select(call.id), "aria-label": `Show call ${call.id}` }, call.id)),
      h("td", {}, call.state),
      h("td", {}, direction),
      h("td", { title: scenarioOf(call) }, scenarioOf(call)));
  });
  document.querySelector("#calls tbody").replaceChildren(...rows);
  document.getElementById("calls-count").textContent = `(${state.calls.size})`;
  document.getElementById("calls-page").textContent = calls.length
    ? `${first + 1}-${Math.min(first + CALLS_PER_PAGE, calls.length)} of ${calls.length}`
    : "none";
  document.getElementById("calls-prev").disabled = state.callsPage === 0;
  document.getElementById("calls-next").disabled = state.callsPage >= pages - 1;
  renderUnmatched();
}

// The loaded scenarios, each with its steps on demand: what a pinned name will play.
function renderScenarios(summaries) {
  document.getElementById("scenarios-count").textContent = `(${summaries.length})`;
  document.getElementById("scenarios-list").replaceChildren(...summaries.map((scenario) => {
    const rule = scenario.default ? "default" : Object.keys(scenario.when).length ? "when …" : "when pinned";
    return h("li", {},
      h("button", { type: "button", title: scenario.description, onclick: guarded(() => showScenario(scenario.name)) }, scenario.name),
      h("small", {}, ` ${scenario.operation} · ${rule} · ${scenario.steps} step(s)`));
  }));
}

// Call records, read when the list is opened: Graph files one a while after each call ends.
async function loadCallRecords() {
  const records = (await control("GET", "/_mock/callRecords", undefined, { shown: false })).value;
  document.getElementById("call-records-count").textContent = `(${records.length})`;
  document.getElementById("call-records-list").replaceChildren(...records.map((entry) => {
    const when = entry.readable ? "readable" : `readable in ${Math.ceil(entry.readableInSeconds)} s`;
    const record = entry.record;
    return h("li", {},
      h("button", { type: "button", onclick: () => showCallRecord(record) }, entry.id),
      h("small", {}, ` ${record.type} · calls ${entry.callIds.join(", ")} · ${record.sessions.length} session(s) · ${when}`));
  }));
}

// Online meetings, read when the list is opened: who is in each, and the calls into it.
async function loadMeetings() {
  const meetings = (await control("GET", "/_mock/meetings", undefined, { shown: false })).value;
  document.getElementById("meetings-count").textContent = `(${meetings.length})`;
  document.getElementById("meetings-list").replaceChildren(...meetings.map((meeting) => {
    const people = meeting.people.map((person) => (person.identity.user || {}).displayName || person.id);
    const calls = meeting.liveCalls.map((callId) => h("button", { type: "button", onclick: () => select(callId) }, callId));
    return h("li", {},
      h("strong", {}, meeting.subject || "(no subject)"),
      h("small", {}, ` · in it: ${people.length ? people.join(", ") : "nobody"} · calls: `),
      ...(calls.length ? calls : [h("small", {}, "none")]),
      h("small", {}, meeting.endedCalls.length ? ` · ${meeting.endedCalls.length} ended` : ""));
  }));
}

// Users' presence, read when the list is opened: what Graph shows of each (a call makes its
// people Busy).
async function loadPresences() {
  const presences = (await control("GET", "/_mock/presences", undefined, { shown: false })).value;
  document.getElementById("presences-count").textContent = `(${presences.length})`;
  document.getElementById("presences-list").replaceChildren(...presences.map((presence) => {
    const message = presence.statusMessage && presence.statusMessage.message;
    const said = message ? ` · "${message.content || ""}"` : "";
    return h("li", {}, `${presence.id}: ${presence.availability} / ${presence.activity}${said}`);
  }));
}

// Change-notification subscriptions, read when the list is opened; a subscription's button
// lists what was sent to it, each POST with its outcome.
async function loadSubscriptions() {
  const subscriptions = (await control("GET", "/_mock/subscriptions", undefined, { shown: false })).value;
  document.getElementById("subscriptions-count").textContent = `(${subscriptions.length})`;
  document.getElementById("subscriptions-list").replaceChildren(...subscriptions.map((subscription) => {
    const reauthorize = subscription.needsReauthorization ? " · needs reauthorization" : "";
    return h("li", {},
      h("button", { type: "button", onclick: guarded(() => showChangeNotifications(subscription.id)) }, subscription.id),
      h("small", {}, ` ${subscription.resource} · ${subscription.changeType} · to ${subscription.notificationUrl} · until ${subscription.expirationDateTime} · ${subscription.notifications} sent${reauthorize}`));
  }));
}

async function showChangeNotifications(subscriptionId) {
  const path = `/_mock/journal?subscriptionId=${encodeURIComponent(subscriptionId)}`;
  const entries = (await control("GET", path, undefined, { shown: false })).value;
  document.getElementById("change-notifications").replaceChildren(...entries.map((entry) => {
    const told = entry.lifecycleEvent || entry.body.value.map((item) => `${item.changeType} ${item.resource}`).join(", ");
    const statuses = entry.attempts.map((attempt) => attempt.status || attempt.error).join(" → ");
    return h("li", { class: "change-notification", "data-outcome": entry.outcome },
      `${told} · ${entry.outcome}${statuses ? ` (${statuses})` : ""}`);
  }));
}

function showCallRecord(record) {
  document.getElementById("call-record").textContent = JSON.stringify(record, null, 2);
}

async function showScenario(name) {
  const scenario = await control("GET", `/_mock/scenarios/${encodeURIComponent(name)}`, undefined, { shown: false });
  const steps = scenario.steps.map((step) => h("li", {}, `+${step.after} s ${describeStep(step)}`));
  document.getElementById("scenario-steps").replaceChildren(
    h("h3", {}, `${scenario.name} (${scenario.operation})`),
    h("p", {}, scenario.description || ""),
    steps.length ? h("ol", {}, ...steps) : h("p", {}, "no step: it notifies nothing"));
}

function describeStep(step) {
  const parts = (step.notify || []).map((notify) => {
    const data = notify.resourceData || {};
    const result = data.resultInfo && typeof data.resultInfo === "object" ? ` ${data.resultInfo.code}/${data.resultInfo.subcode}` : "";
    return `${notify.changeType || "?"} ${data.state || data.status || ""}${result}`.trim();
  });
  if (step.tones) parts.push(`tones ${step.tones.join(" ")}`);
  if (step.roster) parts.push(`roster (${step.roster})`);
  if (step.join) parts.push(`${step.join.length} join`);
  if (step.leave) parts.push(`${step.leave.join(", ")} leave`);
  if (step.farSide) parts.push(`the far side: ${step.farSide}`);
  if (step.fault) parts.push(`[${step.fault}]`);
  return parts.join(" · ");
}

function renderUnmatched() {
  const text = document.getElementById("filter-id").value.trim().toLowerCase();
  const requests = [...state.unmatched.values()].reverse()
    .filter((entry) => !text || entry.path.toLowerCase().includes(text));
  document.getElementById("unmatched-count").textContent = `(${state.unmatched.size})`;
  document.getElementById("unmatched-list").replaceChildren(...requests.slice(0, CALLS_PER_PAGE).map((entry) =>
    h("li", { "data-status": String(entry.status) }, `${entry.method} ${entry.path} → ${entry.status || "…"}`)));
}

function scenarioOf(call) {
  return call.scenario ? `${call.scenario} (pinned)` : call.lastScenario || "";
}

function renderCall() {
  const call = state.calls.get(state.selected);
  const pane = document.getElementById("call");
  if (!call) {
    pane.hidden = true;
    document.getElementById("call-heading").textContent = state.selected ? `Call ${state.selected} is gone` : "Pick a call";
    return;
  }
  pane.hidden = false;
  document.getElementById("call-heading").textContent = `Call ${call.id}`;
  const facts = [
    ["state", call.state],
    ["direction", call.call.direction || ""],
    ["callback", call.call.callbackUri || ""],
    ["pinned scenario", call.scenario || "none"],
    ["last scenario", call.lastScenario || "none"],
    ["running", call.runningOperation || "nothing"],
    ["waiting step", call.waitingStep === null ? "none" : String(call.waitingStep)],
    ["participants", String(call.participants.length)],
  ];
  document.getElementById("call-facts").replaceChildren(...facts.flatMap(([name, value]) => [h("dt", {}, name), h("dd", { "data-fact": name }, value)]));
  renderControls(call);
  renderTimeline(call);
}

function renderControls(call) {
  const chooser = document.getElementById("pin-name");
  const names = ["", ...state.scenarios];
  if ([...chooser.options].map((option) => option.value).join() !== names.join()) {
    const keep = chooser.value;
    chooser.replaceChildren(...names.map((name) => h("option", { value: name }, name || "(none: unpin)")));
    chooser.value = keep;
  }
  const advance = document.getElementById("advance");
  advance.disabled = !state.time.step;
  advance.textContent = call.waitingStep === null ? "Release next step" : `Release step ${call.waitingStep}`;
}

function lanesOf(call, rows) {
  const lanes = ["bot", "mockgraph"];
  const urls = new Map([[originOf(call.call.callbackUri), "bot"]]);
  for (const row of rows) {
    if (row.kind !== "notification") continue;
    const origin = originOf(row.url);
    if (!urls.has(origin)) {
      const name = `bot ${origin}`;
      urls.set(origin, name);
      lanes.push(name);
    }
  }
  // The bot at the left edge and the others spread to the right edge, so that each arrow has
  // the room for its label.
  const centre = (lane) => 8 + (82 * lanes.indexOf(lane)) / (lanes.length - 1);
  return { lanes, centre, laneOf: (url) => urls.get(originOf(url)) || "bot" };
}

function originOf(url) {
  try {
    const parsed = new URL(url);
    return parsed.host;
  } catch {
    return String(url || "");
  }
}

function stateOf(entry) {
  const data = resourceOf(entry).resourceData || {};
  return data.state;
}

// Entries in journal order, and the call's state changes among them: each change goes just
// after the notification that told the bot of it (their times are the same to the
// millisecond), and a change no notification told (a seeded call) goes by its time.
// What "only what went wrong" keeps: a failed or refused delivery, a Graph error answered.
function wentWrong(entry) {
  if (entry.kind === "request") return entry.status >= 400;
  return ["failed", "rejected", "dropped", "cancelled", "skipped"].includes(entry.outcome);
}

function timelineRows(call) {
  const onlyWrong = document.getElementById("only-wrong").checked;
  const entries = [...state.entries.values()]
    .filter((entry) => !onlyWrong || wentWrong(entry))
    .sort((a, b) => a.seq - b.seq);
  const after = new Map();
  const byTime = [];
  let from = 0;
  for (const change of call.history) {
    const row = { kind: "state", time: change.time, state: change.state, cause: change.cause };
    let anchor = -1;
    for (let i = from; i < entries.length && entries[i].time <= change.time; i += 1) {
      if (entries[i].kind === "notification" && stateOf(entries[i]) === change.state) { anchor = i; break; }
    }
    if (anchor < 0) {
      byTime.push(row);
      continue;
    }
    after.set(anchor, [...(after.get(anchor) || []), row]);
    from = anchor + 1;
  }
  const rows = [];
  let next = 0;
  entries.forEach((entry, index) => {
    while (next < byTime.length && byTime[next].time < entry.time) rows.push(byTime[next++]);
    rows.push(entry, ...(after.get(index) || []));
  });
  return rows.concat(byTime.slice(next));
}

function renderTimeline(call) {
  const rows = timelineRows(call);
  const { lanes, centre, laneOf } = lanesOf(call, rows);
  const laneHeader = document.getElementById("lanes");
  laneHeader.replaceChildren(...lanes.map((lane) => h("div", { title: lane, style: { left: `${centre(lane)}%` } }, lane)));
  const timeline = document.getElementById("timeline");
  timeline.style.setProperty("--lifelines", lanes.map((lane) => `linear-gradient(#d0d7de, #d0d7de) ${centre(lane)}% 0 / 1px 100% no-repeat`).join(", "));

  const pages = Math.max(1, Math.ceil(rows.length / ROWS_PER_PAGE));
  const page = state.rowsPage === null ? pages - 1 : Math.min(state.rowsPage, pages - 1);
  const first = page * ROWS_PER_PAGE;
  const start = call.history.length ? Date.parse(call.history[0].time) : 0;
  const items = rows.slice(first, first + ROWS_PER_PAGE).map((row) => {
    const when = h("span", { class: "when", title: row.time }, relative(row.time, start));
    const track = h("div", { class: "track" });
    if (row.kind === "state") {
      // It ends at mockgraph's lifeline, in the room an arrow would take.
      track.append(h("span", { class: "state-mark", style: { right: `calc(${100 - centre("mockgraph")}% - 10px)`, maxWidth: `${centre("mockgraph")}%` }, title: row.cause }, `state → ${row.state}`, row.cause ? h("small", {}, ` (${row.cause})`) : null));
      return h("li", { class: "state-row", "data-state": row.state }, when, track);
    }
    const [from, to] = row.kind === "request" ? ["bot", "mockgraph"] : ["mockgraph", laneOf(row.url)];
    const left = Math.min(centre(from), centre(to));
    const span = Math.abs(centre(to) - centre(from));
    const classes = ["arrow", centre(to) > centre(from) ? "right" : "left", ...rowClasses(row)];
    if (state.detail === row.seq) classes.push("selected");
    track.append(h("button", {
      type: "button",
      class: classes.join(" "),
      style: { left: `${left}%`, width: `${span}%` },
      onclick: () => { state.detail = row.seq; renderCall(); },
      "aria-label": `${describe(row)}; details`,
      "data-seq": row.seq,
    }, ...arrowText(row)));
    return h("li", { class: `${row.kind}-row`, "data-kind": row.kind, "data-outcome": row.outcome || null }, when, track);
  });
  // A row's details open beside it (just under it), not at the foot of a long timeline.
  const section = document.getElementById("detail");
  const at = items.findIndex((item) => item.querySelector(`[data-seq="${state.detail}"]`));
  if (at >= 0) items.splice(at + 1, 0, h("li", { class: "detail-row" }, section));
  else document.getElementById("call").append(section); // back where it waits, hidden
  document.getElementById("rows").replaceChildren(...items);
  document.getElementById("rows-page").textContent = rows.length ? `rows ${first + 1}-${Math.min(first + ROWS_PER_PAGE, rows.length)} of ${rows.length}` : "nothing yet";
  document.getElementById("rows-prev").disabled = page === 0;
  document.getElementById("rows-next").disabled = page >= pages - 1;
  renderDetail();
}

function relative(time, start) {
  const ms = Date.parse(time) - start;
  return Number.isFinite(ms) ? `+${(ms / 1000).toFixed(3)} s` : time;
}

function rowClasses(row) {
  if (row.kind === "request") return ["request", row.status >= 400 ? "status-error" : "status-ok"];
  return ["notification", `outcome-${row.outcome}`];
}

function resourceOf(row) {
  const value = row.body && Array.isArray(row.body.value) ? row.body.value[0] : null;
  return value || {};
}

function describe(row) {
  if (row.kind === "request") return `${row.method} ${row.path} → ${row.status || "…"}`;
  const resource = resourceOf(row);
  const data = resource.resourceData || {};
  const result = data.resultInfo ? ` ${data.resultInfo.code}/${data.resultInfo.subcode}` : "";
  const type = (data["@odata.type"] || "").replace("#microsoft.graph.", "");
  // A key press is its tone; an operation's notification names the operation (playPrompt).
  if (data.toneInfo) return `${resource.changeType || "?"} tone ${data.toneInfo.tone}`;
  if (type.endsWith("Operation")) {
    return `${resource.changeType || "?"} ${type.slice(0, -"Operation".length)} ${data.status || ""}${result}`.trim();
  }
  const what = data.state || data.status || type;
  return `${resource.changeType || "?"} ${what}${result}`.trim();
}

function arrowText(row) {
  if (row.kind === "request") {
    // A fault's answer (or delay) and a retry that came too soon, where a reader looks first.
    const marks = [];
    if (row.fault) marks.push(h("span", { class: "badge fault" }, `fault ${row.fault}`));
    if (row.earlyRetry) marks.push(h("span", { class: "badge early" }, "early retry"));
    return [h("span", { class: "label" }, describe(row), ...marks), h("span", { class: "line" })];
  }
  // Under a millisecond is on time; the details give the exact figure.
  const late = row.lateMs >= 1 ? ` · late ${Math.round(row.lateMs)} ms` : "";
  const attempts = row.attempts.map((attempt) => attempt.error ? `✗ ${attempt.error}` : `${attempt.status < 300 ? "✓" : "✗"} ${attempt.status}`);
  return [
    h("span", { class: "label" }, `${describe(row)}${late}`, h("span", { class: "badge" }, row.outcome)),
    h("span", { class: "line" }),
    h("span", { class: "attempts" }, attempts.length ? attempts.join(" · ") : (row.note || "no attempt")),
  ];
}

function renderDetail() {
  const section = document.getElementById("detail");
  const row = state.entries.get(state.detail);
  if (!row) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  document.getElementById("detail-title").textContent = describe(row);
  const parts = [];
  if (row.kind === "request") {
    const facts = [`request-id ${row.requestId} at ${row.time}`];
    if (row.fault) facts.push(`answered by fault ${row.fault} (GET /_mock/faults)`);
    if (row.earlyRetry) facts.push("an early retry: it came before the Retry-After it was given had passed");
    parts.push(h("p", { class: "facts" }, facts.join(" · ")));
    parts.push(h("h4", {}, "Body"), h("pre", { class: "body" }, pretty(row.body)));
    parts.push(h("h4", {}, "Headers"), h("pre", {}, pretty(row.headers)));
  } else {
    const facts = [`outcome ${row.outcome}`, `to ${row.url}`, `scenario ${row.scenario || "none"}, step ${row.step ?? "–"}`];
    if (row.lateMs !== null) facts.push(`late ${row.lateMs} ms`);
    if (row.note) facts.push(`note: ${row.note}`);
    parts.push(h("p", { class: "facts" }, facts.join(" · ")));
    parts.push(h("h4", {}, "Attempts"), attemptsTable(row.attempts));
    parts.push(h("h4", {}, "Body"), h("pre", { class: "body" }, pretty(row.body)));
  }
  document.getElementById("detail-body").replaceChildren(...parts);
}

function attemptsTable(attempts) {
  if (!attempts.length) return h("p", {}, "none");
  const head = h("tr", {}, ...["time", "answer", "took", "message id"].map((name) => h("th", { scope: "col" }, name)));
  const rows = attempts.map((attempt) => h("tr", { class: attempt.error || attempt.status >= 300 ? "outcome-failed" : "outcome-delivered" },
    h("td", {}, attempt.time),
    h("td", { class: "answer" }, attempt.error ? attempt.error : String(attempt.status) + (attempt.redirectedTo ? ` → ${attempt.redirectedTo}` : "")),
    h("td", {}, `${attempt.durationMs} ms`),
    h("td", { class: "mono" }, attempt.messageId)));
  return h("table", { class: "attempts" }, h("thead", {}, head), h("tbody", {}, ...rows));
}

function pretty(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function showTime() {
  document.getElementById("time-scale").value = String(state.time.scale);
  document.getElementById("time-step").checked = state.time.step;
}

// --- controls ------------------------------------------------------------------------------

function selectedPath(rest) {
  return `/_mock/calls/${encodeURIComponent(state.selected)}${rest}`;
}

function wire() {
  const on = (id, event, action) => document.getElementById(id).addEventListener(event, guarded(action));
  on("time-form", "submit", async () => {
    const scale = Number(document.getElementById("time-scale").value);
    const step = document.getElementById("time-step").checked;
    state.time = await control("PUT", "/_mock/time", { scale, step });
    showTime();
    render();
  });
  on("reset", "click", async () => {
    if (!confirm("Reset mockgraph? Every call, the journal and the faults set at run time are forgotten.")) return;
    await control("POST", "/_mock/reset");
  });
  on("meetings", "toggle", async () => {
    if (document.getElementById("meetings").open) await loadMeetings();
  });
  on("presences", "toggle", async () => {
    if (document.getElementById("presences").open) await loadPresences();
  });
  on("subscriptions", "toggle", async () => {
    if (document.getElementById("subscriptions").open) await loadSubscriptions();
  });
  on("call-records", "toggle", async () => {
    if (document.getElementById("call-records").open) await loadCallRecords();
  });
  on("pin-form", "submit", async () => {
    const name = document.getElementById("pin-name").value || null;
    await control("PUT", selectedPath("/scenario"), { name });
  });
  // What a control changed comes back over the event stream, in order with everything else;
  // an answer read here could be older than what the stream has already shown.
  on("advance", "click", async () => { await control("POST", selectedPath("/advance"), { steps: 1 }); });
  on("tones-form", "submit", async () => { await control("POST", selectedPath("/tones"), { tones: document.getElementById("tones").value }); });
  on("join-form", "submit", async () => {
    const user = { id: document.getElementById("join-id").value };
    const name = document.getElementById("join-name").value;
    if (name) user.displayName = name;
    await control("POST", selectedPath("/participants"), { identity: { user } });
  });
  document.getElementById("filter-id").addEventListener("input", () => { state.callsPage = 0; render(); });
  document.getElementById("filter-state").addEventListener("change", () => { state.callsPage = 0; render(); });
  document.getElementById("calls-prev").addEventListener("click", () => { state.callsPage -= 1; render(); });
  document.getElementById("calls-next").addEventListener("click", () => { state.callsPage += 1; render(); });
  const rowsPage = (delta) => () => {
    const pages = Math.max(1, Math.ceil(timelineRows(state.calls.get(state.selected)).length / ROWS_PER_PAGE));
    const current = state.rowsPage === null ? pages - 1 : state.rowsPage;
    const page = Math.min(Math.max(current + delta, 0), pages - 1);
    state.rowsPage = page === pages - 1 ? null : page;
    render();
  };
  document.getElementById("only-wrong").addEventListener("change", () => { state.rowsPage = null; render(); });
  on("export-trace", "click", async () => {
    // Fetched with the token (a plain link could not carry it), then saved from memory.
    const response = await fetch(selectedPath("/trace"), { headers: headers() });
    if (!response.ok) throw new Error(`GET ${selectedPath("/trace")}: ${response.status}`);
    const link = h("a", { href: URL.createObjectURL(await response.blob()), download: `${state.selected}.trace.jsonl` });
    link.click();
    URL.revokeObjectURL(link.href);
  });
  document.getElementById("rows-prev").addEventListener("click", rowsPage(-1));
  document.getElementById("rows-next").addEventListener("click", rowsPage(1));
  const tokenInput = document.getElementById("token");
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get("token");
  tokenInput.value = fromFragment || sessionStorage.getItem("mockgraph-token") || "";
  const linked = new URLSearchParams(location.hash.slice(1)).get("call");
  if (fromFragment) history.replaceState(null, "", location.pathname + (linked ? `#call=${encodeURIComponent(linked)}` : "")); // the token out of the address bar
  if (linked) select(linked);
  tokenInput.addEventListener("change", () => {
    sessionStorage.setItem("mockgraph-token", tokenInput.value);
    if (tokenWaiter) { tokenWaiter(); tokenWaiter = null; }
  });
}

wire();
// A snapshot at once, before the event stream opens: a page (or a CI screenshot) shows what is
// there even while it connects; the stream's opening loads it again, so nothing is missed.
load().then(render, () => {});
follow();
