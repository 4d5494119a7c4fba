// Destructive actions ask first, in a modal dialog: the focus moves into it (onto "Cancel", the safe
// choice), Escape cancels, and the focus goes back to the control that opened it (or its re-rendered twin).

import { focusKey, keyed, usable } from "./focus.js";
import { $ } from "./page.js";

export function confirmFirst({ title, text, confirm }) {
  const dialog = $("confirm-dialog");
  const opener = document.activeElement;
  const key = focusKey(opener);
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = confirm;
  return new Promise((resolve) => {
    const finish = (answer) => {
      $("confirm-ok").removeEventListener("click", ok);
      $("confirm-cancel").removeEventListener("click", cancel);
      dialog.removeEventListener("close", closed);
      if (dialog.open) dialog.close();
      const back = usable(opener) ? opener : keyed(key);
      if (usable(back)) back.focus();
      resolve(answer);
    };
    const ok = () => finish(true);
    const cancel = () => finish(false);
    const closed = () => finish(false); // Escape
    $("confirm-ok").addEventListener("click", ok);
    $("confirm-cancel").addEventListener("click", cancel);
    dialog.addEventListener("close", closed);
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

export function dialogOpen() {
  return $("confirm-dialog").open;
}
