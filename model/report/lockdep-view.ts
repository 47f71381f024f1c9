/**
 * Lockdep's view of a replayed schedule (kernel/locking/lockdep.c;
 * shared/lockdep-selftests.md §4.1–4.3): one class per lock, the usage
 * bits of each class (mark_usage, mark_held_locks), the held-lock stack of
 * each context, and the dependency graph (check_prevs_add). Each rule is
 * checked where lockdep checks it, and what lockdep would report there is
 * kept as a Finding for lockdep.ts to print. Lockdep stops at its first
 * report; this view keeps going, so that the report chosen can be the one
 * about the violation the explorer found.
 */
import type { Program } from '../kernel/program.ts';
import { cpusBefore, type CpuView, type FrameView, type LockEvent, type ScheduleView, type StepView } from './observe.ts';

// ------------------------------------------------------------ usage bits
// include/linux/lockdep_types.h + lockdep_states.h: bit = state*4 + dir*2 + read,
// dir 0 = USED_IN (the lock is taken in that irq context), 1 = ENABLED (held with it enabled).

export const HARDIRQ = 0;
export const SOFTIRQ = 1;
export const STATE_NAMES = ['HARDIRQ', 'SOFTIRQ'] as const;
export const USED_IN = 0;
export const ENABLED = 1;
export const bitOf = (state: number, dir: number, read: number): number => state * 4 + dir * 2 + read;
/** LOCK_USED, LOCK_USED_READ: "ever used". */
export const LOCK_USED = 8;
export const LOCK_USED_READ = 9;
/**
 * A lock taken (not by trylock) in NMI context, for read or not: not a
 * usage bit of the kernel (lockdep is off in NMI, __nmi_enter's
 * lockdep_off) but what verify_lock_unused checks there; kdefer keeps it
 * as a fact beside the usage bits.
 */
export const IN_NMI = 10;
export const IN_NMI_READ = 11;
/** usage_str[] of lockdep.c, by bit; IN-NMI is its string for verify_lock_unused ("abused as string storage"). */
export const USAGE_STR = [
  'IN-HARDIRQ-W', 'IN-HARDIRQ-R', 'HARDIRQ-ON-W', 'HARDIRQ-ON-R',
  'IN-SOFTIRQ-W', 'IN-SOFTIRQ-R', 'SOFTIRQ-ON-W', 'SOFTIRQ-ON-R',
  'INITIAL USE', 'INITIAL READ USE', 'IN-NMI', 'IN-NMI',
] as const;
/** The kernel's usage bits (LOCK_USAGE_STATES plus USED, USED_READ). */
export const USAGE_BITS = 10;
/** The facts kept per class: the usage bits and the two NMI facts. */
export const FACT_BITS = 12;


// -------------------------------------------------------------- records

/** Where something happened: a step of the schedule (0 = before the first step). */
export interface Site {
  readonly step: number;
  readonly label: string;
  /** Design location and kernel text of the instruction, e.g. `task ethtool[0]: spin_lock(&priv->lock)`. */
  readonly at: string;
}

/** A held_lock: read 0 = writer/exclusive, 1 = non-recursive reader, 2 = recursive reader. */
export interface Hlock {
  readonly lock: number;
  readonly read: 0 | 1 | 2;
  readonly trylock: boolean;
  readonly site: Site;
  readonly ctx: number;
}

/** A dependency edge prev → next with its type (lockdep's -(E|S)(N|R)->). */
export interface Dep {
  readonly from: number;
  readonly to: number;
  /** prev held shared (S), else exclusive (E). */
  readonly prevShared: boolean;
  /** next acquired as a recursive reader (R), else N. */
  readonly nextRecursive: boolean;
  readonly prevRead: boolean;
  readonly nextRead: boolean;
  /** Where next was taken while prev was held. */
  readonly site: Site;
  /** Where prev had been taken, and on which CPU. */
  readonly prevSite: Site;
  readonly cpu: number;
}

/** The task lockdep calls `curr`, with what its reports print about it. */
export interface Curr {
  readonly comm: string;
  readonly pid: number;
  readonly cpu: number;
  /** `[HC1[1]:SC0[0]:HE0:SE1]` */
  readonly bracket: string;
  /** curr->held_locks: every context of the task's stack on its CPU, bottom first. */
  readonly held: readonly Hlock[];
  /** The frames of the task's stack, bottom first, for the backtrace. */
  readonly frames: readonly FrameView[];
  readonly stamps: IrqStamps;
}

export interface IrqStamp {
  readonly n: number;
  readonly site: Site | null;
}
export interface IrqStamps {
  readonly events: number;
  readonly hardOn: IrqStamp;
  readonly hardOff: IrqStamp;
  readonly softOn: IrqStamp;
  readonly softOff: IrqStamp;
}

export interface FindingBase {
  readonly step: number;
  readonly curr: Curr;
  /** Usage masks of every class when lockdep would print. */
  readonly usage: Uint16Array;
  /** The classes the report is about. */
  readonly locks: readonly number[];
}

export type Finding =
  | FindingBase & { readonly kind: 'inconsistent'; readonly hlock: Hlock; readonly oldBit: number; readonly newBit: number }
  | FindingBase & { readonly kind: 'recursive'; readonly next: Hlock; readonly prev: Hlock }
  | FindingBase & { readonly kind: 'circular'; readonly next: Hlock; readonly prev: Hlock; readonly path: readonly Dep[] }
  | FindingBase & {
    readonly kind: 'bad-irq-dependency';
    readonly next: Hlock;
    readonly prev: Hlock;
    readonly irqclass: string;
    readonly safe: number;
    readonly unsafe: number;
    readonly safeBit: number;
    readonly unsafeBit: number;
    /** safe → … → prev */
    readonly backPath: readonly Dep[];
    /** next → … → unsafe */
    readonly fwdPath: readonly Dep[];
  }
  | FindingBase & {
    readonly kind: 'inversion';
    readonly hlock: Hlock;
    /** The lock just became safe and reaches an unsafe one (else: became unsafe, reached from a safe one). */
    readonly forwards: boolean;
    readonly irqclass: string;
    readonly other: number;
    /** From the safe lock to the unsafe lock. */
    readonly path: readonly Dep[];
  }
  | FindingBase & { readonly kind: 'bad-unlock'; readonly lock: number; readonly at: string }
  | FindingBase & { readonly kind: 'user-return' };

// ----------------------------------------------------------- the view

/** lockdep's state while the schedule replays. */
export class LockdepView {
  readonly p: Program;
  readonly names: readonly string[];
  readonly usage: Uint16Array;
  readonly usageSite: (Site | null)[][];
  readonly deps: Dep[] = [];
  readonly held = new Map<number, Hlock[]>();
  readonly findings: Finding[] = [];
  readonly stamps: IrqStamps[];
  step: StepView | null = null;

  constructor(p: Program) {
    this.p = p;
    this.names = p.locks.map((l) => `&${l.name}`);
    this.usage = new Uint16Array(p.locks.length);
    this.usageSite = p.locks.map(() => new Array<Site | null>(USAGE_BITS).fill(null));
    const none: IrqStamp = { n: 0, site: null };
    this.stamps = Array.from({ length: p.ncpu }, () => ({ events: 0, hardOn: none, hardOff: none, softOn: none, softOff: none }));
  }

  has(lock: number, bit: number): boolean {
    return (this.usage[lock]! & (1 << bit)) !== 0;
  }

  // ---------------------------------------------------------- curr

  /** The frames lockdep counts as one task: from the nearest task (or ksoftirqd) below `ctx` up to it. */
  taskFrames(cpu: CpuView, ctx: number): FrameView[] {
    const i = cpu.stack.findIndex((f) => f.ctx === ctx);
    if (i < 0) {
      const sleeper = cpu.asleep.find((f) => f.ctx === ctx);
      return sleeper ? [sleeper] : [];
    }
    let base = i;
    while (base > 0 && cpu.stack[base]!.kind !== 'task' && cpu.stack[base]!.kind !== 'ksoftirqd') base--;
    return cpu.stack.slice(base, i + 1);
  }

  currOf(cpu: CpuView, ctx: number): Curr {
    const frames = this.taskFrames(cpu, ctx);
    const base = frames[0];
    let comm: string;
    let pid: number;
    if (base && base.kind === 'task') {
      comm = this.p.tasks[base.ctx]!.name;
      pid = base.ctx + 1;
    } else if (base && base.kind === 'ksoftirqd') {
      comm = `ksoftirqd/${cpu.cpu}`;
      pid = this.p.tasks.length + 1 + cpu.cpu;
    } else {
      comm = `swapper/${cpu.cpu}`;
      pid = 0;
    }
    const softirqsOn = cpu.bh === 0 && !cpu.serving;
    const bracket = `[HC${cpu.hardirq > 0 ? 1 : 0}[${cpu.hardirq}]:SC${cpu.serving ? 1 : 0}[${(cpu.serving ? 1 : 0) + 2 * cpu.bh}]:HE${cpu.irqsOff ? 0 : 1}:SE${softirqsOn ? 1 : 0}]`;
    const held = frames.flatMap((f) => this.held.get(f.ctx) ?? []);
    return { comm, pid, cpu: cpu.cpu, bracket, held, frames, stamps: this.stamps[cpu.cpu]! };
  }

  record(f: Finding): void {
    this.findings.push(f);
  }

  base(curr: Curr, locks: readonly number[]): FindingBase {
    return { step: this.step?.index ?? 0, curr, usage: this.usage.slice(), locks };
  }

  // -------------------------------------------------------- mark_lock

  /** mark_lock(): set a usage bit; if new, check the single-lock rule, then the dependency rule. */
  mark(hlock: Hlock, bit: number, site: Site, curr: Curr): void {
    const lock = hlock.lock;
    if (this.has(lock, bit)) return;
    this.usage[lock] = this.usage[lock]! | (1 << bit);
    this.usageSite[lock]![bit] = site;
    if (bit >= LOCK_USED) return;
    const state = bit >> 2;
    const dir = (bit >> 1) & 1;
    const read = bit & 1;
    // mark_lock_irq: the opposite direction, write, then (for a write) read.
    const excl = bitOf(state, dir ^ 1, 0);
    if (this.has(lock, excl)) {
      this.record({ ...this.base(curr, [lock]), kind: 'inconsistent', hlock, oldBit: excl, newBit: bit });
      return;
    }
    if (!read && this.has(lock, excl + 1)) {
      this.record({ ...this.base(curr, [lock]), kind: 'inconsistent', hlock, oldBit: excl + 1, newBit: bit });
      return;
    }
    // check_usage_forwards / check_usage_backwards: rule 5.
    if (dir === USED_IN) {
      const unsafeOk = (u: number): boolean => this.has(u, bitOf(state, ENABLED, 0)) || (!read && this.has(u, bitOf(state, ENABLED, 1)));
      const path = this.searchForward(lock, hlock.read === 2, (u) => unsafeOk(u));
      if (path) {
        const other = path.length > 0 ? path[path.length - 1]!.to : lock;
        this.record({
          ...this.base(curr, [lock, other]), kind: 'inversion', hlock, forwards: true,
          irqclass: `${STATE_NAMES[state]}${this.has(other, bitOf(state, ENABLED, 0)) ? '' : '-READ'}`, other, path,
        });
      }
    } else {
      const safeOk = (s: number): boolean => this.has(s, bitOf(state, USED_IN, 0)) || (!read && this.has(s, bitOf(state, USED_IN, 1)));
      const path = this.searchBackward(lock, hlock.read !== 0, (s) => safeOk(s));
      if (path) {
        const other = path.length > 0 ? path[0]!.from : lock;
        this.record({
          ...this.base(curr, [lock, other]), kind: 'inversion', hlock, forwards: false,
          irqclass: `${STATE_NAMES[state]}${this.has(other, bitOf(state, USED_IN, 0)) ? '' : '-READ'}`, other, path,
        });
      }
    }
  }

  // ------------------------------------------------- strong-path search
  // A path is strong if no -(xR)-> step is followed by a -(Sx)-> step (lockdep-design.rst).

  /** BFS from `start` along strong paths; the first lock (other than start) accepted by `match`, with the path to it. */
  searchForward(start: number, startRecursive: boolean, match: (lock: number, lastRecursive: boolean) => boolean): Dep[] | null {
    const seen = new Set<string>([`${start}.${startRecursive}`]);
    const queue: { lock: number; r: boolean; path: Dep[] }[] = [{ lock: start, r: startRecursive, path: [] }];
    while (queue.length > 0) {
      const { lock, r, path } = queue.shift()!;
      for (const d of this.deps) {
        if (d.from !== lock || (r && d.prevShared)) continue;
        const key = `${d.to}.${d.nextRecursive}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const next = [...path, d];
        if (match(d.to, d.nextRecursive)) return next;
        queue.push({ lock: d.to, r: d.nextRecursive, path: next });
      }
    }
    return null;
  }

  /** BFS backwards from `start` (whose outgoing edge is shared if `startShared`); the path runs forwards, ending at start. */
  searchBackward(start: number, startShared: boolean, match: (lock: number) => boolean): Dep[] | null {
    const seen = new Set<string>([`${start}.${startShared}`]);
    const queue: { lock: number; shared: boolean; path: Dep[] }[] = [{ lock: start, shared: startShared, path: [] }];
    while (queue.length > 0) {
      const { lock, shared, path } = queue.shift()!;
      for (const d of this.deps) {
        if (d.to !== lock || (d.nextRecursive && shared)) continue;
        const key = `${d.from}.${d.prevShared}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const next = [d, ...path];
        if (match(d.from)) return next;
        queue.push({ lock: d.from, shared: d.prevShared, path: next });
      }
    }
    return null;
  }

  // ----------------------------------------------------- acquisition

  /** __lock_acquire(): mark_usage, then validate_chain (check_deadlock, check_prevs_add). */
  acquire(e: LockEvent, st: StepView): void {
    const cpu = st.cpus[e.cpu]!;
    const rwlock = this.p.locks[e.lock]!.kind === 'rwlock';
    // read_lock_is_recursive(): not a queued rwlock, or in_interrupt().
    const inInterrupt = cpu.hardirq > 0 || cpu.serving || cpu.bh > 0;
    const read: 0 | 1 | 2 = !e.read ? 0 : rwlock && (this.p.flags.rwlock !== 'qrwlock' || inInterrupt) ? 2 : 1;
    const site = siteOf(st, e.where);
    const hlock: Hlock = { lock: e.lock, read, trylock: e.trylock, site, ctx: e.ctx };
    const curr = this.currOf(cpu, e.ctx);
    const r = read !== 0 ? 1 : 0;
    // mark_usage()
    if (!e.trylock) {
      if (cpu.hardirq > 0) this.mark(hlock, bitOf(HARDIRQ, USED_IN, r), site, curr);
      if (cpu.serving) this.mark(hlock, bitOf(SOFTIRQ, USED_IN, r), site, curr);
    }
    if (!cpu.irqsOff) {
      this.mark(hlock, bitOf(HARDIRQ, ENABLED, r), site, curr);
      if (cpu.bh === 0 && !cpu.serving) this.mark(hlock, bitOf(SOFTIRQ, ENABLED, r), site, curr);
    }
    this.mark(hlock, LOCK_USED, site, curr);
    if (read !== 0) this.mark(hlock, LOCK_USED_READ, site, curr);
    if (!e.trylock) this.validateChain(hlock, curr, e.cpu);
    if (!e.failed) {
      const list = this.held.get(e.ctx) ?? [];
      list.push(hlock);
      this.held.set(e.ctx, list);
    }
  }

  validateChain(next: Hlock, curr: Curr, cpu: number): void {
    // check_deadlock(): the same class already held by the task (any irq context).
    for (const prev of curr.held) {
      if (prev.lock !== next.lock) continue;
      if (next.read === 2 && prev.read !== 0) continue;
      this.record({ ...this.base(curr, [next.lock]), kind: 'recursive', next, prev });
      return;
    }
    // check_prevs_add(): from the most recent lock of the same irq context, down through trylocks.
    const own = this.held.get(next.ctx) ?? [];
    for (let i = own.length - 1; i >= 0; i--) {
      const prev = own[i]!;
      if (prev.lock !== next.lock && !this.checkPrevAdd(prev, next, curr, cpu)) return;
      if (!prev.trylock) break;
    }
  }

  /** check_prev_add(): rules 3 and 4, then record the edge. False once something is reported. */
  checkPrevAdd(prev: Hlock, next: Hlock, curr: Curr, cpu: number): boolean {
    // check_noncircular(): a strong path next → … → prev closes a cycle with the new edge.
    const cycle = this.searchForward(next.lock, next.read === 2, (l, lastR) => l === prev.lock && !(lastR && prev.read !== 0));
    if (cycle) {
      this.record({ ...this.base(curr, cycle.map((d) => d.from)), kind: 'circular', next, prev, path: cycle });
      return false;
    }
    // check_irq_usage(): an X-safe lock backwards of prev, an X-unsafe one forwards of next.
    for (const state of [HARDIRQ, SOFTIRQ]) {
      const isSafe = (l: number): boolean => this.has(l, bitOf(state, USED_IN, 0)) || this.has(l, bitOf(state, USED_IN, 1));
      const safes: { lock: number; path: Dep[] }[] = [];
      if (isSafe(prev.lock)) safes.push({ lock: prev.lock, path: [] });
      this.searchBackward(prev.lock, prev.read !== 0, (l) => {
        if (isSafe(l)) safes.push({ lock: l, path: [] });
        return false;
      });
      for (const s of safes) {
        const backPath = s.lock === prev.lock ? [] : this.searchBackward(prev.lock, prev.read !== 0, (l) => l === s.lock) ?? [];
        const safeWrite = this.has(s.lock, bitOf(state, USED_IN, 0));
        const unsafeFor = (u: number): boolean => this.has(u, bitOf(state, ENABLED, 0)) || (safeWrite && this.has(u, bitOf(state, ENABLED, 1)));
        const fwdPath = unsafeFor(next.lock) ? [] : this.searchForward(next.lock, next.read === 2, (u) => unsafeFor(u));
        if (!fwdPath) continue;
        const unsafe = fwdPath.length > 0 ? fwdPath[fwdPath.length - 1]!.to : next.lock;
        const safeBit = bitOf(state, USED_IN, safeWrite ? 0 : 1);
        const unsafeBit = bitOf(state, ENABLED, this.has(unsafe, bitOf(state, ENABLED, 0)) ? 0 : 1);
        this.record({
          ...this.base(curr, [s.lock, unsafe, prev.lock, next.lock]), kind: 'bad-irq-dependency', next, prev,
          irqclass: `${STATE_NAMES[state]}${safeWrite ? '' : '-READ'}`, safe: s.lock, unsafe, safeBit, unsafeBit, backPath, fwdPath,
        });
        return false;
      }
    }
    const prevShared = prev.read !== 0;
    const nextRecursive = next.read === 2;
    const known = this.deps.some((d) => d.from === prev.lock && d.to === next.lock && d.prevShared === prevShared && d.nextRecursive === nextRecursive);
    if (!known) {
      this.deps.push({
        from: prev.lock, to: next.lock, prevShared, nextRecursive, prevRead: prev.read !== 0, nextRead: next.read !== 0,
        site: next.site, prevSite: prev.site, cpu,
      });
    }
    return true;
  }

  release(e: LockEvent): void {
    const list = this.held.get(e.ctx) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.lock === e.lock) {
        list.splice(i, 1);
        return;
      }
    }
  }

  // ------------------------------------------------- irq transitions

  /** lockdep_hardirqs_on/off, lockdep_softirqs_on/off for one CPU across a step; mark_held_locks. */
  transitions(before: CpuView, after: CpuView, st: StepView): void {
    const softOn = (c: CpuView): boolean => c.bh === 0 && !c.serving;
    const hardOn = before.irqsOff && !after.irqsOff;
    const hardOff = !before.irqsOff && after.irqsOff;
    // __local_bh_enable_ip turns softirqs on before it runs a batch (which turns them off again).
    const bhEnabled = before.bh > 0 && after.bh === 0;
    const softOnNow = !softOn(before) && (softOn(after) || bhEnabled);
    const softOffNow = softOn(before) && !softOn(after);
    if (!hardOn && !hardOff && !softOnNow && !softOffNow) return;
    const site = siteOf(st, '');
    const old = this.stamps[after.cpu]!;
    let events = old.events;
    const stamp = (happened: boolean, was: IrqStamp): IrqStamp => (happened ? { n: ++events, site } : was);
    // In the order the kernel traces them: off transitions on the way in, on transitions on the way out.
    const hardOffStamp = stamp(hardOff, old.hardOff);
    const softOffStamp = stamp(softOffNow, old.softOff);
    const hardOnStamp = stamp(hardOn, old.hardOn);
    const softOnStamp = stamp(softOnNow, old.softOn);
    const s: IrqStamps = { events, hardOn: hardOnStamp, hardOff: hardOffStamp, softOn: softOnStamp, softOff: softOffStamp };
    this.stamps[after.cpu] = s;
    const top = after.stack[after.stack.length - 1];
    if (!top || after.irqsOff) return;
    const curr = this.currOf(after, top.ctx);
    if (hardOn) {
      for (const h of curr.held) this.mark(h, bitOf(HARDIRQ, ENABLED, h.read !== 0 ? 1 : 0), site, curr);
    }
    if ((hardOn && (softOn(after) || softOnNow)) || softOnNow) {
      for (const h of curr.held) this.mark(h, bitOf(SOFTIRQ, ENABLED, h.read !== 0 ? 1 : 0), site, curr);
    }
  }

  replayStep(view: ScheduleView, st: StepView): void {
    this.step = st;
    for (const e of st.events) {
      if (e.kind === 'attempt') this.acquire(e, st);
      else if (e.kind === 'release') this.release(e);
    }
    const before = cpusBefore(view, st.index);
    for (let c = 0; c < st.cpus.length; c++) this.transitions(before[c]!, st.cpus[c]!, st);
  }
}

/** A step of the schedule as a lockdep trace shows it; `at` is the instruction, if one. */
export function siteOf(st: StepView, at: string): Site {
  return { step: st.index, label: st.label, at };
}
