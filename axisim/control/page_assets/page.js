// The axisim site page (served by axisim/control/page.py): the control API in a browser.
//
// Two views, chosen by the URL's fragment: the site (#/?q=..., a page of the device list, polled)
// and one device (#/device/<serial>: identity, physical events, faults, journal, events, rules,
// parameters). Every request goes to the control API's own routes, by relative URL, so the page
// works on a fleet's control API, on a site's (`fleet --workers`) and behind a path prefix.
// The physical-event forms are built from the device's own declaration (GET .../events), the one
// the control API checks arguments against, and are checked here by the same rules.
// Everything that comes from a device is put in the page as text (textContent), never as HTML.

const SITE_POLL_MS = 2000;
const DEVICE_POLL_MS = 2000;
const JOURNAL_POLL_MS = 1000;
const FETCH_TIMEOUT_MS = 10000;
const MAX_JOURNAL_ROWS = 300;
const MAX_EVENT_ROWS = 300;
const MAX_PARAM_ROWS = 500;
const MAX_CALLS = 30;
const MAX_RESULT_CHARS = 4000;

const $ = (id) => document.getElementById(id);

// -- building the page safely --------------------------------------------------------------------

function safeHref(url) {
  const text = String(url);
  if (text.startsWith("#")) return text;
  try {
    const parsed = new URL(text, document.baseURI);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : "#";
  } catch {
    return "#";
  }
}

/** An element with properties and children; strings become text nodes (never HTML). */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "href") node.setAttribute("href", safeHref(value));
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const clear = (node) => node.replaceChildren();
const plural = (n, word) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;
/** The time of day (UTC, as the control API writes it) of an ISO 8601 time: 12:34:56.789. */
const clock = (iso) => /T(\d\d:\d\d:\d\d(\.\d+)?)/.exec(String(iso ?? ""))?.[1] ?? String(iso ?? "");
/** The time of day as seconds and a milliseconds part a narrow window leaves out. */
function timeParts(iso) {
  const [seconds, ms] = clock(iso).split(".");
  return ms === undefined ? [seconds] : [seconds, el("span", { class: "ms", text: `.${ms}` })];
}
const items = (object) => Object.entries(object ?? {}).map(([k, v]) => `${k}=${v}`).join(", ");

function statusBadge(status) {
  return el("span", { class: `status ${status}`, text: status });
}

// -- the control API ------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** One request; {status, ok, data} (data: the JSON document, or the text when it is not JSON). */
async function request(method, path, body) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
  const init = { method, headers: { Accept: "application/json" }, signal: controller.signal, cache: "no-store" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  try {
    const reply = await fetch(path, init);
    const text = await reply.text();
    let data = text;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: reply.status, ok: reply.ok, data };
  } catch (error) {
    const why = error.name === "AbortError" ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s` : "cannot reach the control API";
    throw new ApiError(why, 0);
  } finally {
    clearTimeout(timer);
  }
}

function errorOf(reply) {
  if (reply.data && typeof reply.data === "object" && typeof reply.data.error === "string") return reply.data.error;
  return `HTTP ${reply.status}`;
}

async function getJson(path) {
  const reply = await request("GET", path);
  if (!reply.ok) throw new ApiError(errorOf(reply), reply.status);
  setLink(true);
  return reply.data;
}

function shellQuote(text) {
  return `'${String(text).replaceAll("'", "'\\''")}'`;
}

/** The curl line that makes the same call (what a user pastes into a script). */
function curlLine(method, path, body) {
  const url = new URL(path, document.baseURI).href;
  const parts = ["curl"];
  if (method !== "GET") parts.push("-X", method);
  parts.push(shellQuote(url));
  if (body !== undefined) parts.push("-d", shellQuote(JSON.stringify(body)));
  return parts.join(" ");
}

const device_path = (serial, tail = "") => `devices/${encodeURIComponent(serial)}${tail}`;

function copyButton(text) {
  return el("button", {
    type: "button", class: "copy", text: "Copy", title: "copy the command",
    onclick: async (event) => {
      const button = event.currentTarget;
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "Copied";
      } catch {
        const range = document.createRange();  // no clipboard (plain http, not localhost): select it
        range.selectNodeContents(button.previousElementSibling);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
      }
    },
  });
}

function showCall(output, line, reply, error) {
  if (!output) return;
  clear(output);
  output.hidden = false;
  const failed = error !== undefined || !reply.ok;
  output.classList.toggle("failed", failed);
  const code = el("code", { text: line });
  output.append(el("div", { class: "line" }, code, copyButton(line)));
  let result;
  if (error !== undefined) result = error;
  else if (!reply.ok) result = `${reply.status}: ${errorOf(reply)}`;
  else {
    const text = typeof reply.data === "string" ? reply.data : JSON.stringify(reply.data, null, 1);
    result = `${reply.status}: ${text.length > MAX_RESULT_CHARS ? `${text.slice(0, MAX_RESULT_CHARS)}…` : text}`;
  }
  output.append(el("pre", { class: "result", text: result }));
}

function logCall(line, status) {
  const list = $("calls-list");
  list.prepend(el("li", {}, el("code", { text: line }), ` → ${status || "no answer"}`));
  while (list.children.length > MAX_CALLS) list.lastElementChild.remove();
  $("calls-count").textContent = `(${list.children.length})`;
}

/** An action: the call, shown with its curl line and result in `output`, and logged. */
async function act(method, path, body, output) {
  const line = curlLine(method, path, body);
  try {
    const reply = await request(method, path, body);
    showCall(output, line, reply);
    logCall(line, reply.status);
    return reply;
  } catch (error) {
    showCall(output, line, null, error.message);
    logCall(line, 0);
    return null;
  } finally {
    views.current?.soon();
  }
}

function setLink(up, why = "") {
  const link = $("link");
  link.classList.toggle("down", !up);
  link.textContent = up ? "" : `control API: ${why}`;
}

// -- the site ------------------------------------------------------------------------------------

const site = {
  active: false,
  timer: 0,
  asked: 0,
  rates: new Map(), // serial -> {requests, at (ms), rate}
  query: { q: "", status: "", faulted: "", offset: 0, size: 50 },
  total: 0,

  start(params) {
    this.active = true;
    this.query = {
      q: params.get("q") ?? "",
      status: params.get("status") ?? "",
      faulted: params.get("faulted") ?? "",
      offset: Math.max(0, Number.parseInt(params.get("offset") ?? "0", 10) || 0),
      size: [25, 50, 100, 200].includes(Number(params.get("size"))) ? Number(params.get("size")) : 50,
    };
    $("q").value = this.query.q;
    $("status").value = this.query.status;
    $("faulted").value = this.query.faulted;
    $("size").value = String(this.query.size);
    $("site-view").hidden = false;
    this.refresh();
  },

  stop() {
    this.active = false;
    clearTimeout(this.timer);
    $("site-view").hidden = true;
  },

  soon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 150);
  },

  remember() {
    const params = new URLSearchParams();
    for (const key of ["q", "status", "faulted"]) if (this.query[key]) params.set(key, this.query[key]);
    if (this.query.offset) params.set("offset", String(this.query.offset));
    if (this.query.size !== 50) params.set("size", String(this.query.size));
    const text = params.toString();
    history.replaceState(null, "", text ? `#/?${text}` : "#/");
  },

  filtersChanged() {
    this.query.q = $("q").value.trim();
    this.query.status = $("status").value;
    this.query.faulted = $("faulted").value;
    this.query.size = Number($("size").value);
    this.query.offset = 0;
    this.remember();
    this.refresh();
  },

  turn(step) {
    const next = this.query.offset + step * this.query.size;
    if (next < 0 || next >= this.total) return;
    this.query.offset = next;
    this.remember();
    this.refresh();
  },

  async refresh() {
    clearTimeout(this.timer);
    const asked = ++this.asked;
    const { q, status, faulted, offset, size } = this.query;
    const params = new URLSearchParams({ offset: String(offset), limit: String(size) });
    if (q) params.set("q", q);
    if (status) params.set("status", status);
    if (faulted) params.set("faulted", faulted);
    try {
      const data = await getJson(`devices?${params}`);
      if (asked !== this.asked || !this.active) return;
      if (data.devices.length === 0 && data.total > 0 && offset > 0) {  // the list shrank under the page
        this.query.offset = Math.max(0, Math.floor((data.total - 1) / size) * size);
        this.remember();
        this.refresh();
        return;
      }
      this.render(data);
    } catch (error) {
      if (asked !== this.asked || !this.active) return;
      setLink(false, error.message);
      if (error.status === 400) {  // a search the control API refuses (too long, too many words)
        $("empty").textContent = error.message;
        $("empty").hidden = false;
      }
    }
    if (this.active) this.timer = setTimeout(() => this.refresh(), SITE_POLL_MS);
  },

  rate(row, now) {
    const seen = this.rates.get(row.serial);
    if (seen && now - seen.at < 1000) return seen.rate;  // too soon to tell: the last figure
    const rate = seen && row.requests >= seen.requests ? (row.requests - seen.requests) / ((now - seen.at) / 1000) : null;
    this.rates.set(row.serial, { requests: row.requests, at: now, rate });
    if (this.rates.size > 5000) this.rates.delete(this.rates.keys().next().value);
    return rate;
  },

  render(data) {
    summarize(data);
    this.total = data.total;
    const now = performance.now();
    const body = $("devices").tBodies[0];
    const rows = data.devices.map((row) => {
      const rate = this.rate(row, now);
      return el("tr", { "data-serial": row.serial, onclick: () => { location.hash = `#/device/${encodeURIComponent(row.serial)}`; } },
        el("td", { class: "num", text: row.index }),
        el("td", { text: row.model }),
        el("td", { class: "wide", text: row.variant }),
        el("td", { class: "mono" }, el("a", { href: `#/device/${encodeURIComponent(row.serial)}`, text: row.serial })),
        el("td", { class: "wide mono", text: `${row.address}:${row.http_port}` }),
        el("td", {}, statusBadge(row.status)),
        el("td", { class: "num" }, row.faults ? el("span", { class: "badge", text: row.faults, title: "faults set" }) : "0"),
        el("td", { class: "num", text: rate === null ? "–" : rate.toFixed(1) }),
      );
    });
    body.replaceChildren(...rows);
    $("empty").textContent = "No device matches.";
    $("empty").hidden = data.total > 0;
    const first = data.total ? data.offset + 1 : 0;
    $("range").textContent = `${first.toLocaleString("en")}–${(data.offset + data.devices.length).toLocaleString("en")} of ${data.total.toLocaleString("en")}`;
    $("prev").disabled = data.offset === 0;
    $("next").disabled = data.offset + data.devices.length >= data.total;
  },
};

/** The counts in the top bar, from any /devices reply. */
function summarize(data) {
  const statuses = data.statuses ?? {};
  const all = Object.values(statuses).reduce((a, b) => a + b, 0);
  const summary = $("summary");
  clear(summary);
  const part = (n, word) => [el("span", { class: "n", text: n.toLocaleString("en") }), ` ${word}`];
  summary.append(...part(all, all === 1 ? "device" : "devices"));
  for (const status of ["ready", "booting", "offline"]) summary.append(" · ", ...part(statuses[status] ?? 0, status));
  summary.append(" · ", ...part(data.faulted ?? 0, "with faults"));
}

// -- one device ----------------------------------------------------------------------------------

const TYPES = { int: "a whole number", float: "a number", bool: "true or false", str: "a string" };
const WHOLE = /^-?\d+$/;
const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * A stimulus's arguments from its form, checked as the control API checks them
 * (axisim/control/events.py): each declared argument once, the right type, required ones given;
 * an empty field is "not given" (its default applies). Throws the API's message.
 */
function stimulusArguments(event, form) {
  const body = {};
  for (const [name, spec] of Object.entries(event.args)) {
    const raw = form.elements.namedItem(name).value;
    const text = raw.trim();
    const required = !("default" in spec);
    if (spec.type === "str") {
      if (raw !== "" || required) body[name] = raw;  // a required string may be empty; an optional one defaults
      continue;
    }
    if (text === "") {
      if (required) throw new Error(`${event.subsystem}.${event.event} needs ${name} (${TYPES[spec.type]})`);
      continue;
    }
    if (spec.type === "int") {
      if (!WHOLE.test(text) || !Number.isSafeInteger(Number(text))) throw new Error(`${name} is ${TYPES.int}`);
      body[name] = Number(text);
    } else if (spec.type === "float") {
      if (!NUMBER.test(text) || !Number.isFinite(Number(text))) throw new Error(`${name} is ${TYPES.float}`);
      body[name] = Number(text);
    } else if (spec.type === "bool") {
      if (text !== "true" && text !== "false") throw new Error(`${name} is ${TYPES.bool}`);
      body[name] = text === "true";
    } else {
      throw new Error(`${name} has a type this page does not know (${spec.type}): use the API`);
    }
  }
  return body;
}

function argumentField(name, spec) {
  const required = !("default" in spec);
  const hint = required ? `${TYPES[spec.type] ?? spec.type}, required` : `default: ${JSON.stringify(spec.default)}`;
  let input;
  if (spec.type === "bool") {
    input = el("select", { name },
      el("option", { value: "", text: required ? "choose" : `default (${JSON.stringify(spec.default)})` }),
      el("option", { value: "true", text: "true" }),
      el("option", { value: "false", text: "false" }));
  } else {
    input = el("input", {
      name, autocomplete: "off", spellcheck: "false",
      inputmode: spec.type === "int" ? "numeric" : spec.type === "float" ? "decimal" : null,
      placeholder: required ? "required" : spec.default === null ? "optional" : String(spec.default),
    });
  }
  return el("label", { title: hint }, el("span", {}, `${name} `, el("span", { class: "hint", text: `(${spec.type})` })), input);
}

function stimulusForm(serial, event) {
  const output = el("div", { class: "call", hidden: true });
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const form = el("form", {
    class: "stimulus form", novalidate: true,
    "data-event": `${event.subsystem}.${event.event}`,
    onsubmit: async (submitted) => {
      submitted.preventDefault();
      let body;
      try {
        body = stimulusArguments(event, form);
      } catch (problem) {
        error.textContent = problem.message;
        error.hidden = false;
        return;
      }
      error.hidden = true;
      const path = device_path(serial, `/events/${encodeURIComponent(event.subsystem)}/${encodeURIComponent(event.event)}`);
      await act("POST", path, body, output);
    },
  },
  el("div", { class: "stimulus-head" }, el("strong", { text: event.event }), el("span", { text: event.doc })),
  ...Object.entries(event.args).map(([name, spec]) => argumentField(name, spec)),
  el("div", { class: "buttons" }, el("button", { type: "submit", class: "primary", text: "Run" })),
  error, output);
  return form;
}

function renderStimuli(serial, events) {
  const box = $("stimuli");
  clear(box);
  if (!events.length) {
    box.append(el("p", { class: "hint", text: "This model has no physical events." }));
    return;
  }
  const bySubsystem = new Map();
  for (const event of events) {
    if (!bySubsystem.has(event.subsystem)) bySubsystem.set(event.subsystem, []);
    bySubsystem.get(event.subsystem).push(event);
  }
  for (const [subsystem, list] of bySubsystem) {
    box.append(el("fieldset", { class: "subsystem", "data-subsystem": subsystem },
      el("legend", { text: subsystem }), ...list.map((event) => stimulusForm(serial, event))));
  }
}

function faultText(fault) {
  if (fault.kind === "mqtt") return "MQTT broker unreachable";
  if (fault.kind) {
    const effects = [fault.refuse && "refuse", fault.drop_after !== undefined && `close after ${fault.drop_after} messages`,
      fault.delay && `delay ${fault.delay} s`].filter(Boolean);
    return `${fault.kind} streams: ${effects.join(", ")}`;
  }
  const effects = [];
  if (fault.status !== undefined) effects.push(`status ${fault.status}`);
  if (fault.body !== undefined) effects.push(`body ${JSON.stringify(fault.body.length > 40 ? `${fault.body.slice(0, 40)}…` : fault.body)}`);
  if (fault.latency_ms) effects.push(`+${fault.latency_ms} ms`);
  if (fault.jitter_ms) effects.push(`±${fault.jitter_ms} ms`);
  if (fault.drop) effects.push("drop");
  if (fault.hang) effects.push("hang");
  const where = fault.query && fault.query !== "*" ? `${fault.path}?${fault.query}` : fault.path;
  return `${where}: ${effects.join(", ")}`;
}

/** A fault's JSON from the fault form; throws what is missing or malformed. */
function faultBody(form) {
  const value = (name) => form.elements.namedItem(name).value.trim();
  const number = (name, whole) => {
    const text = value(name);
    if (text === "") return undefined;
    if (!(whole ? WHOLE : NUMBER).test(text)) throw new Error(`${name} is ${whole ? TYPES.int : TYPES.float}`);
    return Number(text);
  };
  const effect = value("effect");
  if (effect === "mqtt") return { kind: "mqtt" };
  const body = {};
  const count = number("count", true);
  if (count !== undefined) body.count = count;
  if (effect === "websocket" || effect === "rtsp") {
    body.kind = effect;
    if (form.elements.namedItem("refuse").checked) body.refuse = true;
    const dropAfter = number("drop_after", true);
    if (dropAfter !== undefined) body.drop_after = dropAfter;
    const delay = number("delay", false);
    if (delay !== undefined) body.delay = delay;
    return body;
  }
  body.path = value("path") || "*";
  if (value("query")) body.query = value("query");
  if (effect === "status") {
    const status = number("status", true);
    if (status === undefined) throw new Error("status is an HTTP status code, 100-599");
    body.status = status;
    const text = form.elements.namedItem("body").value;
    if (text) body.body = text;
  } else if (effect === "latency") {
    const latency = number("latency_ms", false);
    if (latency !== undefined) body.latency_ms = latency;
    const jitter = number("jitter_ms", false);
    if (jitter !== undefined) body.jitter_ms = jitter;
  } else {
    body[effect] = true;  // drop or hang
  }
  return body;
}

function showEffectFields() {
  const effect = $("fault-form").elements.namedItem("effect").value;
  for (const label of $("fault-form").querySelectorAll("[data-effects]")) {
    label.hidden = !label.dataset.effects.split(" ").includes(effect);
  }
}

function renderFaults(serial, faults) {
  const list = $("faults");
  clear(list);
  if (!faults.length) list.append(el("li", { class: "hint", text: "No fault: the device answers as it should." }));
  for (const fault of faults) {
    list.append(el("li", { "data-fault": fault.id },
      el("code", { text: `#${fault.id} ${faultText(fault)}` }),
      el("span", { class: "hint", text: `${plural(fault.hits, "hit")}${fault.count !== undefined ? `, ${fault.count} left` : ""}` }),
      el("button", {
        type: "button", text: "Remove",
        onclick: () => act("DELETE", device_path(serial, `/faults/${fault.id}`), undefined, $("fault-output")),
      })));
  }
  $("clear-faults").disabled = !faults.length;
}

function identityPairs(state) {
  const pairs = [
    ["Index", state.index], ["Model", state.model], ["Variant", state.variant], ["Serial", state.serial],
    ["MAC", state.mac], ["Host name", state.hostname], ["Firmware", state.firmware],
    ["Address", state.address], ["HTTP", state.url, true], ["HTTPS", state.https_url, true],
    ["RTSP events", state.rtsp_url], ["Account", state.username ? `${state.username} / ${state.password}` : ""],
    ["Accounts", (state.accounts ?? []).join(", ")], ["Lifecycle", state.state],
    ["Network", state.reachable ? (state.link_up ? "reachable, link up" : "reachable, link down") : "taken off the network"],
    ["Uptime", `${state.uptime} s`], ["Boot id", state.boot_id],
  ];
  const list = $("identity");
  clear(list);
  for (const [name, value, link] of pairs) {
    if (value === null || value === undefined || value === "") continue;
    list.append(el("dt", { text: name }),
      el("dd", { class: link ? "mono" : null }, link ? el("a", { href: value, target: "_blank", rel: "noreferrer", text: value }) : String(value)));
  }
}

function eventItem(event, fresh) {
  return el("li", { class: fresh ? "fresh" : null, "data-topic": event.topic },
    el("span", { class: "when", title: event.time }, ...timeParts(event.time)),
    el("span", { class: "topic", text: `${event.topic}${event.property ? "" : " (pulse)"}` }),
    el("span", { class: "items", text: [items(event.source), items(event.data)].filter(Boolean).join(" → ") }));
}

function journalRow(entry, fresh) {
  const classes = [fresh ? "fresh" : "", entry.supported ? "" : "unsupported", entry.status === 0 || entry.status >= 400 ? "failed" : ""];
  return el("tr", { class: classes.filter(Boolean).join(" ") || null, "data-path": entry.path },
    el("td", { class: "mono when", title: entry.time }, ...timeParts(entry.time)),
    el("td", { text: entry.method }),
    el("td", { class: "path mono", text: entry.path, title: entry.supported ? null : "no route serves this path" }),
    el("td", { text: entry.user || "–" }),
    el("td", { class: "num status-code", text: entry.status === 0 ? "dropped" : entry.status }),
    el("td", { class: "num wide", text: entry.duration_ms.toFixed(1) }),
    el("td", { class: "wide mono", text: entry.client }));
}

const device = {
  active: false,
  serial: "",
  timers: [],
  feed: null,
  journalTotal: null,
  held: null, // events that came on the feed before the log was read (null: the log is in)
  paramsLoaded: "",
  stimuliFor: "",
  asked: 0,

  start(key) {
    this.active = true;
    this.asked++;
    this.refreshing = false;
    this.key = key;
    this.serial = "";
    this.journalTotal = null;
    this.paramsLoaded = "";
    this.stimuliFor = "";
    for (const id of ["journal", "unsupported", "streams", "rules", "params"]) clear($(id).tBodies[0] ?? $(id));
    for (const id of ["events", "identity", "stimuli", "faults", "state"]) clear($(id));
    for (const id of ["fault-output", "device-output", "rules-output"]) $(id).hidden = true;
    $("device-title").textContent = key;
    $("device-status").replaceChildren();
    $("device-error").hidden = true;
    $("device-view").hidden = false;
    $("params-card").open = false;
    this.load();
  },

  stop() {
    this.active = false;
    this.asked++;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    this.feed?.close();
    this.feed = null;
    $("device-view").hidden = true;
  },

  later(fn, ms) {
    const timer = setTimeout(() => {
      this.timers = this.timers.filter((t) => t !== timer);
      if (this.active) fn();
    }, ms);
    this.timers.push(timer);
  },

  async load() {
    const asked = this.asked;
    let state;
    try {
      state = await getJson(device_path(this.key));
    } catch (error) {
      if (asked !== this.asked) return;
      $("device-error").textContent = error.status === 404 ? `No such device: ${error.message}` : error.message;
      $("device-error").hidden = false;
      if (error.status !== 404) this.later(() => this.load(), DEVICE_POLL_MS);
      return;
    }
    if (asked !== this.asked) return;
    this.serial = state.serial;
    this.render(state);
    this.openFeed();
    this.pollJournal();
    this.loadStimuli();
    this.loadRules();
    this.later(() => this.refresh(), DEVICE_POLL_MS);
  },

  async loadStimuli() {
    const serial = this.serial;
    try {
      const events = await getJson(device_path(serial, "/events"));
      if (this.active && serial === this.serial) {
        renderStimuli(serial, events.events);
        this.stimuliFor = serial;
      }
    } catch (error) {
      if (this.active) $("stimuli").replaceChildren(el("p", { class: "error", text: error.message }));
    }
  },

  soon() {
    if (!this.active || this.refreshing) return;
    this.refreshing = true;
    this.later(() => {
      this.refreshing = false;
      this.refresh(false);
    }, 200);
  },

  async refresh(again = true) {
    const asked = this.asked;
    const serial = this.serial;
    try {
      const state = await getJson(device_path(serial));
      if (asked === this.asked) this.render(state);
    } catch (error) {
      if (asked === this.asked) setLink(false, error.message);
    }
    if (asked !== this.asked) return;
    this.loadRules();
    if (this.params()) this.loadParams();
    if (again) this.later(() => this.refresh(), DEVICE_POLL_MS);
  },

  render(state) {
    $("device-title").textContent = `${state.model} ${state.variant} · ${state.serial}`;
    document.title = `${state.serial} · axisim`;
    const status = !state.reachable || state.state === "offline" || state.state === "off" ? "offline"
      : state.state === "booting" ? "booting" : "ready";
    $("device-status").replaceChildren(statusBadge(status));
    identityPairs(state);
    renderFaults(state.serial, state.faults);
    $("offline").textContent = state.reachable ? "Take offline" : "Bring online";
    $("offline").dataset.action = state.reachable ? "offline" : "online";
    $("state").textContent = JSON.stringify(state.subsystems, null, 1);
  },

  openFeed() {
    this.feed?.close();
    const serial = this.serial;
    const feed = new EventSource(device_path(serial, "/events/feed"));
    this.feed = feed;
    this.held = [];
    $("feed-state").textContent = "(connecting)";
    feed.onopen = () => {
      $("feed-state").textContent = "(live)";
      this.readLog(serial);  // subscribed from now on: what came before is in the log
    };
    feed.onmessage = (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (this.held !== null) this.held.push(event);
      else this.showEvent(event, true);
      this.soon();
    };
    feed.onerror = () => {
      if (this.held === null) this.held = [];  // a reconnection reads the log again
      if (feed.readyState !== EventSource.CLOSED) {
        $("feed-state").textContent = "(reconnecting)";
        return;
      }
      // refused (e.g. a site's shard restarting answers 503): the browser gives up, the page does not
      $("feed-state").textContent = "(closed, retrying)";
      this.later(() => {
        if (this.feed === feed) this.openFeed();
      }, DEVICE_POLL_MS);
    };
  },

  async readLog(serial) {
    try {
      const log = await getJson(device_path(serial, "/events/log?limit=100"));
      if (!this.active || serial !== this.serial) return;
      const list = $("events");
      clear(list);
      const logged = new Set(log.events.map((e) => JSON.stringify(e)));
      for (const event of log.events) this.showEvent(event, false);
      for (const event of this.held ?? []) if (!logged.has(JSON.stringify(event))) this.showEvent(event, true);
    } catch (error) {
      setLink(false, error.message);
    }
    this.held = null;
  },

  showEvent(event, fresh) {
    const list = $("events");
    const item = eventItem(event, fresh);
    item.hidden = !this.eventShown(event.topic);
    list.prepend(item);
    while (list.children.length > MAX_EVENT_ROWS) list.lastElementChild.remove();
  },

  eventShown(topic) {
    const wanted = $("event-filter").value.trim().toLowerCase();
    return !wanted || topic.toLowerCase().includes(wanted);
  },

  async pollJournal() {
    const asked = this.asked;
    const serial = this.serial;
    const since = this.journalTotal === null ? "" : `&since=${this.journalTotal}`;
    try {
      const journal = await getJson(device_path(serial, `/journal?limit=${MAX_JOURNAL_ROWS}${since}`));
      if (asked !== this.asked) return;
      const body = $("journal").tBodies[0];
      const fresh = this.journalTotal !== null;
      if (this.journalTotal !== null && journal.total < this.journalTotal) clear(body);  // cleared since
      for (const entry of journal.entries) body.prepend(journalRow(entry, fresh));
      if (fresh && journal.entries.length) this.soon();  // requests move the faults' hit counts
      while (body.rows.length > MAX_JOURNAL_ROWS) body.lastElementChild.remove();
      this.journalTotal = journal.total;
      $("journal-total").textContent = `(${plural(journal.total, "request")})`;
      this.renderUnsupported(journal.unsupported);
      this.renderStreams(journal.streams);
    } catch (error) {
      if (asked !== this.asked) return;
      setLink(false, error.message);
    }
    this.later(() => this.pollJournal(), JOURNAL_POLL_MS);
  },

  renderUnsupported(rows) {
    const table = $("unsupported");
    table.hidden = !rows.length;
    $("unsupported-empty").hidden = rows.length > 0;
    $("unsupported-total").textContent = rows.length ? `(${rows.length})` : "";
    table.tBodies[0].replaceChildren(...rows.map((row) => el("tr", {},
      el("td", { text: row.method }), el("td", { class: "mono", text: row.path }),
      el("td", { class: "num", text: row.count }), el("td", { class: "mono when", text: clock(row.last), title: row.last }))));
  },

  renderStreams(rows) {
    const table = $("streams");
    const shown = rows.slice(-20).reverse();
    table.hidden = !shown.length;
    $("streams-empty").hidden = shown.length > 0;
    table.tBodies[0].replaceChildren(...shown.map((row) => el("tr", {},
      el("td", { text: row.kind }), el("td", { class: "mono when", text: clock(row.opened), title: row.opened }),
      el("td", { text: row.user || "–" }), el("td", { class: "num", text: row.sent }),
      el("td", { text: row.open ? "open" : `closed: ${row.reason ?? ""}` }))));
  },

  async loadRules() {
    const serial = this.serial;
    let rules = [];
    try {
      rules = (await getJson(device_path(serial, "/rules"))).rules;
    } catch (error) {
      if (error.status !== 404) return;  // 404: this model has no rules
    }
    if (!this.active || serial !== this.serial) return;
    const table = $("rules");
    table.hidden = !rules.length;
    $("rules-empty").hidden = rules.length > 0;
    table.tBodies[0].replaceChildren(...rules.map((rule) => el("tr", { "data-rule": rule.id },
      el("td", { class: "num", text: rule.id }),
      el("td", { text: rule.name }),
      el("td", { text: rule.action ? rule.action.name || rule.action.token : "–" }),
      el("td", { text: `${rule.active ? "active" : "inactive"}${rule.enabled ? "" : " (disabled)"}` }),
      el("td", { class: "num", text: rule.runs }),
      el("td", { text: rule.last_run ? `${clock(rule.last_run.time)} ${rule.last_run.ok ? "ok" : "failed"}: ${rule.last_run.result}` : "–" }),
      el("td", {}, el("button", {
        type: "button", text: "Fire", title: "publish the event the rule starts on",
        onclick: () => act("POST", device_path(serial, `/rules/${rule.id}/fire`), {}, $("rules-output")),
      })))));
  },

  params() {
    return $("params-card").open;
  },

  async loadParams() {
    const serial = this.serial;
    try {
      const reply = await getJson(device_path(serial, "/params"));
      if (!this.active || serial !== this.serial) return;
      this.allParams = Object.entries(reply.params);
      this.paramsLoaded = serial;
      this.showParams();
    } catch (error) {
      $("params-count").textContent = error.message;
    }
  },

  showParams() {
    const wanted = $("param-filter").value.trim().toLowerCase();
    const all = this.allParams ?? [];
    const kept = wanted ? all.filter(([name, value]) => name.toLowerCase().includes(wanted) || value.toLowerCase().includes(wanted)) : all;
    const shown = kept.slice(0, MAX_PARAM_ROWS);
    $("params").tBodies[0].replaceChildren(...shown.map(([name, value]) => el("tr", {},
      el("td", { class: "mono", text: name }), el("td", { class: "mono", text: value }))));
    $("params-count").textContent = `${plural(kept.length, "parameter")} of ${all.length.toLocaleString("en")}` +
      (kept.length > shown.length ? `; the first ${shown.length} shown, narrow the filter for the others` : "");
  },
};

// -- views ---------------------------------------------------------------------------------------

const views = {
  current: null,

  route() {
    const hash = location.hash || "#/";
    const match = /^#\/device\/([^/?#]+)$/.exec(hash);
    const next = match ? device : site;
    site.stop();
    device.stop();
    this.current = next;
    if (match) {
      let key = match[1];
      try {
        key = decodeURIComponent(key);
      } catch {
        // keep it as written
      }
      document.title = `${key} · axisim`;
      device.start(key);
      window.scrollTo(0, 0);
    } else {
      document.title = "axisim site";
      site.start(new URLSearchParams(hash.replace(/^#\/?\??/, "")));
    }
  },
};

/** The top bar's counts stay current in the device view too. */
async function summaryLoop() {
  if (views.current !== site) {
    try {
      summarize(await getJson("devices?limit=0"));
    } catch (error) {
      setLink(false, error.message);
    }
  }
  setTimeout(summaryLoop, SITE_POLL_MS * 2);
}

function wire() {
  let typing = 0;
  $("q").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => site.filtersChanged(), 250);
  });
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    site.filtersChanged();
  });
  for (const id of ["status", "faulted", "size"]) $(id).addEventListener("change", () => site.filtersChanged());
  $("prev").addEventListener("click", () => site.turn(-1));
  $("next").addEventListener("click", () => site.turn(1));
  $("reset-site").addEventListener("click", async () => {
    if (!confirm("Reset every device of the site to its factory state (settings, accounts, disks, faults)?")) return;
    await act("POST", "reset", undefined, $("site-output"));
  });

  const faultForm = $("fault-form");
  faultForm.elements.namedItem("effect").addEventListener("change", showEffectFields);
  showEffectFields();
  faultForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    let body;
    try {
      body = faultBody(faultForm);
    } catch (problem) {
      showCall($("fault-output"), "(not sent)", null, problem.message);
      return;
    }
    await act("POST", device_path(device.serial, "/faults"), body, $("fault-output"));
  });
  $("clear-faults").addEventListener("click", () => act("DELETE", device_path(device.serial, "/faults"), undefined, $("fault-output")));
  $("offline").addEventListener("click", () => act("POST", device_path(device.serial, `/${$("offline").dataset.action || "offline"}`), undefined, $("device-output")));
  $("clear-journal").addEventListener("click", () => act("DELETE", device_path(device.serial, "/journal"), undefined, $("device-output")));
  $("reset-device").addEventListener("click", async () => {
    if (!confirm(`Reset ${device.serial} to its factory state (settings, accounts, disks, faults)?`)) return;
    await act("POST", device_path(device.serial, "/reset"), undefined, $("device-output"));
  });
  $("event-filter").addEventListener("input", () => {
    for (const item of $("events").children) item.hidden = !device.eventShown(item.dataset.topic);
  });
  $("params-card").addEventListener("toggle", () => {
    if (device.params() && device.paramsLoaded !== device.serial) device.loadParams();
  });
  $("param-filter").addEventListener("input", () => device.showParams());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") views.current?.soon();
  });
  window.addEventListener("hashchange", () => views.route());
}

wire();
views.route();
summaryLoop();
