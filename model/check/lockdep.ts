/**
 * lockdep's prediction (kernel/locking/lockdep.c; shared/lockdep-selftests.md
 * §4), learnt from every transition an explorer takes.
 *
 * lockdep watches one run and predicts from it what every interleaving of
 * the lock orders it saw could do. Here the same rules watch every
 * transition of every explored execution (a TransitionObserver the explorer
 * calls, see Machine.observer), and collect lockdep's facts:
 *  - lock classes: a lock's declared class with the subclass it was taken
 *    with (register_lock_class), and the lockdep maps of timers, works and
 *    workqueues;
 *  - usage bits per class (mark_usage, mark_held_locks): USED_IN_HARDIRQ,
 *    ENABLED_HARDIRQ, the SOFTIRQ forms and the READ forms, each with the
 *    place it was first seen at;
 *  - the dependency graph (check_prevs_add), with lockdep's four edge types
 *    -(SR)-> -(ER)-> -(SN)-> -(EN)->: prev held shared or exclusive, next
 *    acquired as a recursive reader or not;
 *  - recursion (check_deadlock), wait-context violations
 *    (check_wait_context), unbalanced unlocks and re-initialised held locks.
 * Each fact is a member of a set, and of each fact the place kept is the
 * least one in a fixed order (site keys), so the prediction is the same
 * whatever order the explorer visits states in, and whichever execution
 * shows a fact first. A partial-order reduction that prunes interleavings
 * keeps it too, as long as every context still takes each of its
 * acquisitions with the same held locks and irq state in some explored
 * execution: those are facts of one CPU's own history, which commuting
 * independent transitions of other CPUs does not change.
 *
 * Then predict() applies lockdep's rules to the whole graph at once: a
 * class both irq-safe and irq-unsafe ("inconsistent lock state"), a strong
 * cycle ("possible circular locking dependency"; lockdep's BFS over strong
 * paths, where no -(*R)-> step is followed by a -(S*)-> step), an irq-safe
 * class with a strong path to an irq-unsafe one ("X-safe -> X-unsafe lock
 * order", check_irq_usage's masks), recursion, wait contexts and misuse.
 *
 * Deliberate differences from the kernel's lockdep, each for a reason:
 *  - An acquisition adds an edge from every lock its context holds, not
 *    only from the most recent (check_prevs_add stops at the first
 *    non-trylock, relying on the earlier edges of the stack; without read
 *    locks the reachability is the same). The edges added are real
 *    "held while acquiring" dependencies; the held-lock order is not part
 *    of the state, and this needs none.
 *  - The strong-path search is exact: it keeps, per class, whether it was
 *    reached by a path ending in -(*N)-> or only in -(*R)->, where __bfs
 *    marks a class visited at its first arrival (lock_accessed), which can
 *    miss a strong path behind a weak one.
 *  - lockdep stops at its first report and reports the rule that fires
 *    first in its run: a safe→unsafe pair is an "irq lock inversion" when
 *    the usage came last, "safe -> unsafe lock order" when the dependency
 *    did. A prediction over every execution has no "last", so every such
 *    pair is reported in the dependency form; the per-schedule report of a
 *    counterexample (model/report/lockdep.ts) keeps the order.
 *  - A recursion through an interrupted context (a handler taking a lock
 *    the context below it holds) is reported as the inconsistent lock
 *    state it always also is, not a second time as recursion.
 *  - tasklet_kill has no lockdep annotation in the kernel (it waits with
 *    wait_var_event), so lockdep predicts nothing about it; the explorer
 *    still finds its deadlocks.
 */
import {
  C_BH, C_HARDIRQ, C_IRQS_OFF, C_NMI, C_SERVING, FrameKind, L_OWNER, X_HELD, X_ID, X_KIND, X_PC, X_PHASE,
} from '../kernel/layout.ts';
import { currFrames, holdCount, subclassOf } from '../kernel/held-locks.ts';
import { LD_WAIT_CONFIG, LD_WAIT_MAX, LOCK_KINDS } from '../kernel/lock-kinds.ts';
import type { Machine } from '../kernel/machine.ts';
import { INSN_WIDTH, type Program } from '../kernel/program.ts';
import { LOCKDEP_MAPS_HELD, OPS } from '../kernel/registry.ts';
import {
  CHOICE_RUN, choiceCpu, choiceKind, type LockdepAction, type LockdepMapRef, type TransitionObserver,
} from '../kernel/semantics.ts';

// ------------------------------------------------------------ usage bits
// include/linux/lockdep_types.h, lockdep_states.h: bit = state*4 + dir*2 + read,
// dir 0 = USED_IN (taken in that irq context), 1 = ENABLED (held with it enabled).

// The usage bits and their names are lockdep.c's, shared with the per-schedule view.
export {
  bitOf, ENABLED, FACT_BITS, HARDIRQ, IN_NMI, IN_NMI_READ, LOCK_USED, LOCK_USED_READ, SOFTIRQ, STATE_NAMES, USAGE_BITS, USAGE_STR, USED_IN,
} from '../report/lockdep-view.ts';
import {
  bitOf, ENABLED, FACT_BITS, HARDIRQ, IN_NMI, IN_NMI_READ, LOCK_USED, LOCK_USED_READ, SOFTIRQ, STATE_NAMES, USED_IN,
} from '../report/lockdep-view.ts';

// ------------------------------------------------------------ edge types
// DEP_*_BIT of lockdep.c: bit0 = prev exclusive (read == 0), bit1 = next non-recursive (read != 2).
export const DEP_SR = 0;
export const DEP_ER = 1;
export const DEP_SN = 2;
export const DEP_EN = 3;
export const DEP_NAMES = ['SR', 'ER', 'SN', 'EN'] as const;
const S_MASK = (1 << DEP_SR) | (1 << DEP_SN);
const N_MASK = (1 << DEP_SN) | (1 << DEP_EN);

/** lockdep's read argument: 0 exclusive, 1 non-recursive reader, 2 recursive reader. */
export type ReadLevel = 0 | 1 | 2;

// --------------------------------------------------------------- classes

export interface LockdepClass {
  /** As lockdep prints it: `&dev->lock`, `&dev->lock/1`, `(work_completion)(&dev->work)`. */
  readonly name: string;
  /** lockdep_map.wait_type_inner (0: not checked, the pseudo-locks). */
  readonly waitInner: number;
  /** LD_LOCK_PERCPU (local_lock_t): skipped by the irq-inversion searches. */
  readonly percpu: boolean;
  /** The lock instances of the class (lock ids), none for a map. */
  readonly locks: readonly number[];
  readonly subclass: number;
  /** The map this class is, or null for a lock class. */
  readonly map: LockdepMapRef | null;
}

/** The kernel's names of the builtin workqueues (alloc_workqueue's name). */
const WQ_KERNEL_NAMES: Readonly<Record<string, string>> = { system_wq: 'events', system_long_wq: 'events_long', system_unbound_wq: 'events_unbound' };

const SUBCLASSES = 8;

/**
 * Every lockdep class a program can have, numbered from the program alone
 * (so the numbering does not depend on the exploration): each declared lock
 * class times its 8 subclasses, then the lockdep maps of its timers, works
 * and workqueues.
 */
export class LockdepClasses {
  readonly list: LockdepClass[] = [];
  private readonly lockClass: Int32Array;
  private readonly mapBase: Record<LockdepMapRef['kind'], number>;

  constructor(p: Program) {
    const names: string[] = [];
    this.lockClass = new Int32Array(p.locks.length);
    p.locks.forEach((l, i) => {
      let c = names.indexOf(l.class);
      if (c < 0) c = names.push(l.class) - 1;
      this.lockClass[i] = c;
    });
    names.forEach((cls, c) => {
      const locks = p.locks.flatMap((_, i) => (this.lockClass[i] === c ? [i] : []));
      const kind = LOCK_KINDS[p.locks[locks[0]!]!.kind];
      for (let sub = 0; sub < SUBCLASSES; sub++) {
        this.list.push({ name: `&${cls}${sub ? `/${sub}` : ''}`, waitInner: kind.waitInner, percpu: kind.percpu, locks, subclass: sub, map: null });
      }
    });
    const base = this.list.length;
    const count = (k: string) => p.objects[k]?.length ?? 0;
    this.mapBase = {
      timer: base, work: base + count('timer'), workqueue: base + count('timer') + count('work'),
      seqcount: base + count('timer') + count('work') + count('workqueue'),
    };
    const mapName = (ref: LockdepMapRef): string => {
      const name = p.objects[ref.kind]![ref.id]!.name;
      // timer_setup → "(&t)"; INIT_WORK → "(work_completion)(&w)"; alloc_workqueue → "(wq_completion)name".
      if (ref.kind === 'timer') return `(&${name})`;
      if (ref.kind === 'work') return `(work_completion)(&${name})`;
      // seqcount_init(s) names the class after its argument, as spin_lock_init does.
      if (ref.kind === 'seqcount') return `&${name}`;
      return `(wq_completion)${WQ_KERNEL_NAMES[name] ?? name}`;
    };
    for (const kind of ['timer', 'work', 'workqueue', 'seqcount'] as const) {
      for (let id = 0; id < count(kind); id++) {
        const map = { kind, id };
        this.list.push({ name: mapName(map), waitInner: 0, percpu: false, locks: [], subclass: 0, map });
      }
    }
  }

  ofLock(lock: number, subclass: number): number {
    return this.lockClass[lock]! * SUBCLASSES + subclass;
  }
  ofMap(ref: LockdepMapRef): number {
    return this.mapBase[ref.kind] + ref.id;
  }
  get size(): number {
    return this.list.length;
  }
}

// ----------------------------------------------------------------- sites

/** A lock a context held at a site, as a lockdep report lists it. */
export interface HeldLine {
  readonly cls: number;
  readonly read: boolean;
}

/**
 * Where a fact was seen: an instruction of the design (or an event), the
 * context running it, and lockdep's view of that context then.
 */
export interface Site {
  /** The design location (`task t[2]`), or the CPU of an event. */
  readonly where: string;
  /** The instruction's kernel text (`spin_lock(&A)`) or the event. */
  readonly text: string;
  /** `task t`, `hardirq eth0`, `softirq NET_RX`… */
  readonly ctx: string;
  /** lockdep's `curr`: the task (or swapper) the context runs in, as comm/pid. */
  readonly comm: string;
  readonly pid: number;
  readonly cpu: number;
  /** `[HC0[0]:SC0[0]:HE1:SE1]` */
  readonly bracket: string;
  /** curr's held locks then, bottom first. */
  readonly held: readonly HeldLine[];
  /** The order sites are compared in; the least is kept. */
  readonly key: string;
}

/** An acquisition or hold as lockdep records it (struct held_lock). */
export interface Hlock {
  readonly cls: number;
  readonly read: ReadLevel;
  /** The lock instance (a lock id), or for a map mapInstance(class): one object, one class. */
  readonly lock: number;
  /** The context holding it. */
  readonly ctx: number;
}

// ----------------------------------------------------------------- facts

export interface Dep {
  readonly from: number;
  readonly to: number;
  /** The edge types seen (bits DEP_SR..DEP_EN). */
  mask: number;
  /** Per type, the least site of the acquisition of `to` with `from` held. */
  readonly sites: (Site | null)[];
  /**
   * The lock instances held exclusively at every acquisition making this
   * edge (an intersection over all of them): a lock that serialises them.
   */
  gates: number;
}

export interface RecursionFact {
  readonly cls: number;
  readonly prev: Hlock;
  readonly next: Hlock;
  /** The same lock instance (a real self-deadlock), or two instances of one class. */
  readonly sameInstance: boolean;
  site: Site;
}

export interface WaitContextFact {
  readonly cls: number;
  /** The context's wait type (task_wait_context, narrowed by the locks held). */
  readonly currInner: number;
  /** The held class that narrows it, or -1 (the irq context itself). */
  readonly holder: number;
  site: Site;
}

/** A LockdepObserver's collection as plain data: its facts and the keys of the distinct events it saw. */
export interface LockdepObserverData {
  readonly facts: LockdepData;
  readonly seen: readonly string[];
}

/** LockdepFacts as plain data (structured-cloneable): LockdepFacts.toData, absorb. */
export interface LockdepData {
  readonly usage: readonly number[];
  readonly usageSite: readonly (readonly (Site | null)[])[];
  readonly usageCpus: readonly number[];
  readonly deps: readonly Dep[];
  readonly recursion: readonly (readonly [string, RecursionFact])[];
  readonly waitContext: readonly (readonly [string, WaitContextFact])[];
  readonly badUnlock: readonly (readonly [number, Site])[];
  readonly freed: readonly (readonly [number, Site])[];
  readonly transitions: number;
}

/** The lockdep facts of a program, collected over the transitions observed. */
export class LockdepFacts {
  readonly p: Program;
  readonly classes: LockdepClasses;
  readonly usage: Uint16Array;
  readonly usageSite: (Site | null)[][];
  /** Per class and fact bit (cls * FACT_BITS + bit): the CPUs it was seen on, a bit each. */
  readonly usageCpus: Uint16Array;
  readonly deps = new Map<number, Dep>();
  readonly recursion = new Map<string, RecursionFact>();
  readonly waitContext = new Map<string, WaitContextFact>();
  /** Per lock instance: a release by a context that does not hold it (print_unlock_imbalance_bug). */
  readonly badUnlock = new Map<number, Site>();
  /** Per lock instance: a *_init while the current task holds it (print_freed_lock_bug). */
  readonly freed = new Map<number, Site>();
  /** Transitions observed, and lock events seen (distinct ones). */
  transitions = 0;
  events = 0;

  constructor(p: Program) {
    this.p = p;
    this.classes = new LockdepClasses(p);
    this.usage = new Uint16Array(this.classes.size);
    this.usageSite = this.classes.list.map(() => new Array<Site | null>(FACT_BITS).fill(null));
    this.usageCpus = new Uint16Array(this.classes.size * FACT_BITS);
  }

  /**
   * Under symmetry reduction the search visits one CPU of each set of
   * interchangeable ones where the others would do the same: what was seen
   * on one CPU of an orbit is possible on all of them.
   */
  closeOverCpuOrbits(orbits: readonly (readonly number[])[]): void {
    for (let i = 0; i < this.usageCpus.length; i++) {
      let mask = this.usageCpus[i]!;
      for (const orbit of orbits) if (orbit.some((c) => (mask & (1 << c)) !== 0)) for (const c of orbit) mask |= 1 << c;
      this.usageCpus[i] = mask;
    }
  }

  has(cls: number, bit: number): boolean {
    return (this.usage[cls]! & (1 << bit)) !== 0;
  }

  mark(cls: number, bit: number, site: Site): void {
    this.usage[cls] = this.usage[cls]! | (1 << bit);
    this.usageCpus[cls * FACT_BITS + bit] = this.usageCpus[cls * FACT_BITS + bit]! | (1 << site.cpu);
    const old = this.usageSite[cls]![bit];
    if (!old || site.key < old.key) this.usageSite[cls]![bit] = site;
  }

  addDep(from: number, to: number, type: number, site: Site, gates: number): void {
    const key = from * 65536 + to;
    let d = this.deps.get(key);
    if (!d) {
      d = { from, to, mask: 0, sites: [null, null, null, null], gates };
      this.deps.set(key, d);
    }
    d.mask |= 1 << type;
    d.gates &= gates;
    const old = d.sites[type];
    if (!old || site.key < old.key) d.sites[type] = site;
  }

  /** The facts as plain data, to send from a worker thread (workers.ts) and absorb() in the main one. */
  toData(): LockdepData {
    return {
      usage: Array.from(this.usage), usageSite: this.usageSite, usageCpus: Array.from(this.usageCpus), deps: [...this.deps.values()],
      recursion: [...this.recursion], waitContext: [...this.waitContext], badUnlock: [...this.badUnlock], freed: [...this.freed],
      transitions: this.transitions,
    };
  }

  /**
   * Add another observer's facts (the same program's): every fact kept
   * with its least site, as one observer that saw both sets of transitions
   * keeps it, so the result does not depend on which thread saw what.
   */
  absorb(d: LockdepData): void {
    const least = (old: Site | null | undefined, site: Site | null): Site | null => (site && (!old || site.key < old.key) ? site : old ?? null);
    d.usage.forEach((u, cls) => {
      this.usage[cls] = this.usage[cls]! | u;
      d.usageSite[cls]!.forEach((site, bit) => (this.usageSite[cls]![bit] = least(this.usageSite[cls]![bit], site)));
    });
    d.usageCpus.forEach((c, i) => (this.usageCpus[i] = this.usageCpus[i]! | c));
    for (const dep of d.deps) {
      const key = dep.from * 65536 + dep.to;
      const old = this.deps.get(key);
      if (!old) {
        this.deps.set(key, { ...dep, sites: [...dep.sites] });
        continue;
      }
      old.mask |= dep.mask;
      old.gates &= dep.gates;
      dep.sites.forEach((site, type) => (old.sites[type] = least(old.sites[type], site)));
    }
    for (const [key, fact] of d.recursion) minSite(this.recursion, key, () => fact, fact.site);
    for (const [key, fact] of d.waitContext) minSite(this.waitContext, key, () => fact, fact.site);
    for (const [lock, site] of d.badUnlock) this.badUnlock.set(lock, least(this.badUnlock.get(lock), site)!);
    for (const [lock, site] of d.freed) this.freed.set(lock, least(this.freed.get(lock), site)!);
    this.transitions += d.transitions;
  }

  /** Edges into and out of each class, built on demand for the searches. */
  adjacency(): { out: Dep[][]; into: Dep[][] } {
    const out: Dep[][] = this.classes.list.map(() => []);
    const into: Dep[][] = this.classes.list.map(() => []);
    const sorted = [...this.deps.values()].sort((a, b) => a.from - b.from || a.to - b.to);
    for (const d of sorted) {
      out[d.from]!.push(d);
      into[d.to]!.push(d);
    }
    return { out, into };
  }
}

/** The instance number of a lockdep map's class (negative: not a lock id). A map is its object's, so one per class. */
export const mapInstance = (cls: number): number => -2 - cls;

/** Keep the fact with the least site under `key` (the whole fact: what it holds comes from the same witness). */
const minSite = <T extends { site: Site }>(map: Map<string, T>, key: string, make: () => T, site: Site): void => {
  const old = map.get(key);
  if (!old || site.key < old.site.key) map.set(key, make());
};

// --------------------------------------------------------- the observer

/** The per-CPU flags lockdep's irq tracing follows. */
interface CpuFlags {
  irqsOff: number;
  bh: number;
  serving: number;
  hardirq: number;
}

const readFlags = (m: Machine, cpu: number, into: CpuFlags): void => {
  const co = m.cpuOff(cpu);
  into.irqsOff = m.s[co + C_IRQS_OFF]!;
  into.bh = m.s[co + C_BH]!;
  into.serving = m.s[co + C_SERVING]!;
  into.hardirq = m.s[co + C_HARDIRQ]!;
};

const softirqsOn = (f: CpuFlags): boolean => f.bh === 0 && f.serving === 0;

/**
 * Collects LockdepFacts from the transitions an explorer takes: attach it
 * as the explorer's `transitions` observer (ExhaustiveOptions,
 * RandomOptions).
 */
export class LockdepObserver implements TransitionObserver {
  readonly facts: LockdepFacts;
  private readonly seen = new Set<string>();
  private readonly pre: CpuFlags = { irqsOff: 0, bh: 0, serving: 0, hardirq: 0 };
  private readonly post: CpuFlags = { irqsOff: 0, bh: 0, serving: 0, hardirq: 0 };
  /** The instruction the step runs, -1 for an event. */
  private stepPc = -1;
  /** A trylock whose success is known after the step: its lock and the context's holds of it before. */
  private trylock: { ctx: number; lock: number; before: number; action: LockdepAction } | null = null;

  constructor(p: Program) {
    this.facts = new LockdepFacts(p);
  }

  /** What this observer collected, as plain data (a worker thread's part of a search, workers.ts). */
  toData(): LockdepObserverData {
    return { facts: this.facts.toData(), seen: [...this.seen] };
  }

  /** Add another observer's collection: the facts as LockdepFacts.absorb, the distinct events counted once. */
  absorb(d: LockdepObserverData): void {
    this.facts.absorb(d.facts);
    for (const key of d.seen) {
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.facts.events++;
    }
  }

  before(m: Machine, choice: number): void {
    this.facts.transitions++;
    const cpu = choiceCpu(choice);
    readFlags(m, cpu, this.pre);
    this.trylock = null;
    this.stepPc = -1;
    if (choiceKind(choice) !== CHOICE_RUN) return;
    const ctx = m.top(cpu);
    if (ctx < 0) return;
    const o = m.ctxOff(ctx);
    const pc = m.s[o + X_PC]!;
    this.stepPc = pc;
    const action = OPS[m.code[pc]!]!.lockdep;
    if (!action) return;
    const lock = m.code[pc + 1]!;
    switch (action.action) {
      case 'acquire': {
        // A _bh lock's first step is only local_bh_disable; lockdep sees the next one. A recursion
        // is found (and the path ends) in that first step, so lockdep's view of it is taken there,
        // with softirqs already off as they would be at spin_acquire.
        let seen = action;
        if (action.prologueStep && m.s[o + X_PHASE] === 0) {
          if ((m.s[o + X_HELD]! & (1 << lock)) === 0) return;
          seen = { ...action, bhOff: true };
        }
        if (action.trylock) {
          this.trylock = { ctx, lock, before: holdCount(m.L, m.s, o, lock), action };
          return;
        }
        const subclass = action.subclassOperand ? m.code[pc + 1 + action.subclassOperand]! : 0;
        this.acquire(m, cpu, ctx, this.facts.classes.ofLock(lock, subclass), lock, this.readLevel(m, cpu, action), false, seen, null);
        return;
      }
      case 'release':
        // __lock_release → find_held_lock, within the context's own irq context (nothing in NMI: lockdep is off).
        if (m.inNmi(cpu)) return;
        if ((m.s[o + X_HELD]! & (1 << lock)) === 0) this.recordMisuse(m, cpu, ctx, this.facts.badUnlock, lock);
        return;
      case 'init':
        // debug_check_no_locks_freed: the current task's held locks (every frame of curr).
        if (currFrames(m, cpu, ctx).some((c) => (m.s[m.ctxOff(c) + X_HELD]! & (1 << lock)) !== 0)) this.recordMisuse(m, cpu, ctx, this.facts.freed, lock);
        return;
      case 'touch-map':
        if (m.s[o + X_PHASE] === 0) this.touchAtEntry(m, cpu, ctx, action, lock);
        return;
      case 'downgrade':
        return;
    }
  }

  /** A touch-map instruction's lock_map_acquire, before it does anything else (it may wait without a step). */
  private touchAtEntry(m: Machine, cpu: number, ctx: number, action: LockdepAction, id: number): void {
    const cls = this.facts.classes.ofMap({ kind: action.map!, id });
    this.acquire(m, cpu, ctx, cls, mapInstance(cls), this.readLevel(m, cpu, action), false, action, null, -1, { kind: action.map!, id });
  }

  after(m: Machine, choice: number): void {
    const cpu = choiceCpu(choice);
    const t = this.trylock;
    if (t !== null && holdCount(m.L, m.s, m.ctxOff(t.ctx), t.lock) > t.before) {
      // A successful trylock: lockdep saw it after the prologue; it adds no dependency and no USED_IN bit.
      this.acquire(m, cpu, t.ctx, this.facts.classes.ofLock(t.lock, 0), t.lock, this.readLevel(m, cpu, t.action), true, t.action, null, t.lock);
    }
    // A context now at a touch-map instruction it has not started: lockdep sees the touch whether
    // the instruction runs or waits at once (del_timer_sync on a running callback never steps).
    const top = m.top(cpu);
    if (top >= 0) {
      const o = m.ctxOff(top);
      const pc = m.s[o + X_PC]!;
      const action = OPS[m.code[pc]!]!.lockdep;
      if (action?.action === 'touch-map' && m.s[o + X_PHASE] === 0) this.touchAtEntry(m, cpu, top, action, m.code[pc + 1]!);
    }
    readFlags(m, cpu, this.post);
    const pre = this.pre;
    const post = this.post;
    const hardOn = pre.irqsOff !== 0 && post.irqsOff === 0;
    // __local_bh_enable_ip turns softirqs on before it runs pending ones (which turn them off again).
    const softOnNow = !softirqsOn(pre) && (softirqsOn(post) || (pre.bh > 0 && post.bh === 0));
    if ((hardOn || softOnNow) && post.irqsOff === 0 && post.hardirq === 0) this.irqsOn(m, cpu, hardOn, (hardOn && softirqsOn(post)) || softOnNow);
  }

  lockdepMap(m: Machine, cpu: number, ctx: number, map: LockdepMapRef, irqsOff: boolean, under?: LockdepMapRef): void {
    const action: LockdepAction = { action: 'acquire', read: 0, ...(irqsOff ? { irqsOff: true as const } : {}) };
    const cls = this.facts.classes.ofMap(map);
    this.acquire(m, cpu, ctx, cls, mapInstance(cls), 0, false, action, under ?? null, -1, map);
  }

  /** A lock taken in NMI context (see acquire): the IN-NMI fact and its site. */
  private nmiUse(m: Machine, cpu: number, ctx: number, cls: number, read: boolean, flags: CpuFlags, hardirqsOff: boolean, softirqsEnabled: boolean, map: LockdepMapRef | null): void {
    const o = m.ctxOff(ctx);
    const pc = m.s[o + X_PC]!;
    // Everything the site depends on (its bracket, its curr), as acquire's key: the place kept must be
    // the least of all, whichever NMI the explorer meets first (an NMI over a task or over the idle CPU).
    const key = `nmi|${cls}|${read ? 1 : 0}|${pc}|${cpu}|${hardirqsOff ? 1 : 0}${softirqsEnabled ? 1 : 0}|${flags.hardirq}:${flags.serving}:${flags.bh}|` +
      `${m.s[o + X_KIND]}:${m.s[o + X_ID]}|${this.baseOf(m, currFrames(m, cpu, ctx))}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.facts.events++;
    const site = this.site(m, cpu, ctx, map ? -1 : pc, flags, hardirqsOff, softirqsEnabled, [], undefined);
    this.facts.mark(cls, read ? IN_NMI_READ : IN_NMI, site);
  }

  /** lock_acquire's read argument (read_lock_is_recursive for rwlock readers). */
  private readLevel(m: Machine, cpu: number, action: LockdepAction): ReadLevel {
    if (action.read === 0) return 0;
    if (action.read === 1) return 1;
    if (action.read === 2) return 2;
    return m.p.flags.rwlock !== 'qrwlock' || m.inInterrupt(cpu) ? 2 : 1;
  }

  /** The held locks of `frames` (bottom first) as lockdep's hlocks, maps included; without `skipLock`, a trylock just taken. */
  private heldLocks(m: Machine, frames: readonly number[], skipLock = -1): Hlock[] {
    const out: Hlock[] = [];
    const classes = this.facts.classes;
    for (const f of frames) {
      const o = m.ctxOff(f);
      for (const getMaps of LOCKDEP_MAPS_HELD) {
        for (const ref of getMaps(m, f)) {
          const cls = classes.ofMap(ref);
          out.push({ cls, read: 0, lock: mapInstance(cls), ctx: f });
        }
      }
      let held = m.s[o + X_HELD]!;
      for (let lock = 0; held !== 0; lock++, held >>>= 1) {
        if ((held & 1) === 0) continue;
        // A trylock just taken is not held yet for lockdep's checks of itself.
        if (lock === skipLock && f === frames[frames.length - 1] && holdCount(m.L, m.s, o, lock) === 1) continue;
        const shared = LOCK_KINDS[m.p.locks[lock]!.kind].shared && m.s[m.lockOff(lock) + L_OWNER] !== f + 1;
        out.push({ cls: classes.ofLock(lock, subclassOf(m.s, o, lock)), read: shared ? 1 : 0, lock, ctx: f });
      }
    }
    return out;
  }

  /** The frame lockdep's `curr` is named after (currOf), as kind:id. */
  private baseOf(m: Machine, frames: readonly number[]): string {
    const o = m.ctxOff(frames[0]!);
    return `${m.s[o + X_KIND]}:${m.s[o + X_ID]}`;
  }

  /** lockdep's `curr` for `ctx` on `cpu`: comm, pid and the task bracket. */
  private currOf(m: Machine, cpu: number, frames: readonly number[]): { comm: string; pid: number } {
    const base = frames[0]!;
    if (m.isTask(base)) return { comm: m.p.tasks[base]!.name, pid: base + 1 };
    if (m.s[m.ctxOff(base) + X_KIND] === FrameKind.Ksoftirqd) return { comm: `ksoftirqd/${cpu}`, pid: m.p.tasks.length + 1 + cpu };
    return { comm: `swapper/${cpu}`, pid: 0 };
  }

  private site(m: Machine, cpu: number, ctx: number, pc: number, flags: CpuFlags, hardirqsOff: boolean, softirqsEnabled: boolean, held: readonly Hlock[], event?: string): Site {
    const frames = currFrames(m, cpu, ctx);
    const { comm, pid } = this.currOf(m, cpu, frames);
    const insn = pc / INSN_WIDTH;
    const where = pc >= 0 ? m.p.where[insn]! : `cpu${cpu}`;
    const text = pc >= 0 ? m.p.text[insn]! : event ?? '';
    const serving = flags.serving > 0 ? 1 : 0;
    const bracket = `[HC${flags.hardirq > 0 ? 1 : 0}[${flags.hardirq}]:SC${serving}[${serving + 2 * flags.bh}]:HE${hardirqsOff ? 0 : 1}:SE${softirqsEnabled ? 1 : 0}]`;
    const lines = held.map((h) => ({ cls: h.cls, read: h.read !== 0 }));
    const ctxName = m.contextName(ctx);
    const key = `${where}\u0000${text}\u0000${ctxName}\u0000${bracket}\u0000${cpu}\u0000${comm}/${pid}\u0000${held.map((h) => `${h.cls}${h.read ? 'r' : 'w'}${h.lock}`).join(',')}`;
    return { where, text, ctx: ctxName, comm, pid, cpu, bracket, held: lines, key };
  }

  /**
   * __lock_acquire of class `cls` by `ctx`: check_wait_context, mark_usage,
   * check_deadlock and check_prevs_add, as facts.
   */
  private acquire(
    m: Machine, cpu: number, ctx: number, cls: number, lock: number, read: ReadLevel, trylock: boolean,
    action: LockdepAction, under: LockdepMapRef | null, justTaken = -1, map: LockdepMapRef | null = null,
  ): void {
    const flags: CpuFlags = { irqsOff: 0, bh: 0, serving: 0, hardirq: 0 };
    readFlags(m, cpu, flags);
    const hardirqsOff = action.irqsOff === true || flags.irqsOff !== 0;
    const softirqsEnabled = action.bhOff !== true && softirqsOn(flags);
    const hardirqCtx = flags.hardirq > 0;
    const softirqCtx = flags.serving > 0;
    if (m.s[m.cpuOff(cpu) + C_NMI]! > 0) {
      // In NMI lockdep is off (__nmi_enter: lockdep_off): lock_acquire records nothing, and for a
      // lock that is not a trylock only verify_lock_unused runs, reporting a class used before
      // outside NMI (a read only against a write use). Kept as a fact for predict().
      if (!trylock) this.nmiUse(m, cpu, ctx, cls, read !== 0, flags, hardirqsOff, softirqsEnabled, map);
      return;
    }
    const frames = currFrames(m, cpu, ctx);
    const held = this.heldLocks(m, frames, justTaken);
    if (under) {
      const cls = this.facts.classes.ofMap(under);
      held.push({ cls, read: 0, lock: mapInstance(cls), ctx });
    }
    // The lock instances held exclusively by curr: what could serialise this acquisition with another.
    let gates = 0;
    for (const h of held) if (h.lock >= 0 && h.read === 0) gates |= 1 << h.lock;
    const o = m.ctxOff(ctx);
    const pc = m.s[o + X_PC]!;
    // Everything the facts and the site (its bracket, its curr) depend on: a transition seen before adds nothing.
    const key = `${cls}|${read}|${trylock ? 1 : 0}|${hardirqsOff ? 1 : 0}${softirqsEnabled ? 1 : 0}|${flags.hardirq}:${flags.serving}:${flags.bh}|${pc}|${m.s[o + X_KIND]}:${m.s[o + X_ID]}:${cpu}|${this.baseOf(m, frames)}|${gates}|${held.map((h) => `${h.cls}${h.read}${h.ctx === ctx ? '' : '^'}`).join(',')}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.facts.events++;
    // A map taken inside kernel code (call_timer_fn, process_one_work) is named after that code.
    const event = map && OPS[m.code[pc]!]!.internal
      ? `${map.kind === 'timer' ? 'call_timer_fn' : 'process_one_work'}: lock_map_acquire(${this.facts.classes.list[cls]!.name})` : undefined;
    const site = this.site(m, cpu, ctx, event ? -1 : pc, flags, hardirqsOff, softirqsEnabled, held, event);
    const facts = this.facts;
    const next: Hlock = { cls, read, lock, ctx };
    const own = held.filter((h) => h.ctx === ctx);

    // check_wait_context: the strictest wait type of the context and of what it holds.
    const inner = facts.classes.list[cls]!.waitInner;
    if (inner !== 0 && !trylock) {
      // task_wait_context: a (threadable) hardirq handler and a softirq are LD_WAIT_CONFIG, a task LD_WAIT_MAX.
      let currInner = hardirqCtx || softirqCtx ? LD_WAIT_CONFIG : LD_WAIT_MAX;
      let holder = -1;
      for (const h of own) {
        const w = facts.classes.list[h.cls]!.waitInner;
        if (w !== 0 && w < currInner) {
          currInner = w;
          holder = h.cls;
        }
      }
      if (inner > currInner) {
        minSite(facts.waitContext, `${cls}|${currInner}|${holder}`, () => ({ cls, currInner, holder, site }), site);
      }
    }

    // mark_usage
    const r = read !== 0 ? 1 : 0;
    if (!trylock) {
      if (hardirqCtx) facts.mark(cls, bitOf(HARDIRQ, USED_IN, r), site);
      if (softirqCtx) facts.mark(cls, bitOf(SOFTIRQ, USED_IN, r), site);
    }
    if (!hardirqsOff) {
      facts.mark(cls, bitOf(HARDIRQ, ENABLED, r), site);
      if (softirqsEnabled) facts.mark(cls, bitOf(SOFTIRQ, ENABLED, r), site);
    }
    facts.mark(cls, r ? LOCK_USED_READ : LOCK_USED, site);
    if (trylock) return;

    // check_deadlock: the class already held by this context (a handler below it is the inconsistent state).
    for (const prev of own) {
      if (prev.cls !== cls || (read === 2 && prev.read !== 0)) continue;
      const sameInstance = prev.lock === lock;
      minSite(facts.recursion, `${cls}|${sameInstance}`, () => ({ cls, prev, next, sameInstance, site }), site);
    }
    // check_prevs_add: an edge from every lock the context holds (see the header).
    for (const prev of own) {
      if (prev.cls === cls) continue;
      const type = (prev.read === 0 ? 1 : 0) + (read !== 2 ? 2 : 0);
      const edgeGates = gates & ~(prev.lock >= 0 ? 1 << prev.lock : 0) & ~(lock >= 0 ? 1 << lock : 0);
      facts.addDep(prev.cls, cls, type, site, edgeGates);
    }
  }

  private recordMisuse(m: Machine, cpu: number, ctx: number, into: Map<number, Site>, lock: number): void {
    const flags: CpuFlags = { irqsOff: 0, bh: 0, serving: 0, hardirq: 0 };
    readFlags(m, cpu, flags);
    const held = this.heldLocks(m, currFrames(m, cpu, ctx));
    const site = this.site(m, cpu, ctx, m.s[m.ctxOff(ctx) + X_PC]!, flags, flags.irqsOff !== 0, softirqsOn(flags), held);
    const old = into.get(lock);
    if (!old || site.key < old.key) into.set(lock, site);
  }

  /** lockdep_hardirqs_on / lockdep_softirqs_on → mark_held_locks for curr on `cpu`. */
  private irqsOn(m: Machine, cpu: number, hard: boolean, soft: boolean): void {
    const top = m.top(cpu);
    if (top < 0) return;
    const frames = currFrames(m, cpu, top);
    const held = this.heldLocks(m, frames);
    if (held.length === 0) return;
    const event = this.stepPc >= 0 ? undefined : 'irqs back on';
    const post = this.post;
    const key = `T|${hard ? 1 : 0}${soft ? 1 : 0}|${cpu}|${this.stepPc}|${m.s[m.ctxOff(top) + X_KIND]}:${m.s[m.ctxOff(top) + X_ID]}|${this.baseOf(m, frames)}|${post.irqsOff}:${post.bh}:${post.serving}:${post.hardirq}|${held.map((h) => `${h.cls}${h.read}`).join(',')}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.facts.events++;
    // Named after the instruction that turned them on (or the event), in the context whose locks are marked.
    const site = this.site(m, cpu, top, this.stepPc, this.post, false, soft || softirqsOn(this.post), held, event);
    for (const h of held) {
      const r = h.read !== 0 ? 1 : 0;
      if (hard) this.facts.mark(h.cls, bitOf(HARDIRQ, ENABLED, r), site);
      if (soft) this.facts.mark(h.cls, bitOf(SOFTIRQ, ENABLED, r), site);
    }
  }
}

// ------------------------------------------------------------ prediction

/** An edge of a dependency path, with the type the path uses it as. */
export interface DepStep {
  readonly dep: Dep;
  readonly type: number;
}

interface FindingBase {
  /** Stable identity: kind and classes (for sorting and deduplication). */
  readonly id: string;
  /** lockdep's header line, e.g. `WARNING: possible circular locking dependency detected`. */
  readonly title: string;
  /** The classes it is about: what a schedule realising it must involve. */
  readonly classes: readonly number[];
}

/** One problem lockdep predicts, with what its report prints. */
export type LockdepFinding =
  | FindingBase & { readonly kind: 'recursive'; readonly fact: RecursionFact }
  | FindingBase & { readonly kind: 'inconsistent'; readonly cls: number; readonly oldBit: number; readonly newBit: number }
  | FindingBase & {
    readonly kind: 'circular';
    /** The dependency that closes the cycle, prev → next; `path` runs next → … → prev. */
    readonly closing: DepStep;
    readonly path: readonly DepStep[];
  }
  | FindingBase & {
    readonly kind: 'bad-irq-dependency';
    readonly state: number;
    /** `HARDIRQ`, `SOFTIRQ-READ`…: named after the safe lock's usage bit. */
    readonly irqclass: string;
    readonly safe: number;
    readonly unsafe: number;
    readonly safeBit: number;
    readonly unsafeBit: number;
    /** safe → … → unsafe */
    readonly path: readonly DepStep[];
  }
  | FindingBase & { readonly kind: 'wait-context'; readonly fact: WaitContextFact }
  | FindingBase & { readonly kind: 'bad-unlock' | 'freed'; readonly lock: number; readonly site: Site };

/** The header of each report kind (print_*_bug), as the kernel prints it. */
export const FINDING_TITLES = {
  'recursive': 'WARNING: possible recursive locking detected',
  'inconsistent': 'WARNING: inconsistent lock state',
  'circular': 'WARNING: possible circular locking dependency detected',
  'wait-context': '[ BUG: Invalid wait context ]',
  'bad-unlock': 'WARNING: bad unlock balance detected!',
  'freed': 'WARNING: held lock freed!',
} as const;

/** Edge types in the order a path prefers them (the strongest first). */
const TYPE_PREFERENCE = [DEP_EN, DEP_SN, DEP_ER, DEP_SR];
const pickType = (mask: number): number => TYPE_PREFERENCE.find((t) => (mask & (1 << t)) !== 0)!;

/**
 * Breadth-first search along strong paths (no -(*R)-> step followed by a
 * -(S*)-> step; __bfs), exact: a class is visited once reached by a path
 * ending in -(*N)->, or once more if first reached only through -(*R)->.
 * `startXR`: the path before `start` ended in -(*R)->. `firstMask` limits
 * the types of the first step. Calls `accept` on each class reached (with
 * whether its path ends in -(*R)->) and stops at the first true.
 */
function strongSearch(
  out: readonly Dep[][], start: number, startXR: boolean, firstMask: number,
  accept: (cls: number, xr: boolean, path: readonly DepStep[]) => boolean,
  skip: (cls: number) => boolean = () => false,
): readonly DepStep[] | null {
  const best = new Uint8Array(out.length); // 0 unseen, 1 seen through -(*R)-> only, 2 seen through -(*N)->
  let frontier: { cls: number; xr: boolean; path: DepStep[] }[] = [{ cls: start, xr: startXR, path: [] }];
  while (frontier.length > 0) {
    const next: typeof frontier = [];
    for (const node of frontier) {
      for (const dep of out[node.cls]!) {
        let allowed = node.path.length === 0 ? dep.mask & firstMask : dep.mask;
        if (node.xr) allowed &= ~S_MASK;
        if (allowed === 0) continue;
        const xr = (allowed & N_MASK) === 0;
        const to = dep.to;
        if (best[to]! >= (xr ? 1 : 2) || skip(to)) continue;
        best[to] = xr ? 1 : 2;
        const path = [...node.path, { dep, type: pickType(allowed) }];
        if (accept(to, xr, path)) return path;
        next.push({ cls: to, xr, path });
      }
    }
    frontier = next;
  }
  return null;
}

/** lockdep's rules over the facts: every problem it predicts, in a fixed order. */
export function predict(facts: LockdepFacts): LockdepFinding[] {
  const names = facts.classes.list.map((c) => c.name);
  const out: LockdepFinding[] = [];
  const { out: adjacency } = facts.adjacency();
  const lockClassOf = (lock: number): number => facts.classes.ofLock(lock, 0);

  // check_deadlock
  for (const fact of [...facts.recursion.values()].sort((a, b) => a.cls - b.cls || Number(b.sameInstance) - Number(a.sameInstance))) {
    out.push({ kind: 'recursive', id: `recursive ${names[fact.cls]}${fact.sameInstance ? '' : ' (two instances)'}`, title: FINDING_TITLES.recursive, classes: [fact.cls], fact });
  }

  // mark_lock_irq → valid_state: USED_IN_X with ENABLED_X or ENABLED_X_READ, USED_IN_X_READ with ENABLED_X.
  for (let cls = 0; cls < facts.classes.size; cls++) {
    for (const state of [HARDIRQ, SOFTIRQ]) {
      const pairs: [number, number][] = [
        [bitOf(state, ENABLED, 0), bitOf(state, USED_IN, 0)],
        [bitOf(state, ENABLED, 1), bitOf(state, USED_IN, 0)],
        [bitOf(state, ENABLED, 0), bitOf(state, USED_IN, 1)],
      ];
      const pair = pairs.find(([a, b]) => facts.has(cls, a) && facts.has(cls, b));
      if (pair) {
        out.push({ kind: 'inconsistent', id: `inconsistent ${names[cls]} ${STATE_NAMES[state]}`, title: FINDING_TITLES.inconsistent, classes: [cls], cls, oldBit: pair[0], newBit: pair[1] });
      }
    }
    // verify_lock_unused: a lock taken in NMI whose class is used outside NMI (a write in NMI against
    // any use, a read only against a write use: "READ locks can be taken in NMI context if they're
    // only ever used in NMI context"). The kernel reports it when the other use came first; lockdep
    // is off in NMI, so a later use outside is not checked: an over-approximation of the order,
    // settled by the search like every prediction.
    const nmi: [number, number] | undefined = facts.has(cls, IN_NMI) && facts.has(cls, LOCK_USED) ? [LOCK_USED, IN_NMI]
      : facts.has(cls, IN_NMI) && facts.has(cls, LOCK_USED_READ) ? [LOCK_USED_READ, IN_NMI]
        : facts.has(cls, IN_NMI_READ) && facts.has(cls, LOCK_USED) ? [LOCK_USED, IN_NMI_READ] : undefined;
    if (nmi) out.push({ kind: 'inconsistent', id: `inconsistent ${names[cls]} NMI`, title: FINDING_TITLES.inconsistent, classes: [cls], cls, oldBit: nmi[0], newBit: nmi[1] });
  }

  // check_noncircular, for each dependency as the one that closes a cycle.
  const cycles = new Set<string>();
  for (const dep of [...facts.deps.values()].sort((a, b) => a.from - b.from || a.to - b.to)) {
    if (dep.from === dep.to) continue;
    for (const type of TYPE_PREFERENCE) {
      if ((dep.mask & (1 << type)) === 0) continue;
      const prevShared = (type & 1) === 0;
      const nextRecursive = (type & 2) === 0;
      // hlock_conflict: back at prev, the closing edge is -(E*)-> or the path ends in -(*N)->.
      const path = strongSearch(adjacency, dep.to, nextRecursive, 0xf, (cls, xr) => cls === dep.from && (!prevShared || !xr));
      if (!path) continue;
      const classes = [dep.to, ...path.map((s) => s.dep.to)];
      const key = [...classes].sort((a, b) => a - b).join(',');
      if (cycles.has(key)) break;
      cycles.add(key);
      out.push({
        kind: 'circular', id: `circular ${classes.map((c) => names[c]).join(' -> ')}`, title: FINDING_TITLES.circular,
        classes, closing: { dep, type }, path,
      });
      break;
    }
  }

  // check_irq_usage: an X-safe class with a strong path to an X-unsafe one (usage_accumulate / usage_match
  // masks; usage_skip leaves out per-CPU classes).
  for (const state of [HARDIRQ, SOFTIRQ]) {
    const usedW = bitOf(state, USED_IN, 0);
    const usedR = bitOf(state, USED_IN, 1);
    const enW = bitOf(state, ENABLED, 0);
    const enR = bitOf(state, ENABLED, 1);
    for (let safe = 0; safe < facts.classes.size; safe++) {
      if (facts.classes.list[safe]!.percpu || !(facts.has(safe, usedW) || facts.has(safe, usedR))) continue;
      const safeWrite = facts.has(safe, usedW);
      // Read-only irq use counts only if safe is held exclusively on the path's first edge.
      const firstMask = safeWrite ? 0xf : (1 << DEP_ER) | (1 << DEP_EN);
      strongSearch(adjacency, safe, false, firstMask, (u, xr, path) => {
        if (u === safe) return false;
        const unsafe = facts.has(u, enW) || (!xr && facts.has(u, enR));
        if (!unsafe) return false;
        out.push({
          kind: 'bad-irq-dependency', id: `bad-irq-dependency ${STATE_NAMES[state]} ${names[safe]} -> ${names[u]}`,
          title: `WARNING: ${STATE_NAMES[state]}${safeWrite ? '' : '-READ'}-safe -> ${STATE_NAMES[state]}${safeWrite ? '' : '-READ'}-unsafe lock order detected`,
          classes: [safe, ...path.map((s) => s.dep.to)], state, irqclass: `${STATE_NAMES[state]}${safeWrite ? '' : '-READ'}`,
          safe, unsafe: u, safeBit: safeWrite ? usedW : usedR, unsafeBit: facts.has(u, enW) ? enW : enR, path: [...path],
        });
        return false;
      }, (cls) => facts.classes.list[cls]!.percpu);
    }
  }

  // check_wait_context
  for (const fact of [...facts.waitContext.values()].sort((a, b) => a.cls - b.cls || a.currInner - b.currInner || a.holder - b.holder)) {
    out.push({ kind: 'wait-context', id: `wait-context ${names[fact.cls]} in {${fact.currInner}}`, title: FINDING_TITLES['wait-context'], classes: fact.holder >= 0 ? [fact.cls, fact.holder] : [fact.cls], fact });
  }
  // print_unlock_imbalance_bug, print_freed_lock_bug
  for (const [kind, map] of [['bad-unlock', facts.badUnlock], ['freed', facts.freed]] as const) {
    for (const lock of [...map.keys()].sort((a, b) => a - b)) {
      out.push({ kind, id: `${kind} &${facts.p.locks[lock]!.name}`, title: FINDING_TITLES[kind], classes: [lockClassOf(lock)], lock, site: map.get(lock)! });
    }
  }
  return out;
}
