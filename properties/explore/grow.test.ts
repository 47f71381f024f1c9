/**
 * model/explore/grow.ts: the variants of a design with one bound raised
 * (CPUs with copies of replicable tasks, interrupt budgets, ticks, loop
 * bounds, preemption), their rules for what refers to CPUs, and growCheck:
 * a bound-dependent invariant flips one step beyond its bounds, the same
 * property written with per_cpu_sum does not, a declared assumption turns a
 * flip into an assumed one, and a flipped bound is not grown further.
 */
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../model/designs/index.ts';
import {
  add, call, check, checkProgram, compile, replay, defineDesign, eq, if_, inc, le, load, local_irq_restore, local_irq_save, mod_timer, per_cpu,
  per_cpu_sum, r, repeat, spin_lock, spin_unlock, this_cpu_inc, this_cpu_read, this_cpu_write, v, while_, type Design,
  type Stmt,
} from '../../model/index.ts';
import { copyName, growCheck, growVariants, isUnassumedFlip, largestLoopBound, ticksOf, withCpus } from '../../model/explore/grow.ts';

const loop = (body: readonly Stmt[], bound: number): Stmt => while_(eq(v('x'), 0), body, { bound });

/** Two CPUs, a replicable reader, a single remover, three interrupt lines, loops in every kind of body. */
const sample: Design = defineDesign({
  name: 'grow-sample',
  cpus: 2,
  locks: { L: 'spinlock' },
  vars: { x: 1 },
  percpu: { hits: 0 },
  functions: { f: [loop([inc('x')], 4)] },
  tasks: [
    { name: 'reader', cpu: 0, replicable: true, body: [spin_lock('L'), spin_unlock('L'), call('f')] },
    { name: 'poller', cpu: 1, replicable: true, allowed: [0, 1], body: [this_cpu_inc('hits')] },
    { name: 'remover', cpu: 1, body: [if_(eq(v('x'), 0), [loop([repeat(2, [loop([], 2)])], 3)])] },
  ],
  irqs: [
    { name: 'eth0', cpus: [0], handler: [inc('x')], budget: 2 },
    { name: 'eth1', handler: [inc('x')] },
    { name: 'eth2', cpus: [1, 0], handler: [inc('x')] },
  ],
  softirqs: { NET_RX: [loop([], 5)] },
});

const variant = (d: Design, bound: string, step = 1): Design => {
  const found = growVariants(d, step).find((g) => g.bound === bound && g.step === step);
  if (!found) throw new Error(`no ${bound} variant`);
  return found.design;
};

describe('growVariants', () => {
  it('raises one bound at a time, bound by bound, each by 1 up to the steps asked', () => {
    expect(growVariants(sample, 2).map((g) => [g.bound, g.from, g.to, g.step])).toEqual([
      ['cpus', 2, 3, 1], ['cpus', 2, 4, 2],
      ['irq eth0', 2, 3, 1], ['irq eth0', 2, 4, 2],
      ['irq eth1', 1, 2, 1], ['irq eth1', 1, 3, 2],
      ['irq eth2', 1, 2, 1], ['irq eth2', 1, 3, 2],
      ['ticks', 0, 1, 1], ['ticks', 0, 2, 2],
      ['loops', 5, 6, 1], ['loops', 5, 7, 2],
      ['preempt', 'none', 'full', 1],
    ]);
    expect(() => growVariants(sample, 0)).toThrow(/steps must be a whole number ≥ 1/);
  });

  it('leaves the design untouched and only the grown bound changed', () => {
    const before = structuredClone(sample);
    for (const g of growVariants(sample, 2)) {
      const changed = Object.keys(g.design).filter((k) => JSON.stringify((g.design as never)[k]) !== JSON.stringify((sample as never)[k]));
      const expected: Record<string, string[]> = {
        cpus: ['cpus', 'tasks', 'irqs'], ticks: ['options'], preempt: ['options'], loops: ['functions', 'tasks', 'softirqs'],
      };
      expect(changed.sort(), g.bound).toEqual((expected[g.bound] ?? ['irqs']).sort());
    }
    expect(sample).toEqual(before);
  });

  it('cpus: copies only the replicable tasks onto the added CPUs, named #2, #3…', () => {
    const grown = withCpus(sample, 2);
    expect(grown.cpus).toBe(4);
    expect(grown.tasks.map((t) => [t.name, t.cpu, t.allowed ?? null])).toEqual([
      ['reader', 0, null],
      ['poller', 1, [0, 1, 2, 3]],
      ['remover', 1, null],
      ['reader#2', 2, null],
      ['poller#2', 2, [0, 1, 2, 3]],
      ['reader#3', 3, null],
      ['poller#3', 3, [0, 1, 2, 3]],
    ]);
    expect(copyName('reader', 1)).toBe('reader#2');
    expect(grown.tasks.find((t) => t.name === 'reader#2')!.body).toEqual(sample.tasks[0]!.body);
  });

  it('cpus: a line affine to every CPU reaches the added ones, one affine to a subset keeps it', () => {
    const lines = withCpus(sample, 1).irqs!;
    expect(lines.map((l) => [l.name, l.cpus ?? 'all'])).toEqual([['eth0', [0]], ['eth1', 'all'], ['eth2', [0, 1, 2]]]);
  });

  it('cpus: stops at 8 CPUs; a copy never takes a name in use', () => {
    expect(growVariants({ ...sample, cpus: 8 }).some((g) => g.bound === 'cpus')).toBe(false);
    expect(growVariants({ ...sample, cpus: 7 }, 3).filter((g) => g.bound === 'cpus').map((g) => g.to)).toEqual([8]);
    const clash = { ...sample, tasks: [...sample.tasks, { name: 'reader#2', cpu: 0, body: [] }] };
    expect(() => withCpus(clash, 1)).toThrow(/already has a task named 'reader#2'/);
  });

  it('irq budgets stop at 16; ticks default to 2 with timers, else 0, or options.ticks', () => {
    const line = (budget: number) => ({ ...sample, irqs: [{ name: 'eth0', handler: [inc('x')], budget }] });
    expect(growVariants(line(16)).some((g) => g.bound === 'irq eth0')).toBe(false);
    expect(variant(line(3), 'irq eth0').irqs![0]!.budget).toBe(4);
    expect(ticksOf(sample)).toBe(0);
    const timed = { ...sample, timers: { t: { func: 'f' } } };
    expect(ticksOf(timed)).toBe(2);
    expect(variant(timed, 'ticks').options).toEqual({ ticks: 3 });
    expect(ticksOf({ ...timed, options: { ticks: 5 } })).toBe(5);
  });

  it('loops: every while bound +1 at any depth (tasks, functions, softirqs, inside if, repeat and while)', () => {
    const grown = variant(sample, 'loops');
    const bounds: number[] = [];
    const collect = (body: readonly Stmt[]): void => body.forEach((st) => {
      const x = st as unknown as { op: string; bound?: number; body?: Stmt[]; then?: Stmt[]; else?: Stmt[] };
      if (x.op === 'while') bounds.push(x.bound!);
      collect([...(x.body ?? []), ...(x.then ?? []), ...(x.else ?? [])]);
    });
    grown.tasks.forEach((t) => collect(t.body));
    collect(grown.functions!.f!);
    collect(grown.softirqs!.NET_RX!);
    expect(bounds.sort()).toEqual([3, 4, 5, 6]);
    expect(largestLoopBound(sample)).toBe(5);
    expect(largestLoopBound({ ...sample, functions: {}, tasks: [], softirqs: {} })).toBe(0);
    expect(growVariants({ ...sample, functions: {}, tasks: [{ name: 't', cpu: 0, body: [] }], softirqs: {} }).some((g) => g.bound === 'loops')).toBe(false);
  });

  it('preempt: none → full once; not when already full, nor under the 2.4 profile (no CONFIG_PREEMPT)', () => {
    expect(variant(sample, 'preempt').options).toEqual({ preempt: 'full' });
    expect(growVariants(sample, 3).filter((g) => g.bound === 'preempt')).toHaveLength(1);
    expect(growVariants({ ...sample, options: { preempt: 'full' } }).some((g) => g.bound === 'preempt')).toBe(false);
    expect(growVariants({ ...sample, profile: '2.4' }).some((g) => g.bound === 'preempt')).toBe(false);
  });

  it('every variant of every catalogue design compiles, up to 2 steps', () => {
    let n = 0;
    for (const d of CATALOGUE) {
      for (const g of growVariants(d, 2)) {
        expect(() => compile(g.design), `${d.name} ${g.bound} → ${g.to}`).not.toThrow();
        n++;
      }
    }
    expect(n).toBeGreaterThan(400);
  });
});

// --------------------------------------------------------------- growCheck

/** Wilcox's per-CPU counter: a task and the nic interrupt bump this CPU's copy with irqs off. */
const perCpuCounter = (holds: Design['invariants']): Design => defineDesign({
  name: 'percpu-counter',
  cpus: 2,
  vars: { packets: 0 },
  percpu: { rx: 0 },
  tasks: [{
    name: 'poll', cpu: 0, replicable: true,
    body: [local_irq_save('flags'), load('n', this_cpu_read('rx')), this_cpu_write('rx', add(r('n'), 1)), inc('packets'), local_irq_restore('flags')],
  }],
  irqs: [{ name: 'nic', handler: [this_cpu_inc('rx'), inc('packets')], budget: 1 }],
  invariants: holds,
});
/** The count of the bounds, hard-coded: 1 task update + 1 interrupt, on cpu0 and cpu1. */
const byCount = perCpuCounter([{ name: 'counted', holds: eq(add(per_cpu('rx', 0), per_cpu('rx', 1)), 2), when: 'at-end', kind: 'data-race' }]);
/** The property: the copies add up to the updates made. */
const byProperty = perCpuCounter([{ name: 'counted', holds: eq(per_cpu_sum('rx'), v('packets')), when: 'at-end', kind: 'data-race' }]);

const exhaustively = (d: Design) => checkProgram(compile(d), { maxStates: 200_000 });

describe('growCheck', () => {
  it('an invariant that counts the bounds is verified, and flips one step beyond each', () => {
    expect(check(byCount).status).toBe('verified');
    const grown = growCheck(byCount, 1, exhaustively);
    const flipped = grown.filter(isUnassumedFlip).map((o) => o.bound);
    expect(flipped).toEqual(['cpus', 'irq nic']);
    for (const o of grown.filter(isUnassumedFlip)) {
      expect(o.verdict.violation!.kind).toBe('data-race');
      // The flip's schedule replays on the grown design, label by label.
      const again = replay(compile(o.variant), o.verdict.violation!.choices, o.verdict.violation!.trace);
      expect(again.mismatch).toBeNull();
      expect(again.violation?.kind).toBe('data-race');
    }
    const cpus = grown.find((o) => o.bound === 'cpus')!;
    expect(cpus.verdict.violation!.trace.some((l) => l.startsWith('cpu2 '))).toBe(true);
  });

  it('the same property written with per_cpu_sum and a ghost counter holds at every grown bound', () => {
    const grown = growCheck(byProperty, 2, exhaustively);
    expect(grown.map((o) => `${o.bound} ${o.to} ${o.verdict.status}`)).toEqual([
      'cpus 3 verified', 'cpus 4 verified', 'irq nic 2 verified', 'irq nic 3 verified',
      'ticks 1 verified', 'ticks 2 verified', 'preempt full verified',
    ]);
  });

  it('a flip on a bound the design assumes is reported as assumed, not as a flip', () => {
    const assumed = { ...byCount, assumes: [{ bound: 'irq nic', why: 'one packet' }] };
    const grown = growCheck(assumed, 1, exhaustively);
    const nic = grown.find((o) => o.bound === 'irq nic')!;
    expect(nic.verdict.status).toBe('violation');
    expect(nic.assumed).toEqual({ bound: 'irq nic', why: 'one packet' });
    expect(isUnassumedFlip(nic)).toBe(false);
    expect(grown.filter(isUnassumedFlip).map((o) => o.bound)).toEqual(['cpus']);
  });

  it('a flipped or bounded-out bound is not grown further', () => {
    const grown = growCheck(byCount, 3, exhaustively);
    expect(grown.filter((o) => o.bound === 'cpus').map((o) => o.to)).toEqual([3]);
    expect(grown.filter((o) => o.bound === 'irq nic').map((o) => o.to)).toEqual([2]);
    const tiny = growCheck(byProperty, 3, (d) => checkProgram(compile(d), { maxStates: 60 }));
    for (const bound of ['cpus', 'irq nic', 'ticks']) {
      const outcomes = tiny.filter((o) => o.bound === bound);
      const firstOut = outcomes.findIndex((o) => o.verdict.status === 'bounded-out');
      expect(firstOut, bound).toBeGreaterThanOrEqual(0);
      expect(outcomes.length, bound).toBe(firstOut + 1);
      expect(outcomes[firstOut]!.verdict.boundedOut).toMatch(/state limit/);
    }
  });

  it('a timer design grows its ticks: one more jiffy lets a self-re-arming timer fire once more', () => {
    const timed = defineDesign({
      name: 'rearm', cpus: 1, vars: { fired: 0 },
      timers: { t: { func: 'fn' } },
      functions: { fn: [inc('fired'), mod_timer('t', 1)] },
      tasks: [{ name: 'open', cpu: 0, body: [mod_timer('t', 1)] }],
      invariants: [{ name: 'fires at most twice', holds: le(v('fired'), 2) }],
    });
    expect(check(timed).status).toBe('verified');
    const [ticks] = growCheck(timed, 1, exhaustively).filter((o) => o.bound === 'ticks');
    expect([ticks!.from, ticks!.to, ticks!.verdict.bounds.ticks]).toEqual([2, 3, 3]);
    expect(ticks!.verdict.violation?.trace.filter((l) => l.includes('call fn()'))).toHaveLength(3);
  });
});
