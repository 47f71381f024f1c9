/**
 * The exhaustive search's engine: a depth-first search that steps one state
 * vector in place and undoes through the write log (Machine.w / undoTo),
 * with the incremental fingerprint, a visited set of fingerprints, and three
 * reductions, each of which can be switched off:
 *
 *  - partial-order reduction (por.ts): in each state only an ample subset
 *    of the enabled choices is explored, with the stack proviso;
 *  - fusion of private steps: when a context's next instruction touches
 *    only its own private state (a jump, a loop test on registers, a
 *    register load), it is taken at once, in the same transition as the
 *    step before it. Such a step commutes with every other transition,
 *    including an interrupt on its own CPU (the handler cannot see the
 *    context's pc or registers), and it is always enabled, so taking it
 *    early loses no behaviour. With the partial-order reduction on, a step
 *    that is by itself an ample set (PartialOrder.alone: nothing else can
 *    happen on its CPU, and nothing another CPU can ever do conflicts with
 *    it, e.g. a hardirq handler's work on data only its CPU touches) is
 *    taken the same way, without computing the enabled set: it is the
 *    forced chain below, cheaper;
 *  - forced chains: a state with a single choice to explore (after the
 *    reduction) is passed through without being stored; only states where
 *    the search branches are stored and counted as `states`, the others as
 *    `transient`. Every passed state is still checked: for a violation,
 *    an exceeded loop bound, an end state.
 *
 * Cycles. A transient state is not in the visited set, so a chain could
 * run round a cycle; and the stack proviso needs a fully expanded state on
 * every cycle of the reduced graph. Both are handled the same way: when a
 * chain reaches a state on the DFS stack, or a state it already passed, the
 * chain's last state is stored as a frame with every enabled choice
 * (materialise). Every cycle then holds a fully expanded state, and the
 * search terminates since each materialisation stores a new state.
 *
 * Lookups. A chain's own states are remembered by their plain fingerprint
 * (a chain steps one vector, so a cycle repeats a vector). Under symmetry,
 * a state's canonical key is computed only where it may be stored (a
 * branching or end state); a transient state is never stored, so skipping
 * its lookup can only re-walk a forced chain, never lose a state, and every
 * cycle of the reduced quotient graph is still closed at a branching state
 * or repeats a vector within a chain (the state space is finite), where the
 * rule above expands it fully.
 *
 * The schedule of every state is kept, as the machine's own choices (fused
 * and chained steps included), so a counterexample replays step by step on
 * the plain semantics (replay.ts) with every label.
 */
import { H_BOUND_HIT, H_VIOL_KIND, X_PC } from '../kernel/layout.ts';
import type { Machine } from '../kernel/machine.ts';
import { INSN_WIDTH } from '../kernel/program.ts';
import { OPS } from '../kernel/registry.ts';
import { CHOICE_RUN, encodeChoice } from '../kernel/semantics.ts';
import { boundHit, boundMessage, endBound, endViolation, stepViolation, type Violation } from './outcome.ts';
import type { PartialOrder, StaticFootprints } from './por.ts';
import type { SharedVisitedSet } from './shared-visited.ts';
import { RecentSet, VisitedSet } from './visited.ts';

/**
 * Longest forced chain before its state is stored anyway. It bounds the
 * chain's bookkeeping, and the work done past the state cap: a design whose
 * counter grows without bound along a forced chain (a self-re-arming work
 * item) stores a state every MAX_CHAIN steps, so --max-states still ends it.
 */
const MAX_CHAIN = 256;

/**
 * The most slots of the table of states stored lately (2^RECENT_BITS, 8
 * bytes each; it starts smaller and grows with the search). On the bench's
 * backlog N=4 (1,873,162 states; 3,627,116 steps back to a vector stored
 * before), 2^16 slots answer 81% of those steps, 2^18 90%, 2^20 97%.
 */
const RECENT_BITS = 20;

/** What store() did. */
const STORED = 0;
const STOP = 1;
const KNOWN = 2;

export interface DfsOptions {
  readonly maxStates: number;
  readonly por: PartialOrder | null;
  /** Fuse private steps and pass through forced chains (see the file comment). */
  readonly fusion: boolean;
  /** Footprints, for which instructions are private (needed when fusion is on). */
  readonly footprints: StaticFootprints | null;
  readonly observe?: (m: Machine, s: Int32Array) => void;
  /**
   * The key a state is stored under, into out[0], out[1]: by default its
   * fingerprint; with symmetry reduction, its orbit's canonical fingerprint.
   */
  readonly canonical?: (m: Machine, out: Int32Array) => void;
  /** Called now and then with the search's counters, for a progress line. */
  readonly progress?: (stats: DfsStats) => void;
  /** Called when the visited set grows; returns a reason to stop (a memory bound) or null. */
  readonly memoryCheck?: (visitedBytes: number, stats: DfsStats) => string | null;
  /**
   * The visited set to store states in (default: a new one). A shard
   * (shard.ts) passes one set to the searches from each of its prefixes.
   */
  readonly visited?: VisitedSet;
  /**
   * A set shared with searches on other threads (workers.ts): a state any
   * of them stored is known here, the state limit counts every thread's
   * states, and the stack proviso asks whether a state is on any thread's
   * stack (shared-visited.ts). Replaces `visited`.
   */
  readonly shared?: SharedVisitedSet;
  /**
   * This search's order among the threads sharing a set: thread t > 0
   * explores each state's ample choices in another order (the machine's
   * first-to-last order for odd t, rotated by t/2), so that the threads
   * spread over the graph instead of walking it side by side. The set of
   * states explored is the same. Order 0 is the search's own: see
   * `reorder` in depthFirst.
   */
  readonly order?: number;
  /** Asked every 1024 stored states: a reason to stop now (another thread ended the search), or null. */
  readonly stop?: () => string | null;
  /**
   * A sweep instead of a search: told of each violation met (`m.s` is the
   * violating state, stepped in place: do not keep it), the search goes on
   * past it, and the result is verified or bounded-out. A violating state
   * is not expanded (a step's) or is stored as the end state it is (a
   * terminal one). Under the reductions, the sweep meets a violation where
   * the search would (the same graph), not every violating state.
   */
  readonly onViolation?: (m: Machine, s: Int32Array, v: Violation) => void;
}

export interface DfsStats {
  /** States stored in the visited set. */
  states: number;
  /** States passed through without being stored (forced chains; not those between a transition's fused steps). */
  transient: number;
  /** Steps taken (fused steps included). */
  transitions: number;
  maxDepth: number;
  /** Bytes held by the visited set. */
  visitedBytes: number;
}

export interface DfsResult {
  readonly status: 'verified' | 'violation' | 'bounded-out';
  readonly violation: Violation | null;
  readonly boundedOut: string | null;
  readonly stats: DfsStats;
  /** Cut short by a bound (the state limit, the memory bound, a stop request). */
  readonly stopped?: true;
}

/** Per instruction: whether it is private (footprint empty, one outcome, never blocks). */
function privateInstructions(m: Machine, fp: StaticFootprints): Uint8Array {
  const p = m.p;
  const n = p.code.length / INSN_WIDTH;
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const pc = k * INSN_WIDTH;
    if (pc < p.designStart) continue;
    const op = OPS[p.code[pc]!]!;
    if (op.name === 'ret' || op.variants || op.ready) continue;
    const f = fp.insn(pc, 0, -1);
    if (f.all || f.raises !== 0 || f.acq.length > 0 || f.rel.length > 0) continue;
    if (f.r.some((x) => x !== 0) || f.w.some((x) => x !== 0)) continue;
    out[k] = 1;
  }
  return out;
}

export function depthFirst(m: Machine, opts: DfsOptions): DfsResult {
  const s = m.s;
  const stats: DfsStats = { states: 0, transient: 0, transitions: 0, maxDepth: 0, visitedBytes: 0 };
  const shared = opts.shared ?? null;
  const visited: { add(lo: number, hi: number): boolean; has(lo: number, hi: number): boolean; readonly size: number; readonly bytes: number } =
    shared ?? opts.visited ?? new VisitedSet(1 << 18);
  const order = opts.order ?? 0;
  /**
   * Under symmetry, the plain fingerprints of the states this search
   * stored lately (RECENT_BITS): a state met again as the very same vector
   * (the common case: two orders of independent steps) is known without
   * computing its canonical key. Kept per thread; a state another thread
   * stored, or one evicted, is found by its key.
   */
  const storedHere = opts.canonical ? new RecentSet(RECENT_BITS) : null;
  const por = opts.por;
  const priv = opts.fusion && opts.footprints ? privateInstructions(m, opts.footprints) : null;
  const chaining = opts.fusion;
  const stack = new Frames();
  /** The current path's choices, from the initial state. */
  const path = new Growable();
  /** Storage keys of the states on the DFS stack (with multiplicity), for the stack proviso: only needed with POR. */
  const onStack = new KeyCounts();
  const tracking = por !== null && shared === null;
  const enter = (lo: number, hi: number): void => {
    if (tracking) onStack.add(lo, hi);
  };
  // Shared: a stored state is ACTIVE until its thread leaves it (the root, which every thread
  // explores from, stays ACTIVE: another thread may still be below it).
  const leave = (lo: number, hi: number): void => {
    if (tracking) onStack.remove(lo, hi);
    else if (shared !== null && stack.depth > 1) shared.finish(lo, hi);
  };
  /** Whether a state is on the DFS stack: this one's, or with a shared set any thread's. */
  const stacked = (lo: number, hi: number): boolean => (shared !== null ? shared.active(lo, hi) : onStack.has(lo, hi));
  /**
   * The order of a frame's ample choices. The search takes them last to
   * first: the machine lists them by CPU, lowest first, and on each CPU its
   * context's step before the events that can arrive (machine.ts
   * enabledInto). Taken the other way round, the first path runs the
   * highest CPUs' work first (as SPIN's pan, which tries the highest
   * process first) and lets every event arrive as early as it can; the
   * CPU that takes the interrupts, CPU 0 in a design that puts them where
   * the kernel boots with them, ends the path, and a depth-first search
   * backtracks from the end of the path: the interleavings of deferred work
   * with the tasks are the first it tries. A heuristic for finding a bug
   * sooner, nothing more: a proof explores the same states in any order
   * (but for the few the stack proviso expands where a cycle closes).
   * Measured on the catalogue's 72 violations: 16,564 states stored before
   * the first violation in total, 11,760 this way (32 designs sooner, 20
   * later); the bench's backlog BUGGY N=4 40,291 → 960 (it no longer
   * interleaves every other CPU's rounds before CPU 0's packets).
   * Thread t > 0 of a shared search takes its own order (DfsOptions.order).
   */
  const reorder = (list: number[], n: number): void => {
    if (n < 2) return;
    if ((order & 1) === 0) for (let a = 0, b = n - 1; a < b; a++, b--) [list[a], list[b]] = [list[b]!, list[a]!];
    const k = (order >> 1) % n;
    if (k !== 0) {
      const head = list.slice(0, k);
      for (let i = 0; i + k < n; i++) list[i] = list[i + k]!;
      for (let i = 0; i < k; i++) list[n - k + i] = head[i]!;
    }
  };
  const canonical = opts.canonical;
  const keyOut = new Int32Array(2);
  /** The current state's storage key (its canonical fingerprint under symmetry), into kLo/kHi. */
  let kLo = 0;
  let kHi = 0;
  const computeKey = (): void => {
    if (canonical) {
      canonical(m, keyOut);
      kLo = keyOut[0]!;
      kHi = keyOut[1]!;
    } else {
      kLo = m.hLo;
      kHi = m.hHi;
    }
  };
  const enabled: number[] = [];
  /** States passed in the current chain, to stop a chain that runs round a cycle. */
  const chainSeen = new KeyCounts();
  let firstBound: string | null = null;
  let stopReason: string | null = null;
  let progressAt = 0;
  const result = (status: DfsResult['status'], violation: Violation | null, boundedOut: string | null): DfsResult => {
    stats.visitedBytes = visited.bytes;
    return { status, violation, boundedOut, stats };
  };

  /**
   * Store the current state: STORED, STOP (with stopReason set) if a bound
   * says stop, or KNOWN if another thread sharing the set stored it first.
   */
  const store = (): number => {
    if (!visited.add(kLo, kHi)) return KNOWN;
    storedHere?.add(m.hLo, m.hHi);
    stats.states++;
    if (opts.stop && (stats.states & 0x3ff) === 0) {
      const why = opts.stop();
      if (why !== null) {
        stopReason = why;
        return STOP;
      }
    }
    if (shared !== null && shared.full) {
      stopReason = `memory bound reached: the threads' shared visited set is full (${shared.size} states, its largest size): search with --workers 1, or shrink the bounds`;
      return STOP;
    }
    if ((shared !== null ? shared.size : stats.states) > opts.maxStates) {
      stopReason = `state limit reached: more than ${opts.maxStates} distinct states stored (raise the state limit: maxStates, or --max-states on the command line; or shrink the bounds)`;
      return STOP;
    }
    // By the visited set's size, which a shard's searches from its several prefixes share.
    if (opts.memoryCheck && (shared !== null ? (stats.states & 0x3fff) : (visited.size & 0xffff)) === 0) {
      const why = opts.memoryCheck(visited.bytes, stats);
      if (why !== null) {
        stopReason = why;
        return STOP;
      }
    }
    if (opts.progress && stats.states >= progressAt) {
      // Often enough for a line updated twice a second; the caller throttles by time.
      progressAt = stats.states + 4096;
      stats.visitedBytes = visited.bytes;
      opts.progress(stats);
    }
    return STORED;
  };

  /** Back to a frame's state: the machine (through the write log) and the path. */
  const back = (mark: number, lo: number, hi: number, pathAt: number): void => {
    m.undoTo(mark, lo, hi);
    path.length = pathAt;
  };

  /**
   * One step of the machine, recorded on the path, and the fused private
   * (or alone) steps that follow it; at most `limit` alone steps (they are
   * a forced chain's steps, and count towards MAX_CHAIN). Returns how many
   * alone steps it took.
   */
  const take = (choice: number, limit: number): number => {
    m.stepInPlace(choice);
    stats.transitions++;
    path.push(choice);
    let alone = 0;
    if (priv === null || s[H_VIOL_KIND] !== 0 || s[H_BOUND_HIT] !== 0) return alone;
    const cpu = (choice >>> 24) & 0xf;
    // The context that now runs on this CPU goes on while its next instruction is private, or
    // alone an ample set. A state an alone step leaves is observed, as a forced chain's state is
    // (the parallelism meter counts the CPUs inside a handler in every state the search passes:
    // a handler run through on one CPU while another is inside it too is in none of the stored
    // ones); a private step changes only a context's registers and pc within its own code.
    for (let n = 0; n < MAX_CHAIN; n++) {
      const ctx = m.top(cpu);
      if (ctx < 0) break;
      const pc = s[m.ctxOff(ctx) + X_PC]!;
      if (priv[pc / INSN_WIDTH] !== 1) {
        if (alone >= limit || por === null || !por.alone(cpu)) break;
        opts.observe?.(m, s);
        alone++;
      }
      const run = encodeChoice(CHOICE_RUN, cpu, 0, 0);
      m.stepInPlace(run);
      stats.transitions++;
      path.push(run);
      if (s[H_VIOL_KIND] !== 0 || s[H_BOUND_HIT] !== 0) break;
    }
    return alone;
  };

  computeKey();
  stats.states = visited.add(kLo, kHi) ? 1 : 0;
  opts.observe?.(m, s);
  m.enabledInto(enabled);
  const onViolation = opts.onViolation ?? null;
  if (enabled.length === 0) {
    let v = endViolation(m, s, []);
    if (v && onViolation) {
      onViolation(m, s, v);
      v = null;
    }
    const bound = v ? null : endBound(m, s);
    return result(v ? 'violation' : bound ? 'bounded-out' : 'verified', v, bound);
  }
  const rootAmple = por ? por.ample(enabled) : enabled.length;
  reorder(enabled, rootAmple);
  stack.push(enabled, rootAmple, 0, m.hLo, m.hHi, 0, kLo, kHi);
  enter(kLo, kHi);

  while (stack.depth > 0) {
    const d = stack.depth - 1;
    const i = stack.next[d]!;
    if (i >= stack.end[d]!) {
      leave(stack.hLo[d]!, stack.hHi[d]!);
      const mark = stack.mark[d]!;
      const pLo = stack.pLo[d]!;
      const pHi = stack.pHi[d]!;
      path.length = stack.pathAt[d]!;
      stack.pop();
      if (stack.depth > 0) m.undoTo(mark, pLo, pHi);
      continue;
    }
    stack.next[d] = i + 1;
    // The frame's state, to come back to.
    const mark = m.logLen;
    const pLo = m.hLo;
    const pHi = m.hHi;
    const pathAt = path.length;
    chainSeen.clear();
    let choice = stack.choices[i]!;
    // The state the last step was taken from: the frame's, or the chain's last transient state.
    let fromMark = mark;
    let fromLo = pLo;
    let fromHi = pHi;
    let fromPath = pathAt;
    let fromReduced = stack.end[d]! < stack.full[d]!;
    let chainLength = 0;
    /** Steps of the chain so far, its transient states' and the alone steps fused into them (bounded by MAX_CHAIN). */
    let chainSteps = 0;
    // Follow the choice, and the forced chain it starts, to a branching, known or end state.
    for (;;) {
      chainSteps += take(choice, MAX_CHAIN - chainSteps);
      if (s[H_VIOL_KIND] !== 0) {
        const v = stepViolation(m, s, path.toArray());
        if (!onViolation) return result('violation', v, null);
        // A sweep: the violating state is a leaf.
        if (v) onViolation(m, s, v);
        back(mark, pLo, pHi, pathAt);
        break;
      }
      // Cycles within the chain are found on the plain fingerprint (a chain is a run of one
      // state vector, so going round a cycle repeats a vector; under symmetry it may pass an
      // equivalent vector first, which only makes the chain longer, see MAX_CHAIN).
      const inChain = chainSeen.has(m.hLo, m.hHi);
      // Known: in the chain, or stored. Without symmetry the storage key is the fingerprint, so
      // this is cheap here. With it, a vector this search stored lately is known by its
      // fingerprint (storedHere); otherwise the canonical key is computed only for a state that
      // would be stored (a branching or end state): a transient state is never stored, so
      // looking it up could only find a state stored by a materialisation, and missing that
      // costs a re-walk of a forced chain, no state (the chain ends at a branching state, which
      // is looked up).
      let known = inChain;
      // Whether kLo/kHi are this state's key (under symmetry it is computed only where needed).
      let keyed = false;
      if (!known) {
        if (canonical) {
          // This very vector stored lately (by this search): known, and its canonical key is
          // needed only for the stack proviso below. (The visited set holds canonical keys, a
          // hash family of their own: a plain fingerprint is never found there; measured on the
          // catalogue and the bench designs.)
          known = storedHere!.has(m.hLo, m.hHi);
        } else {
          computeKey();
          keyed = true;
          known = visited.has(kLo, kHi);
        }
      }
      let en = -1;
      let ample = 0;
      if (!known && boundHit(s) < 0) {
        m.enabledInto(enabled);
        en = enabled.length;
        ample = en > 0 && por ? por.ample(enabled) : en;
        if (canonical && !(chaining && ample === 1 && chainSteps < MAX_CHAIN)) {
          computeKey();
          keyed = true;
          known = visited.has(kLo, kHi);
        }
      }
      if (known) {
        if (fromReduced && !inChain && !keyed) computeKey();
        if (fromReduced && (inChain || stacked(kLo, kHi))) {
          if (chainLength === 0) {
            // Stack proviso: the frame is reduced and closes a cycle: expand it fully.
            stack.end[d] = stack.full[d]!;
            if (por) por.stats.provisoExpansions++;
          } else {
            // Store the chain's last state, expanded fully, with this step already explored.
            back(fromMark, fromLo, fromHi, fromPath);
            computeKey();
            m.enabledInto(enabled);
            const at = enabled.indexOf(choice);
            enabled[at] = enabled[0]!;
            enabled[0] = choice;
            const stored = store();
            if (stored === STOP) break;
            if (stored === KNOWN) {
              back(mark, pLo, pHi, pathAt);
              break;
            }
            stack.push(enabled, enabled.length, mark, pLo, pHi, pathAt, kLo, kHi);
            stack.next[stack.depth - 1] = stack.start[stack.depth - 1]! + 1;
            enter(kLo, kHi);
            if (stack.depth > stats.maxDepth) stats.maxDepth = stack.depth;
            if (por) por.stats.provisoExpansions++;
            break;
          }
        }
        back(mark, pLo, pHi, pathAt);
        break;
      }
      const loop = boundHit(s);
      if (loop >= 0) {
        firstBound ??= boundMessage(m, loop);
        back(mark, pLo, pHi, pathAt);
        break;
      }
      if (en === 0) {
        const end = endViolation(m, s, path.toArray());
        if (end) {
          if (!onViolation) return result('violation', end, null);
          onViolation(m, s, end);
        } else {
          // A run the kernel would go on with for ever (a kernel model bound, outcome.ts endBound).
          firstBound ??= endBound(m, s);
        }
        // A clean end state: stored, so that no other path checks it again.
        const stored = store();
        if (stored === STOP) break;
        if (stored === STORED) {
          shared?.finish(kLo, kHi);
          opts.observe?.(m, s);
        }
        back(mark, pLo, pHi, pathAt);
        break;
      }
      if (chaining && ample === 1 && chainSteps < MAX_CHAIN) {
        // A forced step: pass through without storing.
        stats.transient++;
        opts.observe?.(m, s);
        chainSeen.add(m.hLo, m.hHi);
        fromMark = m.logLen;
        fromLo = m.hLo;
        fromHi = m.hHi;
        fromPath = path.length;
        fromReduced = enabled.length > 1;
        chainLength++;
        chainSteps++;
        choice = enabled[0]!;
        continue;
      }
      const stored = store();
      if (stored === STOP) break;
      if (stored === KNOWN) {
        back(mark, pLo, pHi, pathAt);
        break;
      }
      opts.observe?.(m, s);
      reorder(enabled, ample);
      stack.push(enabled, ample, mark, pLo, pHi, pathAt, kLo, kHi);
      enter(kLo, kHi);
      if (stack.depth > stats.maxDepth) stats.maxDepth = stack.depth;
      break;
    }
    if (stopReason !== null) return { ...result('bounded-out', null, stopReason), stopped: true };
  }
  return result(firstBound ? 'bounded-out' : 'verified', null, firstBound);
}

/** A growable Int32 list (the current path). */
class Growable {
  data = new Int32Array(1024);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) {
      const g = new Int32Array(this.data.length * 2);
      g.set(this.data);
      this.data = g;
    }
    this.data[this.length++] = x;
  }
  toArray(): number[] {
    return Array.from(this.data.subarray(0, this.length));
  }
}

/** The DFS frames: flat typed arrays, grown by doubling. */
class Frames {
  depth = 0;
  /** Every frame's enabled choices, frame after frame. */
  choices = new Int32Array(1 << 12);
  start = new Int32Array(256);
  /** End of the choices to explore: the ample ones, or all (`full`) once expanded. */
  end = new Int32Array(256);
  full = new Int32Array(256);
  next = new Int32Array(256);
  /** Log position and fingerprint of the parent state, to undo back to it. */
  mark = new Int32Array(256);
  pLo = new Int32Array(256);
  pHi = new Int32Array(256);
  /** Path length at the parent state: this frame's chain is path[pathAt .. ). */
  pathAt = new Int32Array(256);
  /** The frame's own fingerprint. */
  hLo = new Int32Array(256);
  hHi = new Int32Array(256);

  push(enabled: readonly number[], ample: number, mark: number, pLo: number, pHi: number, pathAt: number, hLo: number, hHi: number): void {
    const d = this.depth;
    if (d === this.start.length) this.growFrames();
    const from = d === 0 ? 0 : this.full[d - 1]!;
    while (from + enabled.length > this.choices.length) {
      const grown = new Int32Array(this.choices.length * 2);
      grown.set(this.choices);
      this.choices = grown;
    }
    for (let k = 0; k < enabled.length; k++) this.choices[from + k] = enabled[k]!;
    this.start[d] = from;
    this.end[d] = from + ample;
    this.full[d] = from + enabled.length;
    this.next[d] = from;
    this.mark[d] = mark;
    this.pLo[d] = pLo;
    this.pHi[d] = pHi;
    this.pathAt[d] = pathAt;
    this.hLo[d] = hLo;
    this.hHi[d] = hHi;
    this.depth = d + 1;
  }
  pop(): void {
    this.depth--;
  }
  private growFrames(): void {
    const grow = (a: Int32Array) => {
      const g = new Int32Array(a.length * 2);
      g.set(a);
      return g;
    };
    this.start = grow(this.start);
    this.end = grow(this.end);
    this.full = grow(this.full);
    this.next = grow(this.next);
    this.mark = grow(this.mark);
    this.pLo = grow(this.pLo);
    this.pHi = grow(this.pHi);
    this.pathAt = grow(this.pathAt);
    this.hLo = grow(this.hLo);
    this.hHi = grow(this.hHi);
  }
}

/**
 * A multiset of 64-bit keys (two 32-bit lanes): open addressing with linear
 * probing and backward-shift deletion, typed arrays only (no boxed numbers
 * on the hot path). Small: the DFS stack's keys, a chain's states.
 */
class KeyCounts {
  private lo = new Int32Array(64);
  private hi = new Int32Array(64);
  /** Multiplicity; 0 marks an empty slot. */
  private n = new Int32Array(64);
  private mask = 63;
  private size = 0;
  /** Slots written since the last clear, to clear a sparse table quickly (overflow: clear it all). */
  private readonly used = new Int32Array(64);
  private nUsed = 0;
  private overflow = false;

  private note(i: number): void {
    if (this.nUsed < 64) this.used[this.nUsed++] = i;
    else this.overflow = true;
  }

  private slot(lo: number, hi: number): number {
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    while (this.n[i] !== 0 && (this.lo[i] !== lo || this.hi[i] !== hi)) i = (i + 1) & this.mask;
    return i;
  }
  has(lo: number, hi: number): boolean {
    return this.n[this.slot(lo, hi)] !== 0;
  }
  add(lo: number, hi: number): void {
    const i = this.slot(lo, hi);
    if (this.n[i] !== 0) {
      this.n[i]!++;
      return;
    }
    this.lo[i] = lo;
    this.hi[i] = hi;
    this.n[i] = 1;
    this.note(i);
    if (++this.size * 2 > this.mask) this.grow();
  }
  remove(lo: number, hi: number): void {
    let i = this.slot(lo, hi);
    if (this.n[i] === 0) return;
    if (--this.n[i]! > 0) return;
    this.size--;
    // Backward-shift deletion: move later entries of the probe run into the hole.
    const mask = this.mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (this.n[j] === 0) break;
      const home = (this.lo[j]! ^ Math.imul(this.hi[j]!, 0x9e3779b1)) & mask;
      // Move j to i if its home is not cyclically in (i, j].
      if (i <= j ? home > i && home <= j : home > i || home <= j) continue;
      this.lo[i] = this.lo[j]!;
      this.hi[i] = this.hi[j]!;
      this.n[i] = this.n[j]!;
      this.note(i);
      this.n[j] = 0;
      i = j;
    }
    this.n[i] = 0;
  }
  clear(): void {
    if (this.size === 0 && !this.overflow) return;
    if (this.overflow) this.n.fill(0);
    else for (let k = 0; k < this.nUsed; k++) this.n[this.used[k]!] = 0;
    this.nUsed = 0;
    this.overflow = false;
    this.size = 0;
  }
  private grow(): void {
    const [lo, hi, n] = [this.lo, this.hi, this.n];
    const cap = n.length * 2;
    this.lo = new Int32Array(cap);
    this.hi = new Int32Array(cap);
    this.n = new Int32Array(cap);
    this.mask = cap - 1;
    this.nUsed = 0;
    this.overflow = true;
    for (let k = 0; k < n.length; k++) {
      if (n[k] === 0) continue;
      const i = this.slot(lo[k]!, hi[k]!);
      this.lo[i] = lo[k]!;
      this.hi[i] = hi[k]!;
      this.n[i] = n[k]!;
    }
  }
}
