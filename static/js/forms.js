// Forms that guide. After a submit with problems, the summary of them takes focus, so a screen
// reader reads it first. Fields that count only for one choice (a weekly series' days, a grounding's
// length) show only while that choice is made; without JavaScript they all show, each set under a
// legend that says when it counts, and the server ignores the sets that were not chosen.

function focusErrorSummary() {
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
}

function chosenValue(scope, name) {
  const controls = [...scope.querySelectorAll("input, select")].filter(
    (control) => control.name === name || control.name.endsWith(`-${name}`),
  );
  for (const control of controls) {
    if (control.type !== "radio") return control.value;
    if (control.checked) return control.value;
  }
  return null;
}

function showChosen(form) {
  for (const group of form.querySelectorAll("[data-shown-when]")) {
    const [name, values] = group.dataset.shownWhen.split(":");
    const scope = group.closest("[data-choice-scope]") || form;
    group.hidden = !values.split(" ").includes(chosenValue(scope, name));
  }
}

function enhanceChoices() {
  for (const form of document.querySelectorAll("form")) {
    if (!form.querySelector("[data-shown-when]")) continue;
    showChosen(form);
    // Cards added later by the format editor send a change event too.
    form.addEventListener("change", () => showChosen(form));
  }
}

enhanceChoices();
focusErrorSummary();
