// The latest snapshot from the server and the one before it. Only the connection's handler in
// main.js moves them on; everything else reads.

import { person } from "./view.js";

let current = null;
let previous = null;

export function advance(next) {
  previous = current;
  current = next;
}

export function snapshot() {
  return current;
}

export function previousSnapshot() {
  return previous;
}

// The viewer's own entry in the participant list, or null before the first snapshot.
export function me() {
  return current ? person(current, current.you.participant) : null;
}
