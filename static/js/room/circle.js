// The ring of seats: who sits in the circle, each seat's status and details, and the video tiles
// in the seats. User text is always set with textContent.

import { $ } from "./page.js";
import { snapshot } from "./state.js";
import { fmt, segmentOf, t } from "./view.js";

const ROUND_LABELS = {
  pending: "waiting",
  speaking: "speaking",
  done: "has shared",
  passed: "passed",
  offered: "offered a turn again",
  declined: "passed",
  skipped: "will be asked again",
};

export function statusLabel(state, p) {
  if (p.state === "lobby") return t("in the lobby");
  if (!p.present) return t("away");
  if (state.turn && state.turn.speaker === p.id) return state.phase === "reflections" ? t("receiving reflections") : t("speaking");
  if (state.turn && state.turn.reflector === p.id) return t("reflecting");
  if (state.next === p.id) return t("next");
  if (p.hand) return t("hand raised");
  const label = ROUND_LABELS[p.round];
  return label ? t(label) : t("listening");
}

// Up to this many people sit around a drawn circle; more sit in rows of equal seats.
export const RING_SEATS = 8;

export function renderCircle(list, state) {
  const people = state.participants.filter((p) => p.state === "admitted");
  const ring = people.length > 1 && people.length <= RING_SEATS;
  list.classList.toggle("is-ring", ring);
  list.style.setProperty("--n", String(people.length));
  const items = people.map((p, index) => {
    const item = document.createElement("li");
    item.className = "seat";
    item.dataset.participant = String(p.id);
    item.style.setProperty("--i", String(index));
    item.style.setProperty("--n", String(people.length));
    if (state.turn && state.turn.speaker === p.id) item.classList.add("is-speaking");
    if (state.next === p.id) item.classList.add("is-next");
    if (!p.present) item.classList.add("is-away");
    if (p.hand) item.classList.add("has-hand");
    if (p.needs_support && state.you.facilitator) item.classList.add("needs-support");
    const name = document.createElement("span");
    name.className = "seat-name";
    name.textContent = p.name; // a long name is cut short on screen (CSS), whole for assistive technology
    name.title = p.name;
    const status = document.createElement("span");
    status.className = "seat-status";
    status.textContent = statusLabel(state, p);
    item.append(name);
    if (p.checkin) {
      const checkin = document.createElement("span");
      checkin.className = "seat-checkin";
      const label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = `${t("checked in:")} `;
      checkin.append(label, p.checkin);
      item.append(checkin);
    }
    item.append(status);
    if (p.role !== "member") {
      const role = document.createElement("span");
      role.className = "seat-role";
      role.textContent = p.role === "facilitator" ? t("facilitator") : t("co-facilitator");
      item.append(role);
    }
    if (segmentOf(state)?.kind === "open" && !state.segment_complete && !p.shared) {
      const mark = document.createElement("span");
      mark.className = "seat-mark";
      mark.textContent = t("has not shared yet");
      item.append(mark);
    }
    const notes = accommodationNotes(p);
    if (notes) {
      const note = document.createElement("span");
      note.className = "seat-accommodations";
      note.textContent = notes;
      item.append(note);
    }
    if (p.needs_support && state.you.facilitator) {
      const flag = document.createElement("span");
      flag.className = "seat-support";
      flag.textContent = t("asked for support");
      item.append(flag);
    }
    // Details that do not fit a round seat stay for screen readers (and in the facilitator's list).
    if (ring) {
      for (const detail of item.querySelectorAll(".seat-role, .seat-mark, .seat-accommodations, .seat-support")) {
        detail.classList.add("visually-hidden");
      }
    }
    return item;
  });
  list.replaceChildren(...items);
}

export function accommodationNotes(p) {
  if (!p.accommodations) return "";
  const notes = [];
  if (p.accommodations.extra_time && p.accommodations.extra_time !== "1") {
    notes.push(fmt("%(x)s× time", { x: p.accommodations.extra_time }));
  }
  if (p.accommodations.prefers_typing) notes.push(t("types"));
  return notes.join(" · ");
}

// Video: small tiles in the seats, this page's own camera as a preview in its seat. Each person
// keeps one <video> across renders; "Hide video" (remembered on this device) shows none at all.
const videos = new Map(); // participant id -> <video>
let videoHidden = localStorage.getItem("attunement.hideVideo") === "true";

export function renderVideos(media) {
  const room = snapshot();
  if (!room) return;
  const hideButton = $("btn-hide-video");
  hideButton.setAttribute("aria-pressed", String(videoHidden));
  let any = false;
  for (const seat of $("circle").querySelectorAll(".seat")) {
    const id = Number(seat.dataset.participant);
    const stream = media.videoOf(id);
    any ||= Boolean(stream);
    let video = videos.get(id);
    if (!stream || videoHidden) {
      video?.remove();
      continue;
    }
    if (!video) {
      video = document.createElement("video");
      video.className = "seat-video";
      video.muted = true; // the sound comes through the audio elements
      video.playsInline = true;
      video.autoplay = true;
      video.setAttribute("aria-hidden", "true");
      if (id === room.you.participant) video.classList.add("is-me");
      videos.set(id, video);
    }
    if (video.srcObject !== stream) video.srcObject = stream;
    if (video.parentElement !== seat) seat.prepend(video);
    if (video.paused) video.play().catch(() => {});
  }
  for (const [id, video] of videos) if (!video.isConnected) videos.delete(id);
  hideButton.hidden = !any && !videoHidden;
}

export function wireVideoToggle(media) {
  $("btn-hide-video").addEventListener("click", () => {
    videoHidden = !videoHidden;
    localStorage.setItem("attunement.hideVideo", String(videoHidden));
    renderVideos(media);
  });
}
