// The FPS and inference-time readouts' numbers.

/** Frames per second over the last second or so, and a smoothed inference time. */
export class FrameStats {
  /**
   * @param {(fps: number|null, inferenceMs: number|null) => void} show  the readouts
   * @param {() => number} [now]  the clock, in ms (injectable for tests)
   */
  constructor(show, now = () => performance.now()) {
    this.show = show;
    this.now = now;
    this.windowStart = 0;
    this.frames = 0;
    this.fps = null;
    this.inferenceMs = null;
  }

  record(inferenceMs) {
    const now = this.now();
    if (this.frames === 0) this.windowStart = now;
    this.frames += 1;
    if (now - this.windowStart >= 1000) {
      this.fps = ((this.frames - 1) * 1000) / (now - this.windowStart);
      this.frames = 1;
      this.windowStart = now;
    }
    this.inferenceMs = this.inferenceMs === null ? inferenceMs : 0.8 * this.inferenceMs + 0.2 * inferenceMs;
    this.show(this.fps, this.inferenceMs);
  }

  reset() {
    this.frames = 0;
    this.fps = null;
    this.show(null, this.inferenceMs);
  }
}
