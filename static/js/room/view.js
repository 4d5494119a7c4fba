// Rendering a room snapshot into the page. User text is always set with textContent.

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

// When time alone would change the room: the moment to nudge the server.
// When time next changes the room, as the server worked it out (its timers and the absences it acts
// on alike): the page nudges with a `tick` then, though the server's own clock does not need it.
export function nextDeadline(state) {
  return state.wake_at ? Date.parse(state.wake_at) : null;
}

const ROUND_LABELS = {
  pending: "waiting",
  speaking: "speaking",
  done: "has shared",
  passed: "passed",
  offered: "offered a turn again",
  declined: "passed",
  skipped: "will be asked again",
};

export function statusLabel(state, p) {
  if (p.state === "lobby") return t("in the lobby");
  if (!p.present) return t("away");
  if (state.turn && state.turn.speaker === p.id) return state.phase === "reflections" ? t("receiving reflections") : t("speaking");
  if (state.turn && state.turn.reflector === p.id) return t("reflecting");
  if (state.next === p.id) return t("next");
  if (p.hand) return t("hand raised");
  const label = ROUND_LABELS[p.round];
  return label ? t(label) : t("listening");
}

// Up to this many people sit around a drawn circle; more sit in rows of equal seats.
export const RING_SEATS = 8;

export function renderCircle(list, state) {
  const people = state.participants.filter((p) => p.state === "admitted");
  const ring = people.length > 1 && people.length <= RING_SEATS;
  list.classList.toggle("is-ring", ring);
  list.style.setProperty("--n", String(people.length));
  const items = people.map((p, index) => {
    const item = document.createElement("li");
    item.className = "seat";
    item.dataset.participant = String(p.id);
    item.style.setProperty("--i", String(index));
    item.style.setProperty("--n", String(people.length));
    if (state.turn && state.turn.speaker === p.id) item.classList.add("is-speaking");
    if (state.next === p.id) item.classList.add("is-next");
    if (!p.present) item.classList.add("is-away");
    if (p.hand) item.classList.add("has-hand");
    if (p.needs_support && state.you.facilitator) item.classList.add("needs-support");
    const name = document.createElement("span");
    name.className = "seat-name";
    name.textContent = p.name; // a long name is cut short on screen (CSS), whole for assistive technology
    name.title = p.name;
    const status = document.createElement("span");
    status.className = "seat-status";
    status.textContent = statusLabel(state, p);
    item.append(name);
    if (p.checkin) {
      const checkin = document.createElement("span");
      checkin.className = "seat-checkin";
      const label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = `${t("checked in:")} `;
      checkin.append(label, p.checkin);
      item.append(checkin);
    }
    item.append(status);
    if (p.role !== "member") {
      const role = document.createElement("span");
      role.className = "seat-role";
      role.textContent = p.role === "facilitator" ? t("facilitator") : t("co-facilitator");
      item.append(role);
    }
    if (segmentOf(state)?.kind === "open" && !state.segment_complete && !p.shared) {
      const mark = document.createElement("span");
      mark.className = "seat-mark";
      mark.textContent = t("has not shared yet");
      item.append(mark);
    }
    const notes = accommodationNotes(p);
    if (notes) {
      const note = document.createElement("span");
      note.className = "seat-accommodations";
      note.textContent = notes;
      item.append(note);
    }
    if (p.needs_support && state.you.facilitator) {
      const flag = document.createElement("span");
      flag.className = "seat-support";
      flag.textContent = t("asked for support");
      item.append(flag);
    }
    // Details that do not fit a round seat stay for screen readers (and in the facilitator's list).
    if (ring) {
      for (const detail of item.querySelectorAll(".seat-role, .seat-mark, .seat-accommodations, .seat-support")) {
        detail.classList.add("visually-hidden");
      }
    }
    return item;
  });
  list.replaceChildren(...items);
}

export function accommodationNotes(p) {
  if (!p.accommodations) return "";
  const notes = [];
  if (p.accommodations.extra_time && p.accommodations.extra_time !== "1") {
    notes.push(fmt("%(x)s× time", { x: p.accommodations.extra_time }));
  }
  if (p.accommodations.prefers_typing) notes.push(t("types"));
  return notes.join(" · ");
}
