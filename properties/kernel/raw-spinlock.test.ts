/**
 * raw_spinlock_t (model/kernel/spinlock.ts, include/linux/spinlock.h): on
 * !PREEMPT_RT the same spinning lock as spinlock_t, with every variant's
 * irq/bh/preempt effect, its own type (a raw_spin_lock on a spinlock_t is a
 * design error), and lockdep's stricter wait type in reports.
 */
import { describe, expect, it } from 'vitest';
import {
  check, compile, defineDesign, DesignError, if_, inc, raw_spin_lock, raw_spin_lock_bh, raw_spin_lock_irq,
  raw_spin_lock_irqsave, raw_spin_trylock, raw_spin_trylock_bh, raw_spin_trylock_irq, raw_spin_trylock_irqsave,
  raw_spin_unlock, raw_spin_unlock_bh, raw_spin_unlock_irq, raw_spin_unlock_irqrestore, spin_lock, spin_lock_bh,
  spin_lock_irq, spin_lock_irqsave, spin_unlock, spin_unlock_bh, spin_unlock_irq, spin_unlock_irqrestore,
  local_irq_disable, type Design, type Stmt,
} from '../../model/index.ts';
import { exhaustive } from '../../model/explore/exhaustive.ts';
import { C_BH, C_IRQS_OFF, C_PREEMPT, L_OWNER } from '../../model/kernel/layout.ts';
import { lockdepReport } from '../../model/report/lockdep.ts';
import { Schedule } from '../helpers/schedule.ts';

type Flavour = 'plain' | 'irq' | 'irqsave' | 'bh';
const RAW: Record<Flavour, readonly [(l: string) => Stmt, (l: string) => Stmt]> = {
  plain: [raw_spin_lock, raw_spin_unlock],
  irq: [raw_spin_lock_irq, raw_spin_unlock_irq],
  irqsave: [(l) => raw_spin_lock_irqsave(l, 'flags'), (l) => raw_spin_unlock_irqrestore(l, 'flags')],
  bh: [raw_spin_lock_bh, raw_spin_unlock_bh],
};
const SPIN: Record<Flavour, readonly [(l: string) => Stmt, (l: string) => Stmt]> = {
  plain: [spin_lock, spin_unlock],
  irq: [spin_lock_irq, spin_unlock_irq],
  irqsave: [(l) => spin_lock_irqsave(l, 'flags'), (l) => spin_unlock_irqrestore(l, 'flags')],
  bh: [spin_lock_bh, spin_unlock_bh],
};
const FLAVOURS = ['plain', 'irq', 'irqsave', 'bh'] as const;

const oneTask = (body: readonly Stmt[], kind: 'raw_spinlock' | 'spinlock' = 'raw_spinlock'): Design =>
  defineDesign({ name: 'raw-one-task', cpus: 1, locks: { L: kind }, vars: { x: 0 }, tasks: [{ name: 't', cpu: 0, body }] });

describe('each raw_spin_lock variant has the irq/bh/preempt effect of its spin_lock twin', () => {
  for (const flavour of FLAVOURS) {
    for (const irqsBefore of flavour === 'bh' ? [0] : [0, 1]) {
      const [lock, unlock] = RAW[flavour];
      it(`${lock('L').op} / ${unlock('L').op} with irqs ${irqsBefore ? 'off' : 'on'}`, () => {
        const prefix = irqsBefore ? [local_irq_disable()] : [];
        const raw = new Schedule(oneTask([...prefix, lock('L'), unlock('L')]));
        const [slock, sunlock] = SPIN[flavour];
        const spin = new Schedule(oneTask([...prefix, slock('L'), sunlock('L')], 'spinlock'));
        const cpuState = (s: Schedule) => [s.cpu(0, C_IRQS_OFF), s.cpu(0, C_BH), s.cpu(0, C_PREEMPT), s.lock('L', L_OWNER)];
        const steps = [...(irqsBefore ? ['local_irq_disable'] : []), ...(flavour === 'bh' ? ['local_bh_disable', 'acquires'] : ['lock'])];
        for (const step of steps) {
          raw.take(step === 'lock' ? lock('L').op : step);
          spin.take(step === 'lock' ? slock('L').op : step);
          expect(cpuState(raw)).toEqual(cpuState(spin));
        }
        expect(raw.lock('L', L_OWNER)).toBe(1);
        raw.take(unlock('L').op);
        spin.take(sunlock('L').op);
        expect(raw.violation()).toBeNull();
        expect(cpuState(raw)).toEqual(cpuState(spin));
        expect(raw.lock('L', L_OWNER)).toBe(0);
      });
    }
  }
});

describe('raw_spinlock_t is the same lock as spinlock_t on !PREEMPT_RT: the same verdict, state by state', () => {
  const pairs: { name: string; raw: Design; spin: Design }[] = [];
  const both = (name: string, make: (k: 'raw_spinlock' | 'spinlock', f: typeof RAW) => Design) =>
    pairs.push({ name, raw: make('raw_spinlock', RAW), spin: make('spinlock', SPIN) });
  both('AA: a hardirq takes the lock its task holds with irqs on', (k, f) => defineDesign({
    name: `aa-${k}`, cpus: 1, locks: { L: k }, vars: { x: 0 },
    tasks: [{ name: 't', cpu: 0, body: [f.plain[0]('L'), inc('x'), f.plain[1]('L')] }],
    irqs: [{ name: 'eth0', handler: [f.plain[0]('L'), inc('x'), f.plain[1]('L')] }],
  }));
  both('fixed with _irqsave', (k, f) => defineDesign({
    name: `aa-fixed-${k}`, cpus: 1, locks: { L: k }, vars: { x: 0 },
    tasks: [{ name: 't', cpu: 0, body: [f.irqsave[0]('L'), inc('x'), f.irqsave[1]('L')] }],
    irqs: [{ name: 'eth0', handler: [f.plain[0]('L'), inc('x'), f.plain[1]('L')] }],
  }));
  both('ABBA across two CPUs', (k, f) => defineDesign({
    name: `abba-${k}`, cpus: 2, locks: { A: k, B: k },
    tasks: [
      { name: 'ab', cpu: 0, body: [f.plain[0]('A'), f.plain[0]('B'), f.plain[1]('B'), f.plain[1]('A')] },
      { name: 'ba', cpu: 1, body: [f.plain[0]('B'), f.plain[0]('A'), f.plain[1]('A'), f.plain[1]('B')] },
    ],
  }));
  for (const { name, raw, spin } of pairs) {
    it(name, () => {
      const r = check(raw);
      const s = check(spin);
      expect([r.status, r.violation?.kind]).toEqual([s.status, s.violation?.kind]);
      expect(r.violation?.trace.map((l) => l.replaceAll('raw_spin_', 'spin_'))).toEqual(s.violation?.trace);
      // State by state without the reductions (the raw_spin_* operations declare no footprint yet, so
      // partial-order reduction and fusion treat them as conflicting with everything).
      const unreduced = { por: false, fusion: false, symmetry: false } as const;
      const rx = exhaustive(compile(raw), unreduced);
      const sx = exhaustive(compile(spin), unreduced);
      expect([rx.status, rx.violation?.kind, rx.stats.states]).toEqual([sx.status, sx.violation?.kind, sx.stats.states]);
    });
  }
  it('lockdep prints a raw_spinlock_t with its wait type {2:2}, a spinlock_t with {3:3}', () => {
    for (const [d, wait] of [[pairs[0]!.raw, '{2:2}'], [pairs[0]!.spin, '{3:3}']] as const) {
      const v = check(d).violation!;
      const text = lockdepReport(compile(d), v.choices, v);
      expect(text).toContain('WARNING: inconsistent lock state');
      expect(text).toContain(`(&L){?.+.}-${wait}, at: irq eth0[0]: `);
    }
  });

  it('the AA pair really is a deadlock and its fix really is verified', () => {
    expect(check(pairs[0]!.raw).violation?.kind).toBe('deadlock');
    expect(check(pairs[1]!.raw).status).toBe('verified');
    expect(check(pairs[2]!.raw).violation?.kind).toBe('deadlock');
  });
});

describe('raw spinlock trylocks', () => {
  const contended = (body: readonly Stmt[]): Design => defineDesign({
    name: 'raw-contended', cpus: 2, locks: { L: 'raw_spinlock' }, vars: { ok: 0 },
    tasks: [
      { name: 'holder', cpu: 0, body: [raw_spin_lock('L'), raw_spin_unlock('L')] },
      { name: 't', cpu: 1, body },
    ],
  });
  const branch = (cond: Parameters<typeof if_>[0], unlock: Stmt): Stmt[] =>
    [if_(cond, [{ op: 'assign', var: 'ok', value: 1 }, unlock], [{ op: 'assign', var: 'ok', value: 2 }])];

  it('raw_spin_trylock: 1 and held when free, 0 when busy, never spins', () => {
    const ok = new Schedule(contended(branch(raw_spin_trylock('L'), raw_spin_unlock('L'))));
    ok.take('raw_spin_trylock(&L) → 1 (acquired)');
    expect([ok.cpu(1, C_PREEMPT), ok.lock('L', L_OWNER)]).toEqual([1, 2]);
    const busy = new Schedule(contended(branch(raw_spin_trylock('L'), raw_spin_unlock('L'))));
    busy.run('[task holder]: raw_spin_lock', 'raw_spin_trylock(&L) → 0 (busy)');
    expect([busy.cpu(1, C_PREEMPT), busy.lock('L', L_OWNER)]).toEqual([0, 1]);
    expect(check(contended(branch(raw_spin_trylock('L'), raw_spin_unlock('L')))).status).toBe('verified');
  });

  it('the _irq, _irqsave and _bh trylocks undo their prologue on failure', () => {
    for (const [cond, unlock] of [
      [raw_spin_trylock_irq('L'), raw_spin_unlock_irq('L')],
      [raw_spin_trylock_irqsave('L', 'f'), raw_spin_unlock_irqrestore('L', 'f')],
      [raw_spin_trylock_bh('L'), raw_spin_unlock_bh('L')],
    ] as const) {
      const busy = new Schedule(contended(branch(cond, unlock)));
      busy.run('[task holder]: raw_spin_lock', `${cond.trylock}(&L${'flags' in cond ? ', f' : ''}) → 0 (busy)`);
      expect([busy.cpu(1, C_IRQS_OFF), busy.cpu(1, C_BH), busy.cpu(1, C_PREEMPT)]).toEqual([0, 0, 0]);
      expect(check(contended(branch(cond, unlock))).status).toBe('verified');
    }
  });
});

describe('raw_spinlock_t is its own type', () => {
  it('raw_spin_lock on a spinlock_t is a design error naming both types', () => {
    expect(() => compile(oneTask([raw_spin_lock('L'), raw_spin_unlock('L')], 'spinlock'))).toThrow(DesignError);
    expect(() => compile(oneTask([raw_spin_lock('L')], 'spinlock'))).toThrow("raw_spin_lock needs a raw_spinlock_t, but 'L' is a spinlock_t");
  });

  it('spin_lock on a raw_spinlock_t is a design error', () => {
    expect(() => compile(oneTask([spin_lock('L')]))).toThrow("spin_lock needs a spinlock_t, but 'L' is a raw_spinlock_t");
  });

  it('an unknown lock kind lists the kinds there are', () => {
    const d = { ...oneTask([]), locks: { L: 'raw_spin' } } as unknown as Design;
    expect(() => compile(d)).toThrow(/kind must be one of 'spinlock', 'raw_spinlock', 'rwlock', 'mutex'/);
  });

  it('raw_spin_lock twice in one context: a deadlock, "BUG: spinlock recursion"', () => {
    const v = check(oneTask([raw_spin_lock_irq('L'), raw_spin_lock('L')]));
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation?.message).toBe('BUG: spinlock recursion on CPU#0, task t\n  task t: raw_spin_lock(&L) while it holds &L: it spins on itself forever');
  });

  it('unlocking a raw spinlock that is not held is spinlock debug\'s "already unlocked"', () => {
    const v = check(oneTask([raw_spin_unlock('L')]));
    expect(v.violation?.kind).toBe('lock-misuse');
    expect(v.violation?.message).toContain('BUG: spinlock already unlocked on CPU#0');
  });
});
