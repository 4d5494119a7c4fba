// The format editor: segments as cards that move up and down, leave, and arrive from presets.
// Without JavaScript the same form posts each segment's "Position in the list" and "Leave this
// segment out" fields; here the buttons keep those fields (and the formset's count) in sync.
// User text (titles) is only ever set with textContent.

const editor = document.querySelector("[data-segment-editor]");
if (editor) enhance(editor);

function phrase(key, values) {
  const template = editor.dataset[`phrase${key}`] || "";
  return template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

function enhance(editor) {
  const form = editor.closest("form");
  const list = editor.querySelector("[data-segment-list]");
  const template = editor.querySelector("template[data-segment-template]");
  const status = editor.querySelector("[data-segment-status]");
  const addPanel = editor.querySelector("[data-segment-add]");
  const full = addPanel.querySelector("[data-segment-full]");
  const total = form.querySelector('input[name$="-TOTAL_FORMS"]');
  const initial = Number(form.querySelector('input[name$="-INITIAL_FORMS"]').value);
  const maxSegments = Number(editor.dataset.maxSegments);
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const undo = editor.querySelector("[data-segment-undo]");
  const undoButton = undo.querySelector("button");
  let lastRemoved = null; // { card, before }: the card to put back, and the card it stood before

  const field = (card, name) => card.querySelector(`[name$="-${name}"]`);
  const cards = () => [...list.querySelectorAll("[data-segment]")].filter((card) => !card.hidden);
  const indexOf = (card) => Number(field(card, "ORDER").name.match(/-(\d+)-ORDER$/)[1]);

  function nameOf(card) {
    const title = field(card, "title").value.trim();
    if (title) return title;
    const kind = field(card, "kind");
    if (kind.value) return kind.selectedOptions[0].textContent.trim();
    return phrase("Number", { n: cards().indexOf(card) + 1 });
  }

  function quoted(card) {
    return `“${nameOf(card)}”`;
  }

  function say(message) {
    // Clear first so that the same words said twice are announced twice.
    status.textContent = "";
    window.setTimeout(() => { status.textContent = message; }, 50);
  }

  function refresh() {
    const shown = cards();
    shown.forEach((card, position) => {
      field(card, "ORDER").value = String(position + 1);
      card.querySelector("[data-segment-number]").textContent = phrase("Number", { n: position + 1 });
      const title = field(card, "title").value.trim();
      const kind = field(card, "kind");
      const named = title || (kind.value ? kind.selectedOptions[0].textContent.trim() : "");
      card.querySelector("[data-segment-name]").textContent = named ? `: ${named}` : "";
      for (const label of card.querySelectorAll("[data-segment-label]")) label.textContent = ` ${quoted(card)}`;
      const up = card.querySelector('[data-segment-action="up"]');
      const down = card.querySelector('[data-segment-action="down"]');
      up.setAttribute("aria-disabled", String(position === 0));
      down.setAttribute("aria-disabled", String(position === shown.length - 1));
    });
    const isFull = shown.length >= maxSegments;
    full.hidden = !isFull;
    for (const button of addPanel.querySelectorAll("button[data-preset]")) {
      button.setAttribute("aria-disabled", String(isFull));
    }
  }

  function highlight(card) {
    card.scrollIntoView({ block: "nearest", behavior: reduceMotion.matches ? "auto" : "smooth" });
    card.classList.remove("is-moved");
    void card.offsetWidth; // restart the highlight
    card.classList.add("is-moved");
  }

  function leaveOut(card) {
    card.hidden = true;
    field(card, "DELETE").checked = true;
    field(card, "ORDER").value = "";
    list.append(card); // left-out cards wait at the end, after every shown one
  }

  function move(card, button, direction) {
    const shown = cards();
    const at = shown.indexOf(card);
    const target = shown[at + direction];
    if (!target) {
      say(phrase(direction < 0 ? "First" : "Last", { name: quoted(card) }));
      return;
    }
    if (direction < 0) target.before(card);
    else target.after(card);
    refresh();
    button.focus();
    highlight(card);
    say(phrase("Moved", { name: quoted(card), n: cards().indexOf(card) + 1, total: cards().length }));
  }

  function remove(card) {
    const shown = cards();
    const at = shown.indexOf(card);
    const name = quoted(card);
    lastRemoved = { card, before: shown[at + 1] || null };
    leaveOut(card);
    refresh();
    undo.querySelector("[data-segment-undo-text]").textContent = phrase("Gone", { name });
    undoButton.textContent = phrase("PutBack", { name });
    undo.hidden = false;
    const rest = cards();
    const next = rest[at] || rest[at - 1];
    (next ? next.querySelector(".segment-heading") : undoButton).focus();
    say(phrase("Removed", { name, total: rest.length }));
  }

  function putBack() {
    if (!lastRemoved) return;
    if (cards().length >= maxSegments) {
      say(phrase("Full", { total: maxSegments }));
      return;
    }
    const { card, before } = lastRemoved;
    lastRemoved = null;
    undo.hidden = true;
    const lastShown = cards().at(-1);
    if (before && !before.hidden) before.before(card);
    else if (lastShown) lastShown.after(card);
    else list.prepend(card);
    card.hidden = false;
    field(card, "DELETE").checked = false;
    refresh();
    card.querySelector(".segment-heading").focus();
    highlight(card);
    say(phrase("Restored", { name: quoted(card), n: cards().indexOf(card) + 1, total: cards().length }));
  }

  function add(preset) {
    if (cards().length >= maxSegments) {
      say(phrase("Full", { total: maxSegments }));
      return;
    }
    const index = Number(total.value);
    const card = template.content.firstElementChild.cloneNode(true);
    for (const element of [card, ...card.querySelectorAll("*")]) {
      for (const attribute of ["id", "name", "for", "aria-describedby"]) {
        const value = element.getAttribute(attribute);
        if (value && value.includes("__prefix__")) {
          element.setAttribute(attribute, value.replaceAll("__prefix__", String(index)));
        }
      }
    }
    total.value = String(index + 1);
    const lastShown = cards().at(-1);
    if (lastShown) lastShown.after(card);
    else list.prepend(card);
    for (const [name, value] of Object.entries(preset)) {
      const input = field(card, name);
      if (input) input.value = String(value);
    }
    wire(card);
    form.dispatchEvent(new Event("change"));
    refresh();
    if (preset.kind) card.querySelector(".segment-heading").focus();
    else field(card, "kind").focus();
    highlight(card);
    say(phrase("Added", { name: quoted(card), n: cards().indexOf(card) + 1, total: cards().length }));
  }

  function wire(card) {
    card.querySelector("[data-segment-actions]").hidden = false;
  }

  // Start: blank spare cards and cards already left out wait hidden; "Add a segment" brings cards.
  for (const card of [...list.querySelectorAll("[data-segment]")]) {
    const spare = indexOf(card) >= initial && !field(card, "kind").value && !card.querySelector(".errorlist");
    if (field(card, "DELETE").checked || spare) leaveOut(card);
    wire(card);
  }
  editor.classList.add("is-enhanced");
  editor.querySelector("[data-segment-help]").hidden = true;
  editor.querySelector("[data-segment-help-enhanced]").hidden = false;
  addPanel.hidden = false;
  refresh();

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-segment-action]");
    if (!button) return;
    const card = button.closest("[data-segment]");
    const action = button.dataset.segmentAction;
    if (action === "remove") remove(card);
    else move(card, button, action === "up" ? -1 : 1);
  });
  list.addEventListener("input", refresh);
  list.addEventListener("change", refresh);
  undoButton.addEventListener("click", putBack);
  addPanel.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-preset]");
    if (button) add(JSON.parse(button.dataset.preset));
  });
}
