/**
 * Random small designs for properties over the explorers: 1–3 CPUs, a few
 * locks of random kinds taken with random variants, tasks, interrupt lines,
 * a softirq, a tasklet, a timer and a work item, with racy and locked
 * updates of shared variables, sleeping calls where they are allowed and
 * sometimes where they are not. Built from well-formed blocks (every lock
 * taken is released, in the same context) but in random orders across
 * contexts, so deadlocks, sleeping in atomic context, lost updates and
 * invariant failures all occur.
 */
import fc from 'fast-check';
import {
  add, assign, defineDesign, gt, inc, le, load, local_bh_disable, local_bh_enable, local_irq_restore, local_irq_save, mutex_lock,
  mutex_unlock, r, raise_softirq, read_lock, read_lock_bh, read_unlock, read_unlock_bh, spin_lock, spin_lock_bh, spin_lock_irq,
  spin_lock_irqsave, spin_unlock, spin_unlock_bh, spin_unlock_irq, spin_unlock_irqrestore, v, wait_event, wake_up, write_lock,
  write_lock_irqsave, write_unlock, write_unlock_irqrestore, BUG_ON, type Design, type Invariant, type Stmt,
} from '../../model/index.ts';
import { tasklet_schedule } from '../../model/dsl/tasklet.ts';
import { mod_timer } from '../../model/dsl/timer.ts';
import { schedule_work } from '../../model/dsl/workqueue.ts';

type LockKind = 'spinlock' | 'rwlock' | 'mutex';

/** Where a block runs: a task may sleep; an interrupt handler, softirq, tasklet or timer may not. */
type Where = 'task' | 'atomic';

interface Shape {
  readonly cpus: number;
  readonly locks: readonly LockKind[];
  readonly softirq: boolean;
  readonly tasklet: boolean;
  readonly timer: boolean;
  readonly work: boolean;
}

const LOCK = (i: number) => `L${i}`;

/** One block of statements, well formed, for a context of kind `where`. */
function block(shape: Shape, where: Where): fc.Arbitrary<Stmt[]> {
  const body = fc.constantFrom<Stmt[]>(
    [inc('x')],
    [load('t', v('x')), assign('x', add(r('t'), 1))],
    [inc('y')],
    [BUG_ON(gt(v('x'), 6), 'x too large')],
  );
  const options: fc.Arbitrary<Stmt[]>[] = [body];
  shape.locks.forEach((kind, i) => {
    const l = LOCK(i);
    if (kind === 'spinlock') {
      options.push(fc.tuple(fc.constantFrom('plain', 'bh', 'irq', 'irqsave'), body).map(([flavour, b]) => {
        switch (flavour) {
          case 'bh': return [spin_lock_bh(l), ...b, spin_unlock_bh(l)];
          case 'irq': return [spin_lock_irq(l), ...b, spin_unlock_irq(l)];
          case 'irqsave': return [spin_lock_irqsave(l, 'f'), ...b, spin_unlock_irqrestore(l, 'f')];
          default: return [spin_lock(l), ...b, spin_unlock(l)];
        }
      }));
    } else if (kind === 'rwlock') {
      options.push(fc.tuple(fc.constantFrom('read', 'read_bh', 'write', 'write_irqsave'), body).map(([mode, b]) => {
        switch (mode) {
          case 'read': return [read_lock(l), ...b, read_unlock(l)];
          case 'read_bh': return [read_lock_bh(l), ...b, read_unlock_bh(l)];
          case 'write_irqsave': return [write_lock_irqsave(l, 'f'), ...b, write_unlock_irqrestore(l, 'f')];
          default: return [write_lock(l), ...b, write_unlock(l)];
        }
      }));
    } else if (where === 'task') {
      options.push(body.map((b) => [mutex_lock(l), ...b, mutex_unlock(l)]));
    }
  });
  // Two locks nested, in a random order: ABBA across contexts.
  const spins = shape.locks.flatMap((k, i) => (k === 'spinlock' ? [i] : []));
  if (spins.length >= 2) {
    options.push(fc.tuple(fc.shuffledSubarray(spins, { minLength: 2, maxLength: 2 }), body).map(([[a, b], s]) => [
      spin_lock_irqsave(LOCK(a!), 'f'), spin_lock(LOCK(b!)), ...s, spin_unlock(LOCK(b!)), spin_unlock_irqrestore(LOCK(a!), 'f'),
    ]));
  }
  options.push(body.map((b) => [local_irq_save('g'), ...b, local_irq_restore('g')]));
  if (where === 'task') options.push(body.map((b) => [local_bh_disable(), ...b, local_bh_enable()]));
  if (shape.softirq) options.push(fc.constant([raise_softirq('NET_RX')]));
  if (shape.tasklet) options.push(fc.constant([tasklet_schedule('tl')]));
  if (shape.timer && where === 'task') options.push(fc.constant([mod_timer('tm', 1)]));
  if (shape.work) options.push(fc.constant([schedule_work('wk')]));
  // A wait for y, and its wake-up with y set: rarer, so that not every design hangs.
  const sleeping: fc.Arbitrary<Stmt[]>[] = where === 'task' ? [fc.constant([wait_event('wq', gt(v('y'), 0))]), fc.constant([inc('y'), wake_up('wq')])] : [];
  return fc.oneof({ arbitrary: fc.oneof(...options), weight: 6 }, ...sleeping.map((arbitrary) => ({ arbitrary, weight: 1 })));
}

const code = (shape: Shape, where: Where, max: number): fc.Arbitrary<Stmt[]> =>
  fc.array(block(shape, where), { minLength: 1, maxLength: max }).map((blocks) => blocks.flat());

/** A random small design (see the file comment). */
export const randomDesign: fc.Arbitrary<Design> = fc.record({
  cpus: fc.integer({ min: 1, max: 3 }),
  locks: fc.array(fc.constantFrom<LockKind>('spinlock', 'spinlock', 'rwlock', 'mutex'), { minLength: 1, maxLength: 3 }),
  softirq: fc.boolean(),
  tasklet: fc.boolean(),
  timer: fc.boolean(),
  work: fc.boolean(),
}).chain((shape) => fc.record({
  shape: fc.constant(shape),
  tasks: fc.array(fc.tuple(fc.integer({ min: 0, max: shape.cpus - 1 }), code(shape, 'task', 2)), { minLength: 1, maxLength: 3 }),
  irqs: fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: shape.cpus - 1 }), fc.integer({ min: 1, max: 2 }), code(shape, 'atomic', 2)), { maxLength: 2 }),
  softirq: code(shape, 'atomic', 2),
  tasklet: code(shape, 'atomic', 2),
  timer: code(shape, 'atomic', 1),
  work: code(shape, 'task', 2),
  invariant: fc.option(fc.constantFrom<Invariant>(
    { name: 'x small', holds: le(v('x'), 5) },
    { name: 'x at least y', holds: { fn: '>=', args: [add(v('x'), 3), v('y')] } },
  ), { freq: 3 }),
})).map(({ shape, tasks, irqs, softirq, tasklet, timer, work, invariant }) => {
  const needs = (op: string) => JSON.stringify([tasks, irqs, softirq, tasklet, timer, work]).includes(`"${op}"`);
  return defineDesign({
    name: 'random',
    cpus: shape.cpus,
    locks: Object.fromEntries(shape.locks.map((k, i) => [LOCK(i), k])),
    vars: { x: 0, y: 0 },
    waitqueues: { wq: {} },
    functions: {
      ...(shape.tasklet ? { tl_fn: tasklet } : {}),
      ...(shape.timer ? { tm_fn: timer } : {}),
      ...(shape.work ? { wk_fn: work } : {}),
    },
    ...(shape.tasklet ? { tasklets: { tl: { func: 'tl_fn' } } } : {}),
    ...(shape.timer ? { timers: { tm: { func: 'tm_fn' } }, options: { ticks: 1 } } : {}),
    ...(shape.work ? { works: { wk: { func: 'wk_fn' } } } : {}),
    ...(shape.softirq && needs('raise_softirq') ? { softirqs: { NET_RX: softirq } } : {}),
    tasks: tasks.map(([cpu, body], i) => ({ name: `t${i}`, cpu, body })),
    irqs: irqs.map(([all, cpu, budget, handler], i) => ({ name: `irq${i}`, ...(all ? {} : { cpus: [cpu] }), budget, handler })),
    ...(invariant ? { invariants: [invariant] } : {}),
  });
}).filter((d) => {
  // raise_softirq needs a handler; keep designs that name only what they declare.
  const text = JSON.stringify(d);
  return !text.includes('"raise_softirq"') || d.softirqs !== undefined;
});
