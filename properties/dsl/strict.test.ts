/**
 * Strict designs (model/dsl/strict.ts): a misspelled key at any depth is a
 * DesignError naming the key and the nearest valid one, never ignored; a
 * mutated catalogue design is never silently verified.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../model/designs/index.ts';
import {
  check, compile, defineDesign, DesignError, fingerprintOf, inc, load, spin_lock, spin_trylock, spin_unlock, v, type Design,
} from '../../model/index.ts';
import { editDistance, nearest } from '../../model/dsl/strict.ts';

/** The README's first example: its eth0 handler deadlocks against the task on one CPU. */
const ethStats = defineDesign({
  name: 'eth-stats',
  cpus: 1,
  locks: { 'priv->lock': 'spinlock' },
  vars: { 'priv->rx_packets': 0 },
  tasks: [{ name: 'ethtool', cpu: 0, body: [spin_lock('priv->lock'), load('n', v('priv->rx_packets')), spin_unlock('priv->lock')] }],
  irqs: [{ name: 'eth0', handler: [spin_lock('priv->lock'), inc('priv->rx_packets'), spin_unlock('priv->lock')] }],
});

function designError(d: unknown): DesignError {
  try {
    compile(d as Design);
  } catch (e) {
    if (e instanceof DesignError) return e;
    throw e;
  }
  throw new Error('compiled without a DesignError');
}

describe('a typo is a DesignError naming the key and the nearest valid one', () => {
  it('the eth-stats deadlock with `irq:` for `irqs:` is refused, not verified', () => {
    const { irqs, ...rest } = ethStats;
    expect(check(ethStats).violation?.kind).toBe('deadlock');
    const e = designError({ ...rest, irq: irqs });
    expect(e.message).toBe("design 'eth-stats': unknown key 'irq' (did you mean 'irqs'?)");
  });

  it('at every depth: an irq line, a task, options, flags, a declaration, a statement, an expression, a trylock', () => {
    const line = ethStats.irqs![0]!;
    expect(designError({ ...ethStats, irqs: [{ ...line, budjet: 2 }] }).message).toBe("design 'eth-stats': irq eth0: unknown key 'budjet' (did you mean 'budget'?)");
    expect(designError({ ...ethStats, tasks: [{ ...ethStats.tasks[0]!, cpus: 0 }] }).message).toContain("task ethtool: unknown key 'cpus' (did you mean 'cpu'?)");
    expect(designError({ ...ethStats, options: { tick: 2 } }).message).toBe("design 'eth-stats': options: unknown key 'tick' (did you mean 'ticks'?)");
    expect(designError({ ...ethStats, flags: { rwlocks: 'qrwlock' } }).message).toContain("flags: unknown kernel flag 'rwlocks' (did you mean 'rwlock'?)");
    expect(designError({ ...ethStats, timers: { t: { func: 'f', flag: ['PINNED'] } }, functions: { f: [] } }).message)
      .toContain("timers['t']: unknown key 'flag' (did you mean 'flags'?)");
    expect(designError({ ...ethStats, irqs: [{ ...line, handler: [{ op: 'spin_lock', lokc: 'priv->lock' }] }] }).message)
      .toContain("irq eth0[0]: unknown field of spin_lock() 'lokc' (did you mean 'lock'?)");
    expect(designError({ ...ethStats, irqs: [{ ...line, handler: [{ op: 'spin_lok', lock: 'priv->lock' }] }] }).message)
      .toContain("unknown operation 'spin_lok' (did you mean 'spin_lock'?)");
    expect(designError({ ...ethStats, tasks: [{ name: 't', cpu: 0, body: [load('n', { vr: 'priv->rx_packets' } as never)] }] }).message)
      .toContain("unknown expression form 'vr' (did you mean 'var'?)");
    expect(designError({ ...ethStats, tasks: [{ name: 't', cpu: 0, body: [load('n', { var: 'priv->rx_packets', cpu: 1 } as never)] }] }).message)
      .toContain("unknown key in a 'var' expression 'cpu'");
    expect(designError({ ...ethStats, tasks: [{ name: 't', cpu: 0, body: [{ op: 'if', cond: { ...spin_trylock('priv->lock'), flag: 'f' }, then: [], else: [] }] }] }).message)
      .toContain("unknown key 'flag' (did you mean 'flags'?)");
    expect(designError({ ...ethStats, tasks: [{ name: 't', cpu: 0, body: [{ op: 'if', cond: 1, then: [], els: [] }] }] }).message)
      .toContain("unknown field of if statement 'els' (did you mean 'else'?)");
  });

  it('in the driver declarations and keys of issue 11: task start/after, irq start/thread/flags, either, structs, socks, napis, seqcounts, irq_works, context predicates', () => {
    const t = ethStats.tasks[0]!;
    const line = ethStats.irqs![0]!;
    expect(designError({ ...ethStats, tasks: [{ ...t, strat: 'kthread_run' }] }).message).toContain("task ethtool: unknown key 'strat' (did you mean 'start'?)");
    expect(designError({ ...ethStats, tasks: [{ ...t, start: 'kthread_create' }] }).message).toContain('kthread_run');
    expect(designError({ ...ethStats, tasks: [{ ...t, atfer: 'probe' }] }).message).toContain("unknown key 'atfer' (did you mean 'after'?)");
    expect(designError({ ...ethStats, irqs: [{ ...line, flag: ['ONESHOT'] }] }).message).toContain("irq eth0: unknown key 'flag' (did you mean 'flags'?)");
    expect(designError({ ...ethStats, irqs: [{ ...line, flags: ['ONESHOTT'] }] }).message).toContain('ONESHOT');
    expect(designError({ ...ethStats, irqs: [{ ...line, thraed: [] }] }).message).toContain("unknown key 'thraed' (did you mean 'thread'?)");
    expect(designError({ ...ethStats, tasks: [{ ...t, body: [{ op: 'either', branchs: [[], []] }] }] }).message).toContain("unknown field of either statement 'branchs' (did you mean 'branches'?)");
    expect(designError({ ...ethStats, structs: { p: { members: [], alocated: false } } }).message).toContain("unknown key 'alocated' (did you mean 'allocated'?)");
    expect(designError({ ...ethStats, socks: { sk: { backlog: 1, backlog_rvc: 'f' } }, functions: { f: [] } }).message).toContain("unknown key 'backlog_rvc' (did you mean 'backlog_rcv'?)");
    expect(designError({ ...ethStats, napis: { n: { pol: 'f' } }, functions: { f: [] } }).message).toContain("unknown key 'pol' (did you mean 'poll'?)");
    expect(designError({ ...ethStats, seqcounts: { s: { lokc: 'priv->lock' } } }).message).toContain("unknown key 'lokc' (did you mean 'lock'?)");
    expect(designError({ ...ethStats, irq_works: { w: { fucn: 'f' } }, functions: { f: [] } }).message).toContain("unknown key 'fucn' (did you mean 'func'?)");
    expect(designError({ ...ethStats, tasks: [{ ...t, body: [load('n', { ctx: 'in_irq' } as never)] }] }).message).toContain('in_interrupt');
  });

  it('a misspelled expected verdict or profile is bad input, not a mismatch', () => {
    expect(designError({ ...ethStats, expected: 'deadlok' }).message).toBe("design 'eth-stats': expected: unknown verdict 'deadlok' (did you mean 'deadlock'?)");
    expect(designError({ ...ethStats, expected: 'fine' }).message).toMatch(/unknown verdict 'fine' \(valid: verified, deadlock, /);
    expect(designError({ ...ethStats, profile: 'moderm' }).message).toContain("unknown kernel profile 'moderm' (did you mean 'modern'?)");
  });

  it('an interrupt line without a handler, and a design where nothing can run', () => {
    const { handler: _h, ...noHandler } = ethStats.irqs![0]!;
    expect(designError({ ...ethStats, irqs: [noHandler] }).message).toContain('irq eth0: has no handler');
    expect(designError({ ...ethStats, tasks: [], irqs: [{ ...ethStats.irqs![0]!, budget: 0 }] }).message).toContain('no context can ever run');
  });

  it('is refused by the type checker too: defineDesign takes exactly a Design', () => {
    const typo = () => defineDesign({
      name: 'typo', cpus: 1, tasks: [],
      // @ts-expect-error `irq` is not a key of Design (it is `irqs`)
      irq: [],
    });
    const verdict = () => defineDesign({
      name: 'typo', cpus: 1, tasks: [],
      // @ts-expect-error 'deadlok' is not a verdict
      expected: 'deadlok',
    });
    expect(typo).not.toThrow(); // defineDesign only types; compile() checks
    expect(verdict).not.toThrow();
  });

  it('nearest() suggests only close words', () => {
    expect(editDistance('budjet', 'budget')).toBe(1);
    expect(editDistance('iqrs', 'irqs')).toBe(1); // a transposition is one edit
    expect(nearest('irq', ['irqs', 'tasks'])).toBe('irqs');
    expect(nearest('zzzzzz', ['irqs', 'tasks'])).toBeNull();
  });
});

// ------------------------------------------------------------ mutated designs

/** Top-level fields whose keys are the design's own names (locks, variables…), not the language's. */
const NAMED_RECORDS = new Set([
  'locks', 'vars', 'percpu', 'queues', 'functions', 'tasklets', 'timers', 'works', 'workqueues',
  'completions', 'semaphores', 'waitqueues', 'structs', 'tq_structs',
  'seqcounts', 'rcu_heads', 'irq_works', 'napis', 'socks',
]);

type Path = readonly (string | number)[];

/** Paths to every key of the design language, at any depth (not the design's own names). */
function keyPaths(x: unknown, path: Path = []): Path[] {
  if (Array.isArray(x)) return x.flatMap((el, i) => keyPaths(el, [...path, i]));
  if (typeof x !== 'object' || x === null) return [];
  const named = path.length === 1 && NAMED_RECORDS.has(String(path[0]));
  return Object.entries(x).flatMap(([k, val]) => [...(named ? [] : [[...path, k]]), ...keyPaths(val, [...path, k])]);
}

/** A copy of `x` with the key at `path` renamed to `to` (or dropped, with `to` null). */
function mutate(x: unknown, path: Path, to: string | null): unknown {
  const [head, ...rest] = path;
  if (Array.isArray(x)) return x.map((el, i) => (i === head ? mutate(el, rest, to) : el));
  const obj = x as Record<string, unknown>;
  if (rest.length > 0) return { ...obj, [head!]: mutate(obj[head!], rest, to) };
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(obj)) {
    if (k !== head) out[k] = val;
    else if (to !== null) out[to] = val;
  }
  return out;
}

const keyAt = (x: unknown, path: Path): unknown => path.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], x);
const parentOf = (x: unknown, path: Path): Record<string, unknown> => keyAt(x, path.slice(0, -1)) as Record<string, unknown>;

/** The typos people make: a letter dropped, doubled, swapped, changed; a plural's s added or lost. */
const typo = (key: string): fc.Arbitrary<string> =>
  fc.tuple(fc.nat({ max: Math.max(0, key.length - 1) }), fc.constantFrom('drop', 'double', 'swap', 'change', 'plural')).map(([i, how]) => {
    switch (how) {
      case 'drop': return key.slice(0, i) + key.slice(i + 1);
      case 'double': return key.slice(0, i + 1) + key[i] + key.slice(i + 1);
      case 'swap': return i + 1 < key.length ? key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2) : `${key}x`;
      case 'change': return key.slice(0, i) + (key[i] === 'q' ? 'z' : 'q') + key.slice(i + 1);
      default: return key.endsWith('s') ? key.slice(0, -1) : `${key}s`;
    }
  });

const BUGGY = CATALOGUE.filter((d) => d.expected !== undefined && d.expected !== 'verified');
/** Keys that describe a design without changing what it does (top level). */
const INERT = new Set(['description', 'twin', 'expected', 'assumes']);
/** Keys at any depth that only --grow reads: a task's `replicable`, an assumption's fields. */
const INERT_ANYWHERE = (path: Path): boolean => path[path.length - 1] === 'replicable' || path[0] === 'assumes';

describe('mutated buggy catalogue designs are never silently verified', () => {
  const mutation = fc.constantFrom(...BUGGY).chain((d) => {
    const paths = keyPaths(d);
    return fc.record({ design: fc.constant(d), path: fc.constantFrom(...paths) }).chain(({ design, path }) =>
      fc.record({ design: fc.constant(design), path: fc.constant(path), to: fc.option(typo(String(path[path.length - 1])), { freq: 3 }) }));
  });

  it('a renamed key is a DesignError naming it; a dropped one is an error or a different design', () => {
    fc.assert(fc.property(mutation, ({ design, path, to }) => {
      const key = String(path[path.length - 1]);
      fc.pre(to === null || (to !== key && to !== '' && !(to in parentOf(design, path))));
      const mutated = mutate(design, path, to) as Design;
      let error: unknown = null;
      try {
        compile(mutated);
      } catch (e) {
        error = e;
      }
      if (to !== null) {
        // A renamed language key can only be a typo: it must be refused, naming the new key.
        expect(error, `${path.join('.')} → ${to}`).toBeInstanceOf(DesignError);
        expect((error as DesignError).message).toContain(to);
        return;
      }
      if (error !== null) {
        expect(error).toBeInstanceOf(DesignError);
        return;
      }
      if ((INERT.has(key) && path.length === 1) || INERT_ANYWHERE(path)) {
        expect(check(mutated, { minimize: false }).status).toBe(check(design, { minimize: false }).status);
      } else {
        // Dropping a key that means something makes another design, which no saved result answers for.
        expect(fingerprintOf(mutated), path.join('.')).not.toBe(fingerprintOf(design));
      }
    }), { seed: 1234, numRuns: 2000 });
  });
});
