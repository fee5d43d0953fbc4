// The live demo page (/demo), built on /static/booking-client.js and nothing else.
import { ApiError, BookingClient, ConflictError, availabilityTopic, tokenClaims } from "/static/booking-client.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const state = {
  demoTokens: true, // this gateway mints demo customers' tokens (development secret)
  customers: [],
  customer: null,
  token: null,
  tokenExp: 0,
  locations: [],
  location: null,
  services: [],
  service: null,
  staff: [],
  names: new Map(), // resource and service ids -> names, for the list of holds and bookings
  day: null,
  zone: null,
  topics: [],
  slots: [],
  version: null,
  seen: new Set(), // starts shown free today, so a taken row stays (greyed) instead of vanishing
  free: new Set(), // "resource|start" keys free in the last render
  mine: [],
  own: new Set(), // ids of the holds this page made
  refreshing: null,
  dirty: false,
};
const client = new BookingClient({ getToken: currentToken });
// for the browser tests and the curious: the client, the state, and when updates landed
window.demo = { client, state, timings: [] };

// --- tokens: a demo customer's development token, or one pasted in ----------------------------

async function currentToken() {
  if (state.token && state.tokenExp - Date.now() / 1000 > 120) return state.token;
  if (state.demoTokens && state.customer) await mint(state.customer);
  return state.token;
}

async function mint(customer) {
  const r = await fetch("/demo/tokens", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ customer }),
  });
  if (!r.ok) throw new Error(`no demo token for ${customer} (HTTP ${r.status})`);
  const body = await r.json();
  state.token = body.token;
  state.tokenExp = tokenClaims(body.token).exp || 0;
}

async function loadCustomers() {
  const r = await fetch("/demo/tokens", { headers: { Accept: "application/json" } });
  if (!r.ok) {
    state.demoTokens = false;
    $("token-form").hidden = false;
    $("customer").closest(".who").querySelector("label").hidden = true;
    $("customer").hidden = true;
    return;
  }
  state.customers = (await r.json()).customers;
  const wanted = params.get("customer") || sessionStorage.getItem("demo.customer");
  state.customer = state.customers.some((c) => c.sub === wanted) ? wanted : state.customers[0].sub;
  fill($("customer"), state.customers.map((c) => [c.sub, c.name]), state.customer);
  $("customer").disabled = false;
  await mint(state.customer);
}

async function useCustomer(sub) {
  const old = userTopic();
  state.customer = sub;
  sessionStorage.setItem("demo.customer", sub);
  if (state.demoTokens) await mint(sub);
  client.unsubscribe([old]);
  client.setToken(state.token); // another subject: the websocket reconnects as this one
  follow();
  remember();
  log(`You are ${nameOf(sub)} now.`);
  await refreshMine();
  render();
}

$("customer").addEventListener("change", (e) => useCustomer(e.target.value));
$("token-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const token = $("token").value.trim();
  const claims = tokenClaims(token);
  if (!claims.sub) return log("That is not a token.", true);
  state.token = token;
  state.tokenExp = claims.exp || 0;
  await useCustomer(claims.sub);
});

function nameOf(sub) {
  return state.customers.find((c) => c.sub === sub)?.name || sub;
}

function userTopic() {
  return state.customer ? `user:${state.customer}` : null;
}

// --- what is shown: location, service, day ----------------------------------------------------

function fill(select, options, selected) {
  select.replaceChildren(
    ...options.map(([value, label]) => {
      const o = new Option(label, value);
      o.selected = value === selected;
      return o;
    }),
  );
}

async function loadLocations() {
  state.locations = await client.locations();
  const wanted = params.get("location");
  state.location = state.locations.find((l) => l.id === wanted) || state.locations[0] || null;
  fill($("location"), state.locations.map((l) => [l.id, l.name]), state.location?.id);
}

async function loadServices() {
  state.services = state.location ? await client.services(state.location.id) : [];
  state.services.forEach((s) => state.names.set(s.id, s.name));
  const wanted = params.get("service") || state.service?.id;
  state.service = state.services.find((s) => s.id === wanted) || state.services[0] || null;
  fill($("service"), state.services.map((s) => [s.id, s.name]), state.service?.id);
}

async function loadStaff() {
  state.staff = state.service ? await client.staff(state.service.id) : [];
  state.staff.forEach((r) => state.names.set(r.id, r.name));
  const s = state.service;
  $("service-facts").textContent = s
    ? `${s.duration_minutes} min` +
      (s.buffer_after_minutes ? ` (+${s.buffer_after_minutes} min to tidy up)` : "") +
      `, a start every ${s.slot_step_minutes} min` +
      (s.price !== null && s.price !== undefined ? `, ${s.price} ${s.currency || ""}` : "") +
      `; performed by ${state.staff.map((r) => r.name).join(" or ") || "nobody yet"}.`
    : "";
}

function shiftDay(day, by) {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + by);
  return d.toISOString().slice(0, 10);
}

function longDay(day) {
  const d = new Date(`${day}T12:00:00Z`);
  return d.toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
}

function hhmm(local) {
  return local.slice(11, 16);
}

function localTime(instant) {
  return new Date(instant).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: state.zone || undefined });
}

function remember() {
  const q = new URLSearchParams();
  if (state.location) q.set("location", state.location.id);
  if (state.service) q.set("service", state.service.id);
  if (state.day) q.set("date", state.day);
  if (state.customer && state.demoTokens) q.set("customer", state.customer);
  history.replaceState(null, "", `${location.pathname}?${q}`);
}

/** Follow the shown day's availability, the service's catalogue and the customer's own events. */
function follow() {
  const wanted = [];
  if (state.service && state.day) {
    wanted.push(availabilityTopic(state.service.id, state.day), `service:${state.service.id}`);
  }
  if (userTopic() && state.token) wanted.push(userTopic());
  const gone = state.topics.filter((t) => !wanted.includes(t));
  if (gone.length) client.unsubscribe(gone);
  state.topics = wanted;
  if (wanted.length && state.token) client.subscribe(wanted);
}

async function show({ resetDay = false } = {}) {
  if (resetDay || !state.day) state.day = params.get("date") || state.service?.next_available_day || new Date().toISOString().slice(0, 10);
  $("day").value = state.day;
  state.zone = state.service?.time_zone || state.location?.time_zone || null;
  state.seen = new Set();
  state.free = new Set();
  state.slots = [];
  hideConflict();
  await loadStaff();
  follow(); // subscribe before reading, so no change falls between the read and the first event
  remember();
  await refreshAvailability();
}

$("location").addEventListener("change", async (e) => {
  state.location = state.locations.find((l) => l.id === e.target.value);
  state.service = null;
  await loadServices();
  await show();
});
$("service").addEventListener("change", async (e) => {
  state.service = state.services.find((s) => s.id === e.target.value);
  await show();
});
$("day").addEventListener("change", async (e) => {
  if (!e.target.value) return;
  state.day = e.target.value;
  await show();
});
$("prev-day").addEventListener("click", () => {
  state.day = shiftDay(state.day, -1);
  show();
});
$("next-day").addEventListener("click", () => {
  state.day = shiftDay(state.day, 1);
  show();
});

// --- availability: read over HTTP, re-read whenever the websocket says the day changed ---------

async function refreshAvailability() {
  if (state.refreshing) {
    state.dirty = true;
    return state.refreshing;
  }
  state.refreshing = (async () => {
    do {
      state.dirty = false;
      const service = state.service;
      const day = state.day;
      if (!service || !day) return;
      try {
        const body = await client.availability(service.id, day);
        if (service !== state.service || day !== state.day) continue; // the customer moved on
        state.slots = body.slots;
        state.version = body.versions?.[day] ?? null;
        state.slots.forEach((s) => state.seen.add(s.start_local));
        render();
      } catch (error) {
        showGridProblem(error);
      }
    } while (state.dirty);
  })().finally(() => {
    state.refreshing = null;
  });
  return state.refreshing;
}

function showGridProblem(error) {
  const p = document.createElement("p");
  p.textContent = error instanceof ApiError ? `${error.message} (${error.code || error.status})` : String(error);
  $("grid").replaceChildren(p);
  $("grid").setAttribute("aria-busy", "false");
}

function myReservationAt(resourceId, startLocal) {
  return state.mine.find(
    (m) =>
      m.resource_id === resourceId &&
      m.start_local === startLocal &&
      m.service_id === state.service?.id &&
      (m.status === "confirmed" || (m.status === "held" && Date.parse(m.expires_at) > Date.now())),
  );
}

function render() {
  const grid = $("grid");
  const focused = document.activeElement?.closest?.("#grid [data-key]")?.dataset.key;
  $("zone").textContent = state.zone ? `Times in the salon's zone, ${state.zone}.` : "";
  if (!state.service) {
    grid.replaceChildren(Object.assign(document.createElement("p"), { textContent: "This salon has no services." }));
    return;
  }
  const free = new Map(); // "resource|start_local" -> slot
  for (const slot of state.slots) for (const r of slot.resource_ids) free.set(`${r}|${slot.start_local}`, slot);
  for (const m of state.mine) if (m.service_id === state.service.id && m.start_local?.startsWith(state.day)) state.seen.add(m.start_local);
  const starts = [...state.seen].sort();
  const table = document.createElement("table");
  const caption = table.createCaption();
  caption.className = "visually-hidden";
  caption.textContent = `${state.service.name} on ${longDay(state.day)}, times in ${state.zone}`;
  const head = table.createTHead().insertRow();
  head.append(Object.assign(document.createElement("th"), { scope: "col", textContent: "Time" }));
  for (const r of state.staff) head.append(Object.assign(document.createElement("th"), { scope: "col", textContent: r.name }));
  const body = table.createTBody();
  for (const start of starts) {
    const row = body.insertRow();
    row.append(Object.assign(document.createElement("th"), { scope: "row", textContent: hhmm(start) }));
    for (const r of state.staff) {
      const key = `${r.id}|${start}`;
      const cell = row.insertCell();
      const slot = free.get(key);
      if (slot) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "slot";
        b.textContent = hhmm(start);
        b.dataset.key = key;
        b.dataset.time = hhmm(start);
        b.dataset.resource = r.id;
        b.dataset.resourceName = r.name;
        b.dataset.start = slot.start_time;
        b.setAttribute("aria-label", `Hold ${hhmm(start)} with ${r.name}`);
        b.addEventListener("click", () =>
          holdSlot({ startTime: slot.start_time, resourceId: r.id, label: `${hhmm(start)} with ${r.name}` }),
        );
        cell.append(b);
      } else {
        const mine = myReservationAt(r.id, start);
        const span = document.createElement("span");
        span.className = mine ? "yours" : "taken";
        span.dataset.key = key;
        span.dataset.time = hhmm(start);
        span.dataset.resourceName = r.name;
        span.textContent = mine ? (mine.status === "held" ? "held" : "booked") : "–";
        span.title = mine ? `yours (${mine.status})` : "taken";
        span.setAttribute("aria-label", `${hhmm(start)} with ${r.name}: ${mine ? `yours, ${mine.status}` : "taken"}`);
        if (state.free.has(key)) cell.classList.add("flash"); // it was free a moment ago
        cell.append(span);
      }
    }
  }
  state.free = new Set(free.keys());
  if (!starts.length) {
    grid.replaceChildren(Object.assign(document.createElement("p"), { textContent: `No free times on ${longDay(state.day)}.` }));
  } else {
    grid.replaceChildren(table);
  }
  grid.setAttribute("aria-busy", "false");
  grid.dataset.version = String(state.version ?? "");
  window.demo.timings.push({ kind: "render", at: Date.now(), version: state.version });
  if (focused) {
    // keep a keyboard user's place: the same cell, else the section
    const again = grid.querySelector(`[data-key="${CSS.escape(focused)}"]`);
    if (again && again.tagName === "BUTTON") again.focus();
    else $("slots").focus();
  }
}

// --- holding, booking, releasing, cancelling ----------------------------------------------------

function sessions() {
  return JSON.parse(sessionStorage.getItem(`demo.sessions.${state.customer}`) || "{}");
}

function keepSession(holdId, sessionId) {
  const all = sessions();
  all[holdId] = sessionId;
  sessionStorage.setItem(`demo.sessions.${state.customer}`, JSON.stringify(all));
}

async function holdSlot({ startTime, resourceId, label }) {
  if (!state.token) return log("Choose a customer first.", true);
  try {
    const hold = await client.hold({ serviceId: state.service.id, startTime, resourceId, seenVersion: state.version });
    window.demo.timings.push({ kind: "held", at: Date.now(), hold_id: hold.hold_id });
    keepSession(hold.hold_id, hold.session_id);
    state.own.add(hold.hold_id);
    hideConflict();
    log(`You hold ${hhmm(hold.start_local)} with ${state.names.get(hold.resource_id) || "a stylist"} until ${localTime(hold.expires_at)}.`);
  } catch (error) {
    if (error instanceof ConflictError) showConflict(error, label);
    else log(`Could not hold ${label}: ${error.message}`, true);
  }
  await Promise.all([refreshMine(), refreshAvailability()]);
}

const WHY = {
  HOLD_CONFLICT: "is held by another customer",
  BOOKING_CONFLICT: "is booked by another customer",
  CACHE_CONFLICT: "was taken after this screen was drawn (it was behind)",
};

function showConflict(error, label) {
  const section = $("conflict");
  const why = WHY[error.conflictType] || `could not be had (${error.conflictType})`;
  $("conflict-text").textContent =
    `${label} ${why}.` + (error.alternatives.length ? " The nearest free times:" : " Nothing near it is free.");
  $("alternatives").replaceChildren(
    ...error.alternatives.map((alt) => {
      const b = document.createElement("button");
      b.type = "button";
      const who = state.names.get(alt.resource_id) || "a stylist";
      const day = alt.start_local.slice(0, 10) === state.day ? "" : ` on ${longDay(alt.start_local.slice(0, 10))}`;
      b.textContent = `${hhmm(alt.start_local)} with ${who}${day}`;
      b.dataset.start = alt.start_time;
      b.dataset.resource = alt.resource_id;
      b.addEventListener("click", () =>
        holdSlot({ startTime: alt.start_time, resourceId: alt.resource_id, label: `${hhmm(alt.start_local)} with ${who}` }),
      );
      return b;
    }),
  );
  section.dataset.conflictType = error.conflictType;
  section.hidden = false;
  section.focus();
  log(`Conflict (${error.conflictType}): ${label} ${why}.`, true);
}

function hideConflict() {
  $("conflict").hidden = true;
}
$("conflict-close").addEventListener("click", () => {
  hideConflict();
  $("slots").focus();
});

async function refreshMine() {
  if (!state.token) {
    state.mine = [];
    return renderMine();
  }
  try {
    state.mine = await client.myBookings();
  } catch (error) {
    log(`Could not read your bookings: ${error.message}`, true);
  }
  renderMine();
}

function renderMine() {
  const now = Date.now();
  const live = state.mine
    .filter((m) => m.status === "confirmed" || (m.status === "held" && Date.parse(m.expires_at) > now))
    .filter((m) => Date.parse(m.end_time) > now)
    .sort((a, b) => a.start_time.localeCompare(b.start_time))
    .slice(0, 12);
  const known = sessions();
  const items = live.map((m) => {
    const li = document.createElement("li");
    li.dataset.id = m.id;
    li.dataset.status = m.status;
    const what = document.createElement("span");
    what.className = "what";
    const service = state.names.get(m.service_id) || "A service";
    const who = state.names.get(m.resource_id) || "a stylist";
    what.textContent = `${service} with ${who}, ${longDay(m.start_local.slice(0, 10))}, ${hhmm(m.start_local)}–${hhmm(m.end_local)}`;
    const badge = Object.assign(document.createElement("span"), { className: `state ${m.status}`, textContent: m.status === "held" ? "held" : "booked" });
    li.append(what, badge);
    if (m.status === "held") {
      const left = document.createElement("span");
      left.className = "countdown";
      left.dataset.expires = m.expires_at;
      li.append(left);
      const session = known[m.id];
      if (session) {
        li.append(
          action("Book it", `Book ${service} at ${hhmm(m.start_local)}`, async () => {
            const b = await client.confirm(m.id, session, { name: nameOf(state.customer) });
            log(`Booked: ${service} at ${hhmm(b.start_local)} with ${who}.`);
          }),
          action("Release", `Release the hold on ${hhmm(m.start_local)}`, async () => {
            await client.release(m.id, session);
            log(`You released ${hhmm(m.start_local)} with ${who}.`);
          }),
        );
      } else {
        li.append(Object.assign(document.createElement("span"), { className: "facts", textContent: "held in another window" }));
      }
    } else {
      li.append(
        action("Cancel", `Cancel the booking at ${hhmm(m.start_local)}`, async () => {
          await client.cancel(m.id, { version: m.version, reason: "cancelled on the demo page" });
          log(`You cancelled ${service} at ${hhmm(m.start_local)}.`);
        }),
      );
    }
    return li;
  });
  if (!items.length) items.push(Object.assign(document.createElement("li"), { textContent: "Nothing yet: pick a free time." }));
  $("mine").replaceChildren(...items);
  tick();
}

function action(text, label, run) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      await run();
    } catch (error) {
      if (error instanceof ConflictError && error.alternatives.length) showConflict(error, "That time");
      else log(`${text}: ${error.message}`, true);
    }
    await Promise.all([refreshMine(), refreshAvailability()]);
  });
  return b;
}

// the holds' expiry countdowns
function tick() {
  let lapsed = false;
  for (const el of document.querySelectorAll("#mine .countdown")) {
    const left = Math.round((Date.parse(el.dataset.expires) - Date.now()) / 1000);
    if (left <= 0) {
      el.textContent = "expired";
      lapsed = true;
    } else {
      el.textContent = `expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    }
  }
  return lapsed;
}
setInterval(() => {
  if (tick()) {
    log("A hold of yours expired: the time is free again.");
    refreshMine();
    refreshAvailability();
  }
}, 1000);

// --- live: the websocket -------------------------------------------------------------------------

const STATUS_TEXT = { open: "live", connecting: "connecting…", reconnecting: "reconnecting…", closed: "offline" };
client.on("status", (s) => {
  $("live").dataset.status = s;
  $("live").textContent = STATUS_TEXT[s] || s;
});

client.on("availability:updated", (payload, msg) => {
  if (msg.topic !== availabilityTopic(state.service?.id, state.day)) return;
  window.demo.timings.push({ kind: "event", at: Date.now(), id: msg.id ?? null });
  if (payload) {
    // the event may come before this page's own answer: "yours" only when known already
    const yours = state.own.has(payload.reservation_id) || state.mine.some((m) => m.id === payload.reservation_id);
    const what = { held: "held", confirmed: "booked" }[payload.status] || `free again (${payload.status})`;
    const who = state.names.get(payload.resource_id) || "a stylist";
    log(`Live: ${localTime(payload.start_time)} with ${who} ${what}${yours ? " (yours)" : ""}.`);
  } else {
    log("Live: caught up after a long disconnect.");
  }
  refreshAvailability();
});

client.on("catalogue:changed", async () => {
  log("Live: the salon changed its hours or staff.");
  await loadStaff();
  refreshAvailability();
});

client.on("event", (msg) => {
  if (msg.topic === userTopic()) refreshMine();
});

client.on("error", (e) => {
  if (e.type === "unauthorized") log("The live connection was refused: the token is not accepted.", true);
});

// --- the activity log ------------------------------------------------------------------------

function log(text, bad = false) {
  const li = document.createElement("li");
  if (bad) li.className = "bad";
  const at = new Date().toLocaleTimeString("en-GB");
  li.append(Object.assign(document.createElement("time"), { textContent: at }), text);
  $("log").prepend(li);
  while ($("log").children.length > 50) $("log").lastChild.remove();
}

// --- start ----------------------------------------------------------------------------------------

async function start() {
  try {
    await loadCustomers();
    client.setToken(state.token);
    await loadLocations();
    await loadServices();
    await show({ resetDay: true });
    await refreshMine();
    render();
    document.body.dataset.ready = "true";
  } catch (error) {
    showGridProblem(error);
    log(String(error.message || error), true);
  }
}

start();
