// Time: the countdown in the ring, the time cues, and the nudge when the room's next deadline passes.
// Everything counts from the server's absolute times and the measured offset of its clock.

import { send, serverNow } from "./link.js";
import { timeCues } from "./narration.js";
import { $ } from "./page.js";
import { snapshot } from "./state.js";
import { activeTimer, clockText, person, t } from "./view.js";

let nudgedFor = null;

export function tick() {
  const state = snapshot();
  if (!state) return;
  const now = serverNow();
  const timer = activeTimer(state);
  const label = $("time-left");
  const ring = $("ring-time");
  // The time-up message has its own line below the ring, in body text: the ring only ever holds a time.
  const note = $("time-note");
  const timeUp = Boolean(timer) && timer.kind === "turn" && timer.ends - (state.status === "paused" ? Date.parse(state.paused_at) : now) <= 0;
  note.hidden = !timeUp;
  note.textContent = timeUp ? t("Time is up. Finishing gently.") : "";
  if (!timer) {
    label.textContent = "";
    ring.style.setProperty("--left", "0");
    return;
  }
  const reference = state.status === "paused" ? Date.parse(state.paused_at) : now;
  const left = timer.ends - reference;
  const total = Math.max(1, timer.ends - Date.parse(state.turn?.started_at || state.phase_started_at || state.server_now));
  if (timeUp) {
    label.textContent = clockText(0);
    ring.style.setProperty("--left", "0");
  } else {
    label.textContent = clockText(left);
    ring.style.setProperty("--left", String(Math.max(0, Math.min(100, (left / total) * 100))));
  }
  if (state.status === "live") timeCues(state, timer, left);
  // wake_at is when time alone next changes the room, as the server worked it out (its timers and the
  // absences it acts on alike): once it has passed by the server's clock, the page nudges with a
  // `tick`, though the server's own clock does not need it. The countdown above is not wake_at: a
  // turn counts down to its end, before the grace the server waits, and an absence is no countdown.
  if (state.wake_at && now >= Date.parse(state.wake_at) && nudgedFor !== state.version) {
    nudgedFor = state.version;
    const version = state.version;
    setTimeout(() => {
      if (snapshot().version === version) send({ type: "tick", version });
    }, Math.random() * 400);
  }
  const speaker = state.turn ? person(state, state.turn.speaker) : null;
  if (speaker && !speaker.present && state.phase === "turn" && nudgedFor !== `away-${state.version}`) {
    nudgedFor = `away-${state.version}`;
    setTimeout(() => send({ type: "tick" }), 5000);
  }
}
