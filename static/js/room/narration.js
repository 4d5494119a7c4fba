// What the room says: the polite live region for screen readers, the audio cues, and reading
// aloud for people who asked for it. Each change is said once.

import { Announcer } from "./announcer.js";
import { Cues } from "./cues.js";
import { $, flag, root } from "./page.js";
import { fmt, person, segmentOf, spokenDuration, t } from "./view.js";

const announcer = new Announcer($("announcer"));
const cues = new Cues({ enabled: flag("chimes"), volume: Number(root.dataset.cueVolume || 60) });
const readAloud = flag("readAloud") && "speechSynthesis" in window;

export function say(text) {
  announcer.say(text);
}

export function cue(name) {
  cues.play(name);
}

export function speak(text) {
  if (!readAloud || !text) return;
  const utterance = new SpeechSynthesisUtterance(text);
  window.speechSynthesis.speak(utterance);
}

// A typed share is read aloud in pieces: once the sharer pauses, only what is new since last time.
let typedSpoken = "";
let typedSpeakTimer = null;

export function speakTyped(text) {
  clearTimeout(typedSpeakTimer);
  typedSpeakTimer = setTimeout(() => {
    const fresh = text.startsWith(typedSpoken) ? text.slice(typedSpoken.length) : text;
    typedSpoken = text;
    speak(fresh);
  }, 1500);
}

export function forgetTypedSpeech() {
  typedSpoken = "";
}

// The turn's time cues: thirty seconds left (to the speaker, on a turn long enough to need it) and
// time up (to everyone), once per turn.
const warned = new Set();

export function timeCues(state, timer, left) {
  if (timer.kind !== "turn" || !state.turn) return;
  const key = (name) => `${state.turn.number}:${name}`;
  const mine = state.turn.speaker === state.you.participant;
  if (mine && left <= 30000 && left > 0 && timer.ends - Date.parse(state.turn.started_at) >= 45000 && !warned.has(key("30"))) {
    warned.add(key("30"));
    cues.play("thirty-seconds");
    announcer.say(t("30 seconds left"));
  }
  if (left <= 0 && !warned.has(key("up"))) {
    warned.add(key("up"));
    cues.play("time-up");
    const speaker = person(state, state.turn.speaker);
    announcer.say(mine ? t("Your time is up. Finish gently.") : fmt("Time is up; %(name)s is finishing", { name: speaker?.name || "" }));
  }
}

// What changed between two snapshots, said once.
export function narrate(before, after) {
  if (!before) {
    if (after.you.state === "lobby") announcer.say(t("You are in the lobby. The facilitator will let you in."));
    return;
  }
  if (before.you.state === "lobby" && after.you.state === "admitted") {
    announcer.say(t("You are in the circle."));
  }
  if (after.status === "ended" && before.status !== "ended") {
    announcer.say(t("The call has ended. Thank you for being here."));
    return;
  }
  if (before.segment_index !== after.segment_index && segmentOf(after)) {
    announcer.say(fmt("%(title)s begins", { title: segmentOf(after).title }));
  }
  const turnChanged = before.turn?.number !== after.turn?.number && after.phase === "turn" && after.turn;
  if (turnChanged) {
    const speaker = person(after, after.turn.speaker);
    const length = Date.parse(after.turn.ends_at) - Date.parse(after.turn.started_at);
    if (after.turn.speaker === after.you.participant) {
      cues.play("turn-now");
      announcer.say(fmt("Your turn, %(time)s", { time: spokenDuration(length) }));
    } else {
      announcer.say(fmt("%(name)s is sharing, %(time)s", { name: speaker?.name || "", time: spokenDuration(length) }));
    }
  }
  if (after.next === after.you.participant && before.next !== after.you.participant && after.phase === "turn") {
    cues.play("turn-soon");
  }
  if (before.phase !== "reflections" && after.phase === "reflections" && after.turn) {
    const speaker = person(after, after.turn.speaker);
    announcer.say(fmt("Reflections for %(name)s", { name: speaker?.name || "" }));
  }
  const mine = after.turn && after.turn.speaker === after.you.participant;
  if (mine && before.turn?.number === after.turn.number && (after.turn.resonance_count || 0) > (before.turn?.resonance_count || 0)) {
    cues.play("resonated");
  }
  if (before.status !== "paused" && after.status === "paused") announcer.say(t("The facilitator paused the call."));
  if (before.status === "paused" && after.status === "live") announcer.say(t("The call continues."));
  if (after.turn && before.turn?.number === after.turn.number && after.turn.extended_seconds > before.turn.extended_seconds) {
    announcer.say(t("30 more seconds"));
  }
}
