/**
 * Settle each problem lockdep predicts (model/check/lockdep.ts) with the
 * explorer: search for a schedule that realises it, the shortest first
 * (breadth-first), within the design's bounds and, if the problem needs
 * more contexts at once than the design has CPUs (a cycle of k locks needs
 * k holders spinning at once; an irq-safe → irq-unsafe chain of k locks
 * k CPUs), again with that many CPUs. Three outcomes:
 *  - confirmed: a schedule deadlocks on the predicted locks (or, for
 *    misuse and a sleeping lock in the wrong wait context, shows that
 *    violation on them);
 *  - not reachable: every schedule within the bounds was explored and none
 *    does; lockdep's report is a false positive there, and the reason says
 *    why where the facts show it (no writer of a read lock, a lock that
 *    serialises the orders, an interrupt that never reaches the CPU where
 *    the lock is held, two instances of one class, PREEMPT_RT only);
 *  - not decided: a bound (states, a loop) ran out first.
 */
import { compile } from '../dsl/compile.ts';
import type { Design } from '../dsl/design.ts';
import { ContextStatus, H_BOUND_HIT, H_VIOL_CTX, H_VIOL_KIND, H_VIOL_PC, X_HELD, X_PC, X_STATUS } from '../kernel/layout.ts';
import { LOCK_KINDS } from '../kernel/lock-kinds.ts';
import { Machine } from '../kernel/machine.ts';
import type { Program } from '../kernel/program.ts';
import { LOCKDEP_MAPS_HELD, OPS } from '../kernel/registry.ts';
import { boundHit, boundMessage, endBound, endViolation, stepViolation, type Violation } from '../explore/outcome.ts';
import { compareChoices } from '../explore/minimize.ts';
import { replay } from '../explore/replay.ts';
import { VisitedSet } from '../explore/visited.ts';
import { ENABLED, FACT_BITS, HARDIRQ, IN_NMI, LOCK_USED, LOCK_USED_READ, STATE_NAMES, USED_IN, bitOf, type LockdepFacts, type LockdepFinding } from './lockdep.ts';
import type { ViolationKind } from './violation.ts';
import type { WaitStep } from './deadlock.ts';

export type LockdepStatus = 'confirmed' | 'not-reachable' | 'not-decided';

/** A schedule that realises a predicted problem. */
export interface LockdepSchedule {
  /** CPUs of the run: the design's, or more (see `moved`). */
  readonly cpus: number;
  /** Tasks given a CPU of their own for it (`t2 → cpu2`); empty within the design's own bounds. */
  readonly moved: readonly string[];
  readonly choices: readonly number[];
  readonly trace: readonly string[];
  readonly violation: { readonly kind: ViolationKind; readonly message: string };
}

/** How one predicted problem was settled. */
export interface LockdepSettlement {
  readonly status: LockdepStatus;
  readonly reason: string;
  readonly schedule?: LockdepSchedule;
}

/**
 * The violations the search of the design's bounds met, the first of each
 * kind on each set of lock classes: the schedules that could realise a
 * predicted problem. `shortest`: the schedule is a shortest one of its
 * kind (the verdict's own, found breadth-first).
 */
export class Candidates {
  readonly list: { readonly violation: Violation; readonly involved: ReadonlySet<number>; readonly shortest: boolean }[] = [];
  private readonly keys = new Set<string>();
  private readonly facts: LockdepFacts;

  constructor(facts: LockdepFacts) {
    this.facts = facts;
  }

  /** Keep violation `v`, met in state `s` (m.s), if it is the first of its kind on its classes. */
  add(m: Machine, s: Int32Array, v: Violation, shortest: boolean): void {
    const involved = involvedClasses(this.facts, m, s, v.cycle);
    const key = candidateKey(v.kind, involved);
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.list.push({ violation: v, involved, shortest });
  }

  /** A sweep's onViolation. */
  readonly record = (m: Machine, s: Int32Array, v: Violation): void => this.add(m, s, v, false);

  /** The candidates as data (a worker thread's sweep sends them to the calling thread). */
  toData(): CandidateData[] {
    return this.list.map((c) => ({ violation: c.violation, involved: [...c.involved], shortest: c.shortest }));
  }

  /**
   * Add other sweeps' candidates (the threads of one sweep, each met a
   * part of the graph): the first of each kind on each set of classes
   * after those already here, the others in a fixed order (the shortest
   * schedule first, then the least), whichever thread met them.
   */
  absorb(lists: readonly (readonly CandidateData[])[]): void {
    const all = lists.flat().slice().sort((a, b) => a.violation.choices.length - b.violation.choices.length || compareChoices(a.violation.choices, b.violation.choices));
    for (const c of all) {
      const key = candidateKey(c.violation.kind, c.involved);
      if (this.keys.has(key)) continue;
      this.keys.add(key);
      this.list.push({ violation: c.violation, involved: new Set(c.involved), shortest: c.shortest });
    }
  }
}

/** A candidate's kind and lock classes: one candidate is kept per key. */
const candidateKey = (kind: string, involved: Iterable<number>): string => `${kind}|${[...involved].sort((a, b) => a - b).join(',')}`;

/** A candidate as data (Candidates.toData). */
export interface CandidateData {
  readonly violation: Violation;
  readonly involved: readonly number[];
  readonly shortest: boolean;
}


export interface ConfirmOptions {
  readonly maxStates: number;
  /** The violations met by the search of the design's own bounds, shortest first. */
  readonly candidates: Candidates;
  /** Why that search did not cover every schedule within the bounds (a bound ran out), or null if it did. */
  readonly designBounded: string | null;
  /** The design's bounds, in words, for the reasons. */
  readonly boundsText: string;
  /**
   * Searches may settle what the candidates do not (a shortest schedule, more
   * CPUs). False after a random exploration: what it did not meet stays
   * undecided.
   */
  readonly search: boolean;
}

/** The violation a realising schedule shows, or null if none exists on a kernel without PREEMPT_RT. */
function realisingKind(facts: LockdepFacts, f: LockdepFinding): ViolationKind | null {
  switch (f.kind) {
    case 'bad-unlock':
    case 'freed':
      return 'lock-misuse';
    case 'wait-context': {
      const c = facts.classes.list[f.fact.cls]!;
      return c.locks.length > 0 && LOCK_KINDS[facts.p.locks[c.locks[0]!]!.kind].sleeps ? 'sleep-in-atomic' : null;
    }
    default:
      return 'deadlock';
  }
}

/** How many CPUs the problem needs at once: a holder per lock of a cycle or of an irq chain. */
function cpusNeeded(f: LockdepFinding): number {
  if (f.kind === 'circular' || f.kind === 'bad-irq-dependency') return f.classes.length;
  return 1;
}

/** The class of a lock regardless of subclass: the first of its 8. */
const baseClass = (facts: LockdepFacts, cls: number): number => {
  const c = facts.classes.list[cls]!;
  return c.map ? cls : facts.classes.ofLock(c.locks[0]!, 0);
};

/**
 * The lock classes a violating state is about: the locks (and lockdep
 * maps) the contexts of its wait-for cycle (a deadlock's) wait on or hold,
 * or every context's where a deadlock has no cycle; for a violation raised
 * by a step, the lock of that step and what its context holds. Only the
 * cycle's contexts: a CPU outside it, about to take a lock while holding
 * another, is not part of the deadlock (an AA deadlock on &Z on cpu0 is
 * not the &X/&Y cycle that cpu1 could start).
 */
function involvedClasses(facts: LockdepFacts, m: Machine, s: Int32Array, cycle: readonly WaitStep[] | undefined): Set<number> {
  m.s = s;
  const out = new Set<number>();
  const classes = facts.classes;
  const addOperand = (ctx: number): void => {
    const pc = s[m.ctxOff(ctx) + X_PC]!;
    const op = OPS[m.code[pc]!]!;
    const a = m.code[pc + 1]!;
    const first = op.operands?.[0];
    if (first?.kind === 'lock') out.add(classes.ofLock(a, 0));
    else if (first?.kind === 'object' && (first.objectKind === 'timer' || first.objectKind === 'work' || first.objectKind === 'workqueue' || first.objectKind === 'seqcount')) {
      out.add(classes.ofMap({ kind: first.objectKind, id: a & 0xffff }));
    }
  };
  const addHeld = (ctx: number): void => {
    let held = s[m.ctxOff(ctx) + X_HELD]!;
    for (let lock = 0; held !== 0; lock++, held >>>= 1) if (held & 1) out.add(classes.ofLock(lock, 0));
    for (const maps of LOCKDEP_MAPS_HELD) for (const ref of maps(m, ctx)) out.add(classes.ofMap(ref));
  };
  // A violation raised by one context's step is about that context, except a deadlock declared
  // when its wait-for cycle closed (check/deadlock.ts closedCycle): that one is about every waiter.
  if (cycle === undefined && s[H_VIOL_KIND] !== 0 && s[H_VIOL_PC]! >= 0 && s[H_VIOL_CTX]! >= 0) {
    const ctx = s[H_VIOL_CTX]!;
    const pc = s[H_VIOL_PC]!;
    const op = OPS[m.code[pc]!]!;
    const first = op.operands?.[0];
    if (first?.kind === 'lock') out.add(classes.ofLock(m.code[pc + 1]!, 0));
    else addOperand(ctx);
    addHeld(ctx);
    return out;
  }
  const inCycle = cycle ? new Set(cycle.map((w) => `${w.cpu}|${w.context}`)) : null;
  for (let ctx = 0; ctx < m.L.nctx; ctx++) {
    const status = s[m.ctxOff(ctx) + X_STATUS]!;
    if (status !== ContextStatus.Running && status !== ContextStatus.Blocked) continue;
    if (inCycle && !inCycle.has(`${m.cpuOfCtx(ctx)}|${m.contextName(ctx)}`)) continue;
    addOperand(ctx);
    addHeld(ctx);
  }
  return out;
}

/** Whether violation `v` reached in state `s` realises finding `f`. */
function realises(facts: LockdepFacts, f: LockdepFinding, m: Machine, s: Int32Array, v: Violation): boolean {
  if (v.kind !== realisingKind(facts, f)) return false;
  const involved = involvedClasses(facts, m, s, v.cycle);
  return f.classes.every((c) => involved.has(baseClass(facts, c)));
}

interface Search {
  readonly violation: Violation | null;
  readonly final: Int32Array | null;
  readonly boundedOut: string | null;
  readonly states: number;
}

/**
 * Breadth-first: the shortest schedule of `p` whose violation `accept`s, or
 * why there is none. Each frontier state is loaded once and its successors
 * are stepped in place and undone; only a new state is copied.
 */
function searchRealising(p: Program, accept: (m: Machine, s: Int32Array, v: Violation) => boolean, maxStates: number): Search {
  const m = new Machine(p);
  const visited = new VisitedSet();
  const parents: number[] = [-1];
  const via: number[] = [0];
  const pathTo = (index: number, last: number): number[] => {
    const path = [last];
    for (let i = index; i > 0; i = parents[i]!) path.push(via[i]!);
    return path.reverse();
  };
  const init = m.initial();
  m.load(init);
  visited.add(m.hLo, m.hHi);
  let states = 1;
  let boundedOut: string | null = null;
  if (m.enabled(init).length === 0) {
    const v = endViolation(m, init, []);
    if (v && accept(m, init, v)) return { violation: v, final: init, boundedOut: null, states };
    if (!v) boundedOut = endBound(m, init);
  }
  let frontier: { s: Int32Array; index: number }[] = [{ s: init, index: 0 }];
  while (frontier.length > 0) {
    const next: typeof frontier = [];
    for (const { s, index } of frontier) {
      const choices = m.enabled(s);
      m.load(s);
      const hLo = m.hLo;
      const hHi = m.hHi;
      for (const choice of choices) {
        m.stepInPlace(choice);
        if (s[H_VIOL_KIND] !== 0) {
          const t = s.slice();
          const v = stepViolation(m, t, pathTo(index, choice));
          m.s = s;
          m.undoTo(0, hLo, hHi);
          if (v && accept(m, t, v)) return { violation: v, final: t, boundedOut: null, states };
          m.s = s;
          continue;
        }
        const fresh = visited.add(m.hLo, m.hHi);
        const t = fresh ? s.slice() : null;
        m.undoTo(0, hLo, hHi);
        if (!t) continue;
        states++;
        parents.push(index);
        via.push(choice);
        if (t[H_BOUND_HIT] !== 0) {
          boundedOut ??= boundMessage(m, boundHit(t));
          continue;
        }
        if (m.enabled(t).length === 0) {
          const v = endViolation(m, t, pathTo(index, choice));
          if (v && accept(m, t, v)) return { violation: v, final: t, boundedOut: null, states };
          // A clean end the kernel would run past (outcome.ts endBound): what lies beyond was not searched.
          if (!v) boundedOut ??= endBound(m, t);
          m.s = s;
          continue;
        }
        m.s = s;
        if (states >= maxStates) return { violation: null, final: null, boundedOut: `the state limit (${maxStates} states) was reached`, states };
        next.push({ s: t, index: parents.length - 1 });
      }
    }
    frontier = next;
  }
  return { violation: null, final: null, boundedOut, states };
}

/**
 * The design with `cpus` CPUs, each task that shared its CPU with an
 * earlier one moved to a free CPU: the same code with more contexts at once.
 */
function widen(design: Design, cpus: number): { design: Design; moved: string[] } {
  const used = new Set<number>();
  const moved: string[] = [];
  const tasks = design.tasks.map((t) => {
    if (!used.has(t.cpu)) {
      used.add(t.cpu);
      return t;
    }
    const free = [...Array(cpus).keys()].find((c) => !used.has(c) && !design.tasks.some((u) => u.cpu === c));
    if (free === undefined) return t;
    used.add(free);
    moved.push(`${t.name} → cpu${free}`);
    return { ...t, cpu: free, ...(t.allowed ? { allowed: [...new Set([...t.allowed, free])] } : {}) };
  });
  return { design: { ...design, cpus, tasks }, moved };
}

const names = (facts: LockdepFacts, classes: readonly number[]): string[] => classes.map((c) => facts.classes.list[c]!.name);
const cpuList = (mask: number): string => [...Array(16).keys()].filter((c) => (mask & (1 << c)) !== 0).map((c) => `cpu${c}`).join(', ');

/** Why no schedule realises `f`, as far as the facts tell. */
function whyNotReachable(facts: LockdepFacts, f: LockdepFinding, searched: string): string {
  const list = facts.classes.list;
  if (f.kind === 'recursive' && !f.fact.sameInstance) {
    const c = list[f.fact.cls]!;
    const instances = c.locks.map((l) => `&${facts.p.locks[l]!.name}`);
    return `${instances.join(' and ')} are instances of one class (${c.name}): lockdep sees the class taken while it is held, but no context takes one instance twice and no two contexts take them in opposite orders; ${searched}`;
  }
  // A class only ever read: its readers never wait for each other, only for a writer, and there is none.
  for (const cls of f.classes) {
    const c = list[cls]!;
    const base = baseClass(facts, cls);
    const read = (facts.has(cls, LOCK_USED_READ) || facts.has(base, LOCK_USED_READ));
    const written = c.locks.length > 0 ? [...Array(8).keys()].some((sub) => facts.has(facts.classes.ofLock(c.locks[0]!, sub), LOCK_USED)) : true;
    if (read && !written) {
      return `no writer of ${c.name} exists: every context takes it for read, and a reader waits only for a writer (lockdep assumes one may exist elsewhere in the kernel, which would queue between the readers); ${searched}`;
    }
  }
  if (f.kind === 'circular') {
    let gates = -1;
    for (const st of [f.closing, ...f.path]) gates &= st.dep.gates;
    if (gates !== 0 && gates !== -1) {
      const lock = 31 - Math.clz32(gates & -gates);
      return `the orders are never concurrent: every acquisition along the cycle holds &${facts.p.locks[lock]!.name}, which serialises them; ${searched}`;
    }
  }
  if ((f.kind === 'inconsistent' && f.newBit < IN_NMI) || f.kind === 'bad-irq-dependency') {
    // Each incompatible pair of usage bits (valid_state; exclusive_mask) with its CPUs: the interrupt taking the
    // safe lock must arrive where the unsafe one is held with it enabled.
    const state = f.kind === 'inconsistent' ? (f.newBit >> 2) : f.state;
    const safe = f.kind === 'inconsistent' ? f.cls : f.safe;
    const unsafe = f.kind === 'inconsistent' ? f.cls : f.unsafe;
    const cpus = (cls: number, bit: number): number => (facts.has(cls, bit) ? facts.usageCpus[cls * FACT_BITS + bit]! : 0);
    const pairs: [number, number][] = f.kind === 'inconsistent'
      ? [[0, 0], [0, 1], [1, 0]]
      : [[0, 0], [0, 1], [1, 0], [1, 1]];
    let taken = 0;
    let heldOn = 0;
    let separate = true;
    for (const [usedRead, enabledRead] of pairs) {
      const t = cpus(safe, bitOf(state, USED_IN, usedRead));
      const h = cpus(unsafe, bitOf(state, ENABLED, enabledRead));
      if (t === 0 || h === 0) continue;
      taken |= t;
      heldOn |= h;
      if ((t & h) !== 0) separate = false;
    }
    if (separate && taken !== 0) {
      const ctx = state === HARDIRQ ? 'hardirq' : 'softirq';
      return `${list[safe]!.name} is taken in ${ctx} context only on ${cpuList(taken)}, and ${list[unsafe]!.name} is held with ${STATE_NAMES[state]!.toLowerCase()}s enabled only on ${cpuList(heldOn)}: the interrupt never finds it held; ${searched}`;
    }
  }
  return `no schedule ${verb(realisingKind(facts, f)!)} on ${names(facts, f.classes).join(', ')}; ${searched}`;
}

/**
 * Settle every predicted problem: confirmed, not reachable or not decided
 * (see the header). `findings` are predict()'s, in its order.
 */
export function confirmFindings(design: Design, p: Program, facts: LockdepFacts, findings: readonly LockdepFinding[], opts: ConfirmOptions): LockdepSettlement[] {
  return findings.map((f) => settle(design, p, facts, f, opts));
}

function settle(design: Design, p: Program, facts: LockdepFacts, f: LockdepFinding, opts: ConfirmOptions): LockdepSettlement {
  const kind = realisingKind(facts, f);
  const what = names(facts, f.classes).join(', ');
  if (kind === null) {
    return {
      status: 'not-reachable',
      reason: `without PREEMPT_RT a ${LOCK_KINDS[facts.p.locks[facts.classes.list[f.classes[0]!]!.locks[0]!]!.kind].ctype} never sleeps: it spins as the lock it sits in does; lockdep checks the nesting rules of PREEMPT_RT kernels (CONFIG_PROVE_RAW_LOCK_NESTING), where it would sleep in a spinning context`,
    };
  }
  const accept = (m: Machine, s: Int32Array, v: Violation): boolean => realises(facts, f, m, s, v);
  const scheduleOf = (prog: Program, v: Violation, moved: string[]): LockdepSchedule => ({
    cpus: prog.ncpu, moved, choices: v.choices, trace: replay(prog, v.choices).steps.map((st) => st.label), violation: { kind: v.kind, message: v.message },
  });
  // Within the design's bounds: a violation met there that is this problem, made a shortest one.
  const matches = opts.candidates.list.filter((c) => c.violation.kind === kind && f.classes.every((cls) => c.involved.has(baseClass(facts, cls))));
  if (matches.length > 0) {
    const within = `a schedule within ${opts.boundsText} ${verb(kind)} on ${what}`;
    const shortest = matches.find((c) => c.shortest)?.violation ?? (opts.search ? searchRealising(p, accept, opts.maxStates).violation : null);
    if (shortest) return { status: 'confirmed', reason: within, schedule: scheduleOf(p, shortest, []) };
    const any = matches.reduce((a, b) => (b.violation.choices.length < a.violation.choices.length ? b : a)).violation;
    return { status: 'confirmed', reason: `${within} (${opts.search ? 'the search for a shortest one ran out of states' : 'the sampled one, not a shortest'})`, schedule: scheduleOf(p, any, []) };
  }
  if (!opts.search) return { status: 'not-decided', reason: `no sampled schedule ${verb(kind)} on ${what}; ${opts.designBounded ?? 'the search was not exhaustive'}` };
  let bounded = opts.designBounded;
  let searched = `checked every schedule within ${opts.boundsText}`;
  const need = cpusNeeded(f);
  if (need > p.ncpu) {
    const wide = widen(design, need);
    const wp = compile(wide.design);
    const found = searchRealising(wp, accept, opts.maxStates);
    const movedText = wide.moved.length > 0 ? ` (${wide.moved.join(', ')})` : '';
    if (found.violation) {
      return {
        status: 'confirmed',
        reason: `needs ${need} CPUs at once, the design has ${p.ncpu}: with ${need} CPUs${movedText} a schedule ${verb(kind)} on ${what}`,
        schedule: scheduleOf(wp, found.violation, wide.moved),
      };
    }
    if (found.boundedOut) bounded = found.boundedOut;
    searched = `checked every schedule within ${opts.boundsText}, and with ${need} CPUs${movedText}`;
  }
  if (bounded) return { status: 'not-decided', reason: `no schedule found before ${bounded}; lockdep's report stands unsettled` };
  return { status: 'not-reachable', reason: whyNotReachable(facts, f, searched) };
}

const verb = (kind: ViolationKind): string =>
  kind === 'deadlock' ? 'deadlocks' : kind === 'sleep-in-atomic' ? 'sleeps in atomic context' : 'misuses the lock';

