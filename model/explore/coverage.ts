/**
 * Coverage for guided random search (guided.ts): a coarse abstract state,
 * hashed to 32 bits. Two states with the same abstraction look alike to a
 * kernel developer reading a lockdep report: the same contexts stacked on
 * each CPU (task, softirq or ksoftirqd, hardirq of which line), the same
 * locks held by the same contexts (and rwlock readers and waiting writers),
 * the same softirqs pending and ksoftirqd woken, the same tasks running,
 * asleep or done, and as much left to come: the same interrupts left in
 * each line's budget, the same jiffies. Program counters, registers, variables and object states
 * are left out on purpose: coverage counts situations, not steps, so a run
 * is "interesting" when it puts the kernel in a situation no earlier run did
 * (a kworker holding dev->lock with the dev hardirq stacked above it).
 */
import {
  C_CURTASK, C_DEPTH, C_IRQS_OFF, C_KSOFTIRQD, C_PENDING, H_JIFFIES, I_BUDGET, L_OWNER, L_READERS, LOCK_SIZE,
  X_CALLS, X_CPU, X_HELD, X_ID, X_KIND, X_PC, X_STATUS,
} from '../kernel/layout.ts';
import type { Machine } from '../kernel/machine.ts';
import { INSN_WIDTH } from '../kernel/program.ts';
import { CHOICE_RUN, choiceArg, choiceCpu, choiceKind } from '../kernel/semantics.ts';
import { StaticFootprints } from './por.ts';
import { mix32 } from './random-stream.ts';

const step = (h: number, x: number): number => mix32(h ^ Math.imul(x + 0x9e3779b9, 0x01000193));

/** The coarse abstract state of `s`, as a 32-bit hash. */
export function abstractState(m: Machine, s: Int32Array): number {
  const L = m.L;
  let h = step(0x811c9dc5, s[H_JIFFIES]!);
  for (let l = 0; l < m.p.irqs.length; l++) h = step(h, s[m.irqOff(l) + I_BUDGET]!);
  for (let cpu = 0; cpu < L.ncpu; cpu++) {
    const co = m.cpuOff(cpu);
    const depth = s[co + C_DEPTH]!;
    h = step(h, s[co + C_CURTASK]!);
    h = step(h, depth | (s[co + C_IRQS_OFF]! << 8) | (s[co + C_KSOFTIRQD]! << 9) | (s[co + C_PENDING]! << 10));
    for (let d = 0; d < depth; d++) {
      const o = m.ctxOff(m.frameCtx(cpu, d));
      h = step(h, s[o + X_KIND]! | (s[o + X_ID]! << 4));
      h = step(h, s[o + X_HELD]!);
    }
  }
  for (let t = 0; t < L.ntasks; t++) {
    const o = m.ctxOff(t);
    h = step(h, s[o + X_STATUS]! | (s[o + X_CPU]! << 4));
    h = step(h, s[o + X_HELD]!);
  }
  const locks = m.p.locks.length * LOCK_SIZE;
  for (let i = 0; i < locks; i++) h = step(h, s[L.lockBase + i]!);
  return h;
}

/** Bit l set: lock l is held by someone (an owner, or readers). */
export function heldLocks(m: Machine, s: Int32Array): number {
  let mask = 0;
  for (let l = 0; l < m.p.locks.length; l++) {
    const o = m.lockOff(l);
    if (s[o + L_OWNER] !== 0 || s[o + L_READERS]! > 0) mask |= 1 << l;
  }
  return mask;
}

/**
 * A hazard: an event (an interrupt, a tick, a preemption…) can hit a CPU
 * while a lock is held, here or on another CPU. Its kind, as a 32-bit hash:
 * where the event strikes (the running context, its place in the code, the
 * locks it holds), which locks are held anywhere, and which event (source
 * and line, whatever the CPU). An interrupt inside a critical section, or
 * on top of something a lock holder elsewhere waits for, is where most
 * deferred-work bugs show (its handler, or the softirqs of its irq_exit,
 * meeting the lock); the guided strategy keeps the first schedule that met
 * each kind of hazard and strikes there. Null if `choice` is no hazard;
 * `held` is heldLocks() of the current state.
 */
export function hazardKind(m: Machine, choice: number, held: number): number | null {
  const kind = choiceKind(choice);
  if (kind === CHOICE_RUN || held === 0) return null;
  const top = m.top(choiceCpu(choice));
  if (top < 0) return null;
  const o = m.ctxOff(top);
  const s = m.s;
  let h = step(0x2545f491, s[o + X_KIND]! | (s[o + X_ID]! << 4) | (s[o + X_CALLS]! << 20));
  h = step(h, s[o + X_PC]!);
  h = step(h, s[o + X_HELD]!);
  h = step(h, held);
  return step(h, kind | (choiceArg(choice) << 4));
}

/**
 * Tests and writes, for the race strikes of guided search (guided.ts): a
 * run notes each instruction that *tests* a word of the design's data (a
 * variable, a per-CPU variable, a queue, an object) in a lock section,
 * with the locks its context holds, and each instruction that writes one,
 * with the locks its context holds. A test of x under lock L and a write of
 * x without L (seen in the same run or in different ones) make a *race
 * pair*, Eraser's inconsistent lockset (Savage et al., SOSP 1997) on a
 * datum the section decides on: if the write lands between the test and
 * the end of the section, the section acts on a value that is no longer
 * there (AVIO's unserializable read-write-(read|write) interleavings: Lu,
 * Tucek, Qin, Zhou, ASPLOS 2006). tcp_v4_rcv tests tp->ucopy.task under
 * slock and prequeues on the strength of it; the reader clears it without
 * slock. Whether the write does land there is a matter of timing that
 * random schedules rarely get right, so a race strike makes it happen
 * (RaceFuzzer: Sen, PLDI 2008): it holds one side back until the other
 * arrives.
 *
 * What an instruction tests is its static footprint's reads
 * (model/explore/por.ts StaticFootprints) less its writes (a
 * read-modify-write is one step: nothing can come between), and less the
 * items of `always` invariants that por.ts adds to any writer of one. An
 * operation without a declared footprint tests nothing here (its writes
 * still count). What a step writes is what it changed (the machine's
 * write log): writing the value already there is no write.
 */
export class AccessWatch {
  private readonly footprints: StaticFootprints;
  /** Per data word of the state vector: its data item (footprint item − dataFrom: a variable, a per-CPU value, a queue, an object), or −1. */
  private readonly itemOf: Int32Array;
  private readonly base: number;
  private readonly dataFrom: number;
  private readonly ndata: number;
  private readonly ninsn: number;
  /** Per (instruction, cpu, task): the data items it tests, or null if it has no declared footprint; filled as met. */
  private readonly tests: (Int32Array | null | undefined)[] = [];
  /** Per (test or write, instruction, data item): the run that noted it last, and the locks it held then. */
  private readonly noted: Int32Array;
  private readonly notedHeld: Int32Array;
  private run = 0;
  private readonly written: number[] = [];

  constructor(private readonly m: Machine) {
    const p = m.p;
    const L = m.L;
    this.footprints = new StaticFootprints(p);
    const items = this.footprints.items;
    this.dataFrom = items.dataFrom;
    this.ndata = items.dataTo - items.dataFrom;
    this.base = L.varBase;
    this.itemOf = new Int32Array(L.size - L.varBase).fill(-1);
    const data = (item: number): number => item - items.dataFrom;
    for (let v = 0; v < p.vars.length; v++) this.itemOf[v] = data(items.variable(v));
    for (let v = 0; v < p.percpu.length; v++) for (let c = 0; c < p.ncpu; c++) this.itemOf[L.percpuBase - L.varBase + v * p.ncpu + c] = data(items.perCpu(v, c));
    p.queues.forEach((q, i) => this.itemOf.fill(data(items.queue(i)), L.queueBase[i]! - L.varBase, L.queueBase[i]! - L.varBase + 1 + q.capacity));
    for (const [kind, list] of Object.entries(p.objects)) {
      let off = L.objBase[kind]! - L.varBase;
      list.forEach((obj, id) => {
        this.itemOf.fill(data(items.object(kind, id)), off, off + obj.init.length);
        off += obj.init.length;
      });
    }
    this.ninsn = p.code.length / INSN_WIDTH;
    this.noted = new Int32Array(2 * this.ninsn * this.ndata);
    this.notedHeld = new Int32Array(2 * this.ninsn * this.ndata);
  }

  /** A new run starts: what earlier runs noted is noted again. */
  reset(): void {
    this.run++;
  }

  /**
   * The step `choice` has just been taken from `before` to `m.s` (its writes
   * still in the machine's write log): add to `out` the tests and writes
   * it made that this run has not made before.
   */
  observe(before: Int32Array, choice: number, out: Access[]): void {
    if (choiceKind(choice) !== CHOICE_RUN) return;
    const m = this.m;
    const s = m.s;
    const cpu = choiceCpu(choice);
    m.s = before;
    const ctx = m.top(cpu);
    m.s = s;
    const o = m.ctxOff(ctx);
    const pc = before[o + X_PC]!;
    const heldAfter = s[o + X_HELD]!;
    if (heldAfter !== 0) {
      const tested = this.testsOf(pc, cpu, m.isTask(ctx) ? ctx : -1);
      if (tested !== null) for (const item of tested) this.note(out, false, pc, item, heldAfter);
    }
    const written = this.written;
    written.length = 0;
    m.writtenSince(0, written);
    const held = before[o + X_HELD]! | heldAfter;
    for (const off of written) {
      if (off < this.base) continue;
      const item = this.itemOf[off - this.base]!;
      if (item >= 0) this.note(out, true, pc, item, held);
    }
  }

  /** The data items the instruction at `pc` tests, run on `cpu` by `task` (−1: a frame). */
  private testsOf(pc: number, cpu: number, task: number): Int32Array | null {
    const p = this.m.p;
    const key = ((pc / INSN_WIDTH) * p.ncpu + cpu) * (p.tasks.length + 1) + task + 1;
    let tested = this.tests[key];
    if (tested !== undefined) return tested;
    const fp = this.footprints.insn(pc, cpu, task);
    if (fp.all) {
      tested = null;
    } else {
      // por.ts makes a writer of what an `always` invariant reads read all of it: that is no test.
      const inv = this.footprints.invariantItems;
      const inflated = fp.w.some((w, i) => (w & inv[i]!) !== 0);
      const items: number[] = [];
      for (let item = this.dataFrom; item < this.dataFrom + this.ndata; item++) {
        const w = item >>> 5;
        const bit = 1 << (item & 31);
        if ((fp.r[w]! & bit) !== 0 && (fp.w[w]! & bit) === 0 && !(inflated && (inv[w]! & bit) !== 0)) items.push(item - this.dataFrom);
      }
      tested = Int32Array.from(items);
    }
    this.tests[key] = tested;
    return tested;
  }

  private note(out: Access[], write: boolean, pc: number, item: number, held: number): void {
    const at = ((write ? this.ninsn : 0) + pc / INSN_WIDTH) * this.ndata + item;
    if (this.noted[at] === this.run && this.notedHeld[at] === held) return;
    this.noted[at] = this.run;
    this.notedHeld[at] = held;
    out.push({ write, pc, item, held });
  }
}

/**
 * A test (a pure read in a lock section) or a write of a data item (an
 * index among the design's data: variables, per-CPU values, queues,
 * objects), at the instruction at `pc`, holding locks `held` (a bit per
 * lock).
 */
export interface Access {
  readonly write: boolean;
  readonly pc: number;
  readonly item: number;
  readonly held: number;
}

/** A 32-bit hash of an access. */
export function accessKey(a: Access): number {
  return step(step(step(a.write ? 0x1b873593 : 0x5bd1e995, a.pc), a.item), a.held);
}

