/**
 * The progress line of `kdefer check` on a terminal: one line on stderr,
 * rewritten in place about twice a second, with the design, the phase
 * (search, or shortening a violation's schedule), states, states per
 * second, depth, the process's memory and the time elapsed. Quiet when
 * stderr is not a terminal (a pipe, a CI log) and under --json; erased
 * before anything else is printed.
 */
import type { CheckProgress } from '../../model/index.ts';
import { bytesText } from '../../model/explore/bytes.ts';

/** Where the line goes: stderr, or a stand-in in tests. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** Milliseconds between two updates of the line. */
export const PROGRESS_INTERVAL_MS = 500;

export class ProgressLine {
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly memory: () => number;
  private shown = false;
  private lastAt = -Infinity;
  private design = '';
  private phase: CheckProgress['phase'] = 'search';
  private phaseStart = 0;
  private designStart = 0;

  constructor(stream: ProgressStream, now: () => number = () => performance.now(), memory: () => number = () => process.memoryUsage.rss()) {
    this.stream = stream;
    this.now = now;
    this.memory = memory;
  }

  /** Whether a line should show on `stream` at all: a terminal, and not --json. */
  static wanted(stream: ProgressStream, json: boolean): boolean {
    return !json && stream.isTTY === true;
  }

  /** A new design starts. */
  start(design: string): void {
    this.design = design;
    this.designStart = this.now();
    this.phase = 'search';
    this.phaseStart = this.designStart;
  }

  /** The search's counters; the line is rewritten if PROGRESS_INTERVAL_MS has passed. */
  update(p: CheckProgress): void {
    const now = this.now();
    if (p.phase !== this.phase) {
      this.phase = p.phase;
      this.phaseStart = now;
    }
    if (now - this.lastAt < PROGRESS_INTERVAL_MS) return;
    this.lastAt = now;
    const seconds = (now - this.phaseStart) / 1000;
    const rate = seconds > 0 ? Math.round(p.states / seconds) : 0;
    const line = `${this.design}: ${p.phase === 'search' ? 'searching' : p.phase === 'shortening' ? 'shortening the schedule' : "sweeping the rest for lockdep's prediction"}: ` +
      `${p.states.toLocaleString('en-US')} states, ${rate.toLocaleString('en-US')} states/s, depth ${p.depth}, ` +
      `memory ${bytesText(this.memory())}, ${((now - this.designStart) / 1000).toFixed(1)} s`;
    this.stream.write(`\r\x1b[2K${line}`);
    this.shown = true;
  }

  /** Erase the line (before a report is printed, and at the end). */
  clear(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[2K');
    this.shown = false;
    this.lastAt = -Infinity;
  }
}
