// Gentle audio cues, made on the device with the Web Audio API (nothing is downloaded).
// Each cue is a soft sine tone with a slow attack and release; volume follows the person's choice.
// Every cue is also announced as a DOM event, "attunement:cue", which tests and add-ons can observe.

const CUES = {
  "turn-soon": [523.25],
  "turn-now": [523.25, 659.25],
  "thirty-seconds": [587.33],
  "time-up": [659.25, 523.25],
  resonated: [880],
};

export class Cues {
  constructor({ enabled, volume }) {
    this.enabled = enabled;
    this.volume = Math.max(0, Math.min(100, volume)) / 100;
    this.context = null;
  }

  play(name) {
    document.dispatchEvent(new CustomEvent("attunement:cue", { detail: { cue: name, sounded: this.enabled } }));
    if (!this.enabled || this.volume === 0 || !CUES[name]) return;
    try {
      this.context ??= new AudioContext();
    } catch {
      return;
    }
    const start = this.context.currentTime;
    CUES[name].forEach((frequency, index) => {
      const oscillator = this.context.createOscillator();
      const gain = this.context.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = frequency;
      const at = start + index * 0.35;
      gain.gain.setValueAtTime(0, at);
      gain.gain.linearRampToValueAtTime(0.18 * this.volume, at + 0.08);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.9);
      oscillator.connect(gain).connect(this.context.destination);
      oscillator.start(at);
      oscillator.stop(at + 1);
    });
  }
}
