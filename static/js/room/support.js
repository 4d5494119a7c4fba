// Support: a private exchange between someone who asked for it and the facilitators. Messages live
// only in this page's memory.

import { send } from "./link.js";
import { say } from "./narration.js";
import { $ } from "./page.js";
import { me, snapshot } from "./state.js";
import { fmt, person, t } from "./view.js";

const supportThreads = new Map(); // participant id -> messages
const supportBoxes = new Map(); // participant id -> its thread's element, kept so drafts and focus survive

function supportLine(message) {
  const item = document.createElement("li");
  const author = person(snapshot(), message.from);
  item.textContent = `${author ? author.name : t("Someone")}: ${message.text}`;
  return item;
}

export function receiveSupport(message) {
  const state = snapshot();
  if (state.you.facilitator) {
    const other = message.to ?? message.from;
    const thread = supportThreads.get(other) || [];
    thread.push(message);
    supportThreads.set(other, thread);
    renderSupportThreads();
    if (message.from !== state.you.participant) {
      const author = person(state, message.from);
      say(fmt("A private message from %(name)s", { name: author ? author.name : "" }));
    }
  }
  if (message.from === state.you.participant && state.you.facilitator) return;
  if (!state.you.facilitator || message.to === state.you.participant) {
    $("support-messages").append(supportLine(message));
    if (message.from !== state.you.participant) say(t("A private message from the facilitators"));
  }
}

function supportBox(p) {
  const box = document.createElement("div");
  box.className = "support-thread";
  const title = document.createElement("h4");
  const list = document.createElement("ul");
  const form = document.createElement("form");
  const id = `support-to-${p.id}`;
  const label = document.createElement("label");
  label.htmlFor = id;
  const input = document.createElement("textarea");
  input.id = id;
  input.maxLength = 1000;
  input.rows = 2;
  const button = document.createElement("button");
  button.type = "submit";
  button.className = "button small";
  button.textContent = t("Send privately");
  form.append(label, input, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text && send({ type: "support.message", to: p.id, text })) input.value = "";
  });
  box.append(title, list, form);
  return box;
}

// The facilitator's side: one thread per person who asked for support or wrote.
export function renderSupportThreads() {
  const state = snapshot();
  const area = $("support-threads");
  if (!area) return;
  const asking = state.participants.filter((p) => p.needs_support || supportThreads.has(p.id));
  $("support-requests").hidden = asking.length === 0;
  const shown = new Set(asking.map((p) => p.id));
  for (const [id, box] of supportBoxes) {
    if (!shown.has(id)) {
      box.remove();
      supportBoxes.delete(id);
    }
  }
  asking.forEach((p, index) => {
    let box = supportBoxes.get(p.id);
    if (!box) {
      box = supportBox(p);
      supportBoxes.set(p.id, box);
    }
    box.querySelector("h4").textContent = p.name;
    box.querySelector("label").textContent = fmt("Write privately to %(name)s", { name: p.name });
    box.querySelector("ul").replaceChildren(...(supportThreads.get(p.id) || []).map(supportLine));
    // Moving a node drops the focus inside it, so a box moves only when it is out of place.
    if (area.children[index] !== box) area.insertBefore(box, area.children[index] || null);
  });
}

// The asker's side: the panel stays open while their request stands.
export function renderSupportPanel() {
  if (me()?.needs_support) {
    $("support-panel").hidden = false;
    $("btn-support").setAttribute("aria-expanded", "true");
  }
}

$("btn-support").addEventListener("click", () => {
  $("support-panel").hidden = false;
  $("btn-support").setAttribute("aria-expanded", "true");
  if (!me()?.needs_support) send({ type: "support.request" });
  $("support-input").focus();
});

$("support-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("support-input");
  const text = input.value.trim();
  if (text && send({ type: "support.message", text })) input.value = "";
});
