// The facilitator's panel: the call's controls, its settings, the lobby, and the order list with
// each person's actions (move, skip, invite first, give the floor, seen, remove). Which controls
// show is asked of permissions.js.

import { confirmFirst } from "./dialogs.js";
import { act, perform, send } from "./link.js";
import { $, root } from "./page.js";
import { may, mayOn, panel } from "./permissions.js";
import { snapshot } from "./state.js";
import { fmt, person, t } from "./view.js";

export function renderFacilitator() {
  const state = snapshot();
  const box = $("facilitator-panel");
  if (!box) return;
  for (const button of root.querySelectorAll("[data-control]")) {
    const control = button.dataset.control;
    button.hidden = !(panel[control] && may(state, control, panel[control]));
  }
  for (const input of box.querySelectorAll("[data-setting]")) {
    const value = state.settings[input.dataset.setting];
    if (input.type === "checkbox") input.checked = Boolean(value);
    else input.value = value;
  }
  const lobby = state.participants.filter((p) => p.state === "lobby");
  $("lobby-list").replaceChildren(
    ...lobby.map((p) => {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = p.name;
      const admit = actionButton(fmt("Let %(name)s in", { name: p.name }), "participant.admit", { participant: p.id });
      item.append(name, admit);
      return item;
    }),
  );
  if (!lobby.length) {
    const empty = document.createElement("li");
    empty.textContent = t("Nobody is waiting.");
    $("lobby-list").replaceChildren(empty);
  }
  const ordered = state.order.length
    ? state.order.map((id) => person(state, id)).filter(Boolean)
    : state.participants.filter((p) => p.state === "admitted");
  $("order-list").replaceChildren(
    ...ordered.map((p, index) => {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = `${p.name} (${seatStatusText(p)})`;
      item.append(name);
      const ids = ordered.map((q) => q.id);
      if (mayOn(state, "order.set", p)) {
        if (index > 0) item.append(moveButton(p, ids, index, -1));
        if (index < ordered.length - 1) item.append(moveButton(p, ids, index, 1));
      }
      if (mayOn(state, "turn.skip", p)) {
        item.append(actionButton(fmt("Skip %(name)s", { name: p.name }), "turn.skip", { participant: p.id }));
      }
      if (mayOn(state, "hand.first", p)) {
        item.append(actionButton(fmt("Invite %(name)s first", { name: p.name }), "hand.first", { participant: p.id }));
      }
      if (mayOn(state, "turn.give", p)) {
        item.append(actionButton(fmt("Give %(name)s the floor", { name: p.name }), "turn.give", { participant: p.id }));
      }
      if (mayOn(state, "support.clear", p)) {
        item.append(actionButton(fmt("Seen: %(name)s's request", { name: p.name }), "support.clear", { participant: p.id }));
      }
      if (mayOn(state, "participant.remove", p)) {
        const remove = actionButton(fmt("Remove %(name)s", { name: p.name }), "participant.remove", { participant: p.id }, {
          title: fmt("Remove %(name)s from this call?", { name: p.name }),
          text: t("They leave the circle now and cannot come back to this call."),
          confirm: fmt("Remove %(name)s", { name: p.name }),
        });
        item.append(remove);
      }
      return item;
    }),
  );
}

// The person's status as their seat in the circle shows it (the circle renders first).
function seatStatusText(p) {
  const seat = document.querySelector(`#circle [data-participant="${p.id}"] .seat-status`);
  return seat ? seat.textContent : "";
}

function actionButton(label, type, fields, confirmation = null) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button small";
  button.dataset.focusKey = `${type}:${fields.participant ?? ""}`;
  button.textContent = label;
  button.addEventListener("click", async () => {
    if (confirmation && !(await confirmFirst(confirmation))) return;
    send({ type, ...fields });
  });
  return button;
}

function moveButton(p, ids, index, step) {
  const label = step < 0 ? fmt("Move %(name)s earlier", { name: p.name }) : fmt("Move %(name)s later", { name: p.name });
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button small";
  button.textContent = step < 0 ? "↑" : "↓";
  button.dataset.focusKey = `order:${p.id}:${step}`;
  button.dataset.focusGroup = `order:${p.id}`;
  button.setAttribute("aria-label", label);
  button.addEventListener("click", () => {
    const order = [...ids];
    [order[index], order[index + step]] = [order[index + step], order[index]];
    act("order.set", { order });
  });
  return button;
}

root.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-control]");
  if (!button) return;
  const type = button.dataset.control;
  if (type === "call.end") {
    const sure = await confirmFirst({
      title: t("End the call for everyone?"),
      text: t("Everyone leaves the circle and the call cannot start again."),
      confirm: t("End the call for everyone"),
    });
    if (!sure) return;
  }
  perform(type);
});

$("facilitator-panel")?.addEventListener("change", (event) => {
  const input = event.target.closest("[data-setting]");
  if (!input) return;
  const value = input.type === "checkbox" ? input.checked : input.value;
  send({ type: "settings", [input.dataset.setting]: value });
});
