/**
 * A schedule as a Chrome/Perfetto trace-event file (the JSON "Trace Event
 * Format" that ui.perfetto.dev and chrome://tracing open).
 *
 *  - One process; one thread track per CPU (`cpu0`, `cpu1`…) holding the
 *    CPU's contexts as nested B/E slices: the current task, a softirq batch
 *    (`softirq` or `ksoftirqd/N`) with a slice per vector handler inside it
 *    (`NET_RX`) and per callback inside that (`tasklet rx`, `timer t`), a
 *    hardirq (`hardirq eth0`). Each step is an instant event on
 *    the acting CPU's track, named by what it did.
 *  - One track per lock (`lock &A`) with a slice per hold, named by the
 *    holder, and a slice per wait (`task mover1 spins`). Holds that overlap
 *    (readers, a waiter beside the holder) go to further lanes of the same
 *    lock (`lock &L (2)`), so every track nests properly.
 *  - The violation is an instant event on its CPU's track after the last
 *    step; everything still open (the deadlocked contexts) is closed one
 *    quantum later.
 *
 * Time is the step index times STEP_QUANTUM_US: step i's effects happen at
 * i quanta, its instant half a quantum before. The same input gives the
 * same object, and the same JSON string, every time.
 */
import type { Program } from '../kernel/program.ts';
import { observeSchedule, type CpuView, type FrameView } from './observe.ts';

/** Microseconds (the format's unit) per step. */
export const STEP_QUANTUM_US = 10;
/** The one process id. */
export const TRACE_PID = 1;
/** Thread id of cpu N's track; lock lanes come after every CPU. */
const CPU_TID_BASE = 10;
const LOCK_TID_BASE = 1000;
/** Lanes per lock before tids of the next lock begin. */
const LANES_PER_LOCK = 64;

export interface TraceEvent {
  readonly name: string;
  readonly ph: 'B' | 'E' | 'i' | 'M';
  readonly ts: number;
  readonly pid: number;
  readonly tid: number;
  readonly cat?: string;
  /** Scope of an instant event: thread. */
  readonly s?: 't';
  readonly args?: Readonly<Record<string, string | number>>;
}

export interface PerfettoTrace {
  readonly traceEvents: readonly TraceEvent[];
  readonly displayTimeUnit: 'ns';
  readonly otherData: Readonly<Record<string, string>>;
}

/** The tid of cpu `cpu`'s track. */
export const cpuTid = (cpu: number): number => CPU_TID_BASE + cpu;

interface OpenSlice {
  readonly key: string;
  readonly name: string;
}

/** A slice of a CPU track: a context frame, or the vector handler inside a softirq frame. */
interface CpuSlice extends OpenSlice {
  readonly args: Record<string, string | number>;
}

class TraceBuilder {
  readonly events: TraceEvent[] = [];
  readonly p: Program;
  /** Per CPU, the slices open on its track, outermost first. */
  readonly cpuOpen: OpenSlice[][];
  /** Per lock, its lanes: the slice open on each, or null. */
  readonly lanes: (OpenSlice | null)[][];
  /** What runs in a frame (its vector, its callback) and how many runs began, to tell two runs apart. */
  readonly runs = new Map<string, { running: string | null; serial: number }>();

  constructor(p: Program) {
    this.p = p;
    this.cpuOpen = Array.from({ length: p.ncpu }, () => []);
    this.lanes = p.locks.map(() => []);
    this.meta('process_name', 0, { name: `kdefer ${p.design.name}` });
    for (let cpu = 0; cpu < p.ncpu; cpu++) {
      this.meta('thread_name', cpuTid(cpu), { name: `cpu${cpu}` });
      this.meta('thread_sort_index', cpuTid(cpu), { sort_index: cpu });
    }
  }

  meta(name: string, tid: number, args: Record<string, string | number>): void {
    this.events.push({ name, ph: 'M', ts: 0, pid: TRACE_PID, tid, args });
  }

  // ---------------------------------------------------------- CPU tracks

  /** The serial of the run of `running` under `key`: bumped each time something starts running there. */
  serial(key: string, running: string | null): number {
    const run = this.runs.get(key) ?? { running: null, serial: 0 };
    const serial = running !== null && run.running !== running ? run.serial + 1 : run.serial;
    this.runs.set(key, { running, serial });
    return serial;
  }

  /** The slices a CPU's stack stands for, outermost first. */
  cpuSlices(c: CpuView): CpuSlice[] {
    const out: CpuSlice[] = [];
    for (const f of c.stack) {
      out.push({ key: f.key, name: f.base, args: { context: f.base, kind: f.kind } });
      // A new run of a vector or a callback is a new slice even if its name repeats.
      const vector = this.serial(`${f.key}/vector`, f.vector);
      const callback = this.serial(`${f.key}/callback`, f.callback);
      if (f.vector !== null) out.push({ key: `${f.key}/${f.vector}#${vector}`, name: f.vector, args: { context: f.name, vector: f.vector } });
      if (f.callback !== null) {
        out.push({ key: `${f.key}/${f.vector}#${vector}/${f.callback}#${callback}`, name: f.callback, args: { context: f.name, callback: f.callback } });
      }
    }
    return out;
  }

  /** Close what a CPU no longer runs and open what it now runs, at `ts`. */
  syncCpu(c: CpuView, ts: number): void {
    const open = this.cpuOpen[c.cpu]!;
    const want = this.cpuSlices(c);
    let common = 0;
    while (common < open.length && common < want.length && open[common]!.key === want[common]!.key) common++;
    const tid = cpuTid(c.cpu);
    for (let i = open.length - 1; i >= common; i--) this.events.push({ name: open[i]!.name, ph: 'E', ts, pid: TRACE_PID, tid });
    open.length = common;
    for (let i = common; i < want.length; i++) {
      const w = want[i]!;
      this.events.push({ name: w.name, ph: 'B', ts, pid: TRACE_PID, tid, cat: 'context', args: { ...w.args, cpu: c.cpu } });
      open.push({ key: w.key, name: w.name });
    }
  }

  // ---------------------------------------------------------- lock tracks

  laneTid(lock: number, lane: number): number {
    return LOCK_TID_BASE + lock * LANES_PER_LOCK + lane;
  }

  /** Open a slice on the first free lane of `lock`, naming the lane's track when it is first used. */
  openLock(lock: number, key: string, name: string, ts: number, args: Record<string, string | number>): void {
    const lanes = this.lanes[lock]!;
    let lane = lanes.indexOf(null);
    if (lane < 0) {
      lane = lanes.length;
      if (lane >= LANES_PER_LOCK) throw new Error(`kdefer internal error: more than ${LANES_PER_LOCK} overlapping holds of one lock`);
      lanes.push(null);
      const tid = this.laneTid(lock, lane);
      const title = `lock &${this.p.locks[lock]!.name}${lane === 0 ? '' : ` (${lane + 1})`}`;
      this.meta('thread_name', tid, { name: title });
      this.meta('thread_sort_index', tid, { sort_index: 1000 + lock * LANES_PER_LOCK + lane });
    }
    lanes[lane] = { key, name };
    this.events.push({ name, ph: 'B', ts, pid: TRACE_PID, tid: this.laneTid(lock, lane), cat: 'lock', args });
  }

  /** Close the most recently opened slice of `lock` with `key`; false if none is open. */
  closeLock(lock: number, key: string, ts: number): boolean {
    const lanes = this.lanes[lock]!;
    for (let lane = lanes.length - 1; lane >= 0; lane--) {
      const open = lanes[lane];
      if (open && open.key === key) {
        this.events.push({ name: open.name, ph: 'E', ts, pid: TRACE_PID, tid: this.laneTid(lock, lane) });
        lanes[lane] = null;
        return true;
      }
    }
    return false;
  }

  /** Every wait (context, lock) visible in the CPU views. */
  static waits(cpus: readonly CpuView[]): Map<string, { frame: FrameView; cpu: number }> {
    const out = new Map<string, { frame: FrameView; cpu: number }>();
    for (const c of cpus) {
      for (const f of [...c.stack, ...c.asleep]) {
        if (f.waiting) out.set(`wait:${f.ctx}:${f.waiting.lock}`, { frame: f, cpu: c.cpu });
      }
    }
    return out;
  }

  // ---------------------------------------------------------- the end

  closeAll(ts: number): void {
    for (let cpu = 0; cpu < this.cpuOpen.length; cpu++) {
      const open = this.cpuOpen[cpu]!;
      for (let i = open.length - 1; i >= 0; i--) this.events.push({ name: open[i]!.name, ph: 'E', ts, pid: TRACE_PID, tid: cpuTid(cpu) });
      open.length = 0;
    }
    this.lanes.forEach((lanes, lock) => {
      lanes.forEach((open, lane) => {
        if (open) this.events.push({ name: open.name, ph: 'E', ts, pid: TRACE_PID, tid: this.laneTid(lock, lane) });
        lanes[lane] = null;
      });
    });
  }
}

/**
 * The Chrome/Perfetto trace of `choices` replayed on `p`. Deterministic;
 * never throws for a schedule that does not fit the model (an instant event
 * says where it stops).
 */
export function perfettoTrace(p: Program, choices: readonly number[]): PerfettoTrace {
  const view = observeSchedule(p, choices);
  const b = new TraceBuilder(p);
  const Q = STEP_QUANTUM_US;
  for (const c of view.initial) b.syncCpu(c, 0);
  let waits = TraceBuilder.waits(view.initial);

  for (const st of view.steps) {
    const ts = st.index * Q;
    b.events.push({
      name: st.actor ? st.action : `» ${st.action}`,
      ph: 'i', s: 't', ts: ts - Q / 2, pid: TRACE_PID, tid: cpuTid(st.cpu), cat: 'step',
      args: { step: st.index, label: st.label, choice: st.choice },
    });
    // Waits that ended, holds released, then CPU stacks, then holds taken and waits begun.
    const now = TraceBuilder.waits(st.cpus);
    for (const [key, w] of waits) if (!now.has(key)) b.closeLock(w.frame.waiting!.lock, key, ts);
    for (const e of st.events) if (e.kind === 'release') b.closeLock(e.lock, `hold:${e.ctx}`, ts);
    for (const c of st.cpus) b.syncCpu(c, ts);
    for (const e of st.events) {
      if (e.kind !== 'acquire') continue;
      const holder = st.cpus.flatMap((c) => [...c.stack, ...c.asleep]).find((f) => f.ctx === e.ctx);
      const who = holder?.name ?? `context ${e.ctx}`;
      b.openLock(e.lock, `hold:${e.ctx}`, e.read ? `${who} (read)` : who, ts, { holder: who, mode: e.read ? 'read' : 'exclusive', cpu: e.cpu, step: st.index });
    }
    for (const [key, w] of now) {
      if (waits.has(key)) continue;
      const how = w.frame.waiting!;
      b.openLock(how.lock, key, `${w.frame.name} ${how.how}`, ts, { waiter: w.frame.name, how: how.how, mode: how.read ? 'read' : 'exclusive', cpu: w.cpu, step: st.index });
    }
    waits = now;
  }

  const end = view.steps.length * Q;
  if (view.mismatch) {
    b.events.push({
      name: `schedule does not replay at step ${view.mismatch.step + 1}`, ph: 'i', s: 't', ts: end + Q / 2, pid: TRACE_PID, tid: cpuTid(0), cat: 'violation',
      args: { problem: view.mismatch.problem },
    });
  }
  const v = view.violation;
  if (v) {
    b.events.push({
      name: `${v.kind}: ${v.message.split('\n')[0]}`, ph: 'i', s: 't', ts: end + Q / 2, pid: TRACE_PID, tid: cpuTid(v.cpu), cat: 'violation',
      args: { kind: v.kind, context: v.context, message: v.message },
    });
  }
  b.closeAll(end + Q);
  return {
    traceEvents: b.events,
    displayTimeUnit: 'ns',
    otherData: {
      design: p.design.name,
      fingerprint: p.fingerprint,
      steps: String(view.steps.length),
      ...(v ? { violation: v.kind } : {}),
    },
  };
}
