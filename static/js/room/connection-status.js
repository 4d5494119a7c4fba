// The connection as the person sees it: the status line, the page that lets go when another tab
// takes over, and an ended call's room.

import { reconnect } from "./link.js";
import { $, root } from "./page.js";
import { finishMedia, media } from "./sound.js";
import { t } from "./view.js";

let refusedFor = null; // the code of the server's last refusal, which comes just before it closes

export function noteRefusal(code) {
  refusedFor = code;
}

export function showConnection(status, detail) {
  const line = $("connection");
  if (status === "open") {
    line.textContent = "";
    line.hidden = true;
    return;
  }
  line.hidden = false;
  if (status === "connecting") line.textContent = t("Connecting…");
  if (status === "reconnecting") line.textContent = t("Connection lost. Reconnecting…");
  if (status === "closed") {
    const reasons = {
      4401: t("Please log in again to join the call."),
      4403: t("You cannot be in this call right now."),
      4409: t("The room is not open yet."),
      4410: t("This call has ended."),
      4423: t("The facilitator has closed the room to new arrivals."),
      4008: t("Too many messages were sent. Reload the page to come back."),
      4001: t("This call is open in another tab."),
    };
    line.textContent = reasons[detail] || t("The connection closed.");
    if (detail === 4001) {
      showReplaced();
      return;
    }
    // Nothing can happen in this room any more: let go of the microphone and camera.
    finishMedia();
    if (detail === 4410) showEnded(refusedFor === "ended");
  }
}

// Another tab of this person took over: this one lets go of the microphone, stays closed, and
// offers to bring the call back here (which, in turn, replaces the other tab).
const AWAY_HERE = [
  "stage", "people", "my-controls", "checkin", "lobby", "audio-panel", "after-call", "facilitator-actions", "facilitator-panel",
];

function showReplaced() {
  const hadFocus = root.contains(document.activeElement);
  media.release();
  for (const id of AWAY_HERE) if ($(id)) $(id).hidden = true;
  $("replaced").hidden = false;
  if (hadFocus) $("btn-come-back").focus();
}

$("btn-come-back").addEventListener("click", () => {
  $("replaced").hidden = true;
  $("audio-panel").hidden = false;
  for (const id of ["facilitator-panel", "facilitator-actions"]) if ($(id)) $(id).hidden = false;
  reconnect();
});

// An ended call's room, opened again: only the way to the check-out.
function showEnded(withCheckout) {
  for (const id of ["stage", "people", "my-controls", "checkin", "lobby", "facilitator-actions"]) if ($(id)) $(id).hidden = true;
  $("after-call").hidden = !withCheckout;
}
