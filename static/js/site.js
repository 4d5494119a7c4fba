// Small enhancements for every page. Everything here also works without JavaScript.

function detectTimeZone() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (const select of document.querySelectorAll("select[data-detect-time-zone]")) {
    // Only fill in a field the person has not chosen yet.
    if (select.value !== "UTC" || select.dataset.touched) continue;
    if (zone && [...select.options].some((option) => option.value === zone)) {
      select.value = zone;
    }
    select.addEventListener("change", () => { select.dataset.touched = "1"; }, { once: true });
  }
}

function enhanceThemeToggle() {
  const form = document.querySelector("form[data-theme-toggle]");
  if (!form) return;
  const root = document.documentElement;
  const button = form.querySelector("button");
  const input = form.querySelector("input[name=theme]");
  const prefersDark = window.matchMedia("(prefers-color-scheme: dark)");

  function render() {
    const current = root.dataset.theme;
    const dark = current === "low-light" || (current === "system" && prefersDark.matches);
    button.setAttribute("aria-pressed", String(dark));
    input.value = dark ? "light" : "low-light";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = input.value;
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (response.ok) {
      root.dataset.theme = chosen;
      render();
    } else {
      form.submit();
    }
  });
  prefersDark.addEventListener("change", render);
  render();
}

detectTimeZone();
enhanceThemeToggle();
