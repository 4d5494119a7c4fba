// What this person may do now, as the page decides it. Every such decision lives here and nowhere
// else. Each viewer's snapshot carries `you.may`: the names of the state table's actions this viewer
// may use now (sharing/room/states.py). `may()` answers from it; the rule given here answers only
// for a snapshot without it (an older server during an upgrade). Relayed messages (typed shares,
// reflections, support messages) are not table actions and keep their rules here.
//
// `you.may` says which actions the viewer may use, not on whom: the per-person conditions in the
// facilitator's order list (`onPerson`) still decide which person's row offers an action.

import { segmentOf } from "./view.js";

export function may(state, action, rule) {
  const given = state.you?.may;
  if (Array.isArray(given)) return given.includes(action);
  return Boolean(rule(state));
}

// Facts about the room the rules are made of (not permissions themselves).

const live = (state) => state.status === "live";

export function speaking(state) {
  return state.phase === "turn" && state.turn?.speaker === state.you.participant;
}

function openSharing(state) {
  return segmentOf(state)?.kind === "open" && !state.segment_complete;
}

function inRound(state, self) {
  return Boolean(segmentOf(state)) && !openSharing(state) && ["pending", "offered"].includes(self?.round);
}

function listening(state) {
  return Boolean(state.turn) && !speaking(state) && state.phase === "turn";
}

function receivingReflections(state) {
  return state.phase === "reflections" && state.turn?.speaker === state.you.participant;
}

// Whether the microphone's floor is the viewer's: their turn, or their turn to reflect aloud.
export function hasFloor(state) {
  return (
    (state.phase === "turn" && state.turn?.speaker === state.you.participant) ||
    (state.phase === "reflections" && state.turn?.reflector === state.you.participant)
  );
}

// The person's own actions. `self` is the viewer's own participant entry.

export const own = {
  finish: (state) => speaking(state),
  pass: (state, self) => live(state) && (speaking(state) || inRound(state, self)),
  resonate: (state) => listening(state) && state.turn.share_mode !== "listen",
  hand: (state) => {
    const reflections = state.phase === "reflections";
    const allowed =
      live(state) &&
      ((reflections && !receivingReflections(state) && segmentOf(state)?.reflection_mode !== "typed") || openSharing(state));
    return allowed && !speaking(state);
  },
  typeInstead: (state) => speaking(state),
  shareMode: (state) => speaking(state),
  finishReflecting: (state) => state.phase === "reflections" && state.turn?.reflector === state.you.participant,
  // Every listener may write a reflection; whether the form shows also depends on the round being
  // typed or the person preferring to type (see controls.js).
  writeReflection: (state) => state.phase === "reflections" && !receivingReflections(state),
};

// The facilitator's panel, by the action each button sends.
export const panel = {
  "call.start": (state) => state.status === "lobby",
  pause: live,
  resume: (state) => state.status === "paused",
  "turn.extend": (state) => live(state) && (state.phase === "turn" || state.phase === "reflections"),
  "turn.finish": (state) => live(state) && state.phase === "turn",
  "turn.skip": (state) => live(state) && state.phase === "turn",
  "reflections.end": (state) => live(state) && state.phase === "reflections",
  // Hidden on the last segment, though the server allows "segment.next" there too.
  "segment.next": (state) => live(state) && state.segment_index + 1 < state.segments.length,
  "call.end": (state) => state.status !== "ended",
};

// The facilitator's actions on one person `p` in the order list: offered when the action applies to
// that person and the viewer may use it. The list is only drawn for facilitators, who may use each
// of these at any time today, so without `you.may` the person's condition alone decides.
export function mayOn(state, action, p) {
  return Boolean(onPerson[action](state, p)) && may(state, action, () => true);
}

const onPerson = {
  "turn.skip": (state, p) => ["pending", "offered"].includes(p.round),
  "hand.first": (state, p) => Boolean(p.hand) && state.hands[0] !== p.id,
  "turn.give": (state, p) => openSharing(state) && state.phase === "between" && Boolean(p.present),
  "support.clear": (state, p) => Boolean(p.needs_support),
  // Only members may be removed from the room; never the facilitators, never oneself.
  "participant.remove": (state, p) => p.role === "member" && p.id !== state.you.participant,
  // Moving someone earlier or later; the list decides which of the two directions exist.
  "order.set": () => true,
};
