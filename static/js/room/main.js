// The live room in the browser. The server decides everything; the page shows the latest snapshot,
// counts down from the server's deadlines, and sends what the person chooses to do. This module
// only wires the parts together: the connection, the routing of messages, the renderers, the tick.

import { renderCheckin } from "./checkin.js";
import { renderCircle, renderVideos } from "./circle.js";
import { noteRefusal, showConnection } from "./connection-status.js";
import { RoomConnection } from "./connection.js";
import { renderControls } from "./controls.js";
import { tick } from "./countdown.js";
import { renderFacilitator } from "./facilitator.js";
import { keepingFocus } from "./focus.js";
import { send, useConnection } from "./link.js";
import { narrate, say } from "./narration.js";
import { $, root } from "./page.js";
import { finishMedia, media } from "./sound.js";
import { advance, previousSnapshot, snapshot } from "./state.js";
import { clearReflectionsOnNewTurn, receiveReflection, renderStage, showSharedReflection, showTypedShare } from "./stage.js";
import { receiveSupport, renderSupportPanel, renderSupportThreads } from "./support.js";

window.attunementMedia = media;

const connection = new RoomConnection(root.dataset.socket, {
  onState: (next) => {
    advance(next);
    media.update(next);
    if (next.status === "ended") finishMedia();
    keepingFocus(render);
    narrate(previousSnapshot(), next);
    window.dispatchEvent(new CustomEvent("attunement:state", { detail: { version: next.version } }));
  },
  onMessage: receive,
  onStatus: showConnection,
});
useConnection(connection);

// Messages that are not snapshots.
function receive(message) {
  if (message.type === "ice") {
    media.setIceServers(message.servers);
  } else if (message.type.startsWith("rtc.")) {
    media.signal(message);
  } else if (message.type === "error") {
    noteRefusal(message.code);
    if (message.code === "stale") send({ type: "sync" });
    else say(message.message);
  } else if (message.type === "share.text") {
    showTypedShare(message);
  } else if (message.type === "reflection") {
    receiveReflection(message);
  } else if (message.type === "support.message") {
    receiveSupport(message);
  } else if (message.type === "reflection.shown") {
    showSharedReflection(message);
  }
}

function render() {
  const state = snapshot();
  const you = state.you;
  root.dataset.status = state.status;
  const inLobby = you.state === "lobby";
  $("lobby").hidden = !inLobby;
  $("stage").hidden = inLobby;
  $("people").hidden = inLobby;
  if ($("facilitator-actions")) $("facilitator-actions").hidden = state.status === "ended";
  $("timer").hidden = state.status === "ended";
  $("my-controls").hidden = inLobby || state.status === "ended";
  renderCircle($("circle"), state);
  renderVideos(media);
  renderStage();
  renderControls();
  clearReflectionsOnNewTurn();
  if (you.facilitator) {
    renderFacilitator();
    renderSupportThreads();
  }
  renderCheckin();
  renderSupportPanel();
  tick();
}

$("leave-link").addEventListener("click", () => {
  media.close();
  connection.close();
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    send({ type: "sync" });
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
window.attunementRoom = { connection, get state() { return snapshot(); } };
