/**
 * Prefix shards: the exhaustive search cut into N independent parts by the
 * first choices of a schedule, so that N machines (a CI matrix, a
 * Kubernetes indexed Job, GNU parallel) or N worker threads (workers.ts)
 * can each run one, and `kdefer merge` (or the worker pool) combines their
 * verdicts.
 *
 * The partition. A breadth-first expansion from the initial state, level by
 * level, takes every enabled choice of every state (no partial-order
 * reduction, no fusion: the plain semantics, `Machine.step`), and stops at
 * the first level that holds at least PREFIXES_PER_SHARD·N states (or when
 * no state is left, or after MAX_EXPANSION_STATES states). Each state of that level is reached by a prefix (its
 * schedule from the initial state); the prefixes, all of that level's
 * length, are sorted by their choice numbers, and prefix k goes to shard
 * k mod N. The expansion is deterministic (enabled() has a canonical order),
 * so every shard computes the same partition by itself.
 *
 * Why it is sound, for proofs and for bugs. Within the expansion:
 *  - a state reached again (the same storage key as the DFS uses: its
 *    fingerprint, or its symmetry orbit's canonical fingerprint) is dropped.
 *    The first occurrence is either expanded further (with every choice) or
 *    a prefix of the frontier, so what follows the dropped one is covered
 *    by whoever owns the first; under symmetry the two states are renamings
 *    of each other, and every violation kind is invariant under renaming
 *    interchangeable CPUs (symmetry.ts);
 *  - a step that raises a violation, a state past a loop bound and a state
 *    with no choice left end their path, exactly as in the DFS (dfs.ts).
 * So every execution from the initial state either ends inside the
 * expansion, where it is checked, or passes through a state that a frontier
 * prefix reaches (itself or its renaming). A shard runs the ordinary DFS
 * (dfs.ts, with every reduction it is told to use) from the end state of
 * each of its prefixes, in prefix order, with one visited set for the
 * shard: the DFS's reductions are sound from any root, and a state another
 * of the shard's prefixes already explored was explored completely. States
 * reachable from prefixes of several shards are explored by each of them;
 * that costs time, never soundness.
 *
 * Who reports what, precisely:
 *  - shard 0 owns the expansion itself: the first violation the expansion
 *    meets (breadth-first order: shortest, then by parent, then by choice
 *    order) is shard 0's verdict, and a loop bound the expansion passes
 *    makes shard 0 bounded-out. When the expansion meets a violation,
 *    shard 0 does not run its prefixes (its verdict is that violation);
 *  - every shard owns the executions through its prefixes: a violation the
 *    DFS finds under one of them, reported with the whole schedule from the
 *    initial state (the prefix, then the DFS's path), which replays;
 *  - a shard with no prefix (a state space the expansion exhausted) is
 *    verified: the part it owns is empty.
 * The union over the N shards is the whole search: merging them (merge.ts)
 * gives a violation if any shard has one, bounded-out if none has one and
 * one is bounded-out, and verified only if all N are verified.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Machine } from '../kernel/machine.ts';
import type { Program } from '../kernel/program.ts';
import { H_VIOL_KIND } from '../kernel/layout.ts';
import { boundHit, boundMessage, endBound, endViolation, stepViolation, type SearchResult, type Violation } from './outcome.ts';
import { depthFirst } from './dfs.ts';
import { PartialOrder, StaticFootprints } from './por.ts';
import { Symmetry } from './symmetry.ts';
import { VisitedSet } from './visited.ts';
import { compareChoices } from './minimize.ts';

/** The frontier holds at least this many prefixes per shard (more prefixes: better balance, more overlap). */
export const PREFIXES_PER_SHARD = 8;

/**
 * The expansion stops after the level at which it has stored this many
 * states, even with fewer prefixes than PREFIXES_PER_SHARD·N (a narrow
 * state graph): any complete level is a sound frontier, only a less
 * balanced one.
 */
export const MAX_EXPANSION_STATES = 100_000;

/** Version of the partition scheme: part of every shard's fingerprint, so shards of two schemes never merge. */
export const PARTITION_SCHEME = 1;

/** Shard `index` of `count` (0 ≤ index < count). */
export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

/** What a shard result says about its part, beside the search's own stats. */
export interface ShardInfo extends ShardSpec {
  /** Prefixes this shard explored from (its share of the frontier). */
  readonly prefixes: number;
  /** Prefixes in the whole frontier. */
  readonly frontier: number;
  /** Length of every prefix (the expansion's depth). */
  readonly prefixLength: number;
}

/** The partition of a design's search into prefixes, the same for every shard. */
export interface Partition {
  /** The frontier's prefixes (choice lists from the initial state), sorted; prefix k belongs to shard k mod count. */
  readonly prefixes: readonly (readonly number[])[];
  /** The state each prefix ends in. */
  readonly states: readonly Int32Array[];
  /** The first violation met inside the expansion (shard 0's). */
  readonly violation: Violation | null;
  /** The first loop bound passed inside the expansion (makes shard 0 bounded-out). */
  readonly bound: string | null;
  /** States the expansion stored, transitions it took. */
  readonly states0: number;
  readonly transitions0: number;
  readonly depth: number;
}

/** Options that shape the partition (the same in every shard, or they do not merge). */
export interface PartitionOptions {
  /** Shards the frontier is cut into. */
  readonly count: number;
  /** Whether states are stored by their symmetry orbit (as the DFS does with symmetry on). */
  readonly symmetry: boolean;
}

/** A shard spec, checked: throws a RangeError naming the problem. */
export function checkShard(shard: ShardSpec): ShardSpec {
  const { index, count } = shard;
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`shard: the shard count must be a whole number ≥ 1, not ${count}`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) throw new RangeError(`shard: the index must be a whole number from 0 to ${count - 1}, not ${index}`);
  return shard;
}

/** One state of the expansion: the choice that reached it and its parent. */
interface Node {
  readonly parent: Node | null;
  readonly choice: number;
  readonly s: Int32Array;
  readonly depth: number;
}

const choicesTo = (n: Node): number[] => {
  const out: number[] = [];
  for (let x: Node | null = n; x !== null && x.parent !== null; x = x.parent) out.push(x.choice);
  return out.reverse();
};

/** The partition of `p`'s search (see the file comment). */
export function partition(p: Program, opts: PartitionOptions): Partition {
  const target = PREFIXES_PER_SHARD * opts.count;
  const m = new Machine(p);
  const init = m.initial();
  const sym = opts.symmetry ? Symmetry.of(p, m) : null;
  const symmetry = sym !== null && typeof sym !== 'string' ? sym : null;
  const keyOut = new Int32Array(2);
  const seen = new VisitedSet();
  /** Store the state's key; false if it was there already. */
  const fresh = (s: Int32Array): boolean => {
    m.load(s);
    if (symmetry) symmetry.canonical(m, keyOut);
    else {
      keyOut[0] = m.hLo;
      keyOut[1] = m.hHi;
    }
    return seen.add(keyOut[0]!, keyOut[1]!);
  };
  let violation: Violation | null = null;
  let bound: string | null = null;
  let transitions = 0;
  fresh(init);
  let level: Node[] = [];
  if (m.enabled(init).length === 0) {
    violation = endViolation(m, init, []);
    if (!violation) bound = endBound(m, init);
  }
  else level.push({ parent: null, choice: 0, s: init, depth: 0 });
  let depth = 0;
  while (level.length > 0 && level.length < target && seen.size <= MAX_EXPANSION_STATES) {
    const next: Node[] = [];
    for (const node of level) {
      for (const choice of m.enabled(node.s)) {
        const t = m.step(node.s, choice);
        transitions++;
        if (t[H_VIOL_KIND] !== 0) {
          violation ??= stepViolation(m, t, [...choicesTo(node), choice]);
          continue;
        }
        if (!fresh(t)) continue;
        const child: Node = { parent: node, choice, s: t, depth: node.depth + 1 };
        const loop = boundHit(t);
        if (loop >= 0) {
          bound ??= boundMessage(m, loop);
          continue;
        }
        if (m.enabled(t).length === 0) {
          const end = endViolation(m, t, choicesTo(child));
          violation ??= end;
          if (!end) bound ??= endBound(m, t);
          continue;
        }
        next.push(child);
      }
    }
    level = next;
    depth++;
  }
  const frontier = level.map((n) => ({ prefix: choicesTo(n), s: n.s })).sort((a, b) => compareChoices(a.prefix, b.prefix));
  return {
    prefixes: frontier.map((f) => f.prefix),
    states: frontier.map((f) => f.s),
    violation,
    bound,
    states0: seen.size,
    transitions0: transitions,
    depth,
  };
}

/** The options of one shard's search (exhaustive.ts's, resolved). */
export interface ShardSearchOptions {
  readonly maxStates: number;
  readonly por: boolean;
  readonly fusion: boolean;
  readonly symmetry: boolean;
  readonly memoryCheck?: (visitedBytes: number, stats: import('./dfs.ts').DfsStats) => string | null;
  readonly progress?: (stats: import('./dfs.ts').DfsStats) => void;
  readonly observe?: (m: Machine, s: Int32Array) => void;
}

/**
 * Search shard `shard` of `part` (partition(p, { count: shard.count, … })):
 * the DFS from the end state of each of its prefixes, in order, with one
 * visited set; stops at the first violation. The verdict covers exactly
 * the executions the file comment gives this shard.
 */
export function searchShard(p: Program, part: Partition, shard: ShardSpec, opts: ShardSearchOptions, started = performance.now()): SearchResult {
  checkShard(shard);
  const mine = part.prefixes.map((_, k) => k).filter((k) => k % shard.count === shard.index);
  const info: ShardInfo = { index: shard.index, count: shard.count, prefixes: mine.length, frontier: part.prefixes.length, prefixLength: part.depth };
  const owner = shard.index === 0;
  const stats = {
    states: owner ? part.states0 : 0,
    transitions: owner ? part.transitions0 : 0,
    ms: 0,
    maxDepth: 0,
    transient: 0,
    visitedBytes: 0,
  };
  const m = new Machine(p);
  const footprints = opts.por || opts.fusion ? new StaticFootprints(p) : null;
  const por = opts.por ? new PartialOrder(m, footprints!) : null;
  const sym = opts.symmetry ? Symmetry.of(p, m) : 'switched off';
  const reductions = {
    por: opts.por,
    fusion: opts.fusion,
    symmetry: typeof sym === 'string' ? { orbits: [], why: sym } : { orbits: sym.orbits },
  };
  const finish = (status: SearchResult['status'], violation: Violation | null, boundedOut: string | null): SearchResult => {
    stats.ms = Math.round(performance.now() - started);
    return {
      status, violation, boundedOut, shard: info,
      stats: { ...stats, reductions: { ...reductions, ...(por ? { reducedStates: por.stats.reducedStates, prunedTransitions: por.stats.prunedTransitions, provisoExpansions: por.stats.provisoExpansions } : {}) } },
    };
  };
  if (owner && part.violation) return finish('violation', part.violation, null);
  let firstBound = owner && part.bound !== null ? `${part.bound} (shard ${shard.index}/${shard.count}, in the prefix expansion)` : null;
  const visited = new VisitedSet();
  const keyOut = new Int32Array(2);
  const canonical = typeof sym !== 'string' ? (mm: Machine, out: Int32Array) => sym.canonical(mm, out) : null;
  /** Why the caller's memory check stopped the search, if it did. */
  let stoppedBy: string | null = null;
  const memoryCheck = opts.memoryCheck;
  for (const k of mine) {
    const prefix = part.prefixes[k]!;
    m.load(part.states[k]!.slice());
    // A root another prefix's search already stored was explored completely there.
    if (canonical) canonical(m, keyOut);
    else {
      keyOut[0] = m.hLo;
      keyOut[1] = m.hHi;
    }
    if (visited.has(keyOut[0]!, keyOut[1]!)) continue;
    const before = visited.size;
    const remaining = opts.maxStates - stats.states;
    const r = depthFirst(m, {
      ...(canonical ? { canonical } : {}),
      maxStates: Math.max(1, remaining),
      por,
      fusion: opts.fusion,
      footprints,
      visited,
      ...(opts.observe ? { observe: opts.observe } : {}),
      ...(opts.progress ? { progress: opts.progress } : {}),
      ...(memoryCheck ? { memoryCheck: (bytes, st) => (stoppedBy = memoryCheck(bytes, st)) } : {}),
    });
    stats.states += visited.size - before;
    stats.transitions += r.stats.transitions;
    stats.transient += r.stats.transient;
    stats.maxDepth = Math.max(stats.maxDepth, prefix.length + r.stats.maxDepth);
    stats.visitedBytes = visited.bytes;
    if (r.status === 'violation') {
      const v = r.violation!;
      return finish('violation', { ...v, choices: [...prefix, ...v.choices] }, null);
    }
    if (r.status === 'bounded-out') {
      const where = `shard ${shard.index}/${shard.count}`;
      if (r.stats.states > remaining) {
        return finish('bounded-out', null, `state limit reached: more than ${opts.maxStates} distinct states stored in ${where} (raise the state limit: maxStates, or --max-states on the command line; cut the search into more shards; or shrink the bounds)`);
      }
      if (stoppedBy !== null) return finish('bounded-out', null, `${stoppedBy} (${where})`);
      // A loop bound: the search went on past it, as the DFS does.
      firstBound ??= `${r.boundedOut} (${where}, under prefix ${k})`;
    }
  }
  return finish(firstBound ? 'bounded-out' : 'verified', null, firstBound);
}

// ---------------------------------------------------------------- fingerprints

let version: string | null = null;

/** kdefer's version, from its package.json (next to model/ in a checkout, or to dist/ when compiled). */
export function kdeferVersion(): string {
  if (version !== null) return version;
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'kdefer' && typeof pkg.version === 'string') return (version = pkg.version);
    } catch {
      // not there: try the next place
    }
  }
  return (version = 'unknown');
}

/**
 * The fingerprint that shards of one search share, and shards of another
 * never do: the design's fingerprint, its compiled program (code,
 * expressions, initial state), the bounds, kdefer's version and the
 * partition (scheme, shard count, symmetry). `kdefer merge` refuses
 * results whose fingerprints differ.
 */
export function shardFingerprint(p: Program, bounds: object, count: number, symmetry: boolean): string {
  const h = createHash('sha256');
  const initial = new Machine(p).initial();
  h.update(p.fingerprint);
  h.update(new Uint8Array(p.code.buffer, p.code.byteOffset, p.code.byteLength));
  h.update(new Uint8Array(p.exprs.buffer, p.exprs.byteOffset, p.exprs.byteLength));
  h.update(new Uint8Array(initial.buffer, initial.byteOffset, initial.byteLength));
  h.update(JSON.stringify({ bounds: sortKeys(bounds), version: kdeferVersion(), scheme: PARTITION_SCHEME, perShard: PREFIXES_PER_SHARD, cap: MAX_EXPANSION_STATES, count, symmetry }));
  return h.digest('hex').slice(0, 16);
}

/** A copy of `x` with object keys sorted (a stable JSON). */
function sortKeys(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(sortKeys);
  if (typeof x === 'object' && x !== null) return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sortKeys((x as Record<string, unknown>)[k])]));
  return x;
}
