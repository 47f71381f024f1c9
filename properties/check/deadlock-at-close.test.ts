/**
 * A deadlock is declared the moment its wait-for cycle closes
 * (check/deadlock.ts closedCycle), when every edge of the cycle can only be
 * ended by the context it points at: a lock's owner, a frame stacked above.
 * Nothing the rest of the machine does (more interrupts, timer ticks) can
 * break it, so the schedule ends there instead of spending every budget
 * first. A wait someone else may end (a completion) is judged only when no
 * move is left, as before.
 */
import { describe, expect, it } from 'vitest';
import {
  check, complete, defineDesign, inc, mutex_lock, mutex_unlock, spin_lock, spin_unlock, wait_for_completion,
} from '../../model/index.ts';
import { catalogueDesign } from '../../model/designs/index.ts';

describe('a deadlock is declared when its cycle closes', () => {
  it('AA through an interrupt: the schedule ends at the handler\'s spin, with interrupt budget and ticks left', () => {
    const d = defineDesign({
      name: 'aa-early', cpus: 1, options: { ticks: 3 }, locks: { L: 'spinlock' }, vars: { x: 0 },
      tasks: [{ name: 'user', cpu: 0, body: [spin_lock('L'), inc('x'), spin_unlock('L')] }],
      irqs: [{ name: 'eth0', budget: 3, handler: [spin_lock('L'), inc('x'), spin_unlock('L')] }],
    });
    const v = check(d);
    expect(v.violation?.kind).toBe('deadlock');
    const trace = v.violation!.trace;
    expect(trace).toEqual([
      'cpu0 [task user]: spin_lock(&L)',
      'cpu0: eth0 interrupt arrives',
      'cpu0 [hardirq eth0]: spin_lock(&L): &L is busy, spins',
    ]);
    expect(v.violation!.message).toMatch(/^AA deadlock on cpu0: hardirq eth0 spins on a lock held by a context it interrupted/);
    expect(v.violation!.cycle?.map((w) => w.context).sort()).toEqual(['hardirq eth0', 'task user']);
  });

  it('ABBA across CPUs: declared at the second spin, the cycle names both waits', () => {
    const v = check(catalogueDesign('abba-spin_lock')!);
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation!.trace.at(-1)).toMatch(/spins$/);
    expect(v.violation!.cycle).toHaveLength(2);
  });

  it('a context about to take a held mutex is not waiting yet: mutex ABBA needs both tasks asleep', () => {
    const v = check(catalogueDesign('mutex-abba')!);
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation!.trace).toHaveLength(4);
    expect(v.violation!.trace.filter((l) => l.endsWith('sleeps'))).toHaveLength(2);
  });

  it('a wait someone else could end is judged at the end: two tasks waiting on each other\'s completion', () => {
    const d = defineDesign({
      name: 'completions-crossed', cpus: 2, completions: { a: {}, b: {} },
      tasks: [
        { name: 'p', cpu: 0, body: [wait_for_completion('a'), complete('b')] },
        { name: 'q', cpu: 1, body: [wait_for_completion('b'), complete('a')] },
      ],
    });
    const v = check(d);
    // No cycle of permanent waits: the state with no move left is what is judged.
    expect(v.status).toBe('violation');
    expect(v.violation!.trace).toHaveLength(2);
    expect(v.violation!.kind).not.toBe('lock-misuse');
  });

  it('a cycle through a sleeping mutex owner and a spinner is declared at once too', () => {
    const d = defineDesign({
      name: 'mutex-and-spin', cpus: 2, locks: { M: 'mutex', L: 'spinlock' },
      tasks: [
        { name: 'a', cpu: 0, body: [mutex_lock('M'), spin_lock('L'), spin_unlock('L'), mutex_unlock('M')] },
        { name: 'b', cpu: 1, body: [spin_lock('L'), mutex_lock('M'), mutex_unlock('M'), spin_unlock('L')] },
      ],
    });
    const v = check(d);
    // b sleeps in mutex_lock with L held: sleep-in-atomic comes first, as the kernel's might_sleep says.
    expect(v.violation?.kind).toBe('sleep-in-atomic');
  });
});
