/**
 * Register liveness (model/dsl/liveness.ts): zeroing dead registers must
 * never change what a design does, only merge states that differ in values
 * no later step reads. Every catalogue design is driven along random
 * schedules twice, with and without liveness: each step must be enabled in
 * both, with the same label, and leave the same state outside the register
 * files; and the exhaustive search must give the same verdict with fewer or
 * as many states.
 */
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../model/designs/index.ts';
import { compile } from '../../model/dsl/compile.ts';
import { exhaustive } from '../../model/explore/exhaustive.ts';
import { Machine } from '../../model/kernel/machine.ts';
import { H_BOUND_HIT, H_VIOL_KIND, X_REGS } from '../../model/kernel/layout.ts';
import {
  defineDesign, inc, load, local_bh_disable, local_bh_enable, napi_enable, napi_schedule, netif_napi_add, r, spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore, assign, v, add,
} from '../../model/index.ts';

/** The state with every context's registers blanked out. */
function withoutRegisters(m: Machine, s: Int32Array): Int32Array {
  const out = s.slice();
  for (let ctx = 0; ctx < m.L.nctx; ctx++) out.fill(0, m.ctxOff(ctx) + X_REGS, m.ctxOff(ctx) + m.L.ctxSize);
  return out;
}

describe('register liveness', () => {
  it('changes nothing but dead registers along random schedules of every catalogue design', () => {
    let seed = 99;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (const d of CATALOGUE) {
      const live = new Machine(compile(d));
      const keep = new Machine(compile(d, { keepDeadRegisters: true }));
      for (let run = 0; run < 2; run++) {
        let a = live.initial();
        let b = keep.initial();
        for (let step = 0; step < 120; step++) {
          if (a[H_VIOL_KIND] !== 0 || a[H_BOUND_HIT] !== 0) break;
          const en = live.enabled(a);
          expect(keep.enabled(b), `${d.name} step ${step}`).toEqual(en);
          if (en.length === 0) break;
          const c = en[rand(en.length)]!;
          expect(live.label(a, c)).toBe(keep.label(b, c));
          a = live.step(a, c);
          b = keep.step(b, c);
          expect(withoutRegisters(live, a), `${d.name} step ${step}`).toEqual(withoutRegisters(keep, b));
        }
      }
    }
  });

  it('keeps a register an instruction wrote in an earlier phase: spin_lock_irqsave\'s flags while it spins', () => {
    // Two CPUs contend for L with irqsave; the loser saves "irqs on", spins, and must restore "irqs on".
    const d = defineDesign({
      name: 'irqsave-spinner', cpus: 2, locks: { L: 'spinlock' }, vars: { x: 0 },
      tasks: [0, 1].map((cpu) => ({ name: `t${cpu}`, cpu, body: [spin_lock_irqsave('L', 'flags'), load('n', v('x')), assign('x', add(r('n'), 1)), spin_unlock_irqrestore('L', 'flags')] })),
      irqs: [{ name: 'eth0', handler: [spin_lock('L'), inc('x'), spin_unlock('L')], budget: 1 }],
      invariants: [{ name: 'no lost update', holds: { fn: '>=', args: [v('x'), 2] }, when: 'at-end' }],
    });
    const full = exhaustive(compile(d, { keepDeadRegisters: true }));
    const reduced = exhaustive(compile(d));
    expect([reduced.status, full.status]).toEqual(['verified', 'verified']);
    expect(reduced.stats.states).toBeLessThan(full.stats.states);
  });

  it('keeps a register mechanism code reads after the design code it called returns: a NAPI poll\'s work', () => {
    // The poll sets `work` as its last step; net_rx_action reads it after the return (DeclareContext.reg).
    const d = defineDesign({
      name: 'napi-work', cpus: 1, napis: { n: { poll: 'poll', weight: 2 } }, functions: { poll: [load('work', 3)] },
      tasks: [{ name: 'probe', cpu: 0, body: [netif_napi_add('n'), napi_enable('n'), local_bh_disable(), napi_schedule('n'), local_bh_enable()] }],
    });
    const reduced = exhaustive(compile(d));
    expect(reduced.violation?.message).toContain('returned 3, exceeding its budget of 2');
  });

  it('gives every catalogue design the same verdict with no more states', () => {
    for (const d of CATALOGUE) {
      const reduced = exhaustive(compile(d), { maxStates: 60_000 });
      if (reduced.status === 'bounded-out') continue;
      const full = exhaustive(compile(d, { keepDeadRegisters: true }), { maxStates: 60_000 });
      // Dead registers kept can take a design past the cap (bench-backlog at N=2): nothing to compare.
      if (full.status === 'bounded-out') continue;
      expect(reduced.status, d.name).toBe(full.status);
      expect(reduced.violation?.kind, d.name).toBe(full.violation?.kind);
      if (reduced.status === 'verified') expect(reduced.stats.states, d.name).toBeLessThanOrEqual(full.stats.states);
    }
  });
});
