// The room socket: reconnects with jittered exponential backoff, keeps only the newest snapshot,
// asks for a fresh one after a gap, and measures the server's clock.

import { ServerClock } from "./clock.js";

// 4001: this person opened the room in another tab, which took over; this one waits to be asked back.
const PERMANENT = new Set([4001, 4401, 4403, 4404, 4410, 4423, 4008]);
// Each ping is the server's heartbeat for this person (sharing/consumers.py), so presence needs no other.
const PING_EVERY_MS = 8000;
const NO_STATE_MS = 10000;
const SYNC_AFTER_MS = 500;

export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(30000, 500 * 2 ** attempt);
  return Math.max(500, Math.min(30000, base * (0.5 + random())));
}

export class RoomConnection {
  constructor(path, handlers) {
    this.path = path;
    this.handlers = handlers;
    this.clock = new ServerClock();
    this.version = null;
    this.attempt = 0;
    this.socket = null;
    this.pinger = null;
    this.gaps = 0;
    this.closedFor = null;
    this.syncAskedFor = null; // the pong version a sync was last asked for
  }

  url() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${window.location.host}${this.path}`;
  }

  connect() {
    const socket = new WebSocket(this.url());
    this.socket = socket;
    this.handlers.onStatus?.("connecting");
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.handlers.onStatus?.("open");
      this.ping();
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.ping(), PING_EVERY_MS);
      // A socket that opens but never brings the room is no use: try again.
      this.stateSinceOpen = false;
      setTimeout(() => {
        if (socket === this.socket && !this.stateSinceOpen) socket.close(4000);
      }, NO_STATE_MS);
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => {
      clearInterval(this.pinger);
      if (socket !== this.socket) return;
      if (PERMANENT.has(event.code)) {
        this.closedFor = event.code;
        this.handlers.onStatus?.("closed", event.code);
        return;
      }
      const delay = backoffDelay(this.attempt);
      this.attempt += 1;
      this.handlers.onStatus?.("reconnecting", delay);
      setTimeout(() => this.connect(), delay);
    });
  }

  receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type === "pong") {
      this.clock.sample(message.t, message.server_now);
      // The pong carries the room's version. A newer one than held is usually a snapshot on its
      // way; if it has not come a moment later, it went missing: ask for the room as it is.
      const newer = message.version;
      if (typeof newer === "number" && this.version !== null && newer > this.version && this.syncAskedFor !== newer) {
        this.syncAskedFor = newer;
        setTimeout(() => {
          if (this.version !== null && this.version < newer) this.send({ type: "sync" });
        }, SYNC_AFTER_MS);
      }
      return;
    }
    if (message.type === "state") {
      this.stateSinceOpen = true;
      if (this.version !== null && message.version <= this.version) return;
      if (this.version !== null && message.version > this.version + 1) {
        this.gaps += 1;
        this.send({ type: "sync" });
      }
      this.version = message.version;
      this.clock.seed(message.server_now);
      this.handlers.onState?.(message);
      return;
    }
    this.handlers.onMessage?.(message);
  }

  ping() {
    this.send({ type: "ping", t: Date.now() });
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  // A room action, carrying the version it was based on.
  act(type, fields = {}) {
    return this.send({ type, version: this.version ?? undefined, ...fields });
  }

  // Connect again after a permanent close, as a fresh socket that takes the whole snapshot.
  reconnect() {
    this.closedFor = null;
    this.attempt = 0;
    this.version = null;
    this.connect();
  }

  close() {
    clearInterval(this.pinger);
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
  }
}
