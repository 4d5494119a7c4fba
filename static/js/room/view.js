// Small helpers for showing a room snapshot: translated text, durations, people and segments.

export const t = (text) => (window.gettext ? window.gettext(text) : text);
export const fmt = (text, values) =>
  window.interpolate ? window.interpolate(t(text), values, true) : t(text).replace(/%\((\w+)\)s/g, (_, k) => values[k]);

export function clockText(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${minutes}:${String(seconds).padStart(2, "0")}`;
}

export function spokenDuration(ms) {
  const seconds = Math.round(ms / 1000);
  if (seconds >= 90) return fmt("%(n)s minutes", { n: Math.round(seconds / 60) });
  if (seconds >= 60) return t("1 minute");
  return fmt("%(n)s seconds", { n: seconds });
}

export function person(state, id) {
  return state.participants.find((p) => p.id === id) || null;
}

export function segmentOf(state) {
  return state.segments?.[state.segment_index] || null;
}

// The moment the room's visible timer counts down to, and what it is for.
export function activeTimer(state) {
  if (state.status === "lobby" || state.status === "ended") return null;
  const phase = state.status === "paused" ? state.paused_phase : state.phase;
  if (phase === "turn" && state.turn) {
    return { kind: "turn", ends: Date.parse(state.turn.ends_at), grace: Date.parse(state.turn.grace_ends_at) };
  }
  if (phase === "grounding" || phase === "reflections") {
    return { kind: phase, ends: Date.parse(state.phase_ends_at), grace: null };
  }
  if (phase === "between" && state.phase_ends_at) {
    return { kind: "between", ends: Date.parse(state.phase_ends_at), grace: null };
  }
  if (phase === "between" && state.segment_ends_at) {
    return { kind: "open", ends: Date.parse(state.segment_ends_at), grace: null };
  }
  return null;
}
