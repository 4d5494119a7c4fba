// The check-in: a word for how the person arrives, chosen or typed, shown in their seat; after the
// call, the way to the check-out.

import { send } from "./link.js";
import { $ } from "./page.js";
import { me, snapshot } from "./state.js";
import { fmt } from "./view.js";

export function renderCheckin() {
  const state = snapshot();
  const self = me();
  const open = state.status !== "ended" && Boolean(self);
  $("checkin").hidden = !open;
  $("after-call").hidden = !(state.status === "ended" && self?.state === "admitted");
  if (!open) return;
  const word = self.checkin || "";
  const input = $("checkin-word");
  if (document.activeElement !== input && !input.dataset.dirty) input.value = word;
  for (const button of $("checkin").querySelectorAll("[data-checkin]")) {
    button.setAttribute("aria-pressed", String(button.dataset.checkin === word));
  }
  $("checkin-clear").hidden = !word;
  $("checkin-practice").hidden = state.status !== "lobby" || state.you.state === "lobby"; // the lobby offers its own
  $("checkin-status").textContent = word ? fmt("Your check-in: %(word)s", { word }) : "";
}

function sendCheckin(word) {
  const input = $("checkin-word");
  if (send({ type: "checkin.set", word })) delete input.dataset.dirty;
}

$("checkin").addEventListener("submit", (event) => {
  event.preventDefault();
  sendCheckin($("checkin-word").value.trim());
});
$("checkin-word").addEventListener("input", (event) => {
  event.target.dataset.dirty = "true";
});
for (const button of $("checkin").querySelectorAll("[data-checkin]")) {
  button.addEventListener("click", () => {
    const word = button.dataset.checkin;
    sendCheckin(me()?.checkin === word ? "" : word);
  });
}
$("checkin-clear").addEventListener("click", () => {
  $("checkin-word").value = "";
  sendCheckin("");
});
