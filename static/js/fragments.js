// Forms marked data-fragment-form="NAME" update their part of the page in place.
// The server renders the new part (already escaped); without JavaScript the form posts normally.

async function submitFragment(event) {
  const form = event.target.closest("form[data-fragment-form]");
  if (!form) return;
  event.preventDefault();
  const name = form.dataset.fragmentForm;
  const part = form.closest(`[data-fragment="${name}"]`);
  const body = new FormData(form, event.submitter);
  for (const button of form.querySelectorAll("button")) button.disabled = true;
  let response;
  try {
    response = await fetch(form.action, {
      method: "POST",
      body,
      headers: { "X-Fragment": name },
      credentials: "same-origin",
    });
  } catch {
    form.submit();
    return;
  }
  if (response.redirected) {
    // The server sent us elsewhere first (the group agreements, say): go there, as a plain form would.
    window.location.assign(response.url);
    return;
  }
  if (!response.ok || !part) {
    window.location.reload();
    return;
  }
  const html = await response.text();
  const parsed = new DOMParser().parseFromString(html, "text/html");
  const replacement = parsed.body.querySelector(`[data-fragment="${name}"]`);
  if (!replacement) {
    window.location.reload();
    return;
  }
  part.replaceWith(replacement);
  const focusTarget = replacement.querySelector("[role=status]") || replacement;
  if (!focusTarget.hasAttribute("tabindex")) focusTarget.setAttribute("tabindex", "-1");
  focusTarget.focus();
}

document.addEventListener("submit", submitFragment);
