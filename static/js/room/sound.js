// Sound: the media mesh (WebRTC, in media.js) and the sound controls that show it and pass on the
// person's choices: turning sound on, listening only, the microphone, the camera, each peer's volume.

import { renderVideos, wireVideoToggle } from "./circle.js";
import { send } from "./link.js";
import { MediaMesh } from "./media.js";
import { say } from "./narration.js";
import { $, flag } from "./page.js";
import { hasFloor } from "./permissions.js";
import { snapshot } from "./state.js";
import { fmt, person, t } from "./view.js";

// The media mesh follows the room from the start (it receives sound once the person turns it on).
export const media = new MediaMesh({
  send: (message) => send(message),
  onChange: (change) => renderSound(change),
  autoUnmute: flag("autoUnmute"),
});

// When the call is over, every local track stops and the sound controls go.
export function finishMedia() {
  media.close();
  $("audio-panel").hidden = true;
}

function startMedia(options) {
  media.start(options).then(() => {
    const state = snapshot();
    if (state) media.update(state);
    renderSound();
  });
}

export function renderSound(change = {}) {
  const state = snapshot();
  if (!state) return;
  renderVideos(media);
  const status = media.status();
  $("btn-audio-start").hidden = status.started && !status.micDenied && !status.listenOnly;
  $("btn-audio-listen").hidden = status.started;
  const mute = $("btn-mute");
  mute.hidden = !status.started || status.listenOnly;
  // A toggle with a steady name: pressed means the microphone is on.
  mute.setAttribute("aria-pressed", String(!status.muted));
  $("btn-video").hidden = !status.started || status.listenOnly;
  $("btn-video").setAttribute("aria-pressed", String(status.video));
  $("audio-denied").hidden = !status.micDenied;
  const note = $("audio-note");
  const myFloor = hasFloor(state);
  if (status.talkingWhileMuted) note.textContent = t("You are talking while muted.");
  else if (myFloor && status.muted && !status.listenOnly) note.textContent = t("Your turn: unmute when you are ready.");
  else if (!status.mayTalk && !status.listenOnly) note.textContent = t("Microphones follow the turn: yours opens when it is your time.");
  else if (!status.listenOnly && status.started) note.textContent = status.muted ? t("Your microphone is off.") : t("Your microphone is on.");
  else if (status.listenOnly && status.started) note.textContent = t("Listening only.");
  else note.textContent = "";
  if (change.floorOpened && status.muted) {
    say(t("Your turn: unmute when you are ready."));
    if (status.started && !status.listenOnly) $("audio-panel").open = true;
  }
  let summary = t("off");
  if (status.started && status.listenOnly) summary = t("listening only");
  else if (status.started) summary = status.muted ? t("microphone off") : t("microphone on");
  $("sound-summary").textContent = `(${summary})`;
  const list = $("audio-peers");
  list.replaceChildren(
    ...status.peers.map((peer) => {
      const who = person(state, peer.id);
      const item = document.createElement("li");
      item.dataset.participant = String(peer.id);
      const name = document.createElement("span");
      name.textContent = who ? who.name : "";
      const note = document.createElement("span");
      note.className = "peer-note";
      if (peer.state === "failed" || peer.state === "disconnected") note.textContent = t("can't hear, reconnecting");
      else if (peer.outOfTurn && state.you.facilitator) note.textContent = t("talking out of turn (not heard)");
      else if (peer.speaking && peer.audible) note.textContent = t("speaking");
      const id = `volume-${peer.id}`;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.className = "visually-hidden";
      label.textContent = fmt("Volume of %(name)s", { name: who ? who.name : "" });
      const slider = document.createElement("input");
      slider.type = "range";
      slider.id = id;
      slider.min = "0";
      slider.max = "100";
      slider.step = "5";
      slider.value = String(Math.round(peer.volume * 100));
      slider.addEventListener("change", () => media.setVolume(peer.id, Number(slider.value) / 100));
      item.append(name, note, label, slider);
      return item;
    }),
  );
}

$("btn-audio-start").addEventListener("click", () => startMedia({ audio: true, video: false }));
$("btn-audio-listen").addEventListener("click", () => startMedia({ audio: false, video: false }));
$("btn-mute").addEventListener("click", () => {
  const status = media.status();
  if (!media.setMuted(!status.muted)) say(t("Microphones follow the turn: yours opens when it is your time."));
  renderSound();
});
$("btn-video").addEventListener("click", () => media.setVideo(!media.status().video));
wireVideoToggle(media);
