/**
 * The timer guarantees of shared/kernel-semantics.md §5, checked as
 * fast-check properties over random schedules of designs that exercise
 * them: timers armed and re-armed from tasks on both CPUs, from an
 * interrupt, and from their own callbacks, deleted while running, with
 * ticks at any point.
 *
 *  TM1  the callback runs in softirq context, never before jiffies >= expires;
 *  TM2  it runs on the CPU of the base the timer sits on at expiry, or, with
 *       timer pull (≥6.9), on another CPU that collected it while its own
 *       CPU was idle, if it is neither pinned nor deferrable;
 *  TM3  a timer never runs concurrently with itself;
 *  TM4  inside the callback timer_pending() is false, and the callback may re-arm.
 *
 * Every step is checked against the state before it: a callback starts when
 * a CPU appears in the timer's running set (base->running_timer), on the
 * CPU that took the step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  add_timer_on, BUG_ON, check, compile, defineDesign, del_timer, if_, inc, lt, Machine, mod_timer, not, r, timer_pending, v,
  type Design,
} from '../../model/index.ts';
import {
  C_CURTASK, C_DEPTH, C_KSOFTIRQD, C_SERVING, ContextStatus, FrameKind, H_JIFFIES, H_VIOL_KIND, X_KIND, X_STATUS,
} from '../../model/kernel/layout.ts';
import { choiceCpu } from '../../model/kernel/semantics.ts';
import { TimerState, timerView, type TimerView } from '../../model/kernel/timer.ts';
import { walkReachable } from '../helpers/reachable.ts';

/** Longest schedule followed; the designs below end well before. */
const MAX_STEPS = 3000;

/**
 * `poll` re-arms itself (and only it arms itself once started), so TM4 is
 * asserted inside its callback with BUG_ON. `wd` is armed, re-armed and
 * deleted from both CPUs and an interrupt, also while its callback runs.
 * `safe` is TIMER_IRQSAFE.
 */
const exercise: Design = defineDesign({
  name: 'timer-invariants',
  cpus: 2,
  options: { ticks: 3 },
  vars: { polls: 0, wd_runs: 0, safe_runs: 0 },
  timers: { poll: { func: 'poll_fn' }, wd: { func: 'wd_fn' }, safe: { func: 'safe_fn', flags: ['IRQSAFE'] } },
  functions: {
    poll_fn: [
      timer_pending('poll', 'p'), BUG_ON(r('p')),
      inc('polls'),
      if_(lt(v('polls'), 3), [mod_timer('poll', 1), timer_pending('poll', 'q'), BUG_ON(not(r('q')))]),
    ],
    wd_fn: [inc('wd_runs'), inc('wd_runs')],
    safe_fn: [inc('safe_runs')],
  },
  tasks: [
    { name: 'a', cpu: 0, body: [mod_timer('poll', 1), mod_timer('wd', 2), mod_timer('wd', 1), mod_timer('safe', 0)] },
    { name: 'b', cpu: 1, body: [mod_timer('wd', 1), del_timer('wd'), mod_timer('wd', 0), mod_timer('safe', 2)] },
  ],
  irqs: [{ name: 'eth0', handler: [mod_timer('wd', 1)], budget: 2 }],
});

interface Observed {
  /** Callback starts, per timer. */
  starts: Record<string, number>;
  /** Starts on another CPU than the timer's base (timer pull). */
  pulled: number;
  /** Starts on a CPU other than the one that armed it last (the base moved or was kept). */
  rearmedWhileRunning: number;
  maxRunning: number;
}

const views = (m: Machine, s: Int32Array, names: readonly string[]): Record<string, TimerView> => {
  m.s = s;
  return Object.fromEntries(names.map((t) => [t, timerView(m, t)]));
};

/** A CPU the idle task has: no task, no frame, nothing runnable, ksoftirqd asleep (timer.ts cpuIdle). */
const idle = (m: Machine, s: Int32Array, cpu: number): boolean => {
  m.s = s;
  const co = m.cpuOff(cpu);
  if (s[co + C_CURTASK] !== -1 || s[co + C_DEPTH] !== 0 || s[co + C_KSOFTIRQD] !== 0) return false;
  return m.p.tasks.every((_, t) => m.cpuOfCtx(t) !== cpu || ![ContextStatus.Runnable, ContextStatus.NotStarted].includes(s[m.ctxOff(t) + X_STATUS]!));
};

/** The frame kind on top of `cpu`. */
const topKind = (m: Machine, s: Int32Array, cpu: number): number => {
  m.s = s;
  const ctx = m.top(cpu);
  return ctx < 0 ? 0 : s[m.ctxOff(ctx) + X_KIND]!;
};

/**
 * Check TM1–TM4 across one step `s` --choice--> `t`: the first broken
 * invariant, described, or null; `seen` collects what was exercised.
 */
function brokenAt(m: Machine, names: readonly string[], s: Int32Array, choice: number, t: Int32Array, seen: Observed): string | null {
  const label = m.label(s, choice);
  if (t[H_VIOL_KIND] !== 0) return `violation at ${label}`;
  const before = views(m, s, names);
  const after = views(m, t, names);
  const runner = choiceCpu(choice);
  for (const name of names) {
    const b = before[name]!;
    const a = after[name]!;
    // TM3: base->running_timer is this timer on at most one CPU.
    if (a.runningOn.length > 1) return `TM3: ${name} runs on cpu${a.runningOn.join(' and cpu')} after: ${label}`;
    seen.maxRunning = Math.max(seen.maxRunning, a.runningOn.length);
    // TM2 (≥6.9): collected by another CPU only while global and its own CPU idle. A run
    // collects its due timers and starts the first in one step, so the collector is the
    // step's CPU when the timer goes straight from queued to running.
    const started = a.runningOn.some((c) => !b.runningOn.includes(c));
    const collector = a.collector >= 0 ? a.collector : started ? runner : -1;
    if (b.state === TimerState.Queued && collector >= 0 && collector !== b.base) {
      if (!m.p.flags.timerPull) return `TM2: ${name} sat on cpu${b.base}'s base but cpu${collector} collected it: ${label}`;
      if (b.pinned || !idle(m, s, b.base)) return `TM2: cpu${collector} pulled ${name} from cpu${b.base}, which is ${b.pinned ? 'pinned' : 'not idle'}: ${label}`;
    }
    for (const base of a.runningOn.filter((c) => !b.runningOn.includes(c))) {
      seen.starts[name] = (seen.starts[name] ?? 0) + 1;
      // TM1: in softirq context, on a serving softirq frame, at or after its expiry.
      const kind = topKind(m, t, runner);
      if (t[m.cpuOff(runner) + C_SERVING] !== 1 || (kind !== FrameKind.Softirq && kind !== FrameKind.Ksoftirqd)) {
        return `TM1: ${name}'s callback started outside softirq context: ${label}`;
      }
      if (t[H_JIFFIES]! < b.expires) return `TM1: ${name} started at jiffies ${t[H_JIFFIES]} < expires ${b.expires}: ${label}`;
      // TM2: on the CPU of the base it sat on at expiry, unless that CPU's run of it was pulled (checked at collection).
      if (base !== b.base) return `TM2: ${name} sat on cpu${b.base}'s base but base cpu${base} ran it: ${label}`;
      if (runner !== base) {
        if (b.collector >= 0 && b.collector !== runner) return `TM2: ${name} ran on cpu${runner}, not the CPU that collected it: ${label}`;
        seen.pulled++;
      }
      // TM4: detached before its callback runs.
      if (a.state !== TimerState.Idle) return `TM4: ${name} still pending as its callback starts: ${label}`;
    }
  }
  if (label.includes('(stays: cpu')) seen.rearmedWhileRunning++;
  return null;
}

/**
 * Follow `picks` (then the first enabled choice) to the end, checking TM1–TM4
 * at every step. Returns the first broken invariant, described, or null;
 * `seen` collects what the schedule exercised.
 */
function brokenInvariant(design: Design, picks: readonly number[], seen: Observed): string | null {
  const m = new Machine(compile(design));
  const names = Object.keys(design.timers ?? {});
  let s = m.initial();
  for (let i = 0; i < MAX_STEPS; i++) {
    const en = m.enabled(s);
    if (en.length === 0) return null;
    const choice = en[i < picks.length ? picks[i]! % en.length : 0]!;
    const t = m.step(s, choice);
    const broken = brokenAt(m, names, s, choice, t, seen);
    if (broken) return broken;
    s = t;
  }
  return `schedule ran past ${MAX_STEPS} steps`;
}

const noSeen = (): Observed => ({ starts: {}, pulled: 0, rearmedWhileRunning: 0, maxRunning: 0 });

const picksArb = fc.array(fc.nat({ max: 0xffff }), { maxLength: 200 });

describe('timer invariants over random schedules (TM1–TM4)', () => {
  it('hold at every step of every schedule, and the schedules exercise them', () => {
    const seen = noSeen();
    fc.assert(fc.property(picksArb, (picks) => {
      const broken = brokenInvariant(exercise, picks, seen);
      if (broken) throw new Error(broken);
    }), { numRuns: 200, seed: 20251122 });
    // Not vacuous: every timer's callback ran, poll re-armed itself (TM4) and ran again,
    // and some arming from another CPU found the callback running and kept its base (TM3's rule).
    for (const name of ['poll', 'wd', 'safe']) expect(seen.starts[name] ?? 0, `${name} never ran`).toBeGreaterThan(0);
    expect(seen.starts['poll']!).toBeGreaterThan(200);
    expect(seen.rearmedWhileRunning).toBeGreaterThan(0);
    expect(seen.maxRunning).toBe(1);
  });

  it('with timer pull (≥6.9) they hold too, and callbacks of an idle CPU\'s timers run on the busy one', () => {
    // cpu0 arms and goes idle; cpu1 stays busy, so its ticks pull cpu0's global timers (poll, wd), not the pinned one.
    const pull: Design = {
      ...exercise, name: 'timer-pull-invariants', irqs: [], options: { ticks: 2 },
      timers: { poll: { func: 'poll_fn' }, wd: { func: 'wd_fn' }, pinned: { func: 'safe_fn', flags: ['PINNED'] } },
      tasks: [
        { name: 'a', cpu: 0, body: [mod_timer('poll', 1), mod_timer('wd', 1), mod_timer('pinned', 1)] },
        { name: 'b', cpu: 1, body: [inc('safe_runs'), inc('safe_runs'), inc('safe_runs')] },
      ],
    };
    // Every transition of every reachable state (an exact walk), not a sample.
    const seen = noSeen();
    const names = Object.keys(pull.timers ?? {});
    const problems: string[] = [];
    walkReachable(pull, { step: (m, before, choice, after) => {
      const broken = brokenAt(m, names, before, choice, after, seen);
      if (broken) problems.push(broken);
    } });
    expect(problems.slice(0, 3)).toEqual([]);
    expect(seen.pulled).toBeGreaterThan(0);
    expect(seen.starts['pinned'] ?? 0).toBeGreaterThan(0);
  });

  it('before 6.9 (profile 6.6) nothing is pulled: every callback runs on its base\'s CPU', () => {
    const seen = noSeen();
    fc.assert(fc.property(picksArb, (picks) => {
      const broken = brokenInvariant({ ...exercise, profile: '6.6' }, picks, seen);
      if (broken) throw new Error(broken);
    }), { numRuns: 100, seed: 20251122 });
    expect(seen.starts['wd'] ?? 0).toBeGreaterThan(0);
    expect(seen.pulled).toBe(0);
  });

  it('TM4 as the callback sees it (BUG_ON(timer_pending) at entry, BUG_ON(!timer_pending) after re-arming) holds in every schedule of cpu0\'s task', () => {
    const small: Design = { ...exercise, name: 'timer-tm4', irqs: [], tasks: [exercise.tasks[0]!] };
    const verdict = check(small);
    expect(verdict.status, verdict.violation?.message).toBe('verified');
    expect(verdict.stats.states).toBeGreaterThan(10);
  });

  it('TM3\'s documented exception: a callback that calls add_timer_on (forbidden by the kernel-doc) can run on two CPUs at once', () => {
    const design = defineDesign({
      name: 'tm3-add_timer_on',
      cpus: 2,
      options: { ticks: 2 },
      vars: { runs: 0 },
      timers: { wd: { func: 'wd_fn' } },
      // add_timer_on has no running_timer check: the new arming on cpu0 can expire while cpu1 still runs the callback.
      functions: { wd_fn: [inc('runs'), add_timer_on('wd', 0, 0), inc('runs'), inc('runs')] },
      tasks: [{ name: 'a', cpu: 1, body: [mod_timer('wd', 1)] }],
    });
    // Search for a schedule that breaks TM3; any other broken invariant fails the test.
    const details = fc.check(fc.property(picksArb, (picks) => {
      const broken = brokenInvariant(design, picks, noSeen());
      if (broken && !broken.startsWith('TM3:')) throw new Error(broken);
      return broken === null;
    }), { numRuns: 2000, seed: 7, endOnFailure: true });
    expect(details.failed).toBe(true);
    expect(brokenInvariant(design, details.counterexample![0], noSeen())).toMatch(/^TM3: wd runs on cpu\d and cpu\d after: .*__run_timers/);
  });
});
