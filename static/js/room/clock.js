// The server's clock, estimated from ping round trips. Samples with the smallest round trip are
// the most trustworthy, so the offset is the median of the best few.

export class ServerClock {
  constructor() {
    this.samples = [];
    this.offset = 0;
  }

  sample(sentAt, serverNow, receivedAt = Date.now()) {
    const rtt = receivedAt - sentAt;
    if (rtt < 0) return;
    this.samples.push({ rtt, offset: serverNow + rtt / 2 - receivedAt });
    if (this.samples.length > 20) this.samples.shift();
    const best = [...this.samples].sort((a, b) => a.rtt - b.rtt).slice(0, 5);
    const offsets = best.map((s) => s.offset).sort((a, b) => a - b);
    this.offset = offsets[Math.floor(offsets.length / 2)];
  }

  // Adopt the snapshot's server_now until pings have measured better.
  seed(serverNowIso) {
    if (this.samples.length === 0 && serverNowIso) {
      this.offset = Date.parse(serverNowIso) - Date.now();
    }
  }

  now() {
    return Date.now() + this.offset;
  }
}
