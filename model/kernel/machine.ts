/**
 * The one semantics: `enabled(state)` and `step(state, choice)` over the flat
 * state vector. Generic machinery only; each kernel mechanism lives in its
 * own file and plugs in through registry.ts.
 */
import { kindCode, type ViolationKind } from '../check/violation.ts';
import { SOFTIRQS } from '../dsl/design.ts';
import {
  C_BH, C_CURTASK, C_DEPTH, C_HARDIRQ, C_IRQS_OFF, C_NMI, C_PREEMPT, C_SERVING, CPU_SIZE,
  ContextStatus, FrameKind, H_BOUND_HIT, H_VIOL_CPU, H_VIOL_CTX, H_VIOL_KIND, H_VIOL_PC,
  I_BUDGET, I_DEPTH, I_STATE, IRQ_REQUESTED, IRQ_SIZE, LOCK_SIZE, MAX_CALLS, MODEL_BOUND, ModelBound, X_CALLS, X_ENTRY_BH, X_ENTRY_IRQS,
  X_CPU, X_ENTRY_PREEMPT, X_EXIT, X_HELD, X_AUX2, X_ID, X_KIND, X_PC, X_PHASE, X_REGS, X_RET, X_STATUS,
  T_CHANNEL, computeLayout, type Layout,
} from './layout.ts';
import { evaluate } from './data.ts';
import { closedCycle, type WaitStep } from '../check/deadlock.ts';
import { fingerprintOf, zHi, zLo } from './zobrist.ts';
import { INSN_WIDTH, type Program } from './program.ts';
import { Chan, channel, UNCREATED_KTHREAD } from './scheduler.ts';
import { AFTER_STEP, CHOICE_SOURCES, FRAME_EXITS, FRAME_NAMES, GUARDS, OBJECT_KINDS, OPS, SOURCE_KIND } from './registry.ts';
import {
  CHOICE_RUN, choiceArg, choiceCpu, choiceKind, choiceVariant, encodeChoice, type ChoiceSource, type TransitionObserver, type WaitEdge,
} from './semantics.ts';

export class Machine {
  readonly p: Program;
  readonly L: Layout;
  readonly code: Int32Array;
  /** The state being stepped. Mechanism code reads and writes it directly. */
  s: Int32Array;
  /** The message of the violation raised by the last step, if any. */
  message: string | null = null;
  /** The wait-for cycle of a deadlock the last step closed (check/deadlock.ts closedCycle), if any. */
  cycle: readonly WaitStep[] | null = null;
  /**
   * The fingerprint of `s` (two 32-bit lanes, see zobrist.ts), kept up to
   * date by every write through w(). Valid after initial(), load() and
   * stepInPlace().
   */
  hLo = 0;
  hHi = 0;
  /**
   * Told of every transition stepInPlace takes (see TransitionObserver), and
   * of the lockdep maps mechanisms annotate; null when nobody listens.
   */
  observer: TransitionObserver | null = null;
  /** Per word, the part it belongs to, or null when parts are not tracked (see trackParts). */
  partOf: Int32Array | null = null;
  /** Each part's fingerprint (two lanes), kept like hLo/hHi. */
  partLo = new Int32Array(0);
  partHi = new Int32Array(0);
  /**
   * The write log: (offset, old value, fingerprint change in both lanes)
   * appended by w(); undoTo(mark) rolls back, folding each change back
   * into its part's fingerprint without computing it again.
   */
  private log = new Int32Array(1 << 15);
  /** Entries used in the write log (four per write). */
  logLen = 0;
  /** The mechanisms' after-step bookkeeping this program needs (Mechanism.afterStep). */
  private readonly afterStep: readonly ((m: Machine) => void)[];
  /** The choice sources that can offer something in this program (see ChoiceSource.active). */
  private readonly sources: readonly ChoiceSource[];
  /** The mechanisms' guards (lifetime checks), run before every instruction: each returns at once for an instruction it has nothing to check (see Mechanism.guard). */
  private readonly guards: readonly ((m: Machine, cpu: number, ctx: number, pc: number) => boolean)[];
  /** The design's invariants checked after every step (`always`), apart from the others: checked on every step. */
  private readonly always: Program['invariants'];

  constructor(p: Program) {
    this.p = p;
    this.L = computeLayout(p);
    this.code = p.code;
    this.s = new Int32Array(this.L.size);
    this.afterStep = AFTER_STEP.filter((h) => h.needs(p)).map((h) => h.run);
    this.sources = CHOICE_SOURCES.filter((src) => !src.active || src.active(p));
    this.guards = GUARDS;
    this.always = p.invariants.filter((i) => i.when === 'always');
  }

  // ------------------------------------------------------------ addressing

  cpuOff(cpu: number): number {
    return this.L.cpuBase + cpu * CPU_SIZE;
  }
  ctxOff(ctx: number): number {
    return this.L.ctxBase + ctx * this.L.ctxSize;
  }
  lockOff(lock: number): number {
    return this.L.lockBase + lock * LOCK_SIZE;
  }
  irqOff(line: number): number {
    return this.L.irqBase + line * IRQ_SIZE;
  }
  /** Offset of object `id` of a mechanism object kind (see ObjectKindSpec). */
  objOff(kind: string, id: number, size: number): number {
    return this.L.objBase[kind]! + id * size;
  }
  frameCtx(cpu: number, depth: number): number {
    return this.L.ntasks + cpu * this.L.maxFrames + depth;
  }
  isTask(ctx: number): boolean {
    return ctx < this.L.ntasks;
  }
  /** The CPU a context runs on (a task's current CPU; a frame's stack's CPU). */
  cpuOfCtx(ctx: number): number {
    return ctx < this.L.ntasks ? this.s[this.ctxOff(ctx) + X_CPU]! : Math.floor((ctx - this.L.ntasks) / this.L.maxFrames);
  }
  /** The context that runs on `cpu` now: its top frame, else its task, else -1. */
  top(cpu: number): number {
    const co = this.cpuOff(cpu);
    const depth = this.s[co + C_DEPTH]!;
    if (depth > 0) return this.frameCtx(cpu, depth - 1);
    return this.s[co + C_CURTASK]!;
  }
  reg(ctx: number, r: number): number {
    return this.s[this.ctxOff(ctx) + X_REGS + r]!;
  }
  setReg(ctx: number, r: number, value: number): void {
    this.w(this.ctxOff(ctx) + X_REGS + r, value);
  }

  // ------------------------------------------------------------ writes

  /**
   * The one way mechanism code writes the state: `s[off] = value`, recorded
   * in the write log with the old value and folded into the fingerprint.
   * (properties/kernel/writes.test.ts checks that model/kernel has no other.)
   */
  w(off: number, value: number): void {
    const vec = this.s;
    const old = vec[off]!;
    if (old === value) return;
    const dLo = zLo(off, old) ^ zLo(off, value);
    const dHi = zHi(off, old) ^ zHi(off, value);
    const n = this.logLen;
    if (n + 4 > this.log.length) {
      const grown = new Int32Array(this.log.length * 2);
      grown.set(this.log);
      this.log = grown;
    }
    const log = this.log;
    log[n] = off;
    log[n + 1] = old;
    log[n + 2] = dLo;
    log[n + 3] = dHi;
    this.logLen = n + 4;
    this.hLo ^= dLo;
    this.hHi ^= dHi;
    const parts = this.partOf;
    if (parts !== null) {
      const part = parts[off]!;
      if (part >= 0) {
        this.partLo[part] ^= dLo;
        this.partHi[part] ^= dHi;
      }
    }
    vec[off] = value;
  }
  /** Zero words [from, to) through w(). */
  zero(from: number, to: number): void {
    const s = this.s;
    for (let i = from; i < to; i++) if (s[i] !== 0) this.w(i, 0);
  }
  /** Undo every write after log position `mark`, and restore the fingerprint saved with it. */
  undoTo(mark: number, hLo: number, hHi: number): void {
    const vec = this.s;
    const log = this.log;
    const parts = this.partOf;
    if (parts !== null) {
      const partLo = this.partLo;
      const partHi = this.partHi;
      for (let i = this.logLen - 4; i >= mark; i -= 4) {
        const off = log[i]!;
        const part = parts[off]!;
        // The write changed its part by the logged change: undone by the same (xor).
        if (part >= 0) {
          partLo[part] ^= log[i + 2]!;
          partHi[part] ^= log[i + 3]!;
        }
        vec[off] = log[i + 1]!;
      }
    } else {
      for (let i = this.logLen - 4; i >= mark; i -= 4) vec[log[i]!] = log[i + 1]!;
    }
    this.logLen = mark;
    this.hLo = hLo;
    this.hHi = hHi;
  }
  /** The words written after log position `mark`, in order (offsets only; repeats possible). */
  writtenSince(mark: number, out: number[]): void {
    for (let i = mark; i < this.logLen; i += 4) out.push(this.log[i]!);
  }
  /**
   * Run `fn` on a scratch copy of the current state, then put everything
   * back (state, message, fingerprint, write log): for a label that must
   * run an operation to say what it would do.
   */
  dryRun<T>(fn: () => T): T {
    const { s, message, cycle, hLo, hHi, logLen, observer } = this;
    const partLo = this.partLo.slice();
    const partHi = this.partHi.slice();
    this.s = s.slice();
    // A label's dry run is no transition: the observer must not hear of it.
    this.observer = null;
    try {
      return fn();
    } finally {
      this.observer = observer;
      this.s = s;
      this.message = message;
      this.cycle = cycle;
      this.hLo = hLo;
      this.hHi = hHi;
      this.logLen = logLen;
      this.partLo = partLo;
      this.partHi = partHi;
    }
  }
  /** Make `state` the machine's current state (stepped in place from now on), with its fingerprint. */
  load(state: Int32Array): void {
    this.s = state;
    this.logLen = 0;
    this.rehash();
  }
  /** Recompute the fingerprint of `s` from scratch (and the parts' fingerprints, if tracked). */
  rehash(): void {
    const h = new Uint32Array(2);
    fingerprintOf(this.s, h);
    this.hLo = h[0]! | 0;
    this.hHi = h[1]! | 0;
    const parts = this.partOf;
    if (parts !== null) {
      this.partLo.fill(0);
      this.partHi.fill(0);
      const s = this.s;
      for (let off = 0; off < parts.length; off++) {
        const part = parts[off]!;
        if (part < 0 || s[off] === 0) continue;
        this.partLo[part] ^= zLo(off, s[off]!);
        this.partHi[part] ^= zHi(off, s[off]!);
      }
    }
  }

  /**
   * Keep, besides the whole state's fingerprint, one per part of the state:
   * word `off` belongs to part `partOf[off]` (−1: none). The same Zobrist
   * contributions, XORed per part (partLo/partHi), updated by w() and
   * undoTo() from the words they change. Symmetry reduction uses one part
   * per CPU (model/explore/symmetry.ts). Recomputed here from `s`.
   */
  trackParts(partOf: Int32Array, parts: number): void {
    this.partOf = partOf;
    this.partLo = new Int32Array(parts);
    this.partHi = new Int32Array(parts);
    this.rehash();
  }

  // ---------------------------------------------- preempt_count predicates
  // include/linux/preempt.h: in_interrupt() = hardirq|softirq|nmi counts,
  // where the softirq count includes local_bh_disable (SOFTIRQ_DISABLE_OFFSET).

  inInterrupt(cpu: number): boolean {
    const co = this.cpuOff(cpu);
    const s = this.s;
    return s[co + C_HARDIRQ]! > 0 || s[co + C_NMI]! > 0 || s[co + C_SERVING]! > 0 || s[co + C_BH]! > 0;
  }
  /** in_nmi() */
  inNmi(cpu: number): boolean {
    return this.s[this.cpuOff(cpu) + C_NMI]! > 0;
  }
  inHardirq(cpu: number): boolean {
    return this.s[this.cpuOff(cpu) + C_HARDIRQ]! > 0;
  }
  /** in_task(): not in nmi, hardirq or serving a softirq. */
  inTask(cpu: number): boolean {
    const co = this.cpuOff(cpu);
    return this.s[co + C_HARDIRQ] === 0 && this.s[co + C_NMI] === 0 && this.s[co + C_SERVING] === 0;
  }
  /** preempt_count() != 0 */
  inAtomic(cpu: number): boolean {
    const co = this.cpuOff(cpu);
    const s = this.s;
    return s[co + C_PREEMPT]! + s[co + C_BH]! + s[co + C_SERVING]! + s[co + C_HARDIRQ]! + s[co + C_NMI]! !== 0;
  }
  irqsOff(cpu: number): boolean {
    return this.s[this.cpuOff(cpu) + C_IRQS_OFF] !== 0;
  }

  /**
   * preempt_count() as include/linux/preempt.h encodes it: PREEMPT 0xff,
   * SOFTIRQ 0xff00 (SOFTIRQ_OFFSET 0x100 serving, SOFTIRQ_DISABLE_OFFSET
   * 0x200 per local_bh_disable), HARDIRQ 0xf0000, for the kernel's messages.
   */
  preemptCount(cpu: number): number {
    const co = this.cpuOff(cpu);
    const s = this.s;
    return s[co + C_PREEMPT]! + s[co + C_SERVING]! * 0x100 + s[co + C_BH]! * 0x200 + s[co + C_HARDIRQ]! * 0x10000;
  }

  /**
   * preempt_count() as it was when `ctx`'s callback or context was entered
   * (snapshotEntry): the preempt and bh parts recorded then; serving and
   * hardirq cannot change across a callback, so they are the CPU's now.
   */
  entryPreemptCount(cpu: number, ctx: number): number {
    const o = this.ctxOff(ctx);
    const co = this.cpuOff(cpu);
    const s = this.s;
    return s[o + X_ENTRY_PREEMPT]! + s[co + C_SERVING]! * 0x100 + s[o + X_ENTRY_BH]! * 0x200 + s[co + C_HARDIRQ]! * 0x10000;
  }

  // ----------------------------------------------------------- contexts

  advance(ctx: number): void {
    const o = this.ctxOff(ctx);
    this.w(o + X_PC, this.s[o + X_PC]! + INSN_WIDTH);
    this.w(o + X_PHASE, 0);
  }
  jump(ctx: number, pc: number): void {
    const o = this.ctxOff(ctx);
    this.w(o + X_PC, pc);
    this.w(o + X_PHASE, 0);
  }
  /** Call design code from the current instruction; returns to this same instruction. */
  callFrom(ctx: number, entry: number): void {
    const o = this.ctxOff(ctx);
    const caller = this.s[o + X_PC]!;
    if (caller >= this.p.designStart && !OPS[this.code[caller]!]!.callsDesignCode && !OPS[this.code[caller - INSN_WIDTH]!]!.callsDesignCode) {
      throw new Error(`kdefer internal error: ${OPS[this.code[caller]!]!.name} calls design code but does not declare callsDesignCode (model/dsl/liveness.ts needs it)`);
    }
    const depth = this.s[o + X_CALLS]!;
    if (depth >= MAX_CALLS) {
      // Not an error of the design: the model keeps MAX_CALLS return slots per context; the path ends bounded-out.
      const callers = [...Array(depth).keys()].map((d) => this.p.where[this.s[o + X_RET + d]! / INSN_WIDTH]);
      this.modelBound(ModelBound.CallDepth, `more than ${MAX_CALLS} nested callback calls in ${this.contextName(ctx)}: calls from ${[...callers, this.p.where[this.s[o + X_PC]! / INSN_WIDTH]].join(' → ')} would enter ${this.p.where[entry / INSN_WIDTH]}`);
      return;
    }
    this.w(o + X_RET + depth, this.s[o + X_PC]!);
    this.w(o + X_CALLS, depth + 1);
    this.jump(ctx, entry);
  }
  /** Return from the innermost call callFrom made (data.ts `ret`, or builtin code finishing in the same step). */
  returnFromCall(ctx: number): void {
    const o = this.ctxOff(ctx);
    const depth = this.s[o + X_CALLS]!;
    this.w(o + X_CALLS, depth - 1);
    this.w(o + X_PC, this.s[o + X_RET + depth - 1]!);
    this.w(o + X_RET + depth - 1, 0);
    this.w(o + X_PHASE, 0);
  }
  /** Snapshot the CPU's counts at a context or callback entry, for leak checks. */
  snapshotEntry(cpu: number, ctx: number): void {
    const co = this.cpuOff(cpu);
    const o = this.ctxOff(ctx);
    this.w(o + X_ENTRY_PREEMPT, this.s[co + C_PREEMPT]!);
    this.w(o + X_ENTRY_BH, this.s[co + C_BH]!);
    this.w(o + X_ENTRY_IRQS, this.s[co + C_IRQS_OFF]!);
  }

  /** Push an interrupt frame on `cpu`; returns its context id, or -1 if the stack is full. */
  pushFrame(cpu: number, kind: FrameKind, id: number, pc: number, exit: number): number {
    const co = this.cpuOff(cpu);
    const depth = this.s[co + C_DEPTH]!;
    if (depth >= this.L.maxFrames) throw new Error(`kdefer internal error: more than ${this.L.maxFrames} interrupt frames on cpu${cpu}`);
    const ctx = this.frameCtx(cpu, depth);
    const o = this.ctxOff(ctx);
    this.zero(o, o + this.L.ctxSize);
    this.w(o + X_STATUS, ContextStatus.Running);
    this.w(o + X_KIND, kind);
    this.w(o + X_ID, id);
    this.w(o + X_PC, pc);
    this.w(o + X_EXIT, exit);
    this.w(co + C_DEPTH, depth + 1);
    this.snapshotEntry(cpu, ctx);
    return ctx;
  }
  /** Pop the top interrupt frame of `cpu`, clearing it so equal states hash equal. */
  popFrame(cpu: number): void {
    const co = this.cpuOff(cpu);
    const depth = this.s[co + C_DEPTH]! - 1;
    const o = this.ctxOff(this.frameCtx(cpu, depth));
    this.zero(o, o + this.L.ctxSize);
    this.w(co + C_DEPTH, depth);
  }
  frameDepth(cpu: number): number {
    return this.s[this.cpuOff(cpu) + C_DEPTH]!;
  }

  /** Encode a choice offered by a mechanism's choice source. */
  choice(src: ChoiceSource, cpu: number, arg: number, variant: number): number {
    return encodeChoice(SOURCE_KIND.get(src)!, cpu, arg, variant);
  }

  /** Record a violation in the state; the first one wins. */
  fail(kind: ViolationKind, message: string, cpu: number, ctx: number): void {
    if (this.s[H_VIOL_KIND] !== 0) return;
    this.w(H_VIOL_KIND, kindCode(kind));
    this.w(H_VIOL_CPU, cpu);
    this.w(H_VIOL_CTX, ctx);
    this.w(H_VIOL_PC, ctx >= 0 ? this.s[this.ctxOff(ctx) + X_PC]! : -1);
    this.message = message;
  }
  /** Mark the path as cut by a loop bound (see explore/). */
  boundHit(loop: number): void {
    if (this.s[H_BOUND_HIT] === 0) this.w(H_BOUND_HIT, loop + 1);
  }
  /**
   * Mark the path as cut by a bound of the kernel model (see ModelBound):
   * the explorers end it as bounded-out with `detail`, which says what
   * happened here (explore/outcome.ts boundMessage names the bound).
   */
  modelBound(bound: ModelBound, detail: string): void {
    if (this.s[H_BOUND_HIT] !== 0 || this.s[H_VIOL_KIND] !== 0) return;
    this.w(H_BOUND_HIT, MODEL_BOUND + bound);
    this.message = detail;
  }

  // ------------------------------------------------------------- naming

  lockName(lock: number): string {
    return this.p.locks[lock]!.name;
  }
  /** `task writer`, `hardirq eth0`, `softirq NET_RX`, `ksoftirqd/1`. */
  contextName(ctx: number): string {
    return contextNameIn(this, ctx);
  }

  // ------------------------------------------------------ initial state

  initial(): Int32Array {
    const p = this.p;
    const fresh = new Int32Array(this.L.size);
    this.s = fresh;
    for (let l = 0; l < p.irqs.length; l++) {
      fresh[this.irqOff(l) + I_BUDGET] = p.irqs[l]!.budget;
      // A line requested at boot has its action installed; one requested later starts without (irq.ts).
      if (p.irqs[l]!.requested) fresh[this.irqOff(l) + I_STATE] = IRQ_REQUESTED;
      // IRQF_NO_AUTOEN: requested at boot, but disabled until enable_irq.
      if (p.irqs[l]!.requested && p.irqs[l]!.noAutoEn) fresh[this.irqOff(l) + I_DEPTH] = 1;
    }
    for (let c = 0; c < p.ncpu; c++) fresh[this.cpuOff(c) + C_CURTASK] = -1;
    for (let t = 0; t < p.tasks.length; t++) {
      const o = this.ctxOff(t);
      fresh[o + X_STATUS] = ContextStatus.NotStarted;
      fresh[o + X_KIND] = FrameKind.Task;
      fresh[o + X_ID] = t;
      fresh[o + X_PC] = p.tasks[t]!.entry;
      fresh[o + X_CPU] = p.tasks[t]!.cpu;
      if (p.tasks[t]!.idle) {
        // An idle kthread (a kworker with no work) is asleep until its mechanism wakes it.
        fresh[o + X_STATUS] = ContextStatus.Blocked;
        fresh[o + T_CHANNEL] = channel(Chan.Worker, (p.tasks[t]!.uncreated ? UNCREATED_KTHREAD : 0) | t);
      }
      // A kthread before kthread_run, or a task waiting for another one's exit, does not exist yet.
      if (p.tasks[t]!.unborn) fresh[o + X_STATUS] = ContextStatus.Unborn;
    }
    // A CPU with a single task starts running it; with several, the
    // scheduler's first pick is a choice.
    for (let c = 0; c < p.ncpu; c++) {
      const mine = p.tasks.flatMap((t, i) => (t.cpu === c && !t.idle && !t.unborn ? [i] : []));
      if (mine.length === 1) {
        fresh[this.cpuOff(c) + C_CURTASK] = mine[0]!;
        fresh[this.ctxOff(mine[0]!) + X_STATUS] = ContextStatus.Running;
      }
    }
    for (let v = 0; v < p.vars.length; v++) fresh[this.L.varBase + v] = p.varInit[v]!;
    for (let v = 0; v < p.percpu.length; v++) {
      for (let c = 0; c < p.ncpu; c++) fresh[this.L.percpuBase + v * p.ncpu + c] = p.percpuInit[v]!;
    }
    for (const list of Object.values(p.objects)) {
      for (const obj of list) {
        const base = this.L.objBase[obj.kind]! + list.indexOf(obj) * obj.init.length;
        fresh.set(obj.init, base);
      }
    }
    for (let q = 0; q < p.queues.length; q++) {
      const base = this.L.queueBase[q]!;
      const init = p.queues[q]!.initial;
      fresh[base] = init.length;
      for (let i = 0; i < init.length; i++) fresh[base + 1 + i] = init[i]!;
    }
    this.load(fresh);
    return fresh;
  }

  // ----------------------------------------------------------- enabled

  /** The choices possible in `state`, in a stable canonical order. */
  enabled(state: Int32Array): number[] {
    this.s = state;
    const out: number[] = [];
    this.enabledInto(out);
    return out;
  }

  /** The choices possible in the current state `s`, into `out` (emptied first). */
  enabledInto(out: number[]): void {
    const state = this.s;
    if (state[H_VIOL_KIND] !== 0 || state[H_BOUND_HIT] !== 0) {
      out.length = 0;
      return;
    }
    // The new choices are pushed after the old ones, then moved down: V8 frees an array's
    // storage when its length is set to 0 (this runs for every state), not when it shrinks a little.
    const base = out.length;
    for (let cpu = 0; cpu < this.p.ncpu; cpu++) {
      const ctx = this.top(cpu);
      if (ctx >= 0) {
        const pc = state[this.ctxOff(ctx) + X_PC]!;
        const code = this.code;
        const op = OPS[code[pc]!]!;
        const a = code[pc + 1]!, b = code[pc + 2]!, c = code[pc + 3]!;
        if (!op.ready || op.ready(this, cpu, ctx, a, b, c)) {
          const n = op.variants ? op.variants(this, cpu, ctx, a, b, c) : 1;
          for (let v = 0; v < n; v++) out.push(encodeChoice(CHOICE_RUN, cpu, 0, v));
        }
      }
      for (const src of this.sources) src.collect(this, cpu, out);
    }
    const n = out.length - base;
    for (let i = 0; i < n; i++) out[i] = out[base + i]!;
    out.length = n;
  }

  // -------------------------------------------------------------- step

  /** The successor of `state` under `choice`. `state` is not modified. */
  step(state: Int32Array, choice: number): Int32Array {
    const s = state.slice();
    this.s = s;
    this.logLen = 0;
    this.stepInPlace(choice);
    return s;
  }

  /**
   * Take `choice` in the current state `s`, in place: every write goes
   * through w(), so the log position before the call undoes it (undoTo)
   * and the fingerprint lanes follow the state.
   */
  stepInPlace(choice: number): void {
    const observer = this.observer;
    if (observer === null) {
      this.stepBody(choice);
      return;
    }
    observer.before(this, choice);
    this.stepBody(choice);
    observer.after(this, choice);
  }

  private stepBody(choice: number): void {
    const s = this.s;
    this.message = null;
    this.cycle = null;
    const kind = choiceKind(choice);
    const cpu = choiceCpu(choice);
    const variant = choiceVariant(choice);
    if (kind === CHOICE_RUN) {
      const ctx = this.top(cpu);
      if (ctx < 0) throw new Error(`kdefer internal error: cpu${cpu} has nothing to run`);
      const pc = s[this.ctxOff(ctx) + X_PC]!;
      const code = this.code;
      for (const guard of this.guards) if (!guard(this, cpu, ctx, pc)) return;
      OPS[code[pc]!]!.exec(this, cpu, ctx, code[pc + 1]!, code[pc + 2]!, code[pc + 3]!, variant);
      this.killDead(ctx);
      if (s[H_VIOL_KIND] === 0) this.deadlockAt(ctx);
    } else {
      const src = CHOICE_SOURCES[kind - 1];
      if (!src) throw new Error(`kdefer internal error: unknown choice kind ${kind}`);
      src.apply(this, cpu, choiceArg(choice), variant);
    }
    if (s[H_VIOL_KIND] === 0) for (const hook of this.afterStep) hook(this);
    if (this.always.length > 0 && s[H_VIOL_KIND] === 0) this.checkInvariants('always');
  }

  /** What of the design's objects `ctx` holds like a lock (ObjectKindSpec.heldBy), or null. */
  objectHeldBy(ctx: number): string | null {
    for (const spec of OBJECT_KINDS) {
      if (!spec.heldBy) continue;
      for (let id = 0, n = this.p.objects[spec.kind]?.length ?? 0; id < n; id++) {
        const what = spec.heldBy(this, id, ctx);
        if (what) return what;
      }
    }
    return null;
  }

  /**
   * Zero the registers of `ctx` that no later step can read at its pc
   * (model/dsl/liveness.ts), so states that differ only there are one.
   */
  killDead(ctx: number): void {
    const s = this.s;
    const o = this.ctxOff(ctx);
    if (s[o + X_STATUS] === ContextStatus.Free) return;
    const k = s[o + X_PC]! / INSN_WIDTH;
    const live = this.p.liveness;
    const phase = s[o + X_PHASE] !== 0;
    const table = phase ? live.deadInPhase : live.deadAtStart;
    const regs = live.regs;
    const base = o + X_REGS;
    for (let i = table[k]!, end = table[k + 1]!; i < end; i++) {
      const off = base + regs[i]!;
      if (s[off] !== 0) this.w(off, 0);
    }
  }

  /** Check the design's invariants of one kind against the current state; false (after fail) if one is broken. */
  checkInvariants(when: 'always' | 'at-end'): boolean {
    const list = when === 'always' ? this.always : this.p.invariants;
    for (let k = 0; k < list.length; k++) {
      const inv = list[k]!;
      if (inv.when !== when || evaluate(this, 0, 0, inv.expr) !== 0) continue;
      this.fail(inv.kind, `invariant '${inv.name}' does not hold${when === 'at-end' ? ' when all work is done' : ''}: ${inv.text}`, -1, -1);
      return false;
    }
    return true;
  }

  /** A label a kernel developer reads at once, e.g. `cpu0 [task writer]: spin_lock(&A)`. */
  label(state: Int32Array, choice: number): string {
    this.s = state;
    const kind = choiceKind(choice);
    const cpu = choiceCpu(choice);
    const variant = choiceVariant(choice);
    if (kind === CHOICE_RUN) {
      const ctx = this.top(cpu);
      if (ctx < 0) return `cpu${cpu}: (nothing to run)`;
      const pc = state[this.ctxOff(ctx) + X_PC]!;
      const code = this.code;
      const op = OPS[code[pc]!]!;
      const text = op.label
        ? op.label(this, cpu, ctx, code[pc + 1]!, code[pc + 2]!, code[pc + 3]!, variant)
        : this.p.text[pc / INSN_WIDTH]!;
      return `cpu${cpu} [${this.contextName(ctx)}]: ${text}`;
    }
    const src = CHOICE_SOURCES[kind - 1];
    if (!src) return `cpu${cpu}: unknown choice ${choice}`;
    return `cpu${cpu}: ${src.label(this, cpu, choiceArg(choice), variant)}`;
  }

  /** Run the exit of a context that returned from its outermost code. */
  exitContext(cpu: number, ctx: number): void {
    const kind = this.s[this.ctxOff(ctx) + X_KIND]!;
    const exit = FRAME_EXITS[kind];
    if (!exit) throw new Error(`kdefer internal error: no exit for frame kind ${kind}`);
    exit(this, cpu, ctx);
  }

  /**
   * What a context that cannot progress waits for (see check/deadlock.ts):
   * a spinning top frame whose instruction is not ready, or a sleeping task.
   */
  waitsFor(ctx: number): WaitEdge | null {
    const o = this.ctxOff(ctx);
    const pc = this.s[o + X_PC]!;
    const code = this.code;
    const op = OPS[code[pc]!]!;
    const cpu = this.cpuOfCtx(ctx);
    if (!op.waitsFor) return null;
    const sleeping = this.s[o + X_STATUS] === ContextStatus.Blocked;
    if (!sleeping && op.ready && op.ready(this, cpu, ctx, code[pc + 1]!, code[pc + 2]!, code[pc + 3]!)) return null;
    return op.waitsFor(this, cpu, ctx, code[pc + 1]!, code[pc + 2]!, code[pc + 3]!);
  }

  /**
   * After `ctx` stepped: if it now waits, and its wait closes a cycle that
   * nothing can break (check/deadlock.ts closedCycle), the deadlock is
   * declared here, not once every interrupt budget and timer tick is
   * spent and no move is left.
   */
  private deadlockAt(ctx: number): void {
    // closedCycle asks waitsNow first, which rules out a context that is not waiting.
    const v = closedCycle(this, ctx);
    if (!v) return;
    this.fail(v.kind, v.message, this.cpuOfCtx(ctx), ctx);
    this.cycle = v.cycle ?? null;
  }

  /**
   * What `ctx` waits for now, if it has started waiting: asleep, or at an
   * instruction whose readiness test fails (it spins). Unlike waitsFor, a
   * context about to run an instruction that would make it wait is not
   * waiting yet.
   */
  waitsNow(ctx: number): WaitEdge | null {
    const o = this.ctxOff(ctx);
    const status = this.s[o + X_STATUS];
    if (status === ContextStatus.Blocked) return this.waitsFor(ctx);
    if (status !== ContextStatus.Running) return null;
    const pc = this.s[o + X_PC]!;
    const op = OPS[this.code[pc]!]!;
    if (!op.waitsFor || !op.ready) return null;
    return this.waitsFor(ctx);
  }

  /** Held-lock bitmask of a context. */
  held(ctx: number): number {
    return this.s[this.ctxOff(ctx) + X_HELD]!;
  }
}


function contextNameIn(m: Machine, ctx: number): string {
  const o = m.ctxOff(ctx);
  const kind = m.s[o + X_KIND]!;
  const id = m.s[o + X_ID]!;
  switch (kind) {
    case FrameKind.Task:
      return `task ${m.p.tasks[id]!.name}`;
    case FrameKind.Hardirq:
      return `${m.p.irqs[id]!.nmi ? 'nmi' : 'hardirq'} ${m.p.irqs[id]!.name}`;
    case FrameKind.Softirq:
    case FrameKind.Ksoftirqd: {
      // X_AUX2 holds the vector being run (see softirq.ts), -1 between vectors.
      const vec = m.s[o + X_AUX2]!;
      const base = kind === FrameKind.Softirq ? 'softirq' : `ksoftirqd/${m.cpuOfCtx(ctx)}`;
      // A tasklet, BH or timer callback running in the frame names it (`tasklet rx`, `ksoftirqd/1 tasklet rx`).
      for (const frameName of FRAME_NAMES) {
        const what = frameName(m, ctx);
        if (what !== null) return kind === FrameKind.Softirq ? what : `${base} ${what}`;
      }
      return vec >= 0 && m.s[o + X_CALLS]! > 0 ? `${base} ${SOFTIRQS[vec]}` : base;
    }
    default:
      return `context ${ctx}`;
  }
}
