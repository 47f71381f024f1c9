/**
 * lockdep's prediction (model/check/lockdep.ts) and how the search settles
 * each predicted problem (model/check/lockdep-confirm.ts): a cycle that
 * needs more CPUs than the design has is verified within the design's
 * bounds but confirmed with as many CPUs as it needs; lockdep's false
 * positives are not reachable, each with the reason the facts give; what
 * is learnt does not depend on the order states are explored in, nor on
 * the reductions.
 */
import { describe, expect, it } from 'vitest';
import {
  check, compile, defineDesign, down_read, down_write, local_bh_disable, local_bh_enable, mutex_lock, mutex_lock_nested,
  mutex_unlock, raise_softirq_irqoff, raw_spin_lock, raw_spin_unlock, read_lock, read_unlock, replay, SINGLE_DEPTH_NESTING, spin_lock,
  spin_lock_init, spin_lock_irqsave, spin_lock_nested, spin_unlock, spin_unlock_irqrestore, up_read, up_write,
  write_lock, write_unlock, type Design, type Verdict,
} from '../../model/index.ts';
import { LockdepObserver, predict } from '../../model/check/lockdep.ts';
import { exhaustive } from '../../model/explore/exhaustive.ts';
import { sweep } from '../helpers/full-sweep.ts';
import { twoBugs } from '../helpers/two-bugs.ts';
import { predictionReport } from '../../model/report/lockdep-predict.ts';
import { CATALOGUE } from '../../model/designs/index.ts';
import { LOCKDEP_SELFTEST_DESIGNS } from '../../model/suites/lockdep-selftests.ts';

const entries = (v: Verdict) => (v.lockdep ?? []).map((e) => `${e.kind} ${e.classes.join(',')}: ${e.status}`);

/** Each task takes its two locks in order, on a CPU of its own unless `cpus` is fewer. */
const cycle = (name: string, cpus: number, pairs: readonly (readonly [string, string])[], extra: Partial<Design> = {}): Design => defineDesign({
  name, cpus,
  locks: Object.fromEntries([...new Set(pairs.flat())].map((l) => [l, 'spinlock' as const])),
  tasks: pairs.map(([a, b], i) => ({ name: `t${i}`, cpu: i % cpus, body: [spin_lock(a), spin_lock(b), spin_unlock(b), spin_unlock(a)] })),
  ...extra,
});

describe('a cycle that needs more CPUs than the design has', () => {
  const abc = cycle('abc-on-2', 2, [['A', 'B'], ['B', 'C'], ['C', 'A']]);
  const v = check(abc);

  it('is verified within 2 CPUs, and the verdict carries lockdep\'s report of it', () => {
    expect(v.status).toBe('verified');
    expect(entries(v)).toEqual(['circular &B,&C,&A: confirmed']);
    const e = v.lockdep![0]!;
    expect(e.title).toBe('WARNING: possible circular locking dependency detected');
    expect(e.report).toContain('Chain exists of:');
  });

  it('is confirmed with 3 CPUs: the schedule moves the task that shared a CPU, and replays to the deadlock', () => {
    const e = v.lockdep![0]!;
    expect(e.schedule!.cpus).toBe(3);
    expect(e.schedule!.moved).toEqual(['t2 → cpu2']);
    expect(e.reason).toMatch(/^needs 3 CPUs at once, the design has 2: with 3 CPUs \(t2 → cpu2\) a schedule deadlocks on &B, &C, &A/);
    const wide = compile({ ...abc, cpus: 3, tasks: abc.tasks.map((t) => (t.name === 't2' ? { ...t, cpu: 2 } : t)) });
    const r = replay(wide, e.schedule!.choices);
    expect(r.violation?.kind).toBe('deadlock');
    // A shortest one: each task takes its first lock, then each its second.
    expect(e.schedule!.choices.length).toBe(6);
  });

  it('within 3 CPUs the design itself deadlocks, and the entry is confirmed by the verdict\'s own schedule', () => {
    const v3 = check(cycle('abc-on-3', 3, [['A', 'B'], ['B', 'C'], ['C', 'A']]));
    expect(v3.violation?.kind).toBe('deadlock');
    expect(entries(v3)).toEqual(['circular &B,&C,&A: confirmed']);
    expect(v3.lockdep![0]!.schedule!.choices).toEqual(v3.violation!.choices);
  });
});

describe('lockdep\'s false positives are not reachable, with the reason', () => {
  it('two orders serialised by an outer lock', () => {
    const gated = defineDesign({
      name: 'abba-under-g', cpus: 2, locks: { G: 'spinlock', A: 'spinlock', B: 'spinlock' },
      tasks: [
        { name: 'ab', cpu: 0, body: [spin_lock('G'), spin_lock('A'), spin_lock('B'), spin_unlock('B'), spin_unlock('A'), spin_unlock('G')] },
        { name: 'ba', cpu: 1, body: [spin_lock('G'), spin_lock('B'), spin_lock('A'), spin_unlock('A'), spin_unlock('B'), spin_unlock('G')] },
      ],
    });
    const v = check(gated);
    expect(v.status).toBe('verified');
    expect(entries(v)).toEqual(['circular &B,&A: not-reachable']);
    expect(v.lockdep![0]!.reason).toMatch(/^the orders are never concurrent: every acquisition along the cycle holds &G, which serialises them; checked every schedule within 2 CPUs/);
  });

  it('readers of a lock nobody writes (queued rwlock: a task\'s reader is not recursive)', () => {
    const readers = defineDesign({
      name: 'rw-readers', cpus: 2, locks: { X: 'rwlock', Y: 'spinlock' },
      tasks: [
        { name: 'xy', cpu: 0, body: [read_lock('X'), spin_lock('Y'), spin_unlock('Y'), read_unlock('X')] },
        { name: 'yx', cpu: 1, body: [spin_lock('Y'), read_lock('X'), read_unlock('X'), spin_unlock('Y')] },
      ],
    });
    const v = check(readers);
    expect(v.status).toBe('verified');
    expect(entries(v)).toEqual(['circular &Y,&X: not-reachable']);
    expect(v.lockdep![0]!.reason).toMatch(/^no writer of &X exists/);
    // With a writer on a third CPU it is real: the writer queues between the readers.
    const withWriter = check({ ...readers, name: 'rw-readers-writer', cpus: 3, tasks: [...readers.tasks, { name: 'w', cpu: 2, body: [write_lock('X'), write_unlock('X')] }] });
    expect(withWriter.violation?.kind).toBe('deadlock');
    expect(entries(withWriter)).toContain('circular &Y,&X: confirmed');
  });

  it('two instances of one class nested in one order: recursive locking, unless annotated', () => {
    const nested = (second: ReturnType<typeof spin_lock>) => defineDesign({
      name: `two-instances-${second.op}`, cpus: 1,
      locks: { 'dev[0]->lock': { kind: 'spinlock', class: 'dev->lock' }, 'dev[1]->lock': { kind: 'spinlock', class: 'dev->lock' } },
      tasks: [{ name: 't', cpu: 0, body: [spin_lock('dev[0]->lock'), second, spin_unlock('dev[1]->lock'), spin_unlock('dev[0]->lock')] }],
    });
    const plain = check(nested(spin_lock('dev[1]->lock')));
    expect(plain.status).toBe('verified');
    expect(entries(plain)).toEqual(['recursive &dev->lock: not-reachable']);
    expect(plain.lockdep![0]!.reason).toMatch(/^&dev\[0\]->lock and &dev\[1\]->lock are instances of one class \(&dev->lock\)/);
    expect(plain.lockdep![0]!.report).toContain('May be due to missing lock nesting notation');
    const annotated = check(nested(spin_lock_nested('dev[1]->lock', SINGLE_DEPTH_NESTING)));
    expect(annotated.status).toBe('verified');
    expect(entries(annotated)).toEqual([]);
  });

  it('an interrupt that never reaches the CPU where the lock is held with irqs on', () => {
    const v = check(defineDesign({
      name: 'irq-elsewhere', cpus: 2, locks: { L: 'spinlock' },
      tasks: [{ name: 't', cpu: 1, body: [spin_lock('L'), spin_unlock('L')] }],
      irqs: [{ name: 'eth0', cpus: [0], handler: [spin_lock('L'), spin_unlock('L')] }],
    }));
    expect(v.status).toBe('verified');
    expect(entries(v)).toEqual(['inconsistent &L: not-reachable']);
    expect(v.lockdep![0]!.reason).toMatch(/^&L is taken in hardirq context only on cpu0, and &L is held with hardirqs enabled only on cpu1/);
  });

  it('a spinlock_t inside a raw_spinlock_t: lockdep\'s invalid wait context, a PREEMPT_RT problem only', () => {
    const v = check(defineDesign({
      name: 'spin-in-raw', cpus: 1, locks: { R: 'raw_spinlock', S: 'spinlock' },
      tasks: [{ name: 't', cpu: 0, body: [raw_spin_lock('R'), spin_lock('S'), spin_unlock('S'), raw_spin_unlock('R')] }],
    }));
    expect(v.status).toBe('verified');
    expect(entries(v)).toEqual(['wait-context &S,&R: not-reachable']);
    expect(v.lockdep![0]!.title).toBe('[ BUG: Invalid wait context ]');
    expect(v.lockdep![0]!.reason).toMatch(/^without PREEMPT_RT a spinlock_t never sleeps/);
    expect(v.lockdep![0]!.report).toContain('{2:2}');
  });
});

describe('what lockdep sees of the lock types', () => {
  it('mutex_lock_nested names the subclass; the same order unannotated is recursion', () => {
    const locks = { 'a->m': { kind: 'mutex' as const, class: 'obj->m' }, 'b->m': { kind: 'mutex' as const, class: 'obj->m' } };
    const design = (second: ReturnType<typeof mutex_lock>) => defineDesign({
      name: `mutex-${second.op}`, cpus: 1, locks,
      tasks: [{ name: 't', cpu: 0, body: [mutex_lock('a->m'), second, mutex_unlock('b->m'), mutex_unlock('a->m')] }],
    });
    expect(entries(check(design(mutex_lock_nested('b->m', SINGLE_DEPTH_NESTING))))).toEqual([]);
    const plain = check(design(mutex_lock('b->m')));
    expect(entries(plain)).toEqual(['recursive &obj->m: not-reachable']);
    expect(plain.lockdep![0]!.report).toContain('(&obj->m){+.+.}-{4:4}');
  });

  it('rw_semaphore: a reader of S waits for M while M\'s holder waits to write S, a cycle lockdep reports', () => {
    const v = check(defineDesign({
      name: 'rwsem-abba', cpus: 2, locks: { S: 'rw_semaphore', M: 'mutex' },
      tasks: [
        { name: 'r', cpu: 0, body: [down_read('S'), mutex_lock('M'), mutex_unlock('M'), up_read('S')] },
        { name: 'w', cpu: 1, body: [mutex_lock('M'), down_write('S'), up_write('S'), mutex_unlock('M')] },
      ],
    }));
    expect(v.violation?.kind).toBe('deadlock');
    expect(entries(v)).toEqual(['circular &M,&S: confirmed']);
  });

  it('re-initialising a held lock is held lock freed!, confirmed as lock misuse', () => {
    const v = check(defineDesign({ name: 'init-held', cpus: 1, locks: { A: 'spinlock' }, tasks: [{ name: 't', cpu: 0, body: [spin_lock('A'), spin_lock_init('A')] }] }));
    expect(v.violation?.kind).toBe('lock-misuse');
    expect(entries(v)).toEqual(['freed &A: confirmed']);
    expect(v.lockdep![0]!.report).toContain('WARNING: held lock freed!');
  });

  it('softirq-safe lock held with bottom halves off is fine; with them on, inconsistent', () => {
    const design = (bhOff: boolean) => defineDesign({
      name: `bh-${bhOff}`, cpus: 1, locks: { L: 'spinlock' },
      tasks: [{ name: 't', cpu: 0, body: bhOff ? [local_bh_disable(), spin_lock('L'), spin_unlock('L'), local_bh_enable()] : [spin_lock('L'), spin_unlock('L')] }],
      irqs: [{ name: 'eth0', handler: [raise_softirq_irqoff('NET_RX')] }],
      softirqs: { NET_RX: [spin_lock_irqsave('L', 'f'), spin_unlock_irqrestore('L', 'f')] },
    });
    expect(entries(check(design(true)))).toEqual([]);
    const v = check(design(false));
    expect(v.violation?.kind).toBe('deadlock');
    expect(entries(v)).toEqual(['inconsistent &L: confirmed']);
  });
});

describe('settling needs an exhaustive search', () => {
  it('a state limit leaves a prediction not decided', () => {
    const v = check(cycle('abc-small-limit', 2, [['A', 'B'], ['B', 'C'], ['C', 'A']]), { maxStates: 20 });
    expect(v.status).toBe('bounded-out');
    expect((v.lockdep ?? []).map((e) => e.status)).toEqual(['not-decided']);
  });

  it('random sampling confirms what it met and decides nothing else', () => {
    const v = check(cycle('abc-random', 2, [['A', 'B'], ['B', 'C'], ['C', 'A']]), { explorer: 'random', runs: 50, seed: 1 });
    expect((v.lockdep ?? []).map((e) => e.status)).toEqual(['not-decided']);
  });

  it('a second predicted bug is confirmed by a violation the sweep after the verdict\'s meets', () => {
    const v = check(twoBugs);
    expect(v.violation!.message).toMatch(/^AA deadlock on cpu0: hardirq eth0 spins/);
    expect(v.lockdep!.map((e) => [e.status, e.classes])).toEqual([['confirmed', ['&Z']], ['confirmed', ['&Y', '&X']]]);
    // Its schedule is not the verdict's: the ABBA deadlock across the CPUs (fails if the sweep's violations are dropped).
    expect(v.lockdep![1]!.schedule!.violation.message).toMatch(/^deadlock across cpu0\/cpu1/);
  });

  it('lockdep: false leaves the verdict without lockdep entries', () => {
    expect(check(cycle('abba-off', 2, [['A', 'B'], ['B', 'A']]), { lockdep: false }).lockdep).toBeUndefined();
  });
});

describe('the prediction does not depend on how the states are explored', () => {
  /** Every report lockdep predicts from the transitions an exploration took. */
  const reports = (o: LockdepObserver) => predict(o.facts).map((f) => predictionReport(o.facts, f));
  const designs = [
    // Every fourth self-test design of up to three tasks (the larger ones cost seconds per sweep).
    ...LOCKDEP_SELFTEST_DESIGNS.filter((d, i) => i % 4 === 0 && d.tasks.length <= 3),
    ...CATALOGUE.filter((d) => d.expected === 'verified').slice(0, 12),
    // And buggy ones, where checkProgram sweeps past the violation.
    ...CATALOGUE.filter((d) => d.expected !== 'verified').slice(0, 16),
    // An NMI's lock use, whose place was the first one met (an NMI over the task, or over the idle CPU).
    ...CATALOGUE.filter((d) => d.name.startsWith('nmi-raw-spin')),
  ];
  for (const d of designs) {
    it(d.name, () => {
      const p = compile(d);
      const reduced = new LockdepObserver(p);
      const r = exhaustive(p, { transitions: reduced });
      const plain = new LockdepObserver(p);
      exhaustive(p, { transitions: plain, por: false, fusion: false, symmetry: false });
      const reversed = new LockdepObserver(p);
      sweep(p, reversed, 1_000_000, () => {}, true);
      const forward = new LockdepObserver(p);
      sweep(p, forward, 1_000_000);
      // Depth-first either way round over the whole graph: the same reports, word for word.
      expect(reports(reversed)).toEqual(reports(forward));
      // The reduced and the unreduced search see the same, where they explored everything (a search
      // that stops at a violation sees part of the graph; checkProgram then sweeps the rest).
      if (r.status === 'verified') expect(reports(reduced)).toEqual(reports(forward));
      if (r.status === 'verified') expect(reports(plain)).toEqual(reports(forward));
      // The reduced search as a sweep, going on past every violation (as checkProgram runs it after
      // one): the same reports, over the whole graph, and every kind of violation the full sweep meets.
      const swept = new LockdepObserver(p);
      const kinds = new Set<string>();
      const fullKinds = new Set<string>();
      const s = exhaustive(p, { transitions: swept, onViolation: (_m, _s, v) => kinds.add(v.kind) });
      sweep(p, null, 1_000_000, (_m, _s, v) => fullKinds.add(v.kind));
      expect(s.status).not.toBe('violation');
      expect(reports(swept)).toEqual(reports(forward));
      expect([...kinds].sort()).toEqual([...fullKinds].sort());
    });
  }
});
