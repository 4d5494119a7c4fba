// The person's own actions: I'm done, Pass, Resonates, the raised hand, typing instead of speaking,
// how they want to be met, and writing a reflection. Which of them show is asked of permissions.js.

import { dialogOpen } from "./dialogs.js";
import { perform, send } from "./link.js";
import { $, flag, root, show } from "./page.js";
import { may, own, speaking } from "./permissions.js";
import { me, snapshot } from "./state.js";
import { segmentOf, t } from "./view.js";

export function renderControls() {
  const state = snapshot();
  const self = me();
  const mine = speaking(state);
  const segment = segmentOf(state);

  // "I'm done" is for one's own turn; a facilitator finishes others' turns from their panel.
  show("btn-done", mine && may(state, "turn.finish", own.finish));
  show("btn-pass", may(state, "turn.pass", (s) => own.pass(s, self)));
  show("btn-resonate", may(state, "resonate", own.resonate));
  const hand = $("btn-hand");
  const handAction = self?.hand ? "hand.lower" : "hand.raise";
  show("btn-hand", may(state, handAction, own.hand));
  hand.setAttribute("aria-pressed", String(Boolean(self?.hand)));
  hand.dataset.action = handAction;
  hand.querySelector("span").textContent = self?.hand ? t("Lower hand") : t("Raise hand");
  show("btn-type", may(state, "share.typing", own.typeInstead));
  $("btn-type").setAttribute("aria-pressed", String(Boolean(state.turn?.typing)));
  show("btn-reflection-done", may(state, "reflection.done", own.finishReflecting));
  const choosing = may(state, "share.mode", own.shareMode);
  show("share-mode", choosing);
  if (choosing) {
    for (const input of document.querySelectorAll("input[name=share-mode]")) {
      input.checked = input.value === state.turn.share_mode;
    }
    show("share-mode-reflections", Boolean(segment?.reflection_seconds));
  }
  const typing = mine && state.turn.typing;
  const form = $("typed-share-form");
  const wasHidden = form.hidden;
  form.hidden = !typing;
  if (typing && wasHidden) {
    $("typed-share-input").value = "";
    $("typed-share-input").focus();
  }
  // In a spoken round, only those who prefer typing get the form (the others reflect aloud).
  const typedRound = segment?.reflection_mode !== "spoken" || flag("prefersTyping");
  // A reflection is relayed, not a change of the room's state, so `you.may` does not list it.
  show("reflection-form", own.writeReflection(state) && typedRound);
  if (state.phase !== "reflections") {
    $("reflection-sent").textContent = "";
  }
}

root.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (button) perform(button.dataset.action);
});

$("btn-type").addEventListener("click", () => {
  send({ type: "share.typing", typing: !snapshot()?.turn?.typing });
});

for (const input of document.querySelectorAll("input[name=share-mode]")) {
  input.addEventListener("change", () => send({ type: "share.mode", mode: input.value }));
}

let typedTimer = null;
$("typed-share-input").addEventListener("input", (event) => {
  clearTimeout(typedTimer);
  const text = event.target.value;
  typedTimer = setTimeout(() => send({ type: "share.text", text }), 200);
});
$("typed-share-form").addEventListener("submit", (event) => event.preventDefault());

$("reflection-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("reflection-input");
  const text = input.value.trim();
  if (!text) return;
  if (send({ type: "reflection.send", text })) {
    input.value = "";
    $("reflection-sent").textContent = t("Sent. The person who shared decides whether everyone sees it.");
  }
});

// One key per main action, for people for whom pointing is hard.
const SHORTCUTS = { d: "btn-done", p: "btn-pass", r: "btn-resonate", h: "btn-hand", t: "btn-type", m: "btn-mute" };
document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  if (dialogOpen()) return;
  const id = SHORTCUTS[event.key.toLowerCase()];
  if (!id) return;
  const button = $(id);
  if (button && !button.hidden) {
    event.preventDefault();
    button.click();
  }
});
