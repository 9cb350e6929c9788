// Step mode's clock: the phases of a trace played one after another, each a time-based animation driven
// by requestAnimationFrame (progress p from 0 to 1), with next / previous / replay, a speed factor and
// auto-play. The timeline knows nothing about drawing: it calls render(index, p) and phase(index).

/** How long each kind of phase lasts at speed 1, in ms. */
export const DURATIONS = Object.freeze({ forward: 700, cost: 700, backward: 1000, gradient: 600, update: 800 });

/** The step-mode animation clock (see the module comment). */
export class Timeline {
  /**
   * @param {{render: (index: number, p: number) => void, phase: (index: number) => void,
   *          ended?: () => void, now?: () => number, frame?: (cb: FrameRequestCallback) => number,
   *          cancel?: (id: number) => void}} hooks
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.now = hooks.now || (() => performance.now());
    this.frame = hooks.frame || ((cb) => requestAnimationFrame(cb));
    this.cancel = hooks.cancel || ((id) => cancelAnimationFrame(id));
    /** @type {{phase: string}[]} */
    this.phases = [];
    this.index = -1;
    this.p = 1;
    this.speed = 1;
    this.autoplay = true;
    this.running = false;
    this.raf = 0;
    this.last = 0;
  }

  /**
   * Start a new trace at its first phase (playing when auto-play is on, else showing phase 0 complete
   * once it has animated in).
   * @param {{phase: string}[]} phases
   */
  load(phases) {
    this.phases = phases;
    this.goto(0, 0);
    this.run();
  }

  /**
   * Show a new trace already at its end (no animation).
   * @param {{phase: string}[]} phases
   */
  show(phases) {
    this.phases = phases;
    this.stop();
    this.goto(phases.length - 1, 1);
  }

  /** Whether the last phase has been shown completely. */
  get done() {
    return this.loaded && this.index >= this.phases.length - 1 && this.p >= 1;
  }

  /** Whether there is a trace at all. */
  get loaded() {
    return this.phases.length > 0;
  }

  /** Finish the current phase, or animate the next one; a manual step stops auto-play's run. */
  next() {
    if (!this.loaded) return;
    this.stop();
    if (this.p < 1) {
      this.goto(this.index, 1);
    } else if (this.index < this.phases.length - 1) {
      this.goto(this.index + 1, 0);
      this.run(true);
    }
  }

  /** Show the previous phase, complete (no animation). */
  prev() {
    if (!this.loaded) return;
    this.stop();
    this.goto(Math.max(0, this.index - 1), 1);
  }

  /** Play the whole trace again from its first phase. */
  replay() {
    if (!this.loaded) return;
    this.goto(0, 0);
    this.run();
  }

  /** @param {number} s the speed factor (0.25 … 4) */
  setSpeed(s) {
    this.speed = Math.min(8, Math.max(0.1, s));
  }

  /** @param {boolean} on play the phases one after another */
  setAutoplay(on) {
    this.autoplay = on;
    if (on && this.loaded && !this.done) this.run();
  }

  /** Stop animating (the current picture stays). */
  stop() {
    this.running = false;
    this.cancel(this.raf);
  }

  /** Forget the trace. */
  clear() {
    this.stop();
    this.phases = [];
    this.index = -1;
    this.p = 1;
  }

  goto(index, p) {
    const changed = index !== this.index;
    this.index = index;
    this.p = p;
    if (changed) this.hooks.phase(index);
    this.hooks.render(index, p);
  }

  /** @param {boolean} [single] animate only the current phase */
  run(single = false) {
    this.single = single || !this.autoplay;
    if (this.running) return;
    this.running = true;
    this.last = this.now();
    const tick = () => {
      if (!this.running) return;
      const now = this.now();
      const dt = Math.min(100, now - this.last);
      this.last = now;
      const dur = DURATIONS[this.phases[this.index].phase] || 900;
      let p = this.p + (dt * this.speed) / dur;
      if (p >= 1) {
        p = 1;
        this.goto(this.index, 1);
        if (this.single || this.index >= this.phases.length - 1) {
          this.running = false;
          if (this.index >= this.phases.length - 1 && this.hooks.ended) this.hooks.ended();
          return;
        }
        this.goto(this.index + 1, 0);
      } else {
        this.goto(this.index, p);
      }
      this.raf = this.frame(tick);
    };
    this.raf = this.frame(tick);
  }
}
