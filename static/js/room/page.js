// The room's page: its root element, its data attributes, and finding its parts by id.

export const root = document.getElementById("room");
export const $ = (id) => document.getElementById(id);
export const flag = (name) => root.dataset[name] === "true";

export function show(id, visible) {
  $(id).hidden = !visible;
}
