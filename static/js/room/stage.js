// The stage: which part of the call this is, who is sharing or reflecting, who is next, a typed
// share as it is written, and the reflections the sharer receives and chooses to show everyone.

import { send } from "./link.js";
import { forgetTypedSpeech, say, speak, speakTyped } from "./narration.js";
import { $ } from "./page.js";
import { previousSnapshot, snapshot } from "./state.js";
import { fmt, person, segmentOf, t } from "./view.js";

export function renderStage() {
  renderSegment();
  renderSpeaker();
}

function renderSegment() {
  const state = snapshot();
  const line = $("segment-line");
  const segment = segmentOf(state);
  if (state.status === "lobby") {
    line.textContent = t("The call has not started yet.");
  } else if (state.status === "ended") {
    line.textContent = t("The call has ended. Thank you for being here.");
  } else if (state.segment_complete) {
    const next = state.segments[state.segment_index + 1];
    line.textContent = next ? fmt("Next: %(title)s", { title: next.title }) : t("That was the last part of the call.");
  } else if (segment) {
    line.textContent = segment.title;
  }
  if (state.status === "paused") line.textContent += ` · ${t("Paused")}`;
}

function renderSpeaker() {
  const state = snapshot();
  const previous = previousSnapshot();
  const speaker = state.turn ? person(state, state.turn.speaker) : null;
  const mine = speaker && speaker.id === state.you.participant;
  const line = $("speaker-line");
  if (state.phase === "turn" && speaker) {
    line.textContent = mine ? t("Your turn. Take your time.") : fmt("%(name)s is sharing", { name: speaker.name });
  } else if (state.phase === "reflections" && speaker) {
    const reflector = state.turn.reflector ? person(state, state.turn.reflector) : null;
    line.textContent = reflector
      ? fmt("%(name)s is reflecting", { name: reflector.name })
      : fmt("Reflections for %(name)s", { name: speaker.name });
  } else if (state.phase === "grounding") {
    line.textContent = t("A shared pause. Notice your breath and your body.");
  } else if (state.phase === "between" && !state.segment_complete) {
    line.textContent = t("Raise your hand when you would like to share.");
  } else {
    line.textContent = "";
  }
  const next = state.next ? person(state, state.next) : null;
  $("next-line").textContent = next ? fmt("Next: %(name)s", { name: next.name }) : "";
  const resonance = $("resonance");
  const count = state.turn?.resonance_count;
  resonance.hidden = !(mine && count);
  resonance.textContent = count ? fmt("%(n)s resonated", { n: count }) : "";
  if (!state.turn || state.phase !== "turn" || !state.turn.typing) {
    if (previous?.turn?.number !== state.turn?.number) {
      $("typed-share").hidden = true;
      $("typed-share-text").textContent = "";
      forgetTypedSpeech();
    }
  }
}

// A new turn starts with no reflections on the page.
export function clearReflectionsOnNewTurn() {
  if (previousSnapshot()?.turn?.number !== snapshot()?.turn?.number) {
    $("received-reflections").hidden = true;
    $("received-reflections-list").replaceChildren();
    $("shown-reflections").hidden = true;
    $("shown-reflections-list").replaceChildren();
  }
}

// The words of a typed share, as the sharer writes them; read aloud to the others.
export function showTypedShare(message) {
  const state = snapshot();
  $("typed-share").hidden = false;
  $("typed-share-text").textContent = message.text;
  if (!state || message.participant !== state.you.participant) speakTyped(message.text);
}

// A reflection that reached the sharer, who may show it to everyone.
export function receiveReflection(message) {
  const state = snapshot();
  const item = document.createElement("li");
  const from = person(state, message.from);
  const text = document.createElement("p");
  text.textContent = message.text;
  const who = document.createElement("p");
  who.className = "muted";
  who.textContent = fmt("From %(name)s", { name: from ? from.name : t("a listener") });
  const show = document.createElement("button");
  show.type = "button";
  show.className = "button";
  show.textContent = t("Show to everyone");
  show.addEventListener("click", () => {
    send({ type: "reflection.show", id: message.id, from: message.from, text: message.text, sig: message.sig });
    show.disabled = true;
    show.textContent = t("Shown to everyone");
  });
  item.append(who, text, show);
  $("received-reflections").hidden = false;
  $("received-reflections-list").append(item);
  say(fmt("A reflection from %(name)s", { name: from ? from.name : t("a listener") }));
  speak(message.text);
}

// A reflection the sharer showed to everyone.
export function showSharedReflection(message) {
  const state = snapshot();
  const from = person(state, message.from);
  const item = document.createElement("li");
  item.textContent = `${from ? from.name : t("A listener")}: ${message.text}`;
  $("shown-reflections").hidden = false;
  $("shown-reflections-list").append(item);
  say(fmt("%(name)s reflected: %(text)s", { name: from ? from.name : t("A listener"), text: message.text }));
  // The sharer was read it when it reached them; the one who wrote it knows it already.
  const mine = state?.turn?.speaker === state?.you.participant;
  if (!mine && message.from !== state?.you.participant) speak(message.text);
}
