// The room's one connection, for the modules that send or need the server's time. main.js creates
// it and hands it over before anything is sent.

import { say } from "./narration.js";
import { snapshot } from "./state.js";
import { t } from "./view.js";

let connection = null;

export function useConnection(roomConnection) {
  connection = roomConnection;
}

export function send(message) {
  return connection ? connection.send(message) : false;
}

export function act(type, fields) {
  return connection ? connection.act(type, fields) : false;
}

export function reconnect() {
  connection.reconnect();
}

// Now, by the server's clock (measured offset applied).
export function serverNow() {
  return connection.clock.now();
}

// Actions on a particular turn or segment say which one they meant; presence changing meanwhile
// does not make them stale, but a turn that already moved on does.
export function perform(type) {
  const state = snapshot();
  const message = { type };
  if (["turn.finish", "turn.extend", "turn.skip"].includes(type)) message.turn = state?.turn?.number ?? 0;
  if (type === "segment.next") message.segment = state?.segment_index ?? -1;
  const sent = send(message);
  if (!sent) say(t("Not connected right now. Please try again in a moment."));
}
