/**
 * Shortest schedules, cheaply: a breadth-first search that stores, per
 * state, only its 64-bit fingerprint (in the visited set) and a parent link
 * (the parent's index and the choice taken from it: 8 bytes), never the
 * state vector itself.
 *
 * Regenerating a level. The states of level d are rebuilt when level d is
 * expanded, by walking the BFS tree depth-first from the initial state
 * (or from the kept level nearest above, see below):
 * the machine steps into a child in place (Machine.stepInPlace) and undoes
 * the step through the write log (undoTo) when it leaves it, so a pass
 * costs one step per tree edge it walks, not a replay of d steps per state.
 * A node whose subtree produced no new state in a pass is dead (every
 * later level descends from this level's new states) and is never walked
 * again.
 *
 * Kept levels. While a level's whole states fit in a few MiB (and in the
 * memory bound), they are kept, and the next pass starts its walks from
 * them (the anchor level) instead of from the initial state: deep, narrow
 * searches then cost one step per state. Wide levels are not kept: on the
 * machines measured, touching fresh memory cost more than stepping.
 *
 * Layout. Nodes are numbered in the order they are found. The children of
 * one node are found together, and the nodes of one level are expanded in
 * order of their numbers, so within each level the parents' numbers never
 * decrease: the children of a node are a contiguous run of the next level,
 * found by a cursor per level (and a binary search past dead nodes). No
 * child lists are stored.
 *
 * What is the same as a breadth-first search keeping whole states (the
 * search this replaces, kept in properties/ as the reference):
 *  - the order: levels in order; within a level, parents in order of
 *    discovery and each parent's choices in the machine's canonical
 *    order; a state counts once, on the first path that reaches it;
 *  - `kind`: only violations of that kind count, any other ends its path;
 *  - the tie-break among the shortest: the least by compareSchedules
 *    (fewest interrupts and preemptions, then fewest CPUs), the first
 *    found among equals. A terminal state's violation (a deadlock, a
 *    broken at-end invariant) is looked at when its level is walked, not
 *    when the state is found, so that enabled() runs once per state; it
 *    keeps its place in the order by its node number, and a step's
 *    violation keeps its place by the number of nodes found before it.
 *
 * Soundness. States are told apart by their fingerprint: the same
 * program (dead registers zeroed by the compiler, model/dsl/liveness.ts:
 * states that no later step can tell apart are one state, which leaves
 * every distance unchanged), and under symmetry (symmetry.ts, on unless
 * switched off) one state per orbit of interchangeable CPUs: the visited
 * set holds canonical keys. That keeps every distance too: the initial
 * state is its own renaming, a renaming maps each schedule onto one of the
 * same length (its choices renamed) and a violation onto one of the same
 * kind, so all states of an orbit are as far from the initial state and
 * from a violation. The walk still steps the concrete states, so the
 * schedule found is concrete: the first path, in the order above, to some
 * state of the violating orbit; the tie-break then picks among the
 * violations so found. (Measured on the catalogue: the same schedule as
 * without symmetry for every violating design; backlog BUGGY N=4 stores
 * 244,073 states instead of 1,274,872.) No partial-order reduction (the
 * ample sets keep some shortest path to each violation only up to
 * reordering, and a reordering can be longer) and no fusion (a fused step
 * is a step of the schedule, taken whether or not the violation needs
 * it); a fingerprint collision is the only way to miss a state, as in the
 * exhaustive search (visited.ts gives the odds).
 *
 * Bounds. A known violating schedule of length L bounds the search: levels
 * past L are never made (the states of level L are checked as they are
 * found and not kept). The arrays are counted in bytes; a growth that
 * would pass the memory bound (default 1 GiB) ends the search as
 * bounded-out, naming the bound, before it allocates. A step bound
 * (maxSteps: every step counts, the regenerating walks' too) bounds its
 * cost the same way on every machine; shortenViolation's `auto` sets it
 * from the cost of the search that found the violation. Past a bound,
 * shortenViolation falls back to ddmin (minimize.ts) and says so.
 */
import type { ViolationKind } from '../check/violation.ts';
import { H_VIOL_KIND } from '../kernel/layout.ts';
import { Machine } from '../kernel/machine.ts';
import type { Program } from '../kernel/program.ts';
import { compareSchedules, minimize } from './minimize.ts';
import { boundHit, boundMessage, endBound, endViolation, stepViolation, type SearchResult, type Violation } from './outcome.ts';
import { Symmetry } from './symmetry.ts';
import { VisitedSet } from './visited.ts';
import { bytesText } from './bytes.ts';

export { bytesText };

/** Default memory bound of the shortening search: 1 GiB of its own arrays. */
export const DEFAULT_SHORTEST_BYTES = 1 << 30;

/**
 * Bytes for keeping a level's whole states (twice: the anchor level and the
 * next). Small on purpose: fresh memory costs more to touch than stepping
 * costs to regenerate a wide level (measured: pure regeneration was the
 * fastest on wide searches, a few MiB of kept levels on deep narrow ones).
 */
const LEVEL_STATES_BYTES = 8 * 2 ** 20;

/** Default cap on distinct states of the shortening search (as for the exhaustive search). */
export const DEFAULT_SHORTEST_STATES = 5_000_000;

export interface ShortestOptions {
  /** Only violations of this kind count; any other ends its path. */
  readonly kind?: ViolationKind;
  /** Distinct states before the search gives up (bounded-out). */
  readonly maxStates?: number;
  /** A violation of this many steps is known: never look for a longer one. */
  readonly maxDepth?: number;
  /**
   * Machine steps before the search gives up (bounded-out, bound `steps`):
   * every step it takes counts, those that regenerate a level's states as
   * well as those into new ones. A cost bound that does not depend on the
   * machine's speed, so the result is the same on every machine.
   */
  readonly maxSteps?: number;
  /** Bytes the search's arrays may hold (visited set, parent links, levels); default 1 GiB. */
  readonly maxBytes?: number;
  /**
   * Keep the whole states of levels that fit in a few MiB, to start the
   * next level's walk from them (default true); false walks every level
   * from the initial state. The result is the same either way.
   */
  readonly keepLevels?: boolean;
  /**
   * Store one state per orbit of interchangeable CPUs (symmetry.ts; default
   * true): the same shortest length, fewer states (see the file comment).
   */
  readonly symmetry?: boolean;
  /** Called now and then (every 8192 new states) with the search's counters, for a progress line. */
  readonly progress?: (p: { readonly states: number; readonly depth: number; readonly bytes: number }) => void;
}

export interface ShortestResult extends SearchResult {
  /** The most bytes the search's arrays held at once. */
  readonly bytes: number;
  /** Which bound ended the search, if one did: memory, states, steps, or the depth given (no violation within it). */
  readonly bound: 'memory' | 'states' | 'steps' | 'depth' | null;
  /** Machine steps taken, the regenerating walks' included (what maxSteps bounds). */
  readonly steps: number;
}

/** The best violation of one depth so far, with its place in the search's order. */
interface Candidate {
  violation: Violation;
  order: number;
}

/**
 * Breadth-first search for a shortest violating schedule (of `kind`, if
 * given); see the file comment. Without a violation: verified, or
 * bounded-out naming the loop bound, state bound or memory bound met.
 */
export function shortestViolation(p: Program, opts: ShortestOptions = {}): ShortestResult {
  const started = performance.now();
  const maxStates = opts.maxStates ?? DEFAULT_SHORTEST_STATES;
  const maxBytes = opts.maxBytes ?? DEFAULT_SHORTEST_BYTES;
  const maxDepth = opts.maxDepth ?? Infinity;
  const maxSteps = opts.maxSteps ?? Infinity;
  const kind = opts.kind;
  const m = new Machine(p);
  m.load(m.initial());
  const s = m.s;
  const visited = new VisitedSet();
  const sym = opts.symmetry === false ? null : Symmetry.of(p, m);
  const canonical = sym instanceof Symmetry ? sym : null;
  /** The current state's key in the visited set (its orbit's, under symmetry), into key[0], key[1]. */
  const key = new Int32Array(2);
  const keyOf = (): void => {
    if (canonical) {
      canonical.canonical(m, key);
    } else {
      key[0] = m.hLo;
      key[1] = m.hHi;
    }
  };
  /** Whether the current state (or, under symmetry, one of its orbit) is stored; its key is left in `key`. */
  const stored = (): boolean => {
    keyOf();
    return visited.has(key[0]!, key[1]!);
  };
  const tree = new Tree();
  const stats = { states: 1, transitions: 0, ms: 0, maxDepth: 0 };
  /** Steps taken: stats.transitions (into children) plus the walks' steps down the tree. */
  let walkSteps = 0;
  let peak = 0;
  const W = s.length;
  /** The states of the anchor level: the deepest level whose states are all kept (the initial state's, at first). */
  const rootAnchor = (): Anchor => {
    const states = new LevelStates(W, 1);
    states.push(s, m.hLo, m.hHi, true);
    return { level: 0, states };
  };
  let anchor = rootAnchor();
  /** The states of the next level, kept while they fit in a share of the memory bound. */
  let capturing = false;
  /**
   * The array the next level's states go to; kept from pass to pass (the
   * anchor's and this one swap), since fresh memory costs more to touch
   * than a state costs to copy.
   */
  let spare: LevelStates | null = null;
  const levelCap = opts.keepLevels === false ? 0 : Math.min(Math.floor(maxBytes / 8), LEVEL_STATES_BYTES);
  /** Bytes held now, plus `extra` about to be allocated. */
  const held = (extra: number): number => visited.bytes + tree.bytes + anchor.states.bytes + (spare?.bytes ?? 0) + extra;
  /** Whether the next level's states may grow by `extra` bytes. */
  const captureFits = (extra: number): boolean => {
    if (!capturing || spare === null || spare.bytes + extra > levelCap || held(extra) > maxBytes) return false;
    peak = Math.max(peak, held(extra));
    return true;
  };
  let firstBound: string | null = null;
  let bound: ShortestResult['bound'] = null;
  let stopReason: string | null = null;

  const finish = (status: SearchResult['status'], violation: Violation | null, boundedOut: string | null): ShortestResult => {
    stats.ms = Math.round(performance.now() - started);
    peak = Math.max(peak, held(0));
    return { status, violation, boundedOut, stats, bytes: peak, bound, steps: stats.transitions + walkSteps };
  };
  const wanted = (v: Violation | null): v is Violation => v !== null && (kind === undefined || v.kind === kind);
  const better = (c: Candidate | null, v: Violation): boolean =>
    c === null || compareSchedules(v.choices, c.violation.choices) < 0;
  /** Whether holding `extra` more bytes passes the memory bound, once the next level's kept states (an optimisation) are let go. */
  const memoryStop = (extra: number): boolean => {
    if (held(extra) > maxBytes) {
      spare = null;
      capturing = false;
    }
    const need = held(extra);
    if (need <= maxBytes) {
      peak = Math.max(peak, need);
      return false;
    }
    bound = 'memory';
    stopReason = `memory bound reached: the shortest-schedule search would hold more than ${bytesText(maxBytes)} ` +
      `(${stats.states} states, ${tree.size} kept, ${stats.maxDepth} steps deep)`;
    return true;
  };

  /** Whether the step bound is reached (then stopReason is set): asked before each step. */
  const stepStop = (): boolean => {
    if (stats.transitions + walkSteps < maxSteps) return false;
    bound = 'steps';
    stopReason = `step bound reached: the shortest-schedule search took ${maxSteps} steps ` +
      `(${stats.states} states, ${stats.maxDepth} steps deep)`;
    return true;
  };

  /** A step violation at depth d, found while expanding level d-1. */
  let stepBestForD: Candidate | null = null;
  keyOf();
  visited.add(key[0]!, key[1]!);
  tree.push(-1, 0);
  tree.levelStart.push(0, 1);

  /** The choices from the initial state to the node being walked (path[0 .. depth)). */
  let path = new Int32Array(64);
  const pathTo = (depth: number, last?: number): number[] => {
    // The anchor node's own path, from its parent links.
    for (let k = anchor.level, x = nodeAt[k]!; k > 0; k--, x = tree.parent[x]!) path[k - 1] = tree.via[x]!;
    const out = Array.from(path.subarray(0, depth));
    if (last !== undefined) out.push(last);
    return out;
  };
  const enabled: number[] = [];
  const childEnabled: number[] = [];
  // Per depth of the walk: the node, the undo point into it, nodes found before it was entered.
  let nodeAt = new Int32Array(64);
  let markAt = new Int32Array(64);
  let loAt = new Int32Array(64);
  let hiAt = new Int32Array(64);
  let foundAt = new Float64Array(64);
  let cursor = new Int32Array(64);
  const ensureDepth = (d: number): void => {
    if (d < nodeAt.length) return;
    const grow = <T extends Int32Array | Float64Array>(a: T): T => {
      const g = new (a.constructor as new (n: number) => T)(a.length * 2);
      g.set(a);
      return g;
    };
    path = grow(path);
    nodeAt = grow(nodeAt);
    markAt = grow(markAt);
    loAt = grow(loAt);
    hiAt = grow(hiAt);
    foundAt = grow(foundAt);
    cursor = grow(cursor);
  };

  for (let d = 0; ; d++) {
    stats.maxDepth = d;
    ensureDepth(d + 2);
    /** The shortest candidates: ending at depth d (terminal states) and at d+1 (steps). */
    let endBest: Candidate | null = null;
    let nextBest: Candidate | null = null;
    // Level d's states are checked for an end violation; expanded while none is found,
    // unless a step violation at depth d is already known or d is the depth bound.
    let expanding = stepBestForD === null && d < maxDepth;
    /** Level d+1 is the last one (the depth bound): its states are checked as found, not kept. */
    const last = d + 1 >= maxDepth;
    /** States found at depth d+1 so far (kept as nodes, or checked only when `last`). */
    let found = 0;
    /** Nodes found before this pass: the order of what it finds starts here. */
    const base = tree.size;
    for (let k = anchor.level + 1; k <= d; k++) cursor[k] = tree.levelStart[k]!;
    // Keep the states of level d+1 too, while they fit: the next pass then starts from them.
    // Levels tend to grow: try only when twice this level's states would fit.
    const levelSize = tree.levelStart[d + 1]! - tree.levelStart[d]!;
    const tryCapture = !last && 2 * levelSize * (W + 2) * 4 <= levelCap;
    capturing = tryCapture;
    if (capturing) {
      spare ??= new LevelStates(W, Math.max(64, 2 * levelSize));
      spare.clear();
    }

    /** Expand the current state, node `x` of level d. */
    const expand = (x: number): void => {
      m.enabledInto(enabled);
      if (enabled.length === 0) {
        const end = endViolation(m, s, pathTo(d));
        if (!end) firstBound ??= endBound(m, s);
        if (wanted(end) && better(endBest, end)) endBest = { violation: end, order: 2 * x };
        if (wanted(end)) expanding = false;
        return;
      }
      if (!expanding) return;
      const n = enabled.length;
      for (let j = 0; j < n && stopReason === null; j++) {
        if (stepStop()) break;
        const c = enabled[j]!;
        const mark = m.logLen;
        const lo = m.hLo;
        const hi = m.hHi;
        m.stepInPlace(c);
        stats.transitions++;
        if (s[H_VIOL_KIND] !== 0) {
          const v = stepViolation(m, s, pathTo(d, c));
          if (wanted(v) && better(nextBest, v)) nextBest = { violation: v, order: 2 * (base + found) - 1 };
        } else if (!stored()) {
          if (visitedGrows(visited) && memoryStop(2 * visited.bytes)) break;
          visited.add(key[0]!, key[1]!);
          stats.states++;
          if (opts.progress && (stats.states & 0x1fff) === 0) opts.progress({ states: stats.states, depth: d + 1, bytes: held(0) });
          if (stats.states > maxStates) {
            bound = 'states';
            stopReason = `state limit reached: more than ${maxStates} distinct states in the shortest-schedule search`;
          }
          const loop = boundHit(s);
          if (loop >= 0) {
            firstBound ??= boundMessage(m, loop);
          } else if (last) {
            // Depth bound: a state of the last level is checked now and not kept.
            m.enabledInto(childEnabled);
            if (childEnabled.length === 0) {
              const end = endViolation(m, s, pathTo(d, c));
              if (!end) firstBound ??= endBound(m, s);
              if (wanted(end) && better(nextBest, end)) nextBest = { violation: end, order: 2 * (base + found) };
            }
            found++;
          } else {
            if (tree.needsGrowth && memoryStop(tree.growthBytes)) break;
            tree.push(x, c);
            found++;
            if (capturing && !spare!.push(s, m.hLo, m.hHi, captureFits(spare!.growthBytes))) capturing = false;
          }
        }
        m.undoTo(mark, lo, hi);
      }
    };

    // Walk the live tree from each live node of the anchor level down to level d,
    // depth-first, expanding each node of level d.
    const a = anchor.level;
    const anchorFrom = tree.levelStart[a]!;
    const anchorTo = tree.levelStart[a + 1]!;
    for (let x = anchorFrom; x < anchorTo && stopReason === null; x++) {
      if (tree.alive[x] === 0) continue;
      anchor.states.load(m, x - anchorFrom);
      let depth = a;
      nodeAt[a] = x;
      foundAt[a] = found;
      for (;;) {
        const y = nodeAt[depth]!;
        let child = -1;
        if (depth === d) expand(y);
        else if (stopReason === null && !stepStop()) child = tree.nextLiveChild(y, cursor, depth + 1);
        if (child >= 0) {
          markAt[depth] = m.logLen;
          loAt[depth] = m.hLo;
          hiAt[depth] = m.hHi;
          const c = tree.via[child]!;
          m.stepInPlace(c);
          walkSteps++;
          path[depth] = c;
          depth++;
          nodeAt[depth] = child;
          foundAt[depth] = found;
          continue;
        }
        // Leave y: it stays live if its subtree found new states in this pass.
        tree.alive[y] = found > foundAt[depth]! ? 1 : 0;
        if (depth === a) break;
        depth--;
        m.undoTo(markAt[depth]!, loAt[depth]!, hiAt[depth]!);
      }
    }
    if (stopReason !== null) return finish('bounded-out', null, stopReason);

    // Depth d's best: a step violation found expanding level d-1, or a terminal state of level d.
    const atD = pick(stepBestForD, endBest);
    if (atD) return finish('violation', atD.violation, null);
    if (last && nextBest !== null) return finish('violation', (nextBest as Candidate).violation, null);
    if (found === 0 && nextBest === null) {
      if (d >= maxDepth) {
        bound = 'depth';
        return finish('bounded-out', null, `no violation${kind ? ` of kind ${kind}` : ''} within ${maxDepth} steps`);
      }
      return finish(firstBound ? 'bounded-out' : 'verified', null, firstBound);
    }
    if (last) {
      bound = 'depth';
      return finish('bounded-out', null, `no violation${kind ? ` of kind ${kind}` : ''} within ${maxDepth} steps`);
    }
    stepBestForD = nextBest;
    tree.levelStart.push(tree.size);
    if (capturing && spare !== null) {
      const old = anchor.states;
      anchor = { level: d + 1, states: spare };
      spare = old;
    }
    capturing = false;
  }
}

/** The better of a step candidate and an end candidate of the same depth: by compareSchedules, then by order. */
function pick(a: Candidate | null, b: Candidate | null): Candidate | null {
  if (a === null) return b;
  if (b === null) return a;
  const c = compareSchedules(a.violation.choices, b.violation.choices);
  if (c !== 0) return c < 0 ? a : b;
  return a.order < b.order ? a : b;
}

/** The anchor level of the walks and its states (node levelStart[level] + i is states' i-th). */
interface Anchor {
  readonly level: number;
  readonly states: LevelStates;
}

/** The state vectors of one level's nodes, in node order, with their fingerprints. */
class LevelStates {
  private words: Int32Array;
  private lo: Int32Array;
  private hi: Int32Array;
  count = 0;

  constructor(readonly width: number, capacity = 64) {
    this.words = new Int32Array(width * capacity);
    this.lo = new Int32Array(capacity);
    this.hi = new Int32Array(capacity);
  }
  get bytes(): number {
    return this.words.byteLength + this.lo.byteLength + this.hi.byteLength;
  }
  clear(): void {
    this.count = 0;
  }
  /** Bytes a growth would add (the arrays double). */
  get growthBytes(): number {
    return 2 * this.bytes;
  }
  /** Append a state; false if it needs to grow and `mayGrow` is false. */
  push(s: Int32Array, lo: number, hi: number, mayGrow: boolean): boolean {
    if (this.count === this.lo.length) {
      if (!mayGrow) return false;
      const n = this.lo.length * 2;
      const words = new Int32Array(this.width * n);
      words.set(this.words);
      this.words = words;
      const los = new Int32Array(n);
      los.set(this.lo);
      this.lo = los;
      const his = new Int32Array(n);
      his.set(this.hi);
      this.hi = his;
    }
    this.words.set(s, this.count * this.width);
    this.lo[this.count] = lo;
    this.hi[this.count] = hi;
    this.count++;
    return true;
  }
  /**
   * Make state `i` the machine's current state, with its fingerprint (known,
   * so not recomputed unless the machine tracks its CPUs' parts of it) and
   * an empty write log.
   */
  load(m: Machine, i: number): void {
    m.s.set(this.words.subarray(i * this.width, (i + 1) * this.width));
    m.logLen = 0;
    // Under symmetry the machine tracks each CPU's part of the fingerprint too: recomputed with the whole.
    if (m.partOf !== null) {
      m.rehash();
    } else {
      m.hLo = this.lo[i]!;
      m.hHi = this.hi[i]!;
    }
  }
}

/** Whether one more insertion grows the visited set's table (it doubles at half full, see visited.ts). */
function visitedGrows(v: VisitedSet): boolean {
  return (v.size + 1) * 2 > v.bytes / 8;
}

/**
 * The BFS tree: per node, its parent's number, the choice from the parent,
 * and whether its subtree is still live; and where each level starts.
 * Typed arrays grown by doubling, counted in bytes.
 */
class Tree {
  parent = new Int32Array(1 << 12);
  via = new Int32Array(1 << 12);
  alive = new Uint8Array(1 << 12);
  size = 0;
  /** levelStart[k]: the first node of level k; levelStart[k+1] ends it. */
  readonly levelStart: number[] = [];

  /** Bytes held by the node arrays. */
  get bytes(): number {
    return this.parent.byteLength + this.via.byteLength + this.alive.byteLength + this.levelStart.length * 8;
  }
  get needsGrowth(): boolean {
    return this.size === this.parent.length;
  }
  /** Bytes the next growth allocates (the old arrays are held while they are copied). */
  get growthBytes(): number {
    return 2 * (this.parent.byteLength + this.via.byteLength + this.alive.byteLength);
  }
  push(parent: number, via: number): void {
    if (this.size === this.parent.length) {
      const n = this.parent.length * 2;
      const parents = new Int32Array(n);
      parents.set(this.parent);
      this.parent = parents;
      const vias = new Int32Array(n);
      vias.set(this.via);
      this.via = vias;
      const alive = new Uint8Array(n);
      alive.set(this.alive);
      this.alive = alive;
    }
    this.parent[this.size] = parent;
    this.via[this.size] = via;
    this.alive[this.size] = 1;
    this.size++;
  }
  /**
   * The next live child of node `x` in level `level`, from cursor[level]
   * on (advanced past it), or -1 when x has no more. The parents of a level
   * never decrease, so the children of the dead nodes before x are skipped
   * by a binary search.
   */
  nextLiveChild(x: number, cursor: Int32Array, level: number): number {
    const end = this.levelStart[level + 1]!;
    const parent = this.parent;
    let c = cursor[level]!;
    if (c < end && parent[c]! < x) {
      let lo = c;
      let hi = end;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (parent[mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      c = lo;
    }
    while (c < end && parent[c] === x && this.alive[c] === 0) c++;
    if (c < end && parent[c] === x) {
      cursor[level] = c + 1;
      return c;
    }
    cursor[level] = c;
    return -1;
  }
}

/**
 * The cost bound of `auto` shortening: at most this many times the steps of
 * the search that found the violation...
 */
export const SHORTEN_COST_RATIO = 10;
/**
 * ...counting that search as at least this many steps. A search that finds
 * a bug in a few hundred steps takes milliseconds, less than a check's own
 * start-up (compiling the design, the JIT warming up: 0.1–0.3 s, the time
 * of about this many steps); ten times that still lets the shortest
 * schedule of most bugs be found (measured on the catalogue and the bench's
 * bugs: all but one within 1.5M steps, see README).
 */
export const SHORTEN_FLOOR_STEPS = 200_000;

/** The step bound of `auto` shortening after a search of `searchSteps` steps. */
export function shorteningSteps(searchSteps: number): number {
  return SHORTEN_COST_RATIO * Math.max(searchSteps, SHORTEN_FLOOR_STEPS);
}

const count = (n: number): string => n.toLocaleString('en-US');

/** How a violation's schedule was shortened, and what it cost. */
export interface Shortening {
  /** The shortened schedule: it replays to a violation of the same kind. */
  readonly choices: readonly number[];
  /**
   * `bfs`: a shortest schedule (shortestViolation); `ddmin (<why>)`: the
   * search gave up at a bound, and the schedule is delta debugging's
   * 1-minimal one, which may be longer than a shortest; `ddmin`: delta
   * debugging was asked for instead of the search.
   */
  readonly method: 'bfs' | 'ddmin' | `ddmin (${string})`;
  /** States the breadth-first search stored, the steps it took, its time (ddmin's included) and its peak bytes. */
  readonly states: number;
  readonly steps: number;
  readonly ms: number;
  readonly bytes: number;
}

/**
 * Shorten a violating schedule found by another search: a shortest one of
 * the same kind by breadth-first search, bounded by the found schedule's
 * length and by memory (and states); past a bound, ddmin's 1-minimal
 * schedule (minimize.ts), saying which bound stopped the search. With
 * `method: 'auto'` (the default), the search is bounded by its cost too:
 * shorteningSteps(searchSteps) steps, `searchSteps` being the steps of the
 * search that found the violation. With `method: 'ddmin'`, ddmin's only.
 */
export function shortenViolation(
  p: Program,
  found: Violation,
  opts: Omit<ShortestOptions, 'kind' | 'maxDepth' | 'maxSteps'> & { readonly method?: 'auto' | 'bfs' | 'ddmin'; readonly searchSteps?: number } = {},
): Shortening {
  const started = performance.now();
  if (opts.method === 'ddmin') {
    const choices = minimize(p, found.choices, found.kind);
    return { choices, method: 'ddmin', states: 0, steps: 0, ms: Math.round(performance.now() - started), bytes: 0 };
  }
  const maxSteps = (opts.method ?? 'auto') === 'auto' ? shorteningSteps(opts.searchSteps ?? 0) : Infinity;
  const r = shortestViolation(p, { ...opts, kind: found.kind, maxDepth: found.choices.length, maxSteps });
  if (r.violation) {
    return { choices: r.violation.choices, method: 'bfs', states: r.stats.states, steps: r.steps, ms: Math.round(performance.now() - started), bytes: r.bytes };
  }
  const why = r.bound === 'memory' ? `memory bound ${bytesText(opts.maxBytes ?? DEFAULT_SHORTEST_BYTES)}`
    : r.bound === 'states' ? `state bound ${opts.maxStates ?? DEFAULT_SHORTEST_STATES}`
    : r.bound === 'steps' ? `cost bound, ${count(maxSteps)} steps: ${SHORTEN_COST_RATIO}× the ${count(opts.searchSteps ?? 0)} steps of the search that found it, and at least ${count(shorteningSteps(0))} (--shorten bfs searches on)`
    : `the search ended without it: ${r.boundedOut ?? r.status}`;
  const choices = minimize(p, found.choices, found.kind);
  return { choices, method: `ddmin (${why})`, states: r.stats.states, steps: r.steps, ms: Math.round(performance.now() - started), bytes: r.bytes };
}
