/**
 * The work queue guarantees W1–W3 (shared/kernel-semantics.md §6.3), each
 * checked as a fast-check property over random schedules of designs that
 * exercise them: every state a schedule reaches, or the sequence of events
 * along it.
 *
 * A schedule is a list of picks (each picks among the enabled choices,
 * modulo their count, as model/explore/random.ts does); the events of work
 * item w are read from the labels of the choices taken, in order:
 *   Q+  a queueing that found PENDING clear: `…(…&w) → true`
 *   Q-  a queueing that found it set: `…(…&w) → false`
 *   S   a start of w_fn: `process_one_work(&w)`
 *   R   its return: `w_fn() returned`
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUG_ON, compile, dec, defineDesign, eq, gt, if_, inc, Machine, msleep, queue_work, queue_work_on, schedule_work, schedule_work_on,
  v, type Design, type Program,
} from '../../model/index.ts';
import { H_BOUND_HIT, H_VIOL_KIND } from '../../model/kernel/layout.ts';
import { workView } from '../../model/kernel/workqueue.ts';

const SEED = 20251122;
const RUNS = 300;
/** Long enough that the random part of a schedule reaches the kworkers (past the list, the first choice is taken). */
const picksArb = fc.array(fc.nat({ max: 0xffff }), { minLength: 60, maxLength: 400 });

interface Walk {
  readonly labels: string[];
  /** Nothing enabled at the end, no violation, no bound hit. */
  readonly clean: boolean;
}

/** Follow `picks` through `p` (then the first choice), calling `visit` on every state reached. */
function walk(p: Program, picks: readonly number[], visit: (m: Machine, s: Int32Array) => void = () => {}, maxSteps = 3000): Walk {
  const m = new Machine(p);
  let s = m.initial();
  const labels: string[] = [];
  m.s = s;
  visit(m, s);
  for (let i = 0; i < maxSteps; i++) {
    const en = m.enabled(s);
    if (en.length === 0) return { labels, clean: s[H_VIOL_KIND] === 0 && s[H_BOUND_HIT] === 0 };
    const c = en[i < picks.length ? picks[i]! % en.length : 0]!;
    labels.push(m.label(s, c));
    s = m.step(s, c);
    m.s = s;
    visit(m, s);
  }
  throw new Error(`schedule ran past ${maxSteps} steps`);
}

type Event = 'Q+' | 'Q-' | 'S' | 'R';

/** The events of work `w` (function `fn`) along a schedule, in order (a kworker step may hold several). */
function events(labels: readonly string[], w: string, fn: string): Event[] {
  const patterns: [RegExp, (m: RegExpExecArray) => Event][] = [
    [new RegExp(`&${w}\\) → (true|false)`, 'g'), (x) => (x[1] === 'true' ? 'Q+' : 'Q-')],
    [new RegExp(`process_one_work\\(&${w}\\)`, 'g'), () => 'S'],
    [new RegExp(`${fn}\\(\\) returned`, 'g'), () => 'R'],
  ];
  return labels.flatMap((label) => {
    const found: { at: number; e: Event }[] = [];
    for (const [re, kind] of patterns) {
      for (let x = re.exec(label); x !== null; x = re.exec(label)) found.push({ at: x.index, e: kind(x) });
    }
    return found.sort((a, b) => a.at - b.at).map((f) => f.e);
  });
}

/**
 * Replay the events through the PENDING/running automaton of one work item
 * on one workqueue, failing on any event the guarantees forbid. Returns the
 * counts the properties use.
 */
function replayEvents(evs: readonly Event[]): { trues: number; starts: number; queuedWhileRunning: number; coalesced: number; pending: boolean; running: boolean } {
  let pending = false;
  let running = false;
  let trues = 0, starts = 0, queuedWhileRunning = 0, coalesced = 0, falsesThisWindow = 0;
  for (const e of evs) {
    switch (e) {
      case 'Q+':
        expect(pending, 'a queueing returned true while PENDING was set').toBe(false);
        pending = true;
        trues++;
        if (running) queuedWhileRunning++;
        falsesThisWindow = 0;
        break;
      case 'Q-':
        expect(pending, 'a queueing returned false while PENDING was clear').toBe(true);
        falsesThisWindow++;
        break;
      case 'S':
        expect(pending, 'w_fn started without a pending queueing').toBe(true);
        expect(running, 'w_fn started while it was running (W1)').toBe(false);
        if (falsesThisWindow > 0) coalesced++;
        pending = false;
        running = true;
        starts++;
        break;
      case 'R':
        expect(running).toBe(true);
        running = false;
        break;
    }
  }
  return { trues, starts, queuedWhileRunning, coalesced, pending, running };
}

/**
 * Work w, always on workqueue wq, queued from tasks on both CPUs (one of
 * them onto the other CPU's pool), from an interrupt on either CPU, and once
 * by itself; w_fn sleeps in the middle, so it is often running, off the
 * CPU, while it is queued again.
 */
const oneWorkqueue: Design = defineDesign({
  name: 'workqueue-w1',
  cpus: 2,
  vars: { running: 0, runs: 0 },
  workqueues: { wq: {} },
  works: { w: { func: 'w_fn' } },
  functions: {
    w_fn: [
      inc('running'), BUG_ON(gt(v('running'), 1)), msleep(1), dec('running'), inc('runs'),
      if_(eq(v('runs'), 1), [queue_work('wq', 'w')]),
    ],
  },
  tasks: [
    { name: 'a', cpu: 0, body: [queue_work('wq', 'w'), msleep(1), queue_work('wq', 'w')] },
    { name: 'b', cpu: 1, body: [queue_work('wq', 'w'), msleep(1), queue_work_on(0, 'wq', 'w')] },
  ],
  irqs: [{ name: 'eth0', handler: [queue_work('wq', 'w')], budget: 2 }],
});

describe('W1: a work item always queued on one workqueue never runs on two kworkers at once', () => {
  it('in every state of every sampled schedule, at most one kworker executes w', () => {
    const p = compile(oneWorkqueue);
    let redirected = 0;
    let runningStates = 0;
    fc.assert(fc.property(picksArb, (picks) => {
      const run = walk(p, picks, (m) => {
        const w = workView(m, 'w');
        expect(w.runningOn.length).toBeLessThanOrEqual(1);
        if (w.runningOn.length === 1 && w.pending) runningStates++;
      });
      expect(run.clean, run.labels.slice(-5).join('\n')).toBe(true);
      replayEvents(events(run.labels, 'w', 'w_fn'));
      redirected += run.labels.filter((l) => l.includes('(non-reentrancy)')).length;
    }), { seed: SEED, numRuns: RUNS });
    // Not vacuous: w was often queued while running, and queued from the other CPU onto the pool where it ran.
    expect(runningStates).toBeGreaterThan(0);
    expect(redirected).toBeGreaterThan(0);
  });

  it('the same item queued on a second workqueue breaks it (the property can fail)', () => {
    const twoQueues = defineDesign({
      ...oneWorkqueue,
      name: 'workqueue-w1-broken',
      workqueues: { wq: {}, wq2: {} },
      tasks: [
        { name: 'a', cpu: 0, body: [queue_work('wq', 'w')] },
        { name: 'b', cpu: 1, body: [msleep(1), queue_work('wq2', 'w')] },
      ],
      irqs: [],
    });
    const p = compile(twoQueues);
    // The W1 property of the test above, on this design: fast-check finds a schedule that breaks it.
    const mostRunning = (picks: readonly number[]): number => {
      let most = 0;
      walk(p, picks, (m) => { most = Math.max(most, workView(m, 'w').runningOn.length); });
      return most;
    };
    const details = fc.check(fc.property(picksArb, (picks) => mostRunning(picks) <= 1), { seed: SEED, numRuns: RUNS });
    expect(details.failed).toBe(true);
    expect(mostRunning(details.counterexample![0])).toBe(2);
  });
});

/** Work w queued (through system_wq) from tasks on both CPUs, an interrupt, and once by itself. */
const manyQueuers: Design = defineDesign({
  name: 'workqueue-w2-w3',
  cpus: 2,
  vars: { runs: 0 },
  works: { w: { func: 'w_fn' } },
  functions: { w_fn: [inc('runs'), msleep(1), if_(eq(v('runs'), 1), [schedule_work('w', 'self')])] },
  tasks: [
    { name: 'a', cpu: 0, body: [schedule_work('w', 'r1'), schedule_work('w', 'r2'), msleep(1), schedule_work('w', 'r3')] },
    { name: 'b', cpu: 1, body: [schedule_work('w'), msleep(1), schedule_work('w'), schedule_work_on(0, 'w')] },
  ],
  irqs: [{ name: 'eth0', handler: [schedule_work('w')], budget: 2 }],
});

describe('W2: queueing while the item runs gives exactly one more run, after this one', () => {
  it('every queueing that returned true while w ran is followed by exactly one start, after the return', () => {
    const p = compile(manyQueuers);
    let whileRunning = 0;
    fc.assert(fc.property(picksArb, (picks) => {
      const run = walk(p, picks);
      expect(run.clean, run.labels.slice(-5).join('\n')).toBe(true);
      const counts = replayEvents(events(run.labels, 'w', 'w_fn'));
      // At the end nothing is pending or running: each true queueing got its run, no more.
      expect([counts.pending, counts.running]).toEqual([false, false]);
      expect(counts.starts).toBe(counts.trues);
      whileRunning += counts.queuedWhileRunning;
    }), { seed: SEED, numRuns: RUNS });
    expect(whileRunning).toBeGreaterThan(0);
  });
});

describe('W3: N queueings while the item is pending give one run', () => {
  it('queueings that find PENDING set return false and add no run; the runs equal the true ones', () => {
    const p = compile(manyQueuers);
    let coalesced = 0;
    fc.assert(fc.property(picksArb, (picks) => {
      let runsAtEnd = -1;
      let pendingAtEnd = true;
      const run = walk(p, picks, (m, st) => {
        runsAtEnd = st[m.L.varBase + p.vars.indexOf('runs')]!;
        pendingAtEnd = workView(m, 'w').pending;
      });
      expect(run.clean).toBe(true);
      const counts = replayEvents(events(run.labels, 'w', 'w_fn'));
      expect(counts.starts).toBe(counts.trues);
      // The design's own count of runs agrees with the labels, and nothing is left pending.
      expect(runsAtEnd).toBe(counts.starts);
      expect(pendingAtEnd).toBe(false);
      coalesced += counts.coalesced;
    }), { seed: SEED, numRuns: RUNS });
    expect(coalesced).toBeGreaterThan(0);
  });

  it('the returned value is the PENDING bit it found, in every queueing step', () => {
    const p = compile(manyQueuers);
    fc.assert(fc.property(picksArb, (picks) => {
      const m = new Machine(p);
      let s = m.initial();
      for (let i = 0; i < 3000; i++) {
        const en = m.enabled(s);
        if (en.length === 0) break;
        const c = en[i < picks.length ? picks[i]! % en.length : 0]!;
        const label = m.label(s, c);
        m.s = s;
        const before = workView(m, 'w').pending;
        s = m.step(s, c);
        const ret = /&w\) → (true|false)/.exec(label);
        if (ret) expect(ret[1]).toBe(before ? 'false' : 'true');
      }
    }), { seed: SEED, numRuns: 100 });
  });
});
