// The live room in the browser. The server decides everything; this module shows the latest
// snapshot, counts down from the server's deadlines, and sends what the person chooses to do.

import { Announcer } from "./announcer.js";
import { RoomConnection } from "./connection.js";
import { Cues } from "./cues.js";
import { MediaMesh } from "./media.js";
import {
  activeTimer,
  clockText,
  fmt,
  nextDeadline,
  person,
  renderCircle,
  segmentOf,
  spokenDuration,
  t,
} from "./view.js";

const root = document.getElementById("room");
const $ = (id) => document.getElementById(id);
const flag = (name) => root.dataset[name] === "true";

const announcer = new Announcer($("announcer"));
const cues = new Cues({ enabled: flag("chimes"), volume: Number(root.dataset.cueVolume || 60) });
const readAloud = flag("readAloud") && "speechSynthesis" in window;

let state = null;
let previous = null;
// The media mesh follows the room from the start (it receives sound once the person turns it on).
const media = new MediaMesh({
  send: (message) => connection.send(message),
  onChange: (change) => renderAudio(change),
  autoUnmute: flag("autoUnmute"),
});
window.attunementMedia = media;
let nudgedFor = null;
const warned = new Set();

const connection = new RoomConnection(root.dataset.socket, {
  onState: (snapshot) => {
    previous = state;
    state = snapshot;
    media.update(state);
    if (state.status === "ended") finishMedia();
    render();
    narrate(previous, state);
    window.dispatchEvent(new CustomEvent("attunement:state", { detail: { version: state.version } }));
  },
  onMessage: receive,
  onStatus: showConnection,
});

// Connection status

function showConnection(status, detail) {
  const line = $("connection");
  if (status === "open") {
    line.textContent = "";
    line.hidden = true;
    return;
  }
  line.hidden = false;
  if (status === "connecting") line.textContent = t("Connecting…");
  if (status === "reconnecting") line.textContent = t("Connection lost. Reconnecting…");
  if (status === "closed") {
    const reasons = {
      4401: t("Please log in again to join the call."),
      4403: t("You cannot be in this call right now."),
      4409: t("The room is not open yet."),
      4410: t("This call has ended."),
      4423: t("The facilitator has closed the room to new arrivals."),
      4008: t("Too many messages were sent. Reload the page to come back."),
      4001: t("This call is open in another tab."),
    };
    line.textContent = reasons[detail] || t("The connection closed.");
    if (detail === 4001) {
      showReplaced();
      return;
    }
    // Nothing can happen in this room any more: let go of the microphone and camera.
    finishMedia();
    if (detail === 4410) showEnded(refusedFor === "ended");
  }
}

// Another tab of this person took over: this one lets go of the microphone, stays closed, and
// offers to bring the call back here (which, in turn, replaces the other tab).
const AWAY_HERE = [
  "stage", "people", "my-controls", "checkin", "lobby", "audio-panel", "after-call", "facilitator-actions", "facilitator-panel",
];

function showReplaced() {
  const hadFocus = root.contains(document.activeElement);
  media.release();
  for (const id of AWAY_HERE) if ($(id)) $(id).hidden = true;
  $("replaced").hidden = false;
  if (hadFocus) $("btn-come-back").focus();
}

$("btn-come-back").addEventListener("click", () => {
  $("replaced").hidden = true;
  $("audio-panel").hidden = false;
  for (const id of ["facilitator-panel", "facilitator-actions"]) if ($(id)) $(id).hidden = false;
  connection.reconnect();
});

let refusedFor = null; // the code of the server's last refusal, which comes just before it closes

// When the call is over, every local track stops and the sound controls go.
function finishMedia() {
  media.close();
  $("audio-panel").hidden = true;
}

// An ended call's room, opened again: only the way to the check-out.
function showEnded(withCheckout) {
  for (const id of ["stage", "people", "my-controls", "checkin", "lobby", "facilitator-actions"]) if ($(id)) $(id).hidden = true;
  $("after-call").hidden = !withCheckout;
}

// Messages that are not snapshots

function speak(text) {
  if (!readAloud || !text) return;
  const utterance = new SpeechSynthesisUtterance(text);
  window.speechSynthesis.speak(utterance);
}

let typedSpoken = "";
let typedSpeakTimer = null;

function receive(message) {
  if (message.type === "ice") {
    media.setIceServers(message.servers);
    return;
  }
  if (message.type.startsWith("rtc.")) {
    media.signal(message);
    return;
  }
  if (message.type === "error") {
    refusedFor = message.code;
    if (message.code === "stale") connection.send({ type: "sync" });
    else announcer.say(message.message);
    return;
  }
  if (message.type === "share.text") {
    $("typed-share").hidden = false;
    $("typed-share-text").textContent = message.text;
    if (!state || message.participant !== state.you.participant) {
      clearTimeout(typedSpeakTimer);
      typedSpeakTimer = setTimeout(() => {
        const fresh = message.text.startsWith(typedSpoken) ? message.text.slice(typedSpoken.length) : message.text;
        typedSpoken = message.text;
        speak(fresh);
      }, 1500);
    }
    return;
  }
  if (message.type === "reflection") {
    const item = document.createElement("li");
    const from = person(state, message.from);
    const text = document.createElement("p");
    text.textContent = message.text;
    const who = document.createElement("p");
    who.className = "muted";
    who.textContent = fmt("From %(name)s", { name: from ? from.name : t("a listener") });
    const show = document.createElement("button");
    show.type = "button";
    show.className = "button";
    show.textContent = t("Show to everyone");
    show.addEventListener("click", () => {
      connection.send({ type: "reflection.show", id: message.id, from: message.from, text: message.text, sig: message.sig });
      show.disabled = true;
      show.textContent = t("Shown to everyone");
    });
    item.append(who, text, show);
    $("received-reflections").hidden = false;
    $("received-reflections-list").append(item);
    announcer.say(fmt("A reflection from %(name)s", { name: from ? from.name : t("a listener") }));
    speak(message.text);
    return;
  }
  if (message.type === "support.message") {
    receiveSupport(message);
    return;
  }
  if (message.type === "reflection.shown") {
    const from = person(state, message.from);
    const item = document.createElement("li");
    item.textContent = `${from ? from.name : t("A listener")}: ${message.text}`;
    $("shown-reflections").hidden = false;
    $("shown-reflections-list").append(item);
    announcer.say(fmt("%(name)s reflected: %(text)s", { name: from ? from.name : t("A listener"), text: message.text }));
    // The sharer was read it when it reached them; the one who wrote it knows it already.
    const mine = state?.turn?.speaker === state?.you.participant;
    if (!mine && message.from !== state?.you.participant) speak(message.text);
  }
}

// Sound: the media mesh lives in media.js; this part only shows it and passes on choices.

function startMedia(options) {
  media.start(options).then(() => {
    if (state) media.update(state);
    renderAudio();
  });
}

function renderAudio(change = {}) {
  if (!state) return;
  renderVideos();
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
  const myFloor =
    (state.phase === "turn" && state.turn?.speaker === state.you.participant) ||
    (state.phase === "reflections" && state.turn?.reflector === state.you.participant);
  if (status.talkingWhileMuted) note.textContent = t("You are talking while muted.");
  else if (myFloor && status.muted && !status.listenOnly) note.textContent = t("Your turn: unmute when you are ready.");
  else if (!status.mayTalk && !status.listenOnly) note.textContent = t("Microphones follow the turn: yours opens when it is your time.");
  else if (!status.listenOnly && status.started) note.textContent = status.muted ? t("Your microphone is off.") : t("Your microphone is on.");
  else if (status.listenOnly && status.started) note.textContent = t("Listening only.");
  else note.textContent = "";
  if (change.floorOpened && status.muted) {
    announcer.say(t("Your turn: unmute when you are ready."));
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
  if (!media.setMuted(!status.muted)) announcer.say(t("Microphones follow the turn: yours opens when it is your time."));
  renderAudio();
});
$("btn-video").addEventListener("click", () => media.setVideo(!media.status().video));

// Video: small tiles in the seats, this page's own camera as a preview in its seat. Each person
// keeps one <video> across renders; "Hide video" (remembered on this device) shows none at all.
const videos = new Map(); // participant id -> <video>
let videoHidden = localStorage.getItem("attunement.hideVideo") === "true";

function renderVideos() {
  if (!state) return;
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
      if (id === state.you.participant) video.classList.add("is-me");
      videos.set(id, video);
    }
    if (video.srcObject !== stream) video.srcObject = stream;
    if (video.parentElement !== seat) seat.prepend(video);
    if (video.paused) video.play().catch(() => {});
  }
  for (const [id, video] of videos) if (!video.isConnected) videos.delete(id);
  hideButton.hidden = !any && !videoHidden;
}

$("btn-hide-video").addEventListener("click", () => {
  videoHidden = !videoHidden;
  localStorage.setItem("attunement.hideVideo", String(videoHidden));
  renderVideos();
});

// Support: a private exchange between someone who asked for it and the facilitators.

const supportThreads = new Map(); // participant id -> messages, only in this page's memory

function supportLine(message) {
  const item = document.createElement("li");
  const author = person(state, message.from);
  item.textContent = `${author ? author.name : t("Someone")}: ${message.text}`;
  return item;
}

function receiveSupport(message) {
  if (state.you.facilitator) {
    const other = message.to ?? message.from;
    const thread = supportThreads.get(other) || [];
    thread.push(message);
    supportThreads.set(other, thread);
    renderSupportThreads();
    if (message.from !== state.you.participant) {
      const author = person(state, message.from);
      announcer.say(fmt("A private message from %(name)s", { name: author ? author.name : "" }));
    }
  }
  if (message.from === state.you.participant && state.you.facilitator) return;
  if (!state.you.facilitator || message.to === state.you.participant) {
    $("support-messages").append(supportLine(message));
    if (message.from !== state.you.participant) announcer.say(t("A private message from the facilitators"));
  }
}

const supportBoxes = new Map(); // participant id -> its thread's element, kept so drafts and focus survive

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
  const send = document.createElement("button");
  send.type = "submit";
  send.className = "button small";
  send.textContent = t("Send privately");
  form.append(label, input, send);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text && connection.send({ type: "support.message", to: p.id, text })) input.value = "";
  });
  box.append(title, list, form);
  return box;
}

function renderSupportThreads() {
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

// Rendering

function me() {
  return state ? person(state, state.you.participant) : null;
}

// Keeping the keyboard focus: when a render removes or hides the control that had the focus, the
// focus moves to the same control re-rendered (same data-focus-key), else to the next control in its
// section, else to the section's heading; never to the page, where a screen reader loses its place.

const CONTROLS = "button, a[href], input, select, textarea";

function focusKey(element) {
  return element?.dataset?.focusKey || (element?.id ? `#${element.id}` : null);
}

function usable(element) {
  if (!element || !element.isConnected || element.closest("[hidden]")) return false;
  return element.checkVisibility ? element.checkVisibility() : element.offsetParent !== null;
}

function restoreFocus(before, key, section, siblings) {
  if (!before || before === document.body || usable(before)) return;
  const same = key && [...root.querySelectorAll("[data-focus-key], [id]")].find((el) => focusKey(el) === key);
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

function render() {
  const before = root.contains(document.activeElement) ? document.activeElement : null;
  const key = focusKey(before);
  const section = before?.closest("section, form") || null;
  const siblings = section ? [...section.querySelectorAll(CONTROLS)] : [];
  renderView();
  restoreFocus(before, key, section?.isConnected ? section : before?.closest("#room > *") || null, siblings);
}

function renderView() {
  const you = state.you;
  root.dataset.status = state.status;
  const inLobby = you.state === "lobby";
  $("lobby").hidden = !inLobby;
  $("stage").hidden = inLobby;
  $("people").hidden = inLobby;
  if ($("facilitator-actions")) $("facilitator-actions").hidden = state.status === "ended";
  $("timer").hidden = state.status === "ended";
  $("my-controls").hidden = inLobby || state.status === "ended";
  renderSegment();
  renderCircle($("circle"), state);
  renderVideos();
  renderSpeaker();
  renderControls();
  if (you.facilitator) {
    renderFacilitator();
    renderSupportThreads();
  }
  renderCheckin();
  const self = me();
  if (self?.needs_support) {
    $("support-panel").hidden = false;
    $("btn-support").setAttribute("aria-expanded", "true");
  }
  tick();
}

function renderCheckin() {
  const self = me();
  const open = state.status !== "ended" && Boolean(self);
  $("checkin").hidden = !open;
  $("after-call").hidden = !(state.status === "ended" && self?.state === "admitted");
  if (!open) return;
  const word = self.checkin || "";
  const input = $("checkin-word");
  if (document.activeElement !== input && !input.dataset.dirty) input.value = word;
  for (const button of $("checkin").querySelectorAll("[data-checkin]")) {
    button.setAttribute("aria-pressed", String(button.dataset.checkin === word));
  }
  $("checkin-clear").hidden = !word;
  $("checkin-practice").hidden = state.status !== "lobby" || state.you.state === "lobby"; // the lobby offers its own
  $("checkin-status").textContent = word ? fmt("Your check-in: %(word)s", { word }) : "";
}

function sendCheckin(word) {
  const input = $("checkin-word");
  if (connection.send({ type: "checkin.set", word })) delete input.dataset.dirty;
}

function renderSegment() {
  const line = $("segment-line");
  const segment = segmentOf(state);
  if (state.status === "lobby") {
    line.textContent = t("The call has not started yet.");
  } else if (state.status === "ended") {
    line.textContent = t("The call has ended. Thank you for being here.");
  } else if (state.segment_complete) {
    const next = state.segments[state.segment_index + 1];
    line.textContent = next ? fmt("Next: %(title)s", { title: next.title }) : t("That was the last part of the call.");
  } else if (segment) {
    line.textContent = segment.title;
  }
  if (state.status === "paused") line.textContent += ` · ${t("Paused")}`;
}

function renderSpeaker() {
  const speaker = state.turn ? person(state, state.turn.speaker) : null;
  const mine = speaker && speaker.id === state.you.participant;
  const line = $("speaker-line");
  if (state.phase === "turn" && speaker) {
    line.textContent = mine ? t("Your turn. Take your time.") : fmt("%(name)s is sharing", { name: speaker.name });
  } else if (state.phase === "reflections" && speaker) {
    const reflector = state.turn.reflector ? person(state, state.turn.reflector) : null;
    line.textContent = reflector
      ? fmt("%(name)s is reflecting", { name: reflector.name })
      : fmt("Reflections for %(name)s", { name: speaker.name });
  } else if (state.phase === "grounding") {
    line.textContent = t("A shared pause. Notice your breath and your body.");
  } else if (state.phase === "between" && !state.segment_complete) {
    line.textContent = t("Raise your hand when you would like to share.");
  } else {
    line.textContent = "";
  }
  const next = state.next ? person(state, state.next) : null;
  $("next-line").textContent = next ? fmt("Next: %(name)s", { name: next.name }) : "";
  const resonance = $("resonance");
  const count = state.turn?.resonance_count;
  resonance.hidden = !(mine && count);
  resonance.textContent = count ? fmt("%(n)s resonated", { n: count }) : "";
  if (!state.turn || state.phase !== "turn" || !state.turn.typing) {
    if (previous?.turn?.number !== state.turn?.number) {
      $("typed-share").hidden = true;
      $("typed-share-text").textContent = "";
      typedSpoken = "";
    }
  }
}

function show(id, visible) {
  $(id).hidden = !visible;
}

function renderControls() {
  const self = me();
  const speaking = state.phase === "turn" && state.turn?.speaker === state.you.participant;
  const segment = segmentOf(state);
  const open = segment?.kind === "open" && !state.segment_complete;
  const inRound = segment && !open && ["pending", "offered"].includes(self?.round);
  const listening = state.turn && !speaking && state.phase === "turn";
  const reflections = state.phase === "reflections";
  const sharer = reflections && state.turn?.speaker === state.you.participant;
  const live = state.status === "live";

  show("btn-done", speaking);
  show("btn-pass", live && (speaking || inRound));
  show("btn-resonate", listening && state.turn.share_mode !== "listen");
  const handAllowed = live && ((reflections && !sharer && segment?.reflection_mode !== "typed") || open);
  show("btn-hand", handAllowed && !speaking);
  const hand = $("btn-hand");
  hand.setAttribute("aria-pressed", String(Boolean(self?.hand)));
  hand.dataset.action = self?.hand ? "hand.lower" : "hand.raise";
  hand.querySelector("span").textContent = self?.hand ? t("Lower hand") : t("Raise hand");
  show("btn-type", speaking);
  $("btn-type").setAttribute("aria-pressed", String(Boolean(state.turn?.typing)));
  show("btn-reflection-done", reflections && state.turn?.reflector === state.you.participant);
  show("share-mode", speaking);
  if (speaking) {
    for (const input of document.querySelectorAll("input[name=share-mode]")) {
      input.checked = input.value === state.turn.share_mode;
    }
    show("share-mode-reflections", Boolean(segment?.reflection_seconds));
  }
  const typing = speaking && state.turn.typing;
  const form = $("typed-share-form");
  const wasHidden = form.hidden;
  form.hidden = !typing;
  if (typing && wasHidden) {
    $("typed-share-input").value = "";
    $("typed-share-input").focus();
  }
  const typedReflections =
    reflections && !sharer && (segment?.reflection_mode !== "spoken" || flag("prefersTyping"));
  show("reflection-form", typedReflections);
  if (!reflections) {
    $("reflection-sent").textContent = "";
  }
  if (previous?.turn?.number !== state.turn?.number) {
    $("received-reflections").hidden = true;
    $("received-reflections-list").replaceChildren();
    $("shown-reflections").hidden = true;
    $("shown-reflections-list").replaceChildren();
  }
}

function renderFacilitator() {
  const panel = $("facilitator-panel");
  if (!panel) return;
  const live = state.status === "live";
  const visible = {
    "call.start": state.status === "lobby",
    pause: live,
    resume: state.status === "paused",
    "turn.extend": live && (state.phase === "turn" || state.phase === "reflections"),
    "turn.finish": live && state.phase === "turn",
    "turn.skip": live && state.phase === "turn",
    "reflections.end": live && state.phase === "reflections",
    "segment.next": live && state.segment_index + 1 < state.segments.length,
    "call.end": state.status !== "ended",
  };
  for (const button of root.querySelectorAll("[data-control]")) {
    button.hidden = !visible[button.dataset.control];
  }
  for (const input of panel.querySelectorAll("[data-setting]")) {
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
      name.textContent = `${p.name} (${renderStatusText(p)})`;
      item.append(name);
      const ids = ordered.map((q) => q.id);
      if (index > 0) item.append(moveButton(p, ids, index, -1));
      if (index < ordered.length - 1) item.append(moveButton(p, ids, index, 1));
      if (["pending", "offered"].includes(p.round)) {
        item.append(actionButton(fmt("Skip %(name)s", { name: p.name }), "turn.skip", { participant: p.id }));
      }
      if (p.hand && state.hands[0] !== p.id) {
        item.append(actionButton(fmt("Invite %(name)s first", { name: p.name }), "hand.first", { participant: p.id }));
      }
      if (segmentOf(state)?.kind === "open" && state.phase === "between" && !state.segment_complete && p.present) {
        item.append(actionButton(fmt("Give %(name)s the floor", { name: p.name }), "turn.give", { participant: p.id }));
      }
      if (p.needs_support) {
        item.append(actionButton(fmt("Seen: %(name)s's request", { name: p.name }), "support.clear", { participant: p.id }));
      }
      // Only members may be removed from the room; never the facilitators, never oneself.
      if (p.role === "member" && p.id !== state.you.participant) {
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

function renderStatusText(p) {
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
    connection.send({ type, ...fields });
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
    connection.act("order.set", { order });
  });
  return button;
}

// Time: the countdown, the cues and the nudge when a deadline passes.

function tick() {
  if (!state) return;
  const now = connection.clock.now();
  const timer = activeTimer(state);
  const label = $("time-left");
  const ring = $("ring-time");
  // The time-up message has its own line below the ring, in body text: the ring only ever holds a time.
  const note = $("time-note");
  const timeUp = Boolean(timer) && timer.kind === "turn" && timer.ends - (state.status === "paused" ? Date.parse(state.paused_at) : now) <= 0;
  note.hidden = !timeUp;
  note.textContent = timeUp ? t("Time is up. Finishing gently.") : "";
  if (!timer) {
    label.textContent = "";
    ring.style.setProperty("--left", "0");
    return;
  }
  const reference = state.status === "paused" ? Date.parse(state.paused_at) : now;
  const left = timer.ends - reference;
  const total = Math.max(1, timer.ends - Date.parse(state.turn?.started_at || state.phase_started_at || state.server_now));
  if (timeUp) {
    label.textContent = clockText(0);
    ring.style.setProperty("--left", "0");
  } else {
    label.textContent = clockText(left);
    ring.style.setProperty("--left", String(Math.max(0, Math.min(100, (left / total) * 100))));
  }
  if (state.status === "live") timeCues(timer, left);
  const deadline = nextDeadline(state);
  if (deadline !== null && now >= deadline && nudgedFor !== state.version) {
    nudgedFor = state.version;
    const version = state.version;
    setTimeout(() => {
      if (state.version === version) connection.send({ type: "tick", version });
    }, Math.random() * 400);
  }
  const speaker = state.turn ? person(state, state.turn.speaker) : null;
  if (speaker && !speaker.present && state.phase === "turn" && nudgedFor !== `away-${state.version}`) {
    nudgedFor = `away-${state.version}`;
    setTimeout(() => connection.send({ type: "tick" }), 5000);
  }
}

function timeCues(timer, left) {
  if (timer.kind !== "turn" || !state.turn) return;
  const key = (name) => `${state.turn.number}:${name}`;
  const mine = state.turn.speaker === state.you.participant;
  if (mine && left <= 30000 && left > 0 && timer.ends - Date.parse(state.turn.started_at) >= 45000 && !warned.has(key("30"))) {
    warned.add(key("30"));
    cues.play("thirty-seconds");
    announcer.say(t("30 seconds left"));
  }
  if (left <= 0 && !warned.has(key("up"))) {
    warned.add(key("up"));
    cues.play("time-up");
    const speaker = person(state, state.turn.speaker);
    announcer.say(mine ? t("Your time is up. Finish gently.") : fmt("Time is up; %(name)s is finishing", { name: speaker?.name || "" }));
  }
}

// What changed, said once.

function narrate(before, after) {
  if (!before) {
    if (after.you.state === "lobby") announcer.say(t("You are in the lobby. The facilitator will let you in."));
    return;
  }
  if (before.you.state === "lobby" && after.you.state === "admitted") {
    announcer.say(t("You are in the circle."));
  }
  if (after.status === "ended" && before.status !== "ended") {
    announcer.say(t("The call has ended. Thank you for being here."));
    return;
  }
  if (before.segment_index !== after.segment_index && segmentOf(after)) {
    announcer.say(fmt("%(title)s begins", { title: segmentOf(after).title }));
  }
  const turnChanged = before.turn?.number !== after.turn?.number && after.phase === "turn" && after.turn;
  if (turnChanged) {
    const speaker = person(after, after.turn.speaker);
    const length = Date.parse(after.turn.ends_at) - Date.parse(after.turn.started_at);
    if (after.turn.speaker === after.you.participant) {
      cues.play("turn-now");
      announcer.say(fmt("Your turn, %(time)s", { time: spokenDuration(length) }));
    } else {
      announcer.say(fmt("%(name)s is sharing, %(time)s", { name: speaker?.name || "", time: spokenDuration(length) }));
    }
  }
  if (after.next === after.you.participant && before.next !== after.you.participant && after.phase === "turn") {
    cues.play("turn-soon");
  }
  if (before.phase !== "reflections" && after.phase === "reflections" && after.turn) {
    const speaker = person(after, after.turn.speaker);
    announcer.say(fmt("Reflections for %(name)s", { name: speaker?.name || "" }));
  }
  const mine = after.turn && after.turn.speaker === after.you.participant;
  if (mine && before.turn?.number === after.turn.number && (after.turn.resonance_count || 0) > (before.turn?.resonance_count || 0)) {
    cues.play("resonated");
  }
  if (before.status !== "paused" && after.status === "paused") announcer.say(t("The facilitator paused the call."));
  if (before.status === "paused" && after.status === "live") announcer.say(t("The call continues."));
  if (after.turn && before.turn?.number === after.turn.number && after.turn.extended_seconds > before.turn.extended_seconds) {
    announcer.say(t("30 more seconds"));
  }
}

// Input

// Actions on a particular turn or segment say which one they meant; presence changing meanwhile
// does not make them stale, but a turn that already moved on does.
function perform(type) {
  const message = { type };
  if (["turn.finish", "turn.extend", "turn.skip"].includes(type)) message.turn = state?.turn?.number ?? 0;
  if (type === "segment.next") message.segment = state?.segment_index ?? -1;
  const sent = connection.send(message);
  if (!sent) announcer.say(t("Not connected right now. Please try again in a moment."));
}

// Destructive actions ask first, in a modal dialog: the focus moves into it (onto "Cancel", the safe
// choice), Escape cancels, and the focus goes back to the control that opened it (or its re-rendered twin).
function confirmFirst({ title, text, confirm }) {
  const dialog = $("confirm-dialog");
  const opener = document.activeElement;
  const key = focusKey(opener);
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = confirm;
  return new Promise((resolve) => {
    const finish = (answer) => {
      $("confirm-ok").removeEventListener("click", ok);
      $("confirm-cancel").removeEventListener("click", cancel);
      dialog.removeEventListener("close", closed);
      if (dialog.open) dialog.close();
      const back = usable(opener) ? opener : [...root.querySelectorAll("[data-focus-key], [id]")].find((el) => key && focusKey(el) === key);
      if (usable(back)) back.focus();
      resolve(answer);
    };
    const ok = () => finish(true);
    const cancel = () => finish(false);
    const closed = () => finish(false); // Escape
    $("confirm-ok").addEventListener("click", ok);
    $("confirm-cancel").addEventListener("click", cancel);
    dialog.addEventListener("close", closed);
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

root.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action], button[data-control]");
  if (!button) return;
  const type = button.dataset.action || button.dataset.control;
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

$("btn-type").addEventListener("click", () => {
  connection.send({ type: "share.typing", typing: !state?.turn?.typing });
});

for (const input of document.querySelectorAll("input[name=share-mode]")) {
  input.addEventListener("change", () => connection.send({ type: "share.mode", mode: input.value }));
}

let typedTimer = null;
$("typed-share-input").addEventListener("input", (event) => {
  clearTimeout(typedTimer);
  const text = event.target.value;
  typedTimer = setTimeout(() => connection.send({ type: "share.text", text }), 200);
});
$("typed-share-form").addEventListener("submit", (event) => event.preventDefault());

$("reflection-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("reflection-input");
  const text = input.value.trim();
  if (!text) return;
  if (connection.send({ type: "reflection.send", text })) {
    input.value = "";
    $("reflection-sent").textContent = t("Sent. The person who shared decides whether everyone sees it.");
  }
});

const panel = $("facilitator-panel");
panel?.addEventListener("change", (event) => {
  const input = event.target.closest("[data-setting]");
  if (!input) return;
  const value = input.type === "checkbox" ? input.checked : input.value;
  connection.send({ type: "settings", [input.dataset.setting]: value });
});

const SHORTCUTS = { d: "btn-done", p: "btn-pass", r: "btn-resonate", h: "btn-hand", t: "btn-type", m: "btn-mute" };
document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  if ($("confirm-dialog").open) return;
  const id = SHORTCUTS[event.key.toLowerCase()];
  if (!id) return;
  const button = $(id);
  if (button && !button.hidden) {
    event.preventDefault();
    button.click();
  }
});

$("leave-link").addEventListener("click", () => {
  media.close();
  connection.close();
});

$("btn-support").addEventListener("click", () => {
  const panel = $("support-panel");
  panel.hidden = false;
  $("btn-support").setAttribute("aria-expanded", "true");
  if (!me()?.needs_support) connection.send({ type: "support.request" });
  $("support-input").focus();
});

$("checkin").addEventListener("submit", (event) => {
  event.preventDefault();
  sendCheckin($("checkin-word").value.trim());
});
$("checkin-word").addEventListener("input", (event) => {
  event.target.dataset.dirty = "true";
});
for (const button of $("checkin").querySelectorAll("[data-checkin]")) {
  button.addEventListener("click", () => {
    const word = button.dataset.checkin;
    sendCheckin(me()?.checkin === word ? "" : word);
  });
}
$("checkin-clear").addEventListener("click", () => {
  $("checkin-word").value = "";
  sendCheckin("");
});

$("support-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("support-input");
  const text = input.value.trim();
  if (text && connection.send({ type: "support.message", text })) input.value = "";
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    connection.send({ type: "sync" });
    tick();
  }
});

// On a phone the first screen is the ring, who speaks and the person's own actions: sound, check-in
// and the facilitator's full controls are disclosures, closed. Beside a wide circle they stand open,
// and they follow the window when it turns or is resized across that width.
const wide = window.matchMedia("(min-width: 62rem)");
function openBesideWideCircle() {
  for (const details of root.querySelectorAll("details[data-open-wide]")) details.open = wide.matches;
}
wide.addEventListener("change", openBesideWideCircle);
openBesideWideCircle();

setInterval(tick, 250);
connection.connect();
window.attunementRoom = { connection, get state() { return state; } };
