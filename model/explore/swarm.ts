/**
 * Swarm configurations (Groce, Zhang, Eide, Chen, Regehr, "Swarm Testing",
 * ISSTA 2012): each run leaves out a random subset of the kinds of choice,
 * so that different runs stress different corners instead of every run
 * mixing everything a little. A configuration may turn off:
 *  - ksoftirqd (pending softirqs then run only at exit points),
 *  - preemption, load-balancing migration, sleep timeouts, the timer tick,
 *  - every other event source (wq_worker_sleeping, a delayed work's timer…),
 *  - operation variants (only an operation's first outcome: __do_softirq
 *    never gives up early, mod_timer keeps its base…),
 *  - events outside critical sections: an interrupt, a tick or a
 *    preemption then comes only on a CPU whose running context holds a lock
 *    (a spinlock, rwlock or mutex): where an interrupt's handler, or the
 *    softirqs run at its irq_exit, can meet that lock,
 *  - some interrupt lines, and interrupt arrivals on some CPUs,
 * and may hold things back until a step of the schedule: a CPU's own steps
 * ("only some CPUs runnable early"), an interrupt line's arrivals, the
 * timer tick. Holding an interrupt back and then letting it come is how a
 * run puts it deep inside a long chain (the dev interrupt on the kworker's
 * CPU while reset_work holds dev->lock, after a tasklet, a timer and a
 * work item ran). The choices left are taken as the uniform strategy takes
 * them.
 *
 * A configuration only ever *removes* choices, and only while another one
 * is left: when the mask leaves nothing of a non-empty enabled list, the run
 * takes from the whole list. So every swarm schedule is a schedule of the
 * unrestricted model, a run never stops early, and a deadlock (no enabled
 * choice at all) is the model's, not the mask's.
 */
import type * as fc from 'fast-check';
import { fastCheck } from './fast-check.ts';
import { CHOICE_SOURCES } from '../kernel/registry.ts';
import type { Program } from '../kernel/program.ts';
import { CHOICE_RUN, choiceArg, choiceCpu, choiceKind, choiceVariant } from '../kernel/semantics.ts';
import type { Machine } from '../kernel/machine.ts';
import type { Chooser } from './random-run.ts';
import { EVENT_ODDS, pickWithOdds, PICKS_LENGTH } from './uniform.ts';

/** The kinds of choice a configuration may turn off, by bit. */
export const SWARM_FEATURES = ['ksoftirqd', 'preempt', 'migrate', 'timeout', 'tick', 'other-events', 'variants', 'events-outside-locks'] as const;
export type SwarmFeature = (typeof SWARM_FEATURES)[number];

/** A swarm plan: a configuration and the numbers that pick within it. */
export interface SwarmPlan {
  /** Turned off: one boolean per SWARM_FEATURES entry. */
  readonly off: readonly boolean[];
  /** Per interrupt line: may it arrive at all (the fallback aside). */
  readonly lines: readonly boolean[];
  /** Per CPU: may interrupts arrive on it. */
  readonly irqCpus: readonly boolean[];
  /** Per CPU: the first step at which it may run its own code. */
  readonly delays: readonly number[];
  /** Per interrupt line: the first step at which it may arrive. */
  readonly lineDelays: readonly number[];
  /** The first step at which a timer tick may come. */
  readonly tickDelay: number;
  /** As a uniform plan: the first number sets the event odds, the rest pick. */
  readonly picks: readonly number[];
}

const featureOfKind: (SwarmFeature | 'irq' | null)[] = [null, ...CHOICE_SOURCES.map((s): SwarmFeature | 'irq' | null => {
  switch (s.name) {
    case 'irq': return 'irq';
    case 'schedule': return null; // picking the next task is never turned off: it is how work gets done
    case 'ksoftirqd': case 'preempt': case 'migrate': case 'timeout': case 'tick': return s.name;
    default: return 'other-events';
  }
})];

/** The arbitrary of swarm plans for a program; `horizon` bounds the CPU start delays. */
export function swarmArbitrary(p: Program, horizon: number, maxSteps: number): fc.Arbitrary<SwarmPlan> {
  const cpus = p.ncpu;
  const delay = fastCheck().oneof(fastCheck().constant(0), fastCheck().nat({ max: Math.max(1, horizon) }));
  return fastCheck().record({
    off: fastCheck().array(fastCheck().boolean(), { minLength: SWARM_FEATURES.length, maxLength: SWARM_FEATURES.length }),
    lines: fastCheck().array(fastCheck().boolean(), { minLength: p.irqs.length, maxLength: p.irqs.length }),
    irqCpus: fastCheck().array(fastCheck().boolean(), { minLength: cpus, maxLength: cpus }),
    // Half the time at once, else held back up to `horizon` steps.
    delays: fastCheck().array(delay, { minLength: cpus, maxLength: cpus }),
    lineDelays: fastCheck().array(delay, { minLength: p.irqs.length, maxLength: p.irqs.length }),
    tickDelay: delay,
    picks: fastCheck().array(fastCheck().nat({ max: 0xffff }), { maxLength: Math.min(maxSteps, PICKS_LENGTH), size: 'max' }),
  });
}

/** Does the configuration allow `choice` at step `step`? */
function allows(m: Machine, plan: SwarmPlan, off: ReadonlySet<SwarmFeature>, choice: number, step: number): boolean {
  const kind = choiceKind(choice);
  if (kind === CHOICE_RUN) {
    if (step < (plan.delays[choiceCpu(choice)] ?? 0)) return false;
    return !off.has('variants') || choiceVariant(choice) === 0;
  }
  const feature = featureOfKind[kind];
  if (off.has('events-outside-locks') && (feature === 'irq' || feature === 'tick' || feature === 'preempt')) {
    const top = m.top(choiceCpu(choice));
    if (top < 0 || m.held(top) === 0) return false;
  }
  if (feature === 'irq') {
    const line = choiceArg(choice);
    return plan.lines[line] !== false && plan.irqCpus[choiceCpu(choice)] !== false && step >= (plan.lineDelays[line] ?? 0);
  }
  if (feature === 'tick' && step < plan.tickDelay) return false;
  return feature === null || feature === undefined || !off.has(feature);
}

/** The chooser of a swarm plan. */
export function swarmChooser(plan: SwarmPlan): Chooser {
  const off = new Set(SWARM_FEATURES.filter((_, i) => plan.off[i]));
  const odds = EVENT_ODDS[(plan.picks[0] ?? 0) % EVENT_ODDS.length]!;
  const allowed: number[] = [];
  const runs: number[] = [];
  return {
    choose(m, _s, en, step) {
      allowed.length = 0;
      for (const c of en) if (allows(m, plan, off, c, step)) allowed.push(c);
      // Never a false end: with nothing allowed, the whole enabled list.
      const pool = allowed.length > 0 ? allowed : en;
      return step + 1 < plan.picks.length ? pickWithOdds(pool, plan.picks[step + 1]!, odds, runs) : pool[0]!;
    },
  };
}
