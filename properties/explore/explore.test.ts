/**
 * model/explore: exhaustive search (counts, state limit, loop bounds),
 * random search (seeded, reproducible, shrinking that keeps the kind) and
 * replay (a saved schedule, label-checked).
 */
import { describe, expect, it } from 'vitest';
import {
  BUG_ON, check, compile, defineDesign, eq, exhaustive, inc, local_bh_disable, local_bh_enable, lt, Machine, randomSearch,
  raise_softirq, replay, shortestViolation, spin_lock, spin_unlock, v, while_, type Design,
} from '../../model/index.ts';
import { walkReachable } from '../helpers/reachable.ts';

/** B1: spin_lock in a task and in its CPU's irq handler. */
const taskVsIrq = defineDesign({
  name: 'task-vs-irq', cpus: 1, locks: { L: 'spinlock' }, vars: { x: 0 },
  tasks: [{ name: 't', cpu: 0, body: [spin_lock('L'), inc('x'), spin_unlock('L')] }],
  irqs: [{ name: 'eth0', handler: [spin_lock('L'), inc('x'), spin_unlock('L')] }],
});

const straightLine = defineDesign({ name: 'straight-line', cpus: 1, vars: { x: 0 }, tasks: [{ name: 't', cpu: 0, body: [inc('x'), inc('x')] }] });

const twoCpus = defineDesign({
  name: 'two-cpus', cpus: 2, locks: { L: 'spinlock' }, vars: { x: 0 },
  tasks: [
    { name: 'a', cpu: 0, body: [spin_lock('L'), inc('x'), spin_unlock('L'), local_bh_disable(), local_bh_enable()] },
    { name: 'b', cpu: 1, body: [spin_lock('L'), inc('x'), spin_unlock('L')] },
  ],
  irqs: [{ name: 'eth0', handler: [raise_softirq('NET_RX')], budget: 2 }],
  softirqs: { NET_RX: [inc('x')] },
});

/** Counts x up to `target` in a loop explored at most `bound` times. */
const looping = (target: number, bound: number): Design => defineDesign({
  name: 'looping', cpus: 1, vars: { x: 0 },
  tasks: [{ name: 't', cpu: 0, body: [while_(lt(v('x'), target), [inc('x')], { bound })] }],
});

describe('exhaustive', () => {
  it('counts states and transitions: a straight line of 3 steps has 4 states and 3 transitions', () => {
    const r = exhaustive(compile(straightLine), { por: false, fusion: false });
    expect(r.status).toBe('verified');
    expect([r.stats.states, r.stats.transitions]).toEqual([4, 3]);
    expect(r.stats.ms).toBeGreaterThanOrEqual(0);
  });

  for (const d of [twoCpus, looping(3, 3)]) {
    it(`with no reduction, visits exactly the reachable states and transitions of ${d.name} (checked against an exact walk)`, () => {
      const walk = walkReachable(d, {});
      const r = exhaustive(compile(d), { por: false, fusion: false });
      expect(r.status).toBe('verified');
      expect(r.stats.states).toBe(walk.states);
      expect(r.stats.transitions).toBe(walk.transitions);
    });
  }

  it('reports bounded-out, never verified, when maxStates is too small', () => {
    const walk = walkReachable(twoCpus, {});
    const small = exhaustive(compile(twoCpus), { maxStates: 10 });
    expect(small.status).toBe('bounded-out');
    expect(small.violation).toBeNull();
    expect(small.boundedOut).toContain('state limit reached: more than 10 distinct states');
    expect(exhaustive(compile(twoCpus), { maxStates: walk.states * 2 }).status).toBe('verified');
    const v = check(twoCpus, { maxStates: 10 });
    expect(v.status).toBe('bounded-out');
    expect(v.bounds.maxStates).toBe(10);
  });

  it('the state limit is exact: a design of exactly N states verifies within N; past N it stops at N + 1 and says more than N', () => {
    // The depth-first search stores fewer states than walkReachable visits (it fuses private steps and
    // reduces by partial order), so N is what it stores itself.
    const n = exhaustive(compile(twoCpus), {}).stats.states;
    const exact = exhaustive(compile(twoCpus), { maxStates: n });
    expect([exact.status, exact.stats.states]).toEqual(['verified', n]);
    const over = exhaustive(compile(twoCpus), { maxStates: n - 1 });
    expect([over.status, over.stats.states]).toEqual(['bounded-out', n]);
    expect(over.boundedOut).toBe(`state limit reached: more than ${n - 1} distinct states stored (raise the state limit: maxStates, or --max-states on the command line; or shrink the bounds)`);
    const m = exhaustive(compile(straightLine), {}).stats.states;
    expect(exhaustive(compile(straightLine), { maxStates: m }).status).toBe('verified');
    const one = exhaustive(compile(straightLine), { maxStates: m - 1 });
    expect([one.status, one.stats.states, one.boundedOut]).toEqual(['bounded-out', m, `state limit reached: more than ${m - 1} distinct states stored (raise the state limit: maxStates, or --max-states on the command line; or shrink the bounds)`]);
    // The breadth-first search for shortest schedules counts the same way (it stores every state walkReachable does).
    const b = walkReachable(twoCpus, {}).states;
    expect(shortestViolation(compile(twoCpus), { maxStates: b }).status).toBe('verified');
    const bfs = shortestViolation(compile(twoCpus), { maxStates: b - 1 });
    expect([bfs.status, bfs.stats.states, bfs.boundedOut]).toEqual(['bounded-out', b, `state limit reached: more than ${b - 1} distinct states in the shortest-schedule search`]);
  });

  it('still returns a violation it reaches within the state limit', () => {
    const v = check(taskVsIrq, { maxStates: 50 });
    expect(v.status).toBe('violation');
    expect(v.violation?.kind).toBe('deadlock');
  });

  it('a loop exceeding its bound gives bounded-out; within its bound, verified', () => {
    const over = check(looping(5, 4));
    expect(over.status).toBe('bounded-out');
    expect(over.boundedOut).toBe('a path exceeds the bound of 4 iterations of the loop at task t[0]');
    expect(over.bounds.loops).toEqual({ 'task t[0]': 4 });
    expect(check(looping(5, 5)).status).toBe('verified');
  });

  it('a loop bound cut does not hide a violation on another path', () => {
    const d = defineDesign({
      ...looping(5, 2),
      name: 'cut-and-bug',
      irqs: [{ name: 'eth0', handler: [BUG_ON(eq(v('x'), 1))] }],
    });
    const r = check(d);
    expect(r.status).toBe('violation');
    expect(r.violation?.kind).toBe('assertion');
  });

  it('reports its bounds with the verdict', () => {
    const v = check(twoCpus);
    expect(v.bounds).toMatchObject({ cpus: 2, irqs: { eth0: 2 }, profile: 'modern', preempt: 'none' });
    expect(v.explorer).toBe('exhaustive');
    expect(v.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('a verdict\'s schedule', () => {
  it('replays to the same violation, with the trace\'s labels', () => {
    const v = check(taskVsIrq);
    const r = replay(compile(taskVsIrq), v.violation!.choices, v.violation!.trace);
    expect(r.mismatch).toBeNull();
    expect(r.violation?.kind).toBe('deadlock');
    expect(r.violation?.message).toBe(v.violation?.message);
    expect(r.steps.map((s) => s.label)).toEqual(v.violation?.trace);
  });

  it('replay reports a label that no longer matches the model', () => {
    const v = check(taskVsIrq);
    const labels = [...v.violation!.trace];
    labels[1] = 'cpu0 [task t]: something else';
    const r = replay(compile(taskVsIrq), v.violation!.choices, labels);
    expect(r.mismatch?.step).toBe(1);
    expect(r.mismatch?.problem).toContain("expected 'cpu0 [task t]: something else', the model now says");
  });

  it('replay reports a choice that is not enabled, and a violation before the end', () => {
    const p = compile(taskVsIrq);
    const notEnabled = replay(p, [0x7fffffff]);
    expect(notEnabled.mismatch?.step).toBe(0);
    expect(notEnabled.mismatch?.problem).toContain('is not enabled here');
    const bug = compile(defineDesign({ name: 'bug', cpus: 1, vars: { x: 0 }, tasks: [{ name: 't', cpu: 0, body: [BUG_ON(eq(v('x'), 0)), inc('x')] }] }));
    const first = exhaustive(bug).violation!.choices;
    const past = replay(bug, [...first, ...first]);
    expect(past.violation?.kind).toBe('assertion');
    expect(past.mismatch).toEqual({ step: 1, problem: 'the violation happens before the schedule ends' });
    const line = compile(straightLine);
    const whole = walkSchedule(line);
    const ended = replay(line, [...whole, whole[0]!]);
    expect(ended.mismatch?.step).toBe(3);
    expect(ended.mismatch?.problem).toContain('is taken after the schedule has already ended');
  });
});

/** The one complete schedule of a design without choices. */
function walkSchedule(p: ReturnType<typeof compile>): number[] {
  const m = new Machine(p);
  let s = m.initial();
  const out: number[] = [];
  for (let en = m.enabled(s); en.length > 0; en = m.enabled(s)) {
    expect(en).toHaveLength(1);
    out.push(en[0]!);
    s = m.step(s, en[0]!);
  }
  return out;
}

describe('random', () => {
  it('is reproducible: the same seed gives the same schedule and the same stats', () => {
    const p = compile(taskVsIrq);
    const a = randomSearch(p, { seed: 42, runs: 100 });
    const b = randomSearch(p, { seed: 42, runs: 100 });
    expect(a.seed).toBe(42);
    expect(a.violation).not.toBeNull();
    expect(b.violation?.choices).toEqual(a.violation?.choices);
    expect(b.path).toBe(a.path);
    expect([b.stats.states, b.stats.transitions]).toEqual([a.stats.states, a.stats.transitions]);
    const v = check(taskVsIrq, { explorer: 'random', seed: 42, runs: 100 });
    expect(v.seed).toBe(42);
    expect(v.violation?.choices).toEqual(a.violation?.choices);
  });

  it('shrinks to the minimal schedule: lock, interrupt, the handler spins', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const v = check(taskVsIrq, { explorer: 'random', seed, runs: 200 });
      expect(v.violation?.kind).toBe('deadlock');
      expect(v.violation?.trace).toEqual([
        'cpu0 [task t]: spin_lock(&L)',
        'cpu0: eth0 interrupt arrives',
        'cpu0 [hardirq eth0]: spin_lock(&L): &L is busy, spins',
      ]);
    }
  });

  it('shrinking keeps the kind of the violation it found: the schedule it returns replays to that kind', () => {
    // Both a deadlock (eth0 while the task holds L) and an assertion (eth1 after the task's last step) are reachable.
    const d = defineDesign({
      name: 'two-kinds', cpus: 1, locks: { L: 'spinlock' }, vars: { x: 0, y: 0 },
      tasks: [{ name: 't', cpu: 0, body: [spin_lock('L'), inc('x'), spin_unlock('L'), inc('y')] }],
      irqs: [
        { name: 'eth0', handler: [spin_lock('L'), spin_unlock('L')] },
        { name: 'eth1', handler: [BUG_ON(eq(v('y'), 1))] },
      ],
    });
    const p = compile(d);
    const kinds = new Set<string>();
    for (let seed = 1; seed <= 12; seed++) {
      const r = randomSearch(p, { seed, runs: 100 });
      expect(r.violation, `seed ${seed}`).not.toBeNull();
      kinds.add(r.violation!.kind);
      const again = replay(p, r.violation!.choices);
      expect(again.mismatch).toBeNull();
      expect(again.violation?.kind).toBe(r.violation!.kind);
    }
    expect([...kinds].every((k) => k === 'deadlock' || k === 'assertion')).toBe(true);
  });

  it('without a violation the verdict is bounded-out (sampling is not a proof)', () => {
    const v = check(twoCpus, { explorer: 'random', seed: 3, runs: 50 });
    expect(v.status).toBe('bounded-out');
    expect(v.boundedOut).toContain('50 schedules found no violation');
    expect(v.bounds.runs).toBe(50);
  });

  it('reports a loop bound it runs into', () => {
    const r = randomSearch(compile(looping(5, 2)), { seed: 1, runs: 20 });
    expect(r.status).toBe('bounded-out');
    expect(r.boundedOut).toContain('exceeds the bound of 2 iterations');
  });
});
