// Keeping the keyboard focus: when a render removes or hides the control that had the focus, the
// focus moves to the same control re-rendered (same data-focus-key), else to the next control in its
// section, else to the section's heading; never to the page, where a screen reader loses its place.

import { root } from "./page.js";

const CONTROLS = "button, a[href], input, select, textarea";

export function focusKey(element) {
  return element?.dataset?.focusKey || (element?.id ? `#${element.id}` : null);
}

export function usable(element) {
  if (!element || !element.isConnected || element.closest("[hidden]")) return false;
  return element.checkVisibility ? element.checkVisibility() : element.offsetParent !== null;
}

// The element in the room that carries this focus key now, if any.
export function keyed(key) {
  return key ? [...root.querySelectorAll("[data-focus-key], [id]")].find((el) => focusKey(el) === key) : undefined;
}

function restoreFocus(before, key, section, siblings) {
  if (!before || before === document.body || usable(before)) return;
  const same = keyed(key);
  if (usable(same)) {
    same.focus();
    return;
  }
  // The same person's other control of the kind (Maya's "earlier" once she is last).
  const group = before.dataset?.focusGroup;
  const kin = group && [...root.querySelectorAll("[data-focus-group]")].find((el) => el.dataset.focusGroup === group);
  if (usable(kin)) {
    kin.focus();
    return;
  }
  if (!section) return;
  // The control now where the lost one stood, or the nearest one after it, or before it.
  const controls = [...section.querySelectorAll(CONTROLS)];
  const at = Math.max(0, siblings.indexOf(before));
  const after = controls.slice(at).find(usable) || controls.slice(0, at).reverse().find(usable);
  if (after) {
    after.focus();
    return;
  }
  const heading = section.querySelector("h2, h3");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

// Runs a render, then puts the focus back where the person would expect it.
export function keepingFocus(render) {
  const before = root.contains(document.activeElement) ? document.activeElement : null;
  const key = focusKey(before);
  const section = before?.closest("section, form") || null;
  const siblings = section ? [...section.querySelectorAll(CONTROLS)] : [];
  render();
  restoreFocus(before, key, section?.isConnected ? section : before?.closest("#room > *") || null, siblings);
}
