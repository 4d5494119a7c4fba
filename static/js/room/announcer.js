// One polite live region for the room. Messages are debounced so that a screen reader hears the
// latest news once, not a flood: a newer message replaces one still waiting to be spoken.

export class Announcer {
  constructor(region, delayMs = 500) {
    this.region = region;
    this.delayMs = delayMs;
    this.timer = null;
    this.last = "";
  }

  say(text) {
    if (!text || text === this.last) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.last = text;
      this.region.textContent = text;
    }, this.delayMs);
  }
}
