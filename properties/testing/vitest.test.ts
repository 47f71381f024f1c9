/**
 * kdefer/vitest (testing/): the matchers a kernel developer's own suite
 * uses, and properties over schedules. Pins that each matcher passes and
 * fails on the right designs, that a failure message carries the kind, the
 * violation's message and the labelled schedule, that options are bounds
 * replacing the design's own, and that a failing schedule property is
 * reported with its schedule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUG_ON, defineDesign, ge, inc, spin_lock, spin_unlock, v, withBounds, type Design } from '../../model/index.ts';
import { taskVsHardirqSpinLock as buggy, taskVsHardirqSpinLockIrqsave as fixed } from '../../model/designs/task-vs-hardirq.ts';
import { scheduleProp, schedules, toBeVerified, toViolate } from '../../testing/vitest.ts';

/** The message of a matcher that fails, or a test failure if it passes. */
function failure(assertion: () => void): string {
  try {
    assertion();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the matcher passed');
}

/** The buggy design's schedule, as check prints it. */
const SCHEDULE = [
  /1 {2}cpu0 \[task ethtool\]: spin_lock\(&priv->lock\)/,
  /2 {2}cpu0: eth0 interrupt arrives/,
  /3 {2}cpu0 \[hardirq eth0\]: spin_lock\(&priv->lock\): &priv->lock is busy, spins/,
];

/** eth0 counts into `n` and BUG_ONs at the second packet: fine with one interrupt, caught with two. */
const countsToTwo: Design = defineDesign({
  name: 'counts-to-two',
  cpus: 1,
  locks: { 'priv->lock': 'spinlock' },
  vars: { n: 0 },
  tasks: [{ name: 'idle', cpu: 0, body: [] }],
  irqs: [{ name: 'eth0', handler: [spin_lock('priv->lock'), inc('n'), BUG_ON(ge(v('n'), 2)), spin_unlock('priv->lock')] }],
});

describe('toBeVerified', () => {
  it('passes on a design no schedule breaks', () => {
    expect(fixed).toBeVerified();
    expect(toBeVerified(fixed).pass).toBe(true);
  });

  it('fails on a buggy design, with the kind, the message and the labelled schedule', () => {
    const message = failure(() => expect(buggy).toBeVerified());
    expect(message).toContain("expected design 'task-vs-hardirq-spin_lock' to be verified within 1 CPU, ≤1 eth0 interrupt, profile modern (6.12+), preempt none, but found a deadlock:");
    expect(message).toContain('AA deadlock on cpu0: hardirq eth0 spins on a lock held by a context it interrupted');
    expect(message).toContain('schedule, 3 steps:');
    for (const step of SCHEDULE) expect(message).toMatch(step);
  });

  it('options are bounds replacing the design\'s own', () => {
    expect(countsToTwo).toBeVerified();
    const message = failure(() => expect(countsToTwo).toBeVerified({ irqs: { eth0: 2 } }));
    expect(message).toContain('within 1 CPU, ≤2 eth0 interrupts');
    expect(message).toContain('but found a assertion:');
    expect(message).toMatch(/cpu0: eth0 interrupt arrives[\s\S]*cpu0: eth0 interrupt arrives/);
    expect(fixed).toBeVerified({ cpus: 2, preempt: 'full' });
    expect(failure(() => expect(buggy).toBeVerified({ cpus: 2 }))).toContain('within 2 CPUs, ≤1 eth0 interrupt');
    // The design itself is left as it was.
    expect(countsToTwo.irqs![0]!.budget).toBeUndefined();
    expect(withBounds(countsToTwo, { irqs: { eth0: 2 } }).irqs![0]!.budget).toBe(2);
  });

  it('a bounded-out search is no proof: it fails, naming the bound', () => {
    const message = failure(() => expect(fixed).toBeVerified({ maxStates: 2 }));
    expect(message).toMatch(/but found no verdict: the search was bounded-out \(.*2.*\)/);
  });

  it('.not.toBeVerified passes on a buggy design and fails on a verified one', () => {
    expect(buggy).not.toBeVerified();
    expect(failure(() => expect(fixed).not.toBeVerified())).toMatch(/expected design 'task-vs-hardirq-spin_lock_irqsave' not to be verified within .*, but it is/);
  });

  it('bad options and bad designs are errors, not failures', () => {
    expect(() => expect(fixed).toBeVerified({ cpu: 2 } as never)).toThrow("toBeVerified: unknown option 'cpu' (options: cpus, irqs, ticks, preempt, profile, maxStates)");
    expect(() => expect(fixed).toBeVerified({ irqs: { eth1: 2 } })).toThrow("design 'task-vs-hardirq-spin_lock_irqsave': bounds: no interrupt line 'eth1' (lines: eth0)");
    expect(() => expect({ name: 'x' }).toBeVerified()).toThrow(/toBeVerified: expects a design/);
  });
});

describe('toViolate', () => {
  it('passes when some schedule has the violation', () => {
    expect(buggy).toViolate('deadlock');
    expect(buggy).toViolate();
    expect(countsToTwo).toViolate('assertion', { irqs: { eth0: 2 } });
  });

  it('fails on a verified design, saying so within the bounds', () => {
    const message = failure(() => expect(fixed).toViolate('deadlock'));
    expect(message).toBe("expected design 'task-vs-hardirq-spin_lock_irqsave' to have a deadlock within 1 CPU, ≤1 eth0 interrupt, profile modern (6.12+), preempt none, but found no violation: it is verified");
  });

  it('fails on another kind of violation, with its message and schedule', () => {
    const message = failure(() => expect(buggy).toViolate('sleep-in-atomic'));
    expect(message).toContain('to have a sleep-in-atomic within 1 CPU');
    expect(message).toContain('but found a deadlock:');
    for (const step of SCHEDULE) expect(message).toMatch(step);
  });

  it('.not.toViolate fails with the schedule that breaks it', () => {
    expect(fixed).not.toViolate('deadlock');
    const message = failure(() => expect(buggy).not.toViolate('deadlock'));
    expect(message).toContain("expected design 'task-vs-hardirq-spin_lock' to have no deadlock within 1 CPU");
    for (const step of SCHEDULE) expect(message).toMatch(step);
  });

  it('a random search finds it too, and says it proves nothing when it does not', () => {
    expect(buggy).toViolate('deadlock', { explorer: 'random', runs: 200, seed: 1 });
    expect(failure(() => expect(fixed).toViolate('deadlock', { explorer: 'random', runs: 20, seed: 1 }))).toMatch(/random search, seed 1: sampling proves nothing/);
    expect(toViolate(fixed, 'deadlock', { explorer: 'random', runs: 20, seed: 1 }).pass).toBe(false);
  });

  it('an unknown kind is an error listing the kinds', () => {
    expect(() => expect(buggy).toViolate('deadlok' as never)).toThrow(/toViolate: 'deadlok' is not a violation kind \(kinds: .*deadlock/);
  });
});

describe('schedules and scheduleProp', () => {
  scheduleProp('every eth0 interrupt is counted once, in every finished schedule of the fixed design', fixed, (run) => {
    expect(run.violation).toBeNull();
    if (run.finished) expect(run.vars['priv->rx_packets']).toBe(run.count('eth0 interrupt arrives'));
  }, { numRuns: 50, seed: 7 });

  it('a schedule replays its choices, labelled as kdefer labels them', () => {
    fc.assert(fc.property(schedules(fixed), (run) => {
      expect(run.trace).toHaveLength(run.choices.length);
      expect(run.trace.at(-1)).toBeDefined();
      expect(run.finished).toBe(true);
      expect(run.vars.stats).toBe(1);
    }), { numRuns: 30, seed: 3 });
  });

  it('a failing property is reported with the labelled schedule that breaks it', () => {
    let report = '';
    try {
      fc.assert(fc.property(schedules(buggy), (run) => run.violation === null), { numRuns: 200, seed: 1 });
    } catch (e) {
      report = (e as Error).message;
    }
    expect(report).toContain("schedule of 'task-vs-hardirq-spin_lock', 3 steps (deadlock: AA deadlock on cpu0");
    for (const step of SCHEDULE) expect(report).toMatch(step);
  });

  it('bounds replace the design\'s own: with two interrupts every execution reaches the BUG_ON', () => {
    // An execution is maximal: it ends only when no step is left, so the whole interrupt budget arrives.
    fc.assert(fc.property(schedules(countsToTwo), (run) => {
      expect(run.count('eth0 interrupt arrives')).toBe(1);
      expect(run.finished).toBe(true);
    }), { numRuns: 20, seed: 5 });
    fc.assert(fc.property(schedules(countsToTwo, { bounds: { irqs: { eth0: 2 } } }), (run) => {
      expect(run.count('eth0 interrupt arrives')).toBe(2);
      expect(run.violation?.kind).toBe('assertion');
      expect(run.finished).toBe(false);
    }), { numRuns: 20, seed: 5 });
  });
});
