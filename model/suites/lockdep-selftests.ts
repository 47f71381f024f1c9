/**
 * The Linux lockdep self-tests (lib/locking-selftest.c) as a peer suite:
 * every in-scope test case, 278 of them over 93 distinct designs
 * (shared/lockdep-selftests.md §2, §5), each with lockdep's expected
 * result (FAILURE: lockdep must report; SUCCESS: it must stay silent) and
 * §3's judgement of whether a real deadlock exists. runLockdepSuite()
 * checks every design, kdefer's lockdep prediction and search together,
 * and compares them with lockdep case by case.
 *
 * How a test becomes a design (§3.1):
 *  - each event block E1, E2, E3 is a context of its own: a plain block a
 *    task, an IRQ{} block of the hard flavour a hardirq handler, one of the
 *    soft flavour a softirq handler (NET_RX, raised by an interrupt line
 *    `trigger` that may arrive anywhere irqs are on: the softirq then runs
 *    at that interrupt's exit or, if bottom halves are off, at
 *    local_bh_enable or in ksoftirqd);
 *  - IRQ_DISABLE/IRQ_ENABLE are local_irq_disable/enable in the hard
 *    flavour, local_bh_disable/enable in the soft one; IRQOFF{} is
 *    local_irq_disable … local_irq_enable, BHOFF{} local_bh_disable …
 *    local_bh_enable;
 *  - the tasks share min(2, tasks) CPUs, round-robin: 1 or 2 CPUs, the
 *    explorer of §3; with more tasks than CPUs each task may be migrated
 *    while it waits (`allowed`), so that no deadlock hides behind one
 *    placement (the chain-cache and local_lock 3B tests need their two
 *    holders on different CPUs); a problem that needs more holders at once
 *    (the 3- and 4-lock cycles, the special test) is confirmed by the
 *    search with more CPUs (model/check/lockdep-confirm.ts);
 *  - X1 and X2 are two instances of one class X (`locks: { X1: { kind,
 *    class: 'X' } }`), except in the four tests whose only deadlock is
 *    taking one lock twice (AA and the mixed read/write ones, §3 R1ᵃ):
 *    there X2 is X1, the lock §3 maps them to so that the deadlock lockdep
 *    predicts exists;
 *  - every permutation of a group (…/12, …/21, …/123 …) is the same design:
 *    the explorer takes every order, lockdep's permutations only change
 *    which of its rules fires first;
 *  - a block that ends holding locks unlocks them at its end (the harness's
 *    reset_locks() does, without a report), so that no case is a lock leak;
 *  - the main table runs with force_read_lock_recursive = 1 (every
 *    read_lock a recursive reader); its designs are those of a kernel
 *    without queued rwlocks (`flags: { rwlock: 'reader-biased' }`), where
 *    read_lock_is_recursive() is true by configuration. The queued-rwlock,
 *    local_lock and special tests run with the default queued rwlocks.
 */
import type { Design, LockDecl, Stmt } from '../dsl/design.ts';
import {
  local_bh_disable, local_bh_enable, local_irq_disable, local_irq_enable, mutex_lock, mutex_unlock, raise_softirq_irqoff,
  read_lock, read_unlock, rwlock_init, spin_lock, spin_lock_init, spin_unlock, write_lock, write_unlock,
} from '../dsl/design.ts';
import { local_lock, local_unlock } from '../dsl/local_lock.ts';
import type { LockKind } from '../kernel/lock-kinds.ts';
import { check, type CheckOptions, type Verdict } from '../index.ts';

/** lockdep's expected result of a test case (dotest's `expected`). */
export type SelftestExpected = 'FAILURE' | 'SUCCESS';
/**
 * §3's judgement: R1/R2 a real deadlock with 1/2 CPUs (and an interrupt),
 * R3/R4 only with 3/4 holders at once, P a deadlock only with an actor the
 * test does not have (a waiting writer), M misuse, '-' lockdep is silent.
 */
export type SelftestReach = 'R1' | 'R2' | 'R3' | 'R4' | 'P' | 'M' | '-';

export interface SelftestCase {
  /** The label the self-test prints, with its permutation (`A-B-B-A deadlock`, `hard-irqs-on + irq-safe-A/12`). */
  readonly label: string;
  /** Its result column: spin, wlock, rlock, mutex, or the special tests' own. */
  readonly column: string;
  readonly expected: SelftestExpected;
  readonly reach: SelftestReach;
  /** The shared design (one per group, flavour and column). */
  readonly design: Design;
}

// ------------------------------------------------------------ building

type LockType = 'spin' | 'wlock' | 'rlock' | 'mutex';
const KIND: Record<LockType, LockKind> = { spin: 'spinlock', wlock: 'rwlock', rlock: 'rwlock', mutex: 'mutex' };
/** LOCK(x) / UNLOCK(x) of a lock-type header (-spin.h, -wlock.h, -rlock.h, -mutex.h). */
const LOCK: Record<LockType, (l: string) => Stmt> = { spin: spin_lock, wlock: write_lock, rlock: read_lock, mutex: mutex_lock };
const UNLOCK: Record<LockType, (l: string) => Stmt> = { spin: spin_unlock, wlock: write_unlock, rlock: read_unlock, mutex: mutex_unlock };

type Flavour = 'hard' | 'soft';

/** One event block: a task, a hardirq handler or a softirq handler. */
interface Block {
  readonly ctx: 'task' | 'hardirq' | 'softirq';
  readonly body: readonly Stmt[];
}
const task = (...body: Stmt[]): Block => ({ ctx: 'task', body });
const hardirq = (...body: Stmt[]): Block => ({ ctx: 'hardirq', body });
const softirq = (...body: Stmt[]): Block => ({ ctx: 'softirq', body });
const irqBlock = (flavour: Flavour, ...body: Stmt[]): Block => (flavour === 'hard' ? hardirq(...body) : softirq(...body));
/** IRQ_DISABLE … IRQ_ENABLE of a flavour. */
const irqOff = (flavour: Flavour, ...body: Stmt[]): Stmt[] =>
  flavour === 'hard' ? [local_irq_disable(), ...body, local_irq_enable()] : [local_bh_disable(), ...body, local_bh_enable()];
const IRQOFF = (...body: Stmt[]): Stmt[] => [local_irq_disable(), ...body, local_irq_enable()];
const BHOFF = (...body: Stmt[]): Stmt[] => [local_bh_disable(), ...body, local_bh_enable()];

/** A design from its blocks: tasks round-robin on min(2, tasks) CPUs, interrupt lines and the softirq. */
function design(name: string, locks: Readonly<Record<string, LockKind | LockDecl>>, blocks: readonly Block[], queued = false, migrate = true): Design {
  const tasks = blocks.filter((b) => b.ctx === 'task');
  const cpus = Math.max(1, Math.min(2, tasks.length));
  const hard = blocks.filter((b) => b.ctx === 'hardirq');
  const soft = blocks.filter((b) => b.ctx === 'softirq');
  if (soft.length > 1) throw new Error(`kdefer internal error: self-test ${name} has two softirq blocks`);
  return {
    name: `selftest ${name}`,
    cpus,
    ...(queued ? {} : { flags: { rwlock: 'reader-biased' as const } }),
    locks,
    tasks: tasks.map((b, i) => ({
      name: `E${blocks.indexOf(b) + 1}`, cpu: i % cpus, body: b.body,
      // More tasks than CPUs: the load balancer may move a waiting one, so every placement is explored.
      ...(migrate && tasks.length > cpus ? { allowed: [...Array(cpus).keys()] } : {}),
    })),
    irqs: [
      ...hard.map((b) => ({ name: `E${blocks.indexOf(b) + 1}`, handler: b.body })),
      ...(soft.length > 0 ? [{ name: 'trigger', handler: [raise_softirq_irqoff('NET_RX')] }] : []),
    ],
    ...(soft.length > 0 ? { softirqs: { NET_RX: soft[0]!.body } } : {}),
  };
}

/** LOCK_UNLOCK_2(x, y) of a type: x, y taken in order and released in reverse. */
const lockUnlock2 = (t: LockType, x: string, y: string): Block => task(LOCK[t](x), LOCK[t](y), UNLOCK[t](y), UNLOCK[t](x));

const locksOf = (kind: LockKind, ...names: string[]): Record<string, LockKind> => Object.fromEntries(names.map((n) => [n, kind]));

// ---------------------------------------------------------------- cases

const cases: SelftestCase[] = [];
const add = (label: string, column: string, expected: SelftestExpected, reach: SelftestReach, d: Design): void => {
  cases.push({ label, column, expected, reach, design: d });
};

// §2.1 rows 1–7: the cycle rows (DO_TESTCASE_6R: spin F, wlock F, rlock S), plus the mutex AA and ABBA.
const CYCLES: readonly { label: string; reach: SelftestReach; blocks: readonly (readonly [string, string])[] }[] = [
  { label: 'A-B-B-A deadlock', reach: 'R2', blocks: [['A', 'B'], ['B', 'A']] },
  { label: 'A-B-B-C-C-A deadlock', reach: 'R3', blocks: [['A', 'B'], ['B', 'C'], ['C', 'A']] },
  { label: 'A-B-C-A-B-C deadlock', reach: 'R3', blocks: [['A', 'B'], ['C', 'A'], ['B', 'C']] },
  { label: 'A-B-B-C-C-D-D-A deadlock', reach: 'R4', blocks: [['A', 'B'], ['B', 'C'], ['C', 'D'], ['D', 'A']] },
  { label: 'A-B-C-D-B-D-D-A deadlock', reach: 'R3', blocks: [['A', 'B'], ['C', 'D'], ['B', 'D'], ['D', 'A']] },
  { label: 'A-B-C-D-B-C-D-A deadlock', reach: 'R4', blocks: [['A', 'B'], ['C', 'D'], ['B', 'C'], ['D', 'A']] },
];
for (const t of ['spin', 'wlock', 'rlock', 'mutex'] as const) {
  // Row 1, AA: [LOCK X1; LOCK X2] with X1 ≡ X2 (R1ᵃ); the rlock column is a recursive read (S). Unlocked at the end.
  const aa = design(`AA ${t}`, { X1: KIND[t] }, [task(LOCK[t]('X1'), LOCK[t]('X1'), UNLOCK[t]('X1'), UNLOCK[t]('X1'))]);
  add('A-A deadlock', t, t === 'rlock' ? 'SUCCESS' : 'FAILURE', t === 'rlock' ? '-' : 'R1', aa);
  for (const row of CYCLES) {
    // The mutex column is in scope for AA and ABBA only.
    if (t === 'mutex' && row.label !== 'A-B-B-A deadlock') continue;
    const names = [...new Set(row.blocks.flat())];
    const d = design(`${row.label} ${t}`, locksOf(KIND[t], ...names), row.blocks.map(([x, y]) => lockUnlock2(t, x, y)));
    add(row.label, t, t === 'rlock' ? 'SUCCESS' : 'FAILURE', t === 'rlock' ? '-' : row.reach, d);
  }
}

// §2.1 rows 8–9: double unlock and initialize held (spin, wlock, rlock: all F, misuse).
for (const t of ['spin', 'wlock', 'rlock'] as const) {
  add('double unlock', t, 'FAILURE', 'M', design(`double unlock ${t}`, { A: KIND[t] }, [task(LOCK[t]('A'), UNLOCK[t]('A'), UNLOCK[t]('A'))]));
  const init = t === 'spin' ? spin_lock_init('A') : rwlock_init('A');
  add('initialize held', t, 'FAILURE', 'M', design(`initialize held ${t}`, { A: KIND[t] }, [task(LOCK[t]('A'), init)]));
}

// §2.2 rows 10–17: the read-lock specials (rlock column).
{
  const X = { kind: 'rwlock' as const, class: 'X' };
  const RL = read_lock, RU = read_unlock, WL = write_lock, WU = write_unlock, L = spin_lock, U = spin_unlock;
  add('recursive read-lock', 'rlock', 'SUCCESS', '-', design('rlock_AA1', { X1: X }, [task(RL('X1'), RL('X1'), RU('X1'), RU('X1'))]));
  add('recursive read-lock #2', 'rlock', 'SUCCESS', '-', design('rlock_AA1B', { X1: X, X2: X }, [task(RL('X1'), RL('X2'), RU('X2'), RU('X1'))]));
  // X2 ≡ X1 (R1ᵃ): read then write, write then read of one lock in one context.
  add('mixed read-write-lock', 'rlock', 'FAILURE', 'R1', design('rlock_AA2', { X1: X }, [task(RL('X1'), WL('X1'), WU('X1'), RU('X1'))]));
  add('mixed write-read-lock', 'rlock', 'FAILURE', 'R1', design('rlock_AA3', { X1: X }, [task(WL('X1'), RL('X1'), RU('X1'), WU('X1'))]));
  const locks = { X1: X, Y1: 'spinlock' as const };
  const readThenLock = task(RL('X1'), L('Y1'), U('Y1'), RU('X1'));
  add('mixed read-lock/lock-write ABBA', 'rlock', 'FAILURE', 'R2', design('rlock_ABBA1', locks, [readThenLock, task(L('Y1'), WL('X1'), WU('X1'), U('Y1'))]));
  add('mixed read-lock/lock-read ABBA', 'rlock', 'SUCCESS', '-', design('rlock_ABBA2', locks, [readThenLock, task(L('Y1'), RL('X1'), RU('X1'), U('Y1'))]));
  add('mixed write-lock/lock-write ABBA', 'rlock', 'FAILURE', 'R2', design('rlock_ABBA3', locks, [task(WL('X1'), L('Y1'), U('Y1'), WU('X1')), task(L('Y1'), WL('X1'), WU('X1'), U('Y1'))]));
  add('chain cached mixed R-L/L-W ABBA', 'rlock', 'FAILURE', 'R2', design('rlock_chaincache_ABBA1', locks, [
    readThenLock, task(L('Y1'), RL('X1'), RU('X1'), U('Y1')), task(L('Y1'), WL('X1'), WU('X1'), U('Y1')),
  ]));
}

const PERMS_3 = ['123', '132', '213', '231', '312', '321'] as const;
const PERMS_2 = ['12', '21'] as const;

// §2.3 rows 18–21: the rlock 3-cycles (the labels of rows 20 and 21 are swapped with their bodies in the file).
{
  const locks = { X1: { kind: 'rwlock' as const, class: 'X' }, Y1: { kind: 'rwlock' as const, class: 'Y' }, Z1: { kind: 'rwlock' as const, class: 'Z' } };
  const two = (a: (l: string) => Stmt, x: string, b: (l: string) => Stmt, y: string): Block => {
    const un = (f: (l: string) => Stmt) => (f === read_lock ? read_unlock : write_unlock);
    return task(a(x), b(y), un(b)(y), un(a)(x));
  };
  const W = write_lock, R = read_lock;
  const rows: { label: string; expected: SelftestExpected; reach: SelftestReach; blocks: Block[] }[] = [
    { label: 'rlock W1R2/W2R3/W3R1', expected: 'FAILURE', reach: 'R3', blocks: [two(W, 'X1', R, 'Y1'), two(W, 'Y1', R, 'Z1'), two(W, 'Z1', R, 'X1')] },
    { label: 'rlock W1W2/R2R3/W3R1', expected: 'FAILURE', reach: 'R3', blocks: [two(W, 'X1', W, 'Y1'), two(R, 'Y1', R, 'Z1'), two(W, 'Z1', R, 'X1')] },
    { label: 'rlock W1W2/R2R3/R3W1', expected: 'SUCCESS', reach: '-', blocks: [two(W, 'X1', R, 'Y1'), two(R, 'Y1', R, 'Z1'), two(W, 'Z1', W, 'X1')] },
    { label: 'rlock W1R2/R2R3/W3W1', expected: 'SUCCESS', reach: '-', blocks: [two(W, 'X1', W, 'Y1'), two(R, 'Y1', R, 'Z1'), two(R, 'Z1', W, 'X1')] },
  ];
  for (const row of rows) {
    const d = design(row.label, locks, row.blocks);
    for (const perm of PERMS_3) add(`${row.label}/${perm}`, 'rlock', row.expected, row.reach, d);
  }
}

// §2.4 rows 22–30: the irq-context groups. Columns spin F, wlock F, rlock S (rows 28–30: wlock F, rlock S).
const FLAVOURS = ['hard', 'soft'] as const;
const irqTypes = ['spin', 'wlock', 'rlock'] as const;
const irqExpected = (t: LockType): SelftestExpected => (t === 'rlock' ? 'SUCCESS' : 'FAILURE');
const irqReach = (t: LockType, reach: SelftestReach): SelftestReach => (t === 'rlock' ? '-' : reach);

for (const f of FLAVOURS) {
  for (const t of irqTypes) {
    // Row 22, irqsafe1: IRQ{LOCK A} and [LOCK A] in a task with irqs on.
    const d = design(`irqsafe1 ${f} ${t}`, { A: KIND[t] }, [irqBlock(f, LOCK[t]('A'), UNLOCK[t]('A')), task(LOCK[t]('A'), UNLOCK[t]('A'))]);
    for (const perm of PERMS_2) add(`${f}-irqs-on + irq-safe-A/${perm}`, t, irqExpected(t), irqReach(t, 'R1'), d);
  }
}
for (const t of irqTypes) {
  // Row 23, irqsafe2A (soft only): SOFTIRQ{LOCK A}; a task enables hard irqs while holding A with BH on.
  const d = design(`irqsafe2A ${t}`, { A: KIND[t] }, [softirq(LOCK[t]('A'), UNLOCK[t]('A')), task(local_irq_disable(), LOCK[t]('A'), local_irq_enable(), UNLOCK[t]('A'))]);
  for (const perm of PERMS_2) add(`sirq-safe-A => hirqs-on/${perm}`, t, irqExpected(t), irqReach(t, 'R1'), d);
}
for (const f of FLAVOURS) {
  for (const t of irqTypes) {
    // Row 24, irqsafe2B: IRQ{LOCK A}; IRQ_DISABLE; LOCK A; IRQ_ENABLE (A still held); UNLOCK A.
    const off = f === 'hard' ? local_irq_disable() : local_bh_disable();
    const on = f === 'hard' ? local_irq_enable() : local_bh_enable();
    const d = design(`irqsafe2B ${f} ${t}`, { A: KIND[t] }, [irqBlock(f, LOCK[t]('A'), UNLOCK[t]('A')), task(off, LOCK[t]('A'), on, UNLOCK[t]('A'))]);
    for (const perm of PERMS_2) add(`${f}-safe-A + irqs-on/${perm}`, t, irqExpected(t), irqReach(t, 'R1'), d);
  }
}
for (const f of FLAVOURS) {
  for (const t of irqTypes) {
    const L = LOCK[t], U = UNLOCK[t];
    // Row 25, irqsafe3 (#1): [LOCK A; LOCK B] with irqs on, [LOCK B], IRQ{LOCK A}.
    const d1 = design(`irqsafe3 ${f} ${t}`, locksOf(KIND[t], 'A', 'B'), [task(L('A'), L('B'), U('B'), U('A')), task(L('B'), U('B')), irqBlock(f, L('A'), U('A'))]);
    for (const perm of PERMS_3) add(`${f}-safe-A + unsafe-B #1/${perm}`, t, irqExpected(t), irqReach(t, 'R1'), d1);
    // Row 26, irqsafe4 (#2): IRQ_DISABLE; LOCK A; LOCK B …; [LOCK B]; IRQ{LOCK A}.
    const d2 = design(`irqsafe4 ${f} ${t}`, locksOf(KIND[t], 'A', 'B'), [task(...irqOff(f, L('A'), L('B'), U('B'), U('A'))), task(L('B'), U('B')), irqBlock(f, L('A'), U('A'))]);
    for (const perm of PERMS_3) add(`${f}-safe-A + unsafe-B #2/${perm}`, t, irqExpected(t), irqReach(t, 'R2'), d2);
    // Row 27, irq lock inversion: A is always an rwlock: IRQ_DISABLE; WL A; LOCK B …; [LOCK B]; IRQ{RL A}.
    const d3 = design(`irq_inversion ${f} ${t}`, { A: 'rwlock', B: KIND[t] }, [
      task(...irqOff(f, write_lock('A'), L('B'), U('B'), write_unlock('A'))), task(L('B'), U('B')), irqBlock(f, read_lock('A'), read_unlock('A')),
    ]);
    for (const perm of PERMS_3) add(`${f}-irq lock-inversion/${perm}`, t, irqExpected(t), irqReach(t, 'R2'), d3);
  }
}
for (const f of FLAVOURS) {
  for (const t of ['wlock', 'rlock'] as const) {
    const L = LOCK[t], U = UNLOCK[t];
    // Row 28: IRQ_DISABLE; WL A; WU A; [RL A]; IRQ{LOCK A; L B; U B; UNLOCK A}.
    const d28 = design(`irq_read_recursion ${f} ${t}`, { A: 'rwlock', B: 'spinlock' }, [
      task(...irqOff(f, write_lock('A'), write_unlock('A'))), task(read_lock('A'), read_unlock('A')), irqBlock(f, L('A'), spin_lock('B'), spin_unlock('B'), U('A')),
    ]);
    for (const perm of PERMS_3) add(`${f}-irq read-recursion/${perm}`, t, irqExpected(t), irqReach(t, 'R1'), d28);
    // Row 29: IRQ_DISABLE; L B; LOCK A; UNLOCK A; U B; [RL A]; IRQ{L B; U B}.
    const d29 = design(`irq_read_recursion2 ${f} ${t}`, { A: 'rwlock', B: 'spinlock' }, [
      task(...irqOff(f, spin_lock('B'), L('A'), U('A'), spin_unlock('B'))), task(read_lock('A'), read_unlock('A')), irqBlock(f, spin_lock('B'), spin_unlock('B')),
    ]);
    for (const perm of PERMS_3) add(`${f}-irq read-recursion #2/${perm}`, t, irqExpected(t), irqReach(t, 'R2'), d29);
    // Row 30: IRQ_DISABLE; WL B; LOCK A; UNLOCK A; WU B; [RL A]; IRQ{RL B; RU B} (B is rwlock_B).
    const d30 = design(`irq_read_recursion3 ${f} ${t}`, { A: 'rwlock', B: 'rwlock' }, [
      task(...irqOff(f, write_lock('B'), L('A'), U('A'), write_unlock('B'))), task(read_lock('A'), read_unlock('A')), irqBlock(f, read_lock('B'), read_unlock('B')),
    ]);
    for (const perm of PERMS_3) add(`${f}-irq read-recursion #3/${perm}`, t, irqExpected(t), irqReach(t, 'R2'), d30);
  }
}

// §2.5 rows 31–33: queued rwlocks (force_read_lock_recursive = 0): a task's read_lock is not recursive.
{
  const locks = { A: 'rwlock' as const, B: 'rwlock' as const };
  const RL = read_lock, RU = read_unlock, WL = write_lock, WU = write_unlock;
  add('hardirq read-lock/lock-read', 'queued', 'FAILURE', 'P', design('queued_read_lock_hardirq_RE_Er', locks, [
    hardirq(RL('A'), WL('B'), WU('B'), RU('A')), task(...IRQOFF(WL('B'), RL('A'), RU('A'), WU('B'))),
  ], true));
  add('hardirq lock-read/read-lock', 'queued', 'SUCCESS', '-', design('queued_read_lock_hardirq_ER_rE', locks, [
    hardirq(WL('B'), RL('A'), RU('A'), WU('B')), task(...IRQOFF(RL('A'), WL('B'), WU('B'), RU('A'))),
  ], true));
  add('hardirq inversion', 'queued', 'FAILURE', 'P', design('queued_read_lock_hardirq_inversion', locks, [
    hardirq(WL('B'), WU('B')), task(...IRQOFF(WL('B'), RL('A'), RU('A'), WU('B'))), task(RL('A'), RU('A')),
  ], true));
}

// §2.5 rows 34–36: local_lock (a per-CPU lock, skipped by lockdep's irq-inversion search).
{
  const locks = { a: 'local_lock' as const, A: 'spinlock' as const, B: 'spinlock' as const };
  const L = spin_lock, U = spin_unlock;
  const irqsafeA = hardirq(L('A'), U('A'));
  const aUnderA = task(...IRQOFF(L('A'), local_lock('a'), local_unlock('a'), U('A')));
  add('local_lock inversion  2', 'local_lock', 'SUCCESS', '-', design('local_lock_2', locks, [task(local_lock('a'), local_unlock('a')), irqsafeA, aUnderA], true));
  const bUnderA = task(local_lock('a'), L('B'), U('B'), local_unlock('a'));
  add('local_lock inversion 3A', 'local_lock', 'SUCCESS', '-', design('local_lock_3A', locks, [bUnderA, irqsafeA, aUnderA], true));
  add('local_lock inversion 3B', 'local_lock', 'FAILURE', 'R2', design('local_lock_3B', locks, [
    bUnderA, irqsafeA, aUnderA, task(...IRQOFF(L('A'), L('B'), U('B'), U('A'))),
  ], true));
}

// §2.5 row 37: hardirq_unsafe_softirq_safe (M is mutex_A; A–D are lock_A–lock_D).
{
  const locks = { M: 'mutex' as const, A: 'spinlock' as const, B: 'spinlock' as const, C: 'spinlock' as const, D: 'spinlock' as const };
  const L = spin_lock, U = spin_unlock;
  add('hardirq_unsafe_softirq_safe', 'special', 'FAILURE', 'R4', design('hardirq_deadlock_softirq_not_deadlock', locks, [
    hardirq(L('A'), U('A')),
    task(...IRQOFF(L('A'), L('B'), U('B'), U('A'))),
    task(...IRQOFF(L('B'), L('C'), U('C'), U('B'))),
    softirq(L('D'), U('D')),
    task(...BHOFF(L('D'), U('D'))),
    task(...IRQOFF(L('C'), L('D'), U('D'), U('C'))),
    task(mutex_lock('M'), ...IRQOFF(L('C'), U('C')), mutex_unlock('M')),
  ], true, false));
}

/** Every in-scope test case of lib/locking-selftest.c, in the order of §2. */
export const LOCKDEP_SELFTESTS: readonly SelftestCase[] = cases;

/** The distinct designs of the suite, in order. */
export const LOCKDEP_SELFTEST_DESIGNS: readonly Design[] = [...new Set(cases.map((c) => c.design))];

// ---------------------------------------------------------------- running

/** What the search showed for a case, in the table's words. */
export type SelftestConfirmed = 'deadlock' | 'deadlock (more CPUs)' | 'misuse' | 'not reachable' | 'not decided' | 'none';

export interface SelftestResult {
  readonly label: string;
  readonly column: string;
  readonly design: string;
  readonly expected: SelftestExpected;
  readonly reach: SelftestReach;
  /** lockdep's prediction over the explored executions: FAILURE if it reports anything. */
  readonly predicted: SelftestExpected;
  /** The headers of what it reports. */
  readonly reports: readonly string[];
  readonly confirmed: SelftestConfirmed;
  /** The verdict of the design's own bounds (verified, or the violation kind). */
  readonly verdict: string;
  /** The prediction equals lockdep's expectation, and the search settles it as §3 says (see `note` otherwise). */
  readonly agree: boolean;
  /** Why a case disagrees, or the reason a FAILURE is not reachable. */
  readonly note: string;
}

/** How a verdict's lockdep entries and violation compare with a case's expectation and reach class. */
function judge(c: SelftestCase, v: Verdict): SelftestResult {
  const entries = v.lockdep ?? [];
  const predicted: SelftestExpected = entries.length > 0 ? 'FAILURE' : 'SUCCESS';
  const confirmedEntries = entries.filter((e) => e.status === 'confirmed');
  const within = confirmedEntries.filter((e) => e.schedule && e.schedule.cpus === v.bounds.cpus);
  const wider = confirmedEntries.filter((e) => e.schedule && e.schedule.cpus > v.bounds.cpus);
  let confirmed: SelftestConfirmed;
  if (entries.length === 0) confirmed = 'none';
  else if (within.some((e) => e.schedule!.violation.kind === 'lock-misuse')) confirmed = 'misuse';
  else if (within.length > 0) confirmed = 'deadlock';
  else if (wider.length > 0) confirmed = 'deadlock (more CPUs)';
  else if (entries.every((e) => e.status === 'not-reachable')) confirmed = 'not reachable';
  else confirmed = 'not decided';
  const verdict = v.violation ? v.violation.kind : v.status;
  const problems: string[] = [];
  if (predicted !== c.expected) problems.push(`lockdep expects ${c.expected}, predicted ${predicted}`);
  const undecided = entries.filter((e) => e.status === 'not-decided');
  if (undecided.length > 0) problems.push(`not decided: ${undecided[0]!.reason}`);
  switch (c.reach) {
    case '-':
      if (v.status !== 'verified') problems.push(`expected verified, got ${verdict}`);
      break;
    case 'R1':
    case 'R2':
      if (verdict !== 'deadlock') problems.push(`expected a deadlock within ${v.bounds.cpus} CPUs, got ${verdict}`);
      if (within.length === 0 || within.some((e) => e.schedule!.violation.kind !== 'deadlock')) problems.push('no report confirmed by a deadlock within the design\'s CPUs');
      break;
    case 'R3':
    case 'R4': {
      const need = c.reach === 'R3' ? 3 : 4;
      if (v.status !== 'verified') problems.push(`expected verified within ${v.bounds.cpus} CPUs, got ${verdict}`);
      if (!wider.some((e) => e.schedule!.cpus === need)) problems.push(`no report confirmed by a deadlock with ${need} CPUs`);
      break;
    }
    case 'P':
      if (v.status !== 'verified') problems.push(`expected verified, got ${verdict}`);
      if (!entries.every((e) => e.status === 'not-reachable' && e.reason.startsWith('no writer'))) problems.push('expected every report not reachable for want of a writer');
      break;
    case 'M':
      if (verdict !== 'lock-misuse' || confirmed !== 'misuse') problems.push(`expected lock-misuse confirmed, got ${verdict} / ${confirmed}`);
      break;
  }
  const notReachable = entries.find((e) => e.status === 'not-reachable');
  return {
    label: c.label, column: c.column, design: c.design.name, expected: c.expected, reach: c.reach, predicted,
    reports: entries.map((e) => e.title), confirmed, verdict, agree: problems.length === 0,
    note: problems.length > 0 ? problems.join('; ') : notReachable ? notReachable.reason : '',
  };
}

/**
 * Check every design of the suite (prediction and search together) and
 * compare each case with lockdep's expectation and §3's reach class;
 * `select`: only the cases it selects (and only their designs are checked).
 */
export function runLockdepSuite(
  opts: Pick<CheckOptions, 'maxStates'> & { readonly select?: (c: SelftestCase) => boolean } = {},
): { cases: SelftestResult[]; totals: { cases: number; agree: number } } {
  const verdicts = new Map<Design, Verdict>();
  const checkOpts = opts.maxStates === undefined ? {} : { maxStates: opts.maxStates };
  const results = LOCKDEP_SELFTESTS.filter(opts.select ?? (() => true)).map((c) => {
    let v = verdicts.get(c.design);
    if (!v) verdicts.set(c.design, (v = check(c.design, checkOpts)));
    return judge(c, v);
  });
  return { cases: results, totals: { cases: results.length, agree: results.filter((r) => r.agree).length } };
}
