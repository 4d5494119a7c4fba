// The media layer: a peer-to-peer WebRTC mesh for audio (and optional small video).
//
// This module owns every RTCPeerConnection, track and audio element. The rest of the room talks
// to it through one small interface, so that a selective forwarding unit (such as LiveKit) could
// replace the mesh without touching the turn engine:
//
//   const media = new MediaMesh({ send, onChange })
//   media.start({ audio, video })       ask for the microphone (and camera); or listen only
//   media.update(snapshot)              follow the room: who is here, who holds the floor
//   media.signal(message)               an rtc.offer / rtc.answer / rtc.ice from the server
//   media.setIceServers(servers)        STUN/TURN servers, sent by the server on connect
//   media.setMuted(muted)               the person's own mute button
//   media.setVideo(on)                  camera on or off
//   media.setVolume(participantId, v)   one listener's volume for one person (0..1)
//   media.videoOf(participantId)        the stream to show in that person's seat, or null
//   media.status()                      what the UI shows: peers, levels, warnings
//   media.release()                     let go of the peers, microphone and camera (another tab took over)
//   media.close()
//
// The turn logic never depends on media: a room works with every microphone denied.

const AUDIO_MAX_BITRATE = 32000; // Opus at about 32 kbps per stream
const VIDEO_MAX_BITRATE = 150000;
const SPEAKING_LEVEL = 0.04;
const SPEAKING_HOLD_MS = 1200; // speech has pauses: a voice counts as speaking for a moment after it was heard
const MEASURE_EVERY_MS = 100;

export class MediaMesh {
  constructor({ send, onChange, autoUnmute = false }) {
    this.send = send;
    this.onChange = onChange || (() => {});
    this.autoUnmute = autoUnmute;
    this.iceServers = [];
    this.me = null;
    this.peers = new Map(); // participant id -> Peer
    this.local = null; // MediaStream
    this.listenOnly = true;
    this.muted = true;
    this.video = false;
    this.floor = null; // null: anyone may speak; otherwise the ids holding the floor
    this.lastSpeakerTurn = null;
    this.volumes = new Map();
    this.levels = new Map();
    this.localLevel = 0;
    this.context = null;
    this.micDenied = false;
    this.outOfTurn = new Set();
    this.events = []; // the last signalling events, for "can't hear" diagnostics (no media content)
    this.loudAt = new Map(); // participant id (or "me") -> when their level last crossed the threshold
    this.levelTimer = setInterval(() => this.measure(), MEASURE_EVERY_MS);
  }

  // Starting

  async start({ audio = true, video = false } = {}) {
    this.context ??= new AudioContext();
    await this.context.resume().catch(() => {});
    this.started = true;
    for (const peer of this.peers.values()) {
      peer.audio?.play().catch(() => {});
      if (peer.stream && !peer.analyser) this.watchLevel(peer.id, peer.stream);
    }
    if (!audio && !video) {
      this.listenOnly = true;
      this.renegotiateAll();
      this.onChange();
      return;
    }
    try {
      this.local = await navigator.mediaDevices.getUserMedia({
        audio: audio ? { echoCancellation: true, noiseSuppression: true, autoGainControl: true } : false,
        video: video ? { width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { max: 15 } } : false,
      });
      this.listenOnly = !audio;
      this.video = Boolean(video);
      this.micDenied = false;
    } catch (error) {
      this.local = null;
      this.listenOnly = true;
      this.micDenied = true;
    }
    this.applyFloor();
    if (this.local) this.watchLocalLevel();
    for (const peer of this.peers.values()) this.addLocalTracks(peer);
    this.onChange();
  }

  setIceServers(servers) {
    this.iceServers = servers || [];
    for (const peer of this.peers.values()) peer.pc.setConfiguration({ iceServers: this.iceServers });
  }

  // Following the room

  update(state) {
    this.me = state.you.participant;
    if (state.you.state !== "admitted" || state.status === "ended") {
      for (const id of [...this.peers.keys()]) this.drop(id);
      this.onChange();
      return;
    }
    const present = state.participants.filter((p) => p.state === "admitted" && p.present && p.id !== this.me);
    const wanted = new Set(present.map((p) => p.id));
    for (const id of [...this.peers.keys()]) if (!wanted.has(id)) this.drop(id);
    for (const p of present) if (!this.peers.has(p.id)) this.connect(p.id);
    this.floor = state.floor;
    const speaker = state.phase === "turn" && state.turn ? state.turn.speaker : state.turn?.reflector ?? null;
    const turnKey = `${state.turn?.number ?? ""}:${state.phase}:${speaker ?? ""}`;
    const floorOpened = turnKey !== this.lastSpeakerTurn && this.mayTalk(this.me) && speaker === this.me;
    this.lastSpeakerTurn = turnKey;
    if (floorOpened && this.autoUnmute && this.local) this.muted = false;
    this.applyFloor();
    this.onChange({ floorOpened });
  }

  note(...event) {
    this.events.push([Math.round(performance.now()), ...event]);
    if (this.events.length > 200) this.events.shift();
  }

  mayTalk(id) {
    return this.floor === null || this.floor === undefined || this.floor.includes(id);
  }

  // The talking stick: listeners' outgoing audio is disabled (the track, not a renegotiation),
  // and receivers ignore tracks from anyone who does not hold the floor.
  applyFloor() {
    const allowed = this.mayTalk(this.me);
    if (!allowed) this.muted = true;
    for (const track of this.local?.getAudioTracks() || []) track.enabled = allowed && !this.muted;
    for (const [id, peer] of this.peers) {
      peer.audible = this.mayTalk(id);
      if (peer.audio) peer.audio.muted = !peer.audible;
      if (peer.audio) peer.audio.volume = this.volumes.get(id) ?? 1;
    }
  }

  setMuted(muted) {
    if (!muted && !this.mayTalk(this.me)) return false;
    this.muted = muted;
    this.applyFloor();
    this.onChange();
    return true;
  }

  async setVideo(on) {
    if (on === this.video) return;
    if (on) {
      try {
        const camera = await navigator.mediaDevices.getUserMedia({
          video: { width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { max: 15 } },
        });
        this.local ??= new MediaStream();
        for (const track of camera.getVideoTracks()) this.local.addTrack(track);
        this.video = true;
      } catch {
        this.video = false;
      }
    } else {
      for (const track of this.local?.getVideoTracks() || []) {
        track.stop();
        this.local.removeTrack(track);
      }
      this.video = false;
    }
    for (const peer of this.peers.values()) this.addLocalTracks(peer);
    this.onChange();
  }

  setVolume(id, volume) {
    this.volumes.set(id, Math.max(0, Math.min(1, volume)));
    this.applyFloor();
  }

  // Peers, with the "perfect negotiation" pattern: the peer with the larger id is polite. To keep
  // the first exchange free of glare (a rollback in the middle of ICE gathering can leave a
  // connection that never gathers), the smaller id makes the first offer; the other side offers
  // only once it has answered, or if no offer has come when its watchdog fires.

  connect(id) {
    this.note("connect", id);
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const peer = {
      id,
      pc,
      polite: this.me > id,
      offersFirst: this.me < id,
      makingOffer: false,
      ignoreOffer: false,
      audio: null,
      video: null,
      audible: this.mayTalk(id),
      state: "new",
      restarts: 0,
      senders: new Map(),
      pendingCandidates: [],
      watchdog: null,
    };
    this.peers.set(id, peer);
    pc.onnegotiationneeded = async () => {
      if (!peer.offersFirst && !pc.remoteDescription) {
        this.note("wait", id);
        return; // the other side's offer is on its way
      }
      try {
        peer.makingOffer = true;
        await pc.setLocalDescription();
        // In a glare the implicit description may be an answer: send it as what it is.
        const kind = pc.localDescription.type === "answer" ? "rtc.answer" : "rtc.offer";
        this.note("send", kind, id, pc.signalingState);
        this.send({ type: kind, to: id, sdp: pc.localDescription.sdp });
      } catch {
        // a failed offer is retried by the next negotiationneeded event
      } finally {
        peer.makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      this.note("candidate", id, Boolean(candidate));
      if (candidate) this.send({ type: "rtc.ice", to: id, candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track, streams }) => {
      const stream = streams[0] || new MediaStream([track]);
      if (track.kind === "audio") {
        peer.audio ??= new Audio();
        peer.audio.autoplay = true;
        peer.audio.srcObject = stream;
        peer.audio.muted = !peer.audible;
        peer.audio.play().catch(() => {});
        peer.stream = stream;
        this.watchLevel(id, stream);
      } else {
        peer.videoStream = stream;
        // A camera turned off elsewhere stops sending frames: the tile goes until it sends again.
        track.addEventListener("mute", () => this.onChange());
        track.addEventListener("unmute", () => this.onChange());
        track.addEventListener("ended", () => this.onChange());
      }
      this.onChange();
    };
    pc.onicegatheringstatechange = () => this.note("gathering", id, pc.iceGatheringState);
    pc.onconnectionstatechange = () => {
      peer.state = pc.connectionState;
      this.note("connection", id, pc.connectionState);
      if (pc.connectionState === "failed" && peer.restarts < 5) {
        peer.restarts += 1;
        pc.restartIce();
      }
      if (pc.connectionState === "connected") {
        peer.restarts = 0;
        clearTimeout(peer.watchdog);
      } else {
        this.watchdog(peer);
      }
      this.onChange();
    };
    pc.onsignalingstatechange = () => {
      if (pc.signalingState === "stable" && pc.connectionState !== "connected") this.watchdog(peer);
    };
    this.addLocalTracks(peer);
    if (!this.local || this.listenOnly) {
      // Listen-only: still receive audio.
      if (!pc.getTransceivers().some((t) => t.receiver.track?.kind === "audio")) {
        pc.addTransceiver("audio", { direction: "recvonly" });
      }
    }
    this.watchdog(peer);
  }

  addLocalTracks(peer) {
    if (!this.local) return;
    for (const track of this.local.getTracks()) {
      if (peer.senders.has(track.id)) continue;
      const sender = peer.pc.addTrack(track, this.local);
      peer.senders.set(track.id, sender);
      const parameters = sender.getParameters();
      parameters.encodings = [{ maxBitrate: track.kind === "audio" ? AUDIO_MAX_BITRATE : VIDEO_MAX_BITRATE }];
      sender.setParameters(parameters).catch(() => {});
    }
    for (const [trackId, sender] of peer.senders) {
      if (!this.local.getTracks().some((t) => t.id === trackId)) {
        peer.pc.removeTrack(sender);
        peer.senders.delete(trackId);
      }
    }
  }

  renegotiateAll() {
    for (const peer of this.peers.values()) this.addLocalTracks(peer);
  }

  async signal(message) {
    // The server relays signals only between admitted participants of this room, so a signal from
    // someone this page has not seen yet (its snapshot is a moment behind) starts their connection.
    if (!this.peers.has(message.from) && this.me !== null) this.connect(message.from);
    const peer = this.peers.get(message.from);
    if (!peer) return;
    // One signal at a time per peer, in the order they came: a candidate must not overtake the
    // description it belongs to.
    peer.chain = (peer.chain || Promise.resolve()).then(() => this.handleSignal(peer, message));
    await peer.chain;
  }

  async handleSignal(peer, message) {
    const pc = peer.pc;
    this.note("receive", message.type, peer.id, pc.signalingState);
    try {
      if (message.type === "rtc.offer" || message.type === "rtc.answer") {
        const description = { type: message.type === "rtc.offer" ? "offer" : "answer", sdp: message.sdp };
        const collision = description.type === "offer" && (peer.makingOffer || pc.signalingState !== "stable");
        peer.ignoreOffer = !peer.polite && collision;
        if (peer.ignoreOffer) return;
        await pc.setRemoteDescription(description);
        await this.retryCandidates(peer);
        if (description.type === "offer") {
          await pc.setLocalDescription();
          const kind = pc.localDescription.type === "offer" ? "rtc.offer" : "rtc.answer";
          this.send({ type: kind, to: peer.id, sdp: pc.localDescription.sdp });
        }
      } else if (message.type === "rtc.ice") {
        try {
          await pc.addIceCandidate(message.candidate);
        } catch {
          // Too early (no description yet) or sent during a glare this side ignored: keep it, and
          // try again after the next description. Dropping it can leave a pair with no candidates.
          peer.pendingCandidates.push(message.candidate);
        }
      }
    } catch (error) {
      // A broken exchange shows as "can't hear" and is retried with an ICE restart.
      this.note("error", message.type, peer.id, String(error));
    }
  }

  async retryCandidates(peer) {
    const waiting = peer.pendingCandidates.splice(0);
    for (const candidate of waiting) {
      try {
        await peer.pc.addIceCandidate(candidate);
      } catch {
        // belongs to a description that was replaced: no longer needed
      }
    }
  }

  // A pair that has not connected some seconds after negotiating restarts ICE: new credentials,
  // new candidates, sent again.
  watchdog(peer) {
    clearTimeout(peer.watchdog);
    peer.watchdog = setTimeout(() => {
      const state = peer.pc.connectionState;
      if (this.peers.get(peer.id) === peer && (state === "new" || state === "connecting" || state === "failed")) {
        if (peer.restarts < 5) {
          peer.restarts += 1;
          peer.offersFirst = true; // no offer came: make one
          peer.pc.restartIce();
        }
        this.watchdog(peer);
      }
    }, 8000);
  }

  drop(id) {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.note("drop", id);
    clearTimeout(peer.watchdog);
    peer.pc.close();
    if (peer.audio) peer.audio.srcObject = null;
    this.peers.delete(id);
    this.levels.delete(id);
  }

  // Levels: speaking indicators, "you are talking while muted", and talking out of turn.

  watchLevel(id, stream) {
    if (!this.context) return;
    try {
      const source = this.context.createMediaStreamSource(stream);
      const analyser = this.context.createAnalyser();
      analyser.fftSize = 2048;
      source.connect(analyser);
      const peer = this.peers.get(id);
      if (peer) peer.analyser = analyser;
    } catch {
      // no analyser: no speaking indicator for this person
    }
  }

  watchLocalLevel() {
    try {
      const source = this.context.createMediaStreamSource(this.local);
      this.localAnalyser = this.context.createAnalyser();
      this.localAnalyser.fftSize = 2048;
      source.connect(this.localAnalyser);
    } catch {
      this.localAnalyser = null;
    }
  }

  static level(analyser) {
    const data = new Uint8Array(analyser.fftSize);
    analyser.getByteTimeDomainData(data);
    let sum = 0;
    for (const value of data) sum += ((value - 128) / 128) ** 2;
    return Math.sqrt(sum / data.length);
  }

  speaking(key, level, now) {
    if (level > SPEAKING_LEVEL) this.loudAt.set(key, now);
    return now - (this.loudAt.get(key) ?? -Infinity) < SPEAKING_HOLD_MS;
  }

  measure() {
    const now = performance.now();
    let changed = false;
    for (const [id, peer] of this.peers) {
      if (!peer.analyser) continue;
      const level = MediaMesh.level(peer.analyser);
      this.levels.set(id, level);
      const speaking = this.speaking(id, level, now);
      if (speaking !== Boolean(peer.speaking)) {
        peer.speaking = speaking;
        changed = true;
      }
      const outOfTurn = speaking && !peer.audible;
      if (outOfTurn !== this.outOfTurn.has(id)) {
        changed = true;
        if (outOfTurn) this.outOfTurn.add(id);
        else this.outOfTurn.delete(id);
      }
    }
    if (this.localAnalyser) {
      this.localLevel = MediaMesh.level(this.localAnalyser);
      const speaking = this.speaking("me", this.localLevel, now);
      if (speaking !== this.localSpeaking) {
        this.localSpeaking = speaking;
        changed = true;
      }
    }
    if (changed) this.onChange();
  }

  // The video to show for a person (this page's own camera for `me`), or null when there is none.
  videoOf(id) {
    const stream = id === this.me ? this.local : this.peers.get(id)?.videoStream;
    const live = stream?.getVideoTracks().some((track) => track.readyState === "live" && (id === this.me || !track.muted));
    return live ? stream : null;
  }

  status() {
    const talkingWhileMuted = Boolean(this.local) && this.muted && Boolean(this.localSpeaking);
    return {
      started: Boolean(this.started),
      micDenied: this.micDenied,
      listenOnly: this.listenOnly,
      muted: this.muted,
      video: this.video,
      mayTalk: this.mayTalk(this.me),
      talkingWhileMuted,
      peers: [...this.peers.values()].map((peer) => ({
        id: peer.id,
        state: peer.state,
        audible: peer.audible,
        speaking: Boolean(peer.speaking),
        outOfTurn: this.outOfTurn.has(peer.id),
        volume: this.volumes.get(peer.id) ?? 1,
      })),
    };
  }

  // Let go of every connection, the microphone and the camera, but stay ready to start again.
  release() {
    for (const id of [...this.peers.keys()]) this.drop(id);
    for (const track of this.local?.getTracks() || []) track.stop();
    this.local = null;
    this.localAnalyser = null;
    this.localSpeaking = false;
    this.started = false;
    this.listenOnly = true;
    this.muted = true;
    this.video = false;
    this.onChange();
  }

  close() {
    clearInterval(this.levelTimer);
    for (const id of [...this.peers.keys()]) this.drop(id);
    for (const track of this.local?.getTracks() || []) track.stop();
    this.local = null;
  }
}
