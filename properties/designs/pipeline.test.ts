/**
 * The combined design of issue 3: an irq handler schedules a tasklet, which
 * arms a timer, which queues work that takes a mutex. Verified exhaustively
 * on 2 CPUs within its bounds; and the bounds are not vacuous: the whole
 * chain does run to the work item, and an interrupt can land while the
 * work holds the lock (which is what breaks the buggy twin).
 */
import { describe, expect, it } from 'vitest';
import { deferredWorkPipeline, deferredWorkPipelineBuggy } from '../../model/designs/pipeline/pipeline.ts';
import { boundsText, check, eq, v, type Design } from '../../model/index.ts';

/** The same design with an at-end claim that must fail if `what` is reachable. */
const reaches = (d: Design, name: string, holds: ReturnType<typeof eq>): Design => ({
  ...d,
  name: `${d.name}-probe`,
  invariants: [{ name, holds, when: 'at-end' }],
});

describe('deferred-work-pipeline', () => {
  const verdict = check(deferredWorkPipeline);

  it('is verified exhaustively on 2 CPUs, ≤2 dev interrupts, ≤1 timer tick', () => {
    expect(verdict.status).toBe('verified');
    expect(boundsText(verdict.bounds)).toBe('2 CPUs, ≤2 dev interrupts, ≤1 timer tick, profile modern (6.12+), preempt none');
    expect(verdict.stats.states).toBeGreaterThan(10_000);
  });

  it('runs the whole chain: some schedule ends with the work item done', () => {
    const probe = check(reaches(deferredWorkPipeline, 'the reset work never runs', eq(v('dev->resets'), 0)));
    expect(probe.violation?.kind).toBe('assertion');
    const trace = probe.violation!.trace.join('\n');
    for (const step of ['dev interrupt arrives', 'tasklet_schedule(&dev->rx_tasklet)', 'mod_timer(&dev->watchdog', 'schedule_work(&dev->reset_work)', 'mutex_lock(&dev->cfg_mutex)']) {
      expect(trace).toContain(step);
    }
  });

  it('its buggy twin deadlocks when the second interrupt hits the kworker holding dev->lock', () => {
    const bad = check(deferredWorkPipelineBuggy);
    expect(bad.violation?.kind).toBe('deadlock');
    expect(bad.violation?.message).toMatch(/AA deadlock on cpu\d: hardirq dev spins on a lock held by a context it interrupted \(task kworker\/\d:\d ⇄ hardirq dev\)/);
  });
});
