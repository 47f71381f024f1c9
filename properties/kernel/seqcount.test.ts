/**
 * model/kernel/seqcount.ts: seqcount_t, seqcount_spinlock_t, seqlock_t and
 * u64_stats_sync (include/linux/seqlock.h, include/linux/u64_stats_sync.h).
 */
import { describe, expect, it } from 'vitest';
import {
  add, check, compile, defineDesign, DesignError, inc, load, local_irq_disable, local_irq_enable, preempt_disable, preempt_enable, r, read_seqbegin,
  read_seqcount_begin, read_seqcount_retry, read_seqretry, spin_lock, spin_unlock, u64_stats_fetch_begin, u64_stats_fetch_retry,
  u64_stats_update_begin, u64_stats_update_begin_irqsave, u64_stats_update_end, u64_stats_update_end_irqrestore, v, while_, write_seqcount_begin,
  write_seqcount_end, write_seqlock, write_seqlock_irqsave, write_sequnlock, write_sequnlock_irqrestore, type Design, type IrqSpec, type Stmt,
} from '../../model/index.ts';
import { C_IRQS_OFF } from '../../model/kernel/layout.ts';
import { Schedule } from '../helpers/schedule.ts';

const design = (tasks: Record<string, readonly Stmt[]>, extra: Partial<Design> = {}): Design => defineDesign({
  name: 'seqcount', cpus: Object.keys(tasks).length, locks: { L: 'spinlock' }, vars: { a: 0, b: 0 },
  seqcounts: { s: {}, sl: { lock: 'L' } },
  tasks: Object.entries(tasks).map(([name, body], cpu) => ({ name, cpu, body })),
  ...extra,
});
const writer: readonly Stmt[] = [preempt_disable(), write_seqcount_begin('s'), inc('a'), inc('b'), write_seqcount_end('s'), preempt_enable()];
/** A reader retrying until a stable snapshot (bounded), asserting it never accepts a torn pair. */
const reader: readonly Stmt[] = [
  load('retry', 1),
  while_(r('retry'), [
    read_seqcount_begin('s', 'start'),
    load('x', v('a')), load('y', v('b')),
    load('retry', read_seqcount_retry('s', r('start'))),
  ], { bound: 3 }),
];

describe('writers', () => {
  it('write_seqcount_begin makes the sequence odd and write_seqcount_end even again', () => {
    const s = new Schedule(design({ w: writer }));
    s.run('preempt_disable', 'write_seqcount_begin(&s): sequence 0 → 1', 'a++', 'b++', 'write_seqcount_end(&s): sequence 1 → 2');
  });

  it('a plain seqcount_t written with preemption on: lockdep_assert_preemption_disabled warns (5.10+ seqprop_assert)', () => {
    const v1 = check(design({ w: [write_seqcount_begin('s'), write_seqcount_end('s')] }));
    expect(v1.violation?.kind).toBe('assertion');
    expect(v1.violation?.message).toContain('lockdep_assert_preemption_disabled()');
  });

  it('irqs off serialises a plain seqcount_t as well', () => {
    expect(check(design({ w: [local_irq_disable(), write_seqcount_begin('s'), write_seqcount_end('s'), local_irq_enable()] })).status).toBe('verified');
  });

  it('a seqcount_spinlock_t written without its lock: lockdep_assert_held warns', () => {
    const v1 = check(design({ w: [preempt_disable(), write_seqcount_begin('sl'), write_seqcount_end('sl'), preempt_enable()] }));
    expect(v1.violation?.message).toContain('lockdep_assert_held(&L)');
    expect(check(design({ w: [spin_lock('L'), write_seqcount_begin('sl'), write_seqcount_end('sl'), spin_unlock('L')] })).status).toBe('verified');
  });

  it('two writers not serialised: the second begin finds the sequence odd, a data race', () => {
    const v1 = check(design({ w1: writer, w2: writer }));
    expect(v1.violation?.kind).toBe('data-race');
    expect(v1.violation?.message).toContain('writers are not serialised');
  });

  it('an end without a begin is bad unlock balance', () => {
    expect(check(design({ w: [preempt_disable(), write_seqcount_end('s'), preempt_enable()] })).violation?.kind).toBe('lock-misuse');
  });
});

describe('readers', () => {
  it('read_seqcount_begin spins while the sequence is odd and returns it once even', () => {
    const s = new Schedule(design({ w: writer, rd: reader }));
    s.run('preempt_disable', 'write_seqcount_begin', '[task rd]: retry = 1', '[task rd]: loop counter', '[task rd]: while');
    expect(s.can('read_seqcount_begin(&s): sequence 1 is odd, spins')).toBe(false); // not enabled: it spins
    expect(s.enabledLabels().some((l) => l.includes('[task rd]'))).toBe(false);
    s.run('a++', 'b++', 'write_seqcount_end');
    s.take('[task rd]: start = read_seqcount_begin(&s) → 2');
  });

  it('read_seqcount_retry is true when a write section began or ended since the begin', () => {
    const s = new Schedule(design({ w: writer, rd: reader }));
    s.run('[task rd]: retry = 1', '[task rd]: loop counter', '[task rd]: while', '[task rd]: start = read_seqcount_begin(&s) → 0');
    s.run('preempt_disable', 'write_seqcount_begin', '[task rd]: x = a', '[task rd]: y = b');
    s.take('[task rd]: retry = read_seqcount_retry');
    expect(s.taskReg('rd', 'retry')).toBe(1);
  });

  it('with a serialised writer every accepted snapshot is consistent (a == b)', () => {
    const consistent: Stmt[] = [load('x', 0), load('y', 0), ...reader, { op: 'BUG_ON', cond: { fn: '&&', args: [{ fn: '!', args: [r('retry')] }, { fn: '!=', args: [r('x'), r('y')] }] }, message: 'torn' }];
    expect(check(design({ w: writer, rd: consistent })).status).toBe('verified');
  });

  it('a hardirq reader over its own CPU\'s writer spins for ever: reported as a deadlock with the writer in the cycle (B37)', () => {
    const irq: IrqSpec = { name: 'rx', cpus: [0], handler: [read_seqcount_begin('s', 'seq')] };
    const v1 = check(design({ w: writer }, { irqs: [irq] }));
    expect(v1.violation?.kind).toBe('deadlock');
    expect(v1.violation?.message).toContain('spins while the sequence is odd: task w is inside its write section');
    expect(v1.violation?.cycle?.map((c) => c.context).sort()).toEqual(['hardirq rx', 'task w']);
  });

  it('the same reader on another CPU just waits for the writer', () => {
    const irq: IrqSpec = { name: 'rx', cpus: [1], handler: [read_seqcount_begin('s', 'seq')] };
    expect(check(design({ w: writer, idle: [] }, { irqs: [irq] })).status).toBe('verified');
  });
});

describe('seqlock_t: spin_lock + the seqcount, as expansions', () => {
  it('write_seqlock takes the lock, then begins; write_sequnlock ends, then unlocks', () => {
    const s = new Schedule(design({ w: [write_seqlock('sl'), inc('a'), write_sequnlock('sl')] }));
    s.take('write_seqlock(&sl): spin_lock(&L)');
    expect(s.lock('L')).toBe(1);
    s.run('write_seqcount_begin(&sl): sequence 0 → 1', 'a++', 'write_sequnlock(&sl): write_seqcount_end', 'spin_unlock(&L)');
  });

  it('write_seqlock_irqsave disables irqs and restores them', () => {
    const s = new Schedule(design({ w: [write_seqlock_irqsave('sl', 'f'), write_sequnlock_irqrestore('sl', 'f')] }));
    s.run('write_seqlock_irqsave', 'write_seqcount_begin');
    expect(s.cpu(0, C_IRQS_OFF)).toBe(1);
    s.runToEnd();
    expect(s.cpu(0, C_IRQS_OFF)).toBe(0);
  });

  it('read_seqbegin/read_seqretry are the seqcount reader', () => {
    const s = new Schedule(design({ rd: [read_seqbegin('sl', 'q'), load('retry', read_seqretry('sl', r('q')))] }));
    s.runToEnd();
    expect(s.taskReg('rd', 'retry')).toBe(0);
  });

  it('a seqlock must be declared with its lock', () => {
    expect(() => compile(design({ w: [write_seqlock('s')] }))).toThrow(DesignError);
  });
});

describe('u64_stats_sync (32-bit SMP)', () => {
  it('u64_stats_update_begin/end and fetch_begin/retry are the seqcount ones', () => {
    const s = new Schedule(design({ w: [preempt_disable(), u64_stats_update_begin('s'), inc('a'), u64_stats_update_end('s'), preempt_enable()], rd: [u64_stats_fetch_begin('s', 'q'), load('t', add(v('a'), v('b'))), load('retry', u64_stats_fetch_retry('s', r('q')))] }));
    s.run('preempt_disable', 'u64_stats_update_begin(&s): sequence 0 → 1');
    expect(s.enabledLabels().some((l) => l.includes('[task rd]'))).toBe(false);
  });

  it('u64_stats_update_begin_irqsave keeps the hardirq reader off its CPU\'s write section', () => {
    const irq: IrqSpec = { name: 'rx', cpus: [0], handler: [u64_stats_fetch_begin('s', 'seq')] };
    const body = [u64_stats_update_begin_irqsave('s', 'flags'), inc('a'), u64_stats_update_end_irqrestore('s', 'flags')];
    expect(check(design({ w: body }, { irqs: [irq] })).status).toBe('verified');
  });
});
