/**
 * model/kernel/rwsem.ts: struct rw_semaphore (kernel/locking/rwsem.c), a
 * sleeping reader/writer lock with the writer preference of modern kernels
 * (a reader queues behind a waiting writer), its trylocks, downgrade_write
 * and misuse.
 */
import { describe, expect, it } from 'vitest';
import {
  check, compile, defineDesign, down_read, down_read_trylock, down_write, down_write_trylock, downgrade_write, if_, inc,
  init_rwsem, mutex_lock, up_read, up_write, type Design, type Stmt,
} from '../../model/index.ts';
import { L_OWNER, L_READERS, X_HELD } from '../../model/kernel/layout.ts';
import { Schedule } from '../helpers/schedule.ts';

/** Tasks by name, one per CPU, sharing the rwsem S. */
const tasks = (bodies: Record<string, readonly Stmt[]>, extra: Partial<Design> = {}): Design => defineDesign({
  name: 'rwsem', cpus: Object.keys(bodies).length, locks: { S: 'rw_semaphore' }, vars: { x: 0, ok: 0 },
  tasks: Object.entries(bodies).map(([name, body], cpu) => ({ name, cpu, body })),
  ...extra,
});
const held = (s: Schedule, task: number): number => s.s[s.m.ctxOff(task) + X_HELD]!;

describe('readers share, a writer excludes', () => {
  it('down_read counts a reader and marks it held; up_read undoes it', () => {
    const s = new Schedule(tasks({ r: [down_read('S'), up_read('S')] }));
    s.take('down_read(&S)');
    expect([s.lock('S', L_READERS), s.lock('S', L_OWNER), held(s, 0)]).toEqual([1, 0, 1]);
    s.take('up_read(&S)');
    expect([s.lock('S', L_READERS), held(s, 0), s.violation()]).toEqual([0, 0, null]);
  });

  it('two readers hold it at once', () => {
    const s = new Schedule(tasks({ a: [down_read('S'), up_read('S')], b: [down_read('S'), up_read('S')] }));
    s.run('[task a]: down_read', '[task b]: down_read');
    expect(s.lock('S', L_READERS)).toBe(2);
  });

  it('a writer sleeps while readers hold it and is woken when the last one leaves', () => {
    const s = new Schedule(tasks({ r: [down_read('S'), up_read('S')], w: [down_write('S'), inc('x'), up_write('S')] }));
    s.take('[task r]: down_read');
    s.take('[task w]: down_write(&S): held for read, sleeps');
    expect(s.can('[task w]')).toBe(false);
    s.take('[task r]: up_read');
    s.take('schedule() → task w').take('[task w]: down_write(&S)');
    expect(s.lock('S', L_OWNER)).toBe(2);
  });

  it('a reader sleeps while a writer holds it', () => {
    const s = new Schedule(tasks({ w: [down_write('S'), up_write('S')], r: [down_read('S'), up_read('S')] }));
    s.run('[task w]: down_write', '[task r]: down_read(&S): held for write by task w, sleeps');
    s.run('[task w]: up_write', 'schedule() → task r', '[task r]: down_read(&S)');
    expect(s.lock('S', L_READERS)).toBe(1);
  });
});

describe('writer preference (rwsem_down_read_slowpath): a reader queues behind a waiting writer', () => {
  const preference = (second: readonly Stmt[]) => tasks({
    r1: [down_read('S'), ...second, up_read('S')],
    w: [down_write('S'), inc('x'), up_write('S')],
    r2: [down_read('S'), up_read('S')],
  });

  it('while a writer waits, a new reader sleeps even though only readers hold the lock', () => {
    const s = new Schedule(preference([]));
    s.run('[task r1]: down_read', '[task w]: down_write(&S): held for read, sleeps');
    s.take('[task r2]: down_read(&S): a writer waits, queues behind it and sleeps');
    expect(s.lock('S', L_READERS)).toBe(1);
  });

  it('a task that reads the rwsem again while a writer waits deadlocks with that writer', () => {
    const v = check(preference([down_read('S'), up_read('S')]));
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation?.message).toContain('task r1: down_read(&S) sleeps: queued behind a waiting writer (task w');
    expect(v.violation?.message).toContain('task w: down_write(&S) sleeps: &S is held for read by task r1');
  });

  it('without a writer, reading it twice in one task is fine', () => {
    expect(check(tasks({ r: [down_read('S'), down_read('S'), up_read('S'), up_read('S')] })).status).toBe('verified');
  });

  it('readers and a writer that never nest always finish', () => {
    expect(check(preference([])).status).toBe('verified');
  });
});

describe('recursion in one task is a deadlock (held-locks.ts)', () => {
  it('down_write twice', () => {
    const v = check(tasks({ t: [down_write('S'), down_write('S')] }));
    expect(v.violation?.kind).toBe('deadlock');
    expect(v.violation?.message).toBe('WARNING: possible recursive locking detected\n  task t: down_write(&S) while it holds &S: it sleeps on itself forever');
  });

  it('down_read then down_write', () => {
    const v = check(tasks({ t: [down_read('S'), down_write('S')] }));
    expect(v.violation?.message).toBe('WARNING: possible recursive locking detected\n  task t: down_write(&S) while it holds &S for read: it sleeps on itself forever');
  });

  it('down_write then down_read', () => {
    expect(check(tasks({ t: [down_write('S'), down_read('S')] })).violation?.kind).toBe('deadlock');
  });
});

describe('trylocks never sleep', () => {
  const branch = (cond: Parameters<typeof if_>[0], unlock: Stmt): Stmt[] =>
    [if_(cond, [{ op: 'assign', var: 'ok', value: 1 }, unlock], [{ op: 'assign', var: 'ok', value: 2 }])];

  it('down_read_trylock succeeds beside readers and fails on a writer', () => {
    const ok = new Schedule(tasks({ a: [down_read('S'), up_read('S')], b: branch(down_read_trylock('S'), up_read('S')) }));
    ok.run('[task a]: down_read', 'down_read_trylock(&S) → 1');
    expect(ok.lock('S', L_READERS)).toBe(2);
    const busy = new Schedule(tasks({ a: [down_write('S'), up_write('S')], b: branch(down_read_trylock('S'), up_read('S')) }));
    busy.run('[task a]: down_write', 'down_read_trylock(&S) → 0');
    expect(busy.lock('S', L_READERS)).toBe(0);
  });

  it('down_read_trylock fails while a writer waits (RWSEM_FLAG_WAITERS)', () => {
    const s = new Schedule(tasks({ a: [down_read('S'), up_read('S')], w: [down_write('S'), up_write('S')], b: branch(down_read_trylock('S'), up_read('S')) }));
    s.run('[task a]: down_read', '[task w]: down_write', 'down_read_trylock(&S) → 0');
  });

  it('down_write_trylock fails beside a reader and succeeds on an unused rwsem', () => {
    const busy = new Schedule(tasks({ a: [down_read('S'), up_read('S')], b: branch(down_write_trylock('S'), up_write('S')) }));
    busy.run('[task a]: down_read', 'down_write_trylock(&S) → 0');
    const ok = new Schedule(tasks({ b: branch(down_write_trylock('S'), up_write('S')) }));
    ok.take('down_write_trylock(&S) → 1');
    expect(ok.lock('S', L_OWNER)).toBe(1);
    expect(check(tasks({ a: [down_write('S'), up_write('S')], b: branch(down_write_trylock('S'), up_write('S')) })).status).toBe('verified');
  });
});

describe('downgrade_write', () => {
  it('the writer becomes a reader, and a waiting reader may join it while a waiting writer still waits', () => {
    const d = tasks({
      w: [down_write('S'), downgrade_write('S'), up_read('S')],
      r: [down_read('S'), up_read('S')],
      w2: [down_write('S'), up_write('S')],
    });
    const s = new Schedule(d).run('[task w]: down_write', '[task r]: down_read(&S): held for write', '[task w2]: down_write(&S): held for write');
    s.take('[task w]: downgrade_write(&S)');
    expect([s.lock('S', L_OWNER), s.lock('S', L_READERS), held(s, 0)]).toEqual([0, 1, 1]);
    expect(check(d).status).toBe('verified');
  });

  it('downgrade_write without holding it for write is misuse', () => {
    const v = check(tasks({ t: [down_read('S'), downgrade_write('S')] }));
    expect(v.violation?.kind).toBe('lock-misuse');
    expect(v.violation?.message).toContain('downgrade_write(&S) by task t, which does not hold it for write');
  });
});

describe('misuse and context', () => {
  it('up_read without a read hold and up_write by a non-owner: bad unlock balance', () => {
    expect(check(tasks({ t: [up_read('S')] })).violation?.message).toContain('WARNING: bad unlock balance detected! task t is trying to release lock (&S) on CPU#0: not held for read by this context (up_read)');
    const v = check(tasks({ a: [down_write('S'), up_write('S')], b: [up_write('S')] }));
    expect(v.violation?.kind).toBe('lock-misuse');
    expect(v.violation?.message).toMatch(/up_write/);
  });

  it('down_read in a hardirq handler sleeps in atomic context', () => {
    const v = check(tasks({ t: [inc('x')] }, { irqs: [{ name: 'eth0', handler: [down_read('S'), up_read('S')] }] }));
    expect(v.violation?.kind).toBe('sleep-in-atomic');
    expect(v.violation?.message).toContain('BUG: sleeping function called from invalid context');
  });

  it('an rw_semaphore is its own type', () => {
    expect(() => compile(tasks({ t: [mutex_lock('S')] }))).toThrow("mutex_lock needs a struct mutex, but 'S' is a struct rw_semaphore");
  });

  it('init_rwsem of a held rwsem: lockdep\'s held lock freed', () => {
    const v = check(tasks({ t: [down_read('S'), init_rwsem('S')] }));
    expect(v.violation?.kind).toBe('lock-misuse');
    expect(v.violation?.message).toContain('WARNING: held lock freed!');
  });
});
