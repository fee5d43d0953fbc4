// booking-client.js: a dependency-free client for the atomic booking gateway (an ES module).
//
//   import { BookingClient, ConflictError } from "/static/booking-client.js";
//   const client = new BookingClient({ getToken: async () => token });
//   const day = await client.availability(serviceId, "2026-12-07");
//   client.on("availability:updated", () => refetch());
//   client.watchAvailability(serviceId, "2026-12-07");
//   try { await client.hold({ serviceId, startTime, resourceId }); }
//   catch (e) { if (e instanceof ConflictError) show(e.alternatives); else throw e; }
//
// HTTP: every method returns the answer's JSON body and throws an ApiError (a ConflictError
// for a taken time or a stale version, with the alternatives the engine offers) otherwise.
// Realtime: one websocket (GET /v1/ws), authenticated with the token as a subprotocol,
// re-subscribed with `since` after a disconnect so no event is missed, with a fresh token
// before the old one expires. The protocol: docs/REALTIME.md.

/** An answer that is not a success: `status`, the problem+json body as `problem`, its `code`. */
export class ApiError extends Error {
  constructor(status, problem) {
    const body = problem && typeof problem === "object" ? problem : {};
    super(body.detail || body.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = body;
    this.code = body.code ?? null;
  }
}

/** A conflict (409, or 412 for a stale version): `conflictType` (HOLD_CONFLICT,
 * BOOKING_CONFLICT, CACHE_CONFLICT, VERSION_CONFLICT, ...) and `alternatives`, the nearest free
 * times, each `{start_time, end_time, start_local, end_local, resource_id, slot_id, time_zone}`. */
export class ConflictError extends ApiError {
  constructor(status, problem) {
    super(status, problem);
    this.name = "ConflictError";
    this.conflictType = this.problem.conflict_type ?? this.problem.code ?? null;
    this.alternatives = Array.isArray(this.problem.alternatives) ? this.problem.alternatives : [];
    this.conflictId = this.problem.conflict_id ?? null;
    this.timeZone = this.problem.time_zone ?? null;
  }
}

/** The topic of one service's availability on one local day. */
export function availabilityTopic(serviceId, day) {
  return `availability:${serviceId}:${day}`;
}

/** The claims of a JWT, read without checking it (the server checks it). */
export function tokenClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return {};
  }
}

const CLOSE_UNAUTHORIZED = 4001;
const CLOSE_FORBIDDEN = 4003;

export class BookingClient {
  /**
   * @param {object} [options]
   * @param {string} [options.baseUrl] the gateway, e.g. "http://127.0.0.1:8000" (default: this page's origin)
   * @param {string} [options.token] a bearer token (or use getToken)
   * @param {() => string | Promise<string>} [options.getToken] called for every new connection and
   *   before the websocket's token expires; return a fresh token
   * @param {string} [options.wsUrl] the websocket URL (default: baseUrl's /v1/ws, ws: or wss:)
   * @param {number} [options.silenceMs] reconnect after this long without a message (2 heartbeats)
   */
  constructor(options = {}) {
    const origin = globalThis.location ? globalThis.location.href : "http://127.0.0.1:8000/";
    this.baseUrl = new URL(options.baseUrl || "/", origin).href.replace(/\/$/, "");
    const ws = new URL("/v1/ws", this.baseUrl + "/");
    ws.protocol = ws.protocol === "https:" ? "wss:" : "ws:";
    this.wsUrl = options.wsUrl || ws.href;
    this.silenceMs = options.silenceMs ?? 60000;
    this._token = options.token ?? null;
    this._getToken = options.getToken ?? null;
    this._fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this._WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this._handlers = new Map();
    this._etags = new Map();
    this._consistency = null; // {token, until}: see request()
    this._consistencyMs = options.consistencyMs ?? 10000;
    this._topics = new Set();
    this._forbidden = new Set();
    this._ws = null;
    this._wanted = false;
    this._delay = 250;
    this._timers = {};
    this._opening = false;
    this.since = null; // the id of the newest event handled: where a reconnect resumes
    this.status = "closed";
    this.subject = null;
  }

  // --- tokens --------------------------------------------------------------------------------

  async token() {
    if (this._getToken) this._token = await this._getToken();
    return this._token;
  }

  /** Use another token. The same subject extends the open websocket; another one reconnects. */
  setToken(token) {
    const before = this._token ? tokenClaims(this._token).sub : null;
    this._token = token;
    if (!this._ws) return;
    if (tokenClaims(token).sub !== before) this.reconnect();
    else if (this._ws.readyState === 1) this._send({ type: "auth", token });
  }

  // --- HTTP ----------------------------------------------------------------------------------

  /** One request: the JSON body of a success, an ApiError or ConflictError otherwise. */
  async request(method, path, options = {}) {
    const { body, headers = {}, query, auth = true } = options;
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query || {})) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    }
    const sent = { Accept: "application/json", ...headers };
    const token = auth ? (this._token ?? (this._getToken ? await this.token() : null)) : null;
    if (token) sent.Authorization = `Bearer ${token}`;
    if (body !== undefined) sent["Content-Type"] = "application/json";
    const cached = method === "GET" ? this._etags.get(url.href) : undefined;
    if (cached) sent["If-None-Match"] = cached.etag;
    // with read replicas: a write's token, sent back on reads for a while, so this client never
    // reads from a replica older than its own write
    if (method === "GET" && this._consistency && Date.now() < this._consistency.until) {
      sent["Booking-Consistency"] = this._consistency.token;
    }
    const response = await this._fetch(url.href, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401 && token && this._getToken && !options.retried) {
      this._token = null; // expired: ask getToken for a fresh one, once
      return this.request(method, path, { ...options, retried: true });
    }
    const consistency = response.headers.get("Booking-Consistency");
    if (consistency) this._consistency = { token: consistency, until: Date.now() + this._consistencyMs };
    if (response.status === 304 && cached) return cached.body;
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const problem = data || {};
      if (problem.conflict_type || response.status === 409) throw new ConflictError(response.status, problem);
      throw new ApiError(response.status, problem);
    }
    const etag = response.headers.get("ETag");
    if (method === "GET" && etag) this._etags.set(url.href, { etag, body: data });
    return data;
  }

  /** The locations: `[{id, name, time_zone}]`. */
  async locations() {
    return (await this.request("GET", "/v1/locations", { auth: false })).items;
  }

  /** A location's bookable services (durations in minutes, price, time_zone). */
  async services(locationId) {
    return (await this.request("GET", `/v1/locations/${locationId}/services`, { auth: false })).items;
  }

  async service(serviceId) {
    return this.request("GET", `/v1/services/${serviceId}`, { auth: false });
  }

  /** Who performs a service, in preference order: `[{id, name, kind}]`. */
  async staff(serviceId) {
    return (await this.request("GET", `/v1/services/${serviceId}/resources`, { auth: false })).items;
  }

  /** Free starts of a local day: `{slots: [{start_time, start_local, resource_ids, ...}], versions}`.
   * Revalidated with If-None-Match: an unchanged day costs a 304. */
  async availability(serviceId, day, { days, resourceId } = {}) {
    const query = { date: day, days, resource_id: resourceId };
    return this.request("GET", `/v1/services/${serviceId}/availability`, { query, auth: false });
  }

  /** Hold a time. `startTime` with an offset, or the salon's wall-clock time without one.
   * Resolves to the hold (`hold_id`, `session_id`, `expires_at`, ...); a taken time throws a
   * ConflictError with the alternatives. `seenVersion`: the day's version the screen showed
   * (a CACHE_CONFLICT then says the screen was behind). */
  async hold({ serviceId, startTime, endTime, resourceId, sessionId, seenVersion, slotId, expiresAt }) {
    const body = { service_id: serviceId, start_time: startTime };
    if (endTime) body.end_time = endTime;
    if (resourceId) body.resource_id = resourceId;
    if (sessionId) body.session_id = sessionId;
    if (seenVersion !== undefined && seenVersion !== null) body.seen_version = seenVersion;
    if (slotId) body.slot_id = slotId;
    if (expiresAt) body.expires_at = expiresAt;
    return this.request("POST", "/v1/holds", { body });
  }

  /** Give a hold back (its session id proves it is this browser's). */
  async release(holdId, sessionId) {
    return this.request("DELETE", `/v1/holds/${holdId}`, { headers: { "X-Session-Id": sessionId } });
  }

  /** Turn a hold into a booking (same id). */
  async confirm(holdId, sessionId, bookingData) {
    const body = { session_id: sessionId };
    if (bookingData) body.booking_data = bookingData;
    return this.request("POST", `/v1/holds/${holdId}/booking`, { body });
  }

  /** Book directly. An `idempotencyKey` makes a retry replay the first answer. */
  async book({ serviceId, startTime, resourceId, bookingData, seenVersion }, { idempotencyKey } = {}) {
    const body = { service_id: serviceId, start_time: startTime };
    if (resourceId) body.resource_id = resourceId;
    if (bookingData) body.booking_data = bookingData;
    if (seenVersion !== undefined && seenVersion !== null) body.seen_version = seenVersion;
    const headers = idempotencyKey ? { "Idempotency-Key": idempotencyKey } : {};
    return this.request("POST", "/v1/bookings", { body, headers });
  }

  async booking(id) {
    return this.request("GET", `/v1/bookings/${id}`);
  }

  /** The caller's holds and bookings: `[{id, status, start_local, expires_at, version, ...}]`. */
  async myBookings({ from, to, limit } = {}) {
    return (await this.request("GET", "/v1/bookings", { query: { from, to, limit } })).items;
  }

  /** Cancel; with `version`, only if nobody changed the booking since (If-Match). */
  async cancel(bookingId, { version, reason } = {}) {
    const headers = version ? { "If-Match": `"${version}"` } : {};
    return this.request("POST", `/v1/bookings/${bookingId}/cancel`, { body: reason ? { reason } : {}, headers });
  }

  async reschedule(bookingId, startTime, { version, resourceId } = {}) {
    const headers = version ? { "If-Match": `"${version}"` } : {};
    const body = { start_time: startTime };
    if (resourceId) body.resource_id = resourceId;
    return this.request("POST", `/v1/bookings/${bookingId}/reschedule`, { body, headers });
  }

  // --- realtime ------------------------------------------------------------------------------

  /** Listen: "availability:updated" (handler(payload, message); after a `resync` payload is
   * null: refetch the day), any other event name ("hold:created", "booking:cancelled", ...),
   * "event" (every event), "resync", "status" ("connecting" | "open" | "reconnecting" |
   * "closed"), "error". Returns a function that stops listening. */
  on(name, handler) {
    if (!this._handlers.has(name)) this._handlers.set(name, new Set());
    this._handlers.get(name).add(handler);
    return () => this._handlers.get(name).delete(handler);
  }

  _emit(name, ...args) {
    for (const handler of this._handlers.get(name) || []) {
      try {
        handler(...args);
      } catch (error) {
        console.error(`booking-client: a "${name}" handler failed`, error);
      }
    }
  }

  /** Follow topics (opens the websocket when needed). */
  subscribe(topics) {
    const fresh = topics.filter((t) => !this._topics.has(t));
    fresh.forEach((t) => this._topics.add(t));
    this.connect();
    if (fresh.length && this._ws && this._ws.readyState === 1 && this.status === "open") {
      this._send({ type: "subscribe", topics: fresh });
    }
  }

  unsubscribe(topics) {
    const known = topics.filter((t) => this._topics.delete(t));
    if (known.length && this._ws && this._ws.readyState === 1) this._send({ type: "unsubscribe", topics: known });
  }

  /** Follow one service's availability on one local day; returns the topic. */
  watchAvailability(serviceId, day) {
    const topic = availabilityTopic(serviceId, day);
    this.subscribe([topic]);
    return topic;
  }

  get topics() {
    return [...this._topics];
  }

  connect() {
    this._wanted = true;
    if (!this._ws && !this._opening && !this._timers.reconnect) this._open();
  }

  /** Drop the connection and open a new one at once (resuming with `since`). */
  reconnect() {
    if (this._ws) {
      const ws = this._ws;
      this._detach();
      ws.close(1000, "reconnect");
    }
    clearTimeout(this._timers.reconnect);
    this._timers.reconnect = null;
    if (this._wanted) this._open();
  }

  /** Close for good (until the next subscribe or connect). */
  close() {
    this._wanted = false;
    clearTimeout(this._timers.reconnect);
    this._timers.reconnect = null;
    if (this._ws) {
      const ws = this._ws;
      this._detach();
      ws.close(1000, "bye");
    }
    this._setStatus("closed");
  }

  _setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this._emit("status", status);
  }

  _send(message) {
    this._ws.send(JSON.stringify(message));
  }

  _detach() {
    const ws = this._ws;
    this._ws = null;
    clearTimeout(this._timers.silence);
    clearTimeout(this._timers.refresh);
    if (ws) ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  }

  async _open() {
    this._setStatus(this.status === "closed" ? "connecting" : "reconnecting");
    let token;
    this._opening = true;
    try {
      token = await this.token();
    } catch (error) {
      this._emit("error", { type: "token", detail: String(error) });
      this._retry();
      return;
    } finally {
      this._opening = false;
    }
    if (!this._wanted || this._ws) return;
    const ws = token ? new this._WebSocket(this.wsUrl, ["bearer", token]) : new this._WebSocket(this.wsUrl);
    this._ws = ws;
    this._watch();
    ws.onmessage = (m) => this._message(JSON.parse(m.data));
    ws.onclose = (e) => this._closed(e);
  }

  _watch() {
    clearTimeout(this._timers.silence);
    this._timers.silence = setTimeout(() => this.reconnect(), this.silenceMs);
  }

  _message(msg) {
    this._watch();
    switch (msg.type) {
      case "authenticated": {
        this.subject = msg.sub;
        this._delay = 250;
        const first = this.status !== "open";
        this._setStatus("open");
        this._refreshBefore(msg.exp);
        const topics = [...this._topics].filter((t) => !this._forbidden.has(t));
        if (first && topics.length) {
          this._send({ type: "subscribe", topics, ...(this.since !== null && { since: this.since }) });
        }
        break;
      }
      case "subscribed":
        if (this.since === null && typeof msg.position === "number") this.since = msg.position;
        break;
      case "event":
        if (this.since === null || msg.id > this.since) this.since = msg.id;
        this._emit(msg.event, msg.payload, msg);
        this._emit("event", msg);
        break;
      case "resync":
        // too far behind to replay: refetch over HTTP, then carry on with the live events
        this._emit("resync", msg);
        for (const topic of msg.topics || []) {
          if (topic.startsWith("availability:")) this._emit("availability:updated", null, { ...msg, topic });
        }
        break;
      case "error":
        this._emit("error", msg);
        break;
      default: // heartbeat, pong, unsubscribed
    }
  }

  _refreshBefore(exp) {
    clearTimeout(this._timers.refresh);
    if (!this._getToken || !exp) return;
    const wait = Math.max(1000, exp * 1000 - Date.now() - 60000);
    this._timers.refresh = setTimeout(async () => {
      try {
        const token = await this.token();
        if (this._ws && this._ws.readyState === 1) this._send({ type: "auth", token });
      } catch (error) {
        this._emit("error", { type: "token", detail: String(error) });
      }
    }, wait);
  }

  _closed(event) {
    this._detach();
    if (event.code === CLOSE_FORBIDDEN) {
      // a topic this token may not follow: do not ask for it again
      this._emit("error", { type: "forbidden", code: event.code, detail: event.reason });
      const match = /subscribe to (\S+)/.exec(event.reason || "");
      if (match) this._forbidden.add(match[1]);
    } else if (event.code === CLOSE_UNAUTHORIZED) {
      this._emit("error", { type: "unauthorized", code: event.code, detail: event.reason });
    }
    if (!this._wanted) return this._setStatus("closed");
    this._retry();
  }

  _retry() {
    this._setStatus("reconnecting");
    const delay = this._delay * (0.75 + Math.random() / 2);
    this._delay = Math.min(this._delay * 2, 10000);
    this._timers.reconnect = setTimeout(() => {
      this._timers.reconnect = null;
      if (this._wanted) this._open();
    }, delay);
  }
}
