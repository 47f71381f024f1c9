/**
 * Tasks and the scheduler (kernel/sched/core.c). Tasks run in process
 * context, each pinned to a CPU. A task leaves its CPU when it finishes,
 * sleeps (blocks on a wait channel) or yields; the CPU then runs whichever
 * runnable task the scheduler picks: a choice. With `preempt: 'full'`
 * (CONFIG_PREEMPT) a task may also be preempted at any preemptible point
 * (preempt_count 0, irqs on), another choice. With `preempt: 'none'` it
 * gives up the CPU only at explicit points (schedule, cond_resched, a
 * sleeping call).
 *
 * Sleep and wakeup: a blocked task waits on a channel (tag << 16 | object
 * id); mechanisms wake channels. A blocked task's pc stays on the
 * instruction it sleeps in; woken, it re-executes it, which re-checks its
 * condition (mutex owner, completion count, wait_event condition) as the
 * kernel's wait loops do, or, for an unconditional sleep, moves on (phase 1).
 *
 * might_sleep (`__might_resched`) and "scheduling while atomic"
 * (`schedule_debug`) live here, with preempt_disable/preempt_enable.
 */
import {
  C_BH, C_CURTASK, C_DEPTH, C_IRQS_OFF, C_PREEMPT, ContextStatus, FrameKind, T_CHANNEL, X_CPU, X_HELD, X_PC,
  X_PHASE, X_RCU, X_STATUS,
} from './layout.ts';
import type { Machine } from './machine.ts';
import { callsAny, INSN_WIDTH, sleepersOf } from './program.ts';
import type { Program } from './program.ts';
import type { ChoiceSource, FootprintBuilder, FrameExit, Mechanism, OpSemantics } from './semantics.ts';
import { heldNames } from './softirq.ts';

/** Wait channel tags; a channel is tag << 16 | object id. */
export const enum Chan {
  Mutex = 1,
  Semaphore = 2,
  Completion = 3,
  WaitQueue = 4,
  /** msleep/schedule_timeout: woken by the timeout choice. */
  Timeout = 5,
  Tasklet = 6,
  Timer = 7,
  Work = 8,
  Worker = 9,
  /** kthread_stop waits for a task's exit (kthread.ts). */
  Kthread = 10,
  /** synchronize_rcu and rcu_barrier (rcu.ts). */
  Rcu = 11,
  /** synchronize_irq, free_irq, disable_irq: threaded handlers to finish (irq.ts). */
  Irq = 12,
  /** napi_disable (napi.ts). */
  Napi = 13,
  /** lock_sock waits for the owner's release_sock (sock.ts). */
  Sock = 14,
}
export const channel = (tag: Chan, id: number): number => (tag << 16) | id;
/**
 * In a Chan.Worker channel's id: the kernel thread does not exist yet
 * (KernelThread.uncreated), or its creation failed for good; an idle
 * kthread either way (check/deadlock.ts), which nothing but its
 * mechanism's creation wakes.
 */
export const UNCREATED_KTHREAD = 0x4000;
export const FAILED_KTHREAD = 0x2000;

const isRunnable = (status: number): boolean => status === ContextStatus.Runnable || status === ContextStatus.NotStarted;

/** Put the running task `ctx` to sleep on `chan`; its CPU is free for another task. */
export function block(m: Machine, cpu: number, ctx: number, chan: number): void {
  const o = m.ctxOff(ctx);
  m.w(o + X_STATUS, ContextStatus.Blocked);
  m.w(o + T_CHANNEL, chan);
  m.w(m.cpuOff(cpu) + C_CURTASK, -1);
}

/** Wake every task sleeping on `chan` (wake_up_all semantics; each re-checks). */
export function wakeAll(m: Machine, chan: number): void {
  for (let t = 0; t < m.L.ntasks; t++) {
    const o = m.ctxOff(t);
    if (m.s[o + X_STATUS] === ContextStatus.Blocked && m.s[o + T_CHANNEL] === chan) {
      m.w(o + X_STATUS, ContextStatus.Runnable);
      m.w(o + T_CHANNEL, 0);
    }
  }
}

/** The running task gives up its CPU but stays runnable (schedule() in TASK_RUNNING). */
export function yieldCpu(m: Machine, cpu: number, ctx: number): void {
  m.w(m.ctxOff(ctx) + X_STATUS, ContextStatus.Runnable);
  m.w(m.cpuOff(cpu) + C_CURTASK, -1);
}

/** The design location of `ctx`'s current instruction. */
export const whereOf = (m: Machine, ctx: number): string => m.p.where[m.s[m.ctxOff(ctx) + X_PC]! / INSN_WIDTH]!;

/**
 * __might_resched(): a sleeping primitive needs task context, preempt_count
 * 0 and irqs on. False (and a sleep-in-atomic violation) otherwise. The
 * check fires whether or not the call would really block.
 */
export function mightSleep(m: Machine, cpu: number, ctx: number, what: string): boolean {
  const atomic = m.inAtomic(cpu);
  const irqsOff = m.irqsOff(cpu);
  // PREEMPT_RCU (preempt: 'full'): a task inside rcu_read_lock has preempt_count 0 but
  // __might_resched counts rcu_preempt_depth() too (5.17+: "RCU nest depth").
  const rcuDepth = m.isTask(ctx) ? m.s[m.ctxOff(ctx) + X_RCU]! & 0xff : 0;
  const held = m.held(ctx);
  // PREEMPT_RT: a held spinlock_t/rwlock_t holds rcu_read_lock (rt_spin_lock), and
  // __might_resched allows no RCU nesting outside an rtlock's own check.
  const rtHeld = m.p.flags.preemptRT ? m.p.locks.reduce((n, l, i) => n + ((held & (1 << i)) !== 0 && (l.kind === 'spinlock' || l.kind === 'rwlock') ? 1 : 0), 0) : 0;
  const rcu = rcuDepth + rtHeld;
  if (!atomic && !irqsOff && rcu === 0 && m.inTask(cpu) && m.isTask(ctx)) return true;
  m.fail('sleep-in-atomic',
    `BUG: sleeping function called from invalid context at ${whereOf(m, ctx)}\n` +
    `in_atomic(): ${atomic ? 1 : 0}, irqs_disabled(): ${irqsOff ? 1 : 0}, non_block: 0, name: ${m.contextName(ctx)}\n` +
    `preempt_count: ${m.preemptCount(cpu).toString(16)}, expected: 0\n` +
    (rcu > 0 && m.p.preempt === 'full' ? `RCU nest depth: ${rcu}, expected: 0${rtHeld > 0 ? ' (PREEMPT_RT: each held spinlock_t/rwlock_t holds rcu_read_lock)' : ''}\n` : '') +
    `${what}${held ? ` with ${heldNames(m, held)} held` : ''}${m.inHardirq(cpu) ? ' in hardirq context' : !m.inTask(cpu) ? ' in softirq context' : ''}`,
    cpu, ctx);
  return false;
}

/**
 * schedule_debug(): "BUG: scheduling while atomic" when in_atomic_preempt_off(),
 * i.e. any preempt_count beyond schedule's own. Irqs off alone is not atomic
 * here (that is might_sleep's business).
 */
function scheduleAllowed(m: Machine, cpu: number, ctx: number): boolean {
  if (m.isTask(ctx) && !m.inAtomic(cpu)) return true;
  m.fail('sleep-in-atomic', `BUG: scheduling while atomic: ${m.contextName(ctx)}/0x${m.preemptCount(cpu).toString(16).padStart(8, '0')} at ${whereOf(m, ctx)}`, cpu, ctx);
  return false;
}

/**
 * The footprint of a scheduling event on `cpu`: this CPU's state and the
 * state of every task that may run on it (`migratable`: only those that
 * may also run elsewhere, and without this CPU's state).
 */
function tasksOfCpu(f: FootprintBuilder, p: Program, cpu: number, migratable: boolean): void {
  if (!migratable) f.write(f.ownCpu());
  p.tasks.forEach((t, i) => {
    if ((t.allowedMask & (1 << cpu)) === 0) return;
    if (migratable && (t.allowedMask & (t.allowedMask - 1)) === 0) return;
    f.write(f.task(i));
  });
}

/** The CPU picks a runnable task when it has none (after a finish, sleep or yield). */
const SCHEDULE: ChoiceSource = {
  name: 'schedule',
  footprint: (f, p, cpu) => tasksOfCpu(f, p, cpu, false),
  // A CPU running a task or an interrupt frame picks nothing until that leaves: its own step.
  quiet: (m, cpu) => m.s[m.cpuOff(cpu) + C_CURTASK] !== -1 || m.s[m.cpuOff(cpu) + C_DEPTH] !== 0,
  collect(m, cpu, out) {
    const co = m.cpuOff(cpu);
    if (m.s[co + C_CURTASK] !== -1 || m.s[co + C_DEPTH] !== 0) return;
    const tasks = m.p.tasks;
    for (let t = 0; t < tasks.length; t++) {
      if (m.cpuOfCtx(t) === cpu && isRunnable(m.s[m.ctxOff(t) + X_STATUS]!)) out.push(m.choice(SCHEDULE, cpu, t, 0));
    }
  },
  apply(m, cpu, t) {
    m.w(m.cpuOff(cpu) + C_CURTASK, t);
    m.w(m.ctxOff(t) + X_STATUS, ContextStatus.Running);
  },
  label(m, _cpu, t) {
    return `schedule() → task ${m.p.tasks[t]!.name}`;
  },
};

/**
 * CONFIG_PREEMPT: at a preemptible point (preempt_count 0, irqs on, no
 * interrupt frame) the running task may be preempted by another runnable
 * task of its CPU (preempt_schedule_irq at irq return, or preempt_enable).
 */
const PREEMPT: ChoiceSource = {
  name: 'preempt',
  active: (p) => p.preempt === 'full',
  footprint: (f, p, cpu) => tasksOfCpu(f, p, cpu, false),
  // Only this CPU's own state makes its task preemptible; another CPU can only add a runnable task.
  quiet(m, cpu) {
    const co = m.cpuOff(cpu);
    return m.s[co + C_CURTASK]! < 0 || m.s[co + C_DEPTH] !== 0 || m.inAtomic(cpu) || m.irqsOff(cpu);
  },
  collect(m, cpu, out) {
    if (m.p.preempt !== 'full') return;
    const co = m.cpuOff(cpu);
    const cur = m.s[co + C_CURTASK]!;
    if (cur < 0 || m.s[co + C_DEPTH] !== 0 || m.inAtomic(cpu) || m.irqsOff(cpu)) return;
    const tasks = m.p.tasks;
    for (let t = 0; t < tasks.length; t++) {
      if (t !== cur && m.cpuOfCtx(t) === cpu && isRunnable(m.s[m.ctxOff(t) + X_STATUS]!)) out.push(m.choice(PREEMPT, cpu, t, 0));
    }
  },
  apply(m, cpu, t) {
    const co = m.cpuOff(cpu);
    const cur = m.s[co + C_CURTASK]!;
    m.w(m.ctxOff(cur) + X_STATUS, ContextStatus.Runnable);
    m.w(co + C_CURTASK, t);
    m.w(m.ctxOff(t) + X_STATUS, ContextStatus.Running);
  },
  label(m, cpu, t) {
    const cur = m.s[m.cpuOff(cpu) + C_CURTASK]!;
    return `preempt: task ${m.p.tasks[cur]!.name} → task ${m.p.tasks[t]!.name}`;
  },
};

/**
 * Load balancing: a task that is runnable but not running may be moved to
 * another CPU it is allowed on (set_cpus_allowed / the load balancer's
 * move_queued_task). A running task moves only after it is preempted or
 * yields, so per-CPU data is stable inside a non-preemptible section.
 */
const MIGRATE: ChoiceSource = {
  name: 'migrate',
  active: (p) => p.tasks.some((t) => (t.allowedMask & (t.allowedMask - 1)) !== 0),
  footprint: (f, p, cpu) => tasksOfCpu(f, p, cpu, true),
  collect(m, cpu, out) {
    const tasks = m.p.tasks;
    for (let t = 0; t < tasks.length; t++) {
      const mask = tasks[t]!.allowedMask;
      if ((mask & (mask - 1)) === 0 || m.cpuOfCtx(t) !== cpu || !isRunnable(m.s[m.ctxOff(t) + X_STATUS]!)) continue;
      for (let to = 0; to < m.p.ncpu; to++) {
        if (to !== cpu && mask & (1 << to)) out.push(m.choice(MIGRATE, cpu, t | (to << 8), 0));
      }
    }
  },
  apply(m, _cpu, arg) {
    m.w(m.ctxOff(arg & 0xff) + X_CPU, arg >> 8);
  },
  label(m, _cpu, arg) {
    return `load balancing moves task ${m.p.tasks[arg & 0xff]!.name} to cpu${arg >> 8}`;
  },
};

/**
 * The operations that may block a task on its own timeout channel (the only
 * sleeps TIMEOUT ends): msleep, and kmalloc/kzalloc's reclaim
 * (lifetime.ts). properties/kernel/timeout-sleepers.test.ts checks that the
 * kernel model blocks on a timeout channel nowhere else.
 */
export const TIMEOUT_SLEEPERS: readonly string[] = ['msleep', 'kmalloc', 'kzalloc'];
/** Whether a program has an instruction that may sleep on a timeout (found by its text: program.ts callsAny). */
export const sleepsOnTimeout = (p: Program): boolean => callsAny(p, TIMEOUT_SLEEPERS);

/** A sleep with a timeout (msleep, schedule_timeout) ends: any time later is possible. */
const TIMEOUT: ChoiceSource = {
  name: 'timeout',
  // Only where something sleeps on a timeout (else it scanned every task of every CPU in every state).
  active: sleepsOnTimeout,
  // Wakes only the task whose own timeout channel it is.
  footprint: (f, p, cpu) => tasksOfCpu(f, p, cpu, false),
  // Only the task itself starts an msleep; nobody else wakes its timeout channel.
  quiet: () => true,
  collect(m, cpu, out) {
    const tasks = m.p.tasks;
    for (let t = 0; t < tasks.length; t++) {
      const o = m.ctxOff(t);
      if (m.s[o + X_STATUS] === ContextStatus.Blocked && m.s[o + T_CHANNEL] === channel(Chan.Timeout, t) && m.cpuOfCtx(t) === cpu) {
        out.push(m.choice(TIMEOUT, cpu, t, 0));
      }
    }
  },
  apply(m, _cpu, t) {
    wakeAll(m, channel(Chan.Timeout, t));
  },
  label(m, _cpu, t) {
    return `timeout of task ${m.p.tasks[t]!.name} expires`;
  },
};

/**
 * A task returning to user space (or a kthread exiting): it must hold no
 * lock (lockdep_sys_exit: "lock held when returning to user space!") and have
 * irqs, bh and preemption as it found them.
 */
const taskExit: FrameExit = (m, cpu, ctx) => {
  const s = m.s;
  const o = m.ctxOff(ctx);
  const co = m.cpuOff(cpu);
  const held = s[o + X_HELD]!;
  const name = m.contextName(ctx);
  if (held !== 0) {
    m.fail('lock-leak', `WARNING: lock held when returning to user space! ${name} is leaving the kernel with locks still held: ${heldNames(m, held)}`, cpu, ctx);
    return;
  }
  if (s[co + C_PREEMPT] !== 0 || s[co + C_BH] !== 0 || s[co + C_IRQS_OFF] !== 0) {
    const pc = m.preemptCount(cpu);
    m.fail('lock-leak', `BUG: ${name} returned with preempt_count 0x${pc.toString(16).padStart(8, '0')}${s[co + C_IRQS_OFF] ? ' and irqs disabled' : ''} (leaked preempt/bh/irq state)`, cpu, ctx);
    return;
  }
  if (s[o + X_RCU] !== 0) {
    // lockdep_sys_exit / exit_rcu: the task still holds rcu_read_lock (PREEMPT_RCU: its own nesting count).
    m.fail('lock-leak', `WARNING: lock held when returning to user space! ${name} is leaving the kernel with locks still held: rcu_read_lock (nesting ${s[o + X_RCU]! & 0xff}${s[o + X_RCU]! >> 8 ? `, rcu_read_lock_bh ${s[o + X_RCU]! >> 8}` : ''})`, cpu, ctx);
    return;
  }
  const object = m.objectHeldBy(ctx);
  if (object) {
    m.fail('lock-leak', `WARNING: lock held when returning to user space! ${name} is leaving the kernel with locks still held: ${object}`, cpu, ctx);
    return;
  }
  m.w(o + X_STATUS, ContextStatus.Done);
  m.w(co + C_CURTASK, -1);
  taskExited(m, ctx);
};

const WAKES_OTHERS = new WeakMap<Program, boolean>();
/** Whether a task's exit may wake or start another task: `after` tasks, or kthread_stop in the code. */
function exitWakesOthers(p: Program): boolean {
  let known = WAKES_OTHERS.get(p);
  if (known === undefined) {
    known = p.tasks.some((t) => t.after !== undefined && t.after >= 0) || p.text.some((t, k) => k * INSN_WIDTH >= p.designStart && t.startsWith('kthread_stop('));
    WAKES_OTHERS.set(p, known);
  }
  return known;
}

/**
 * What a task's exit lets go on: kthread_stop waiting for it returns
 * (kthread.ts), and tasks declared to start `after` it are born.
 */
function taskExited(m: Machine, t: number): void {
  wakeAll(m, channel(Chan.Kthread, t));
  const tasks = m.p.tasks;
  for (let u = 0; u < tasks.length; u++) {
    if (tasks[u]!.after === t && m.s[m.ctxOff(u) + X_STATUS] === ContextStatus.Unborn) m.w(m.ctxOff(u) + X_STATUS, ContextStatus.NotStarted);
  }
}

/** preempt_count_sub(1) with the DEBUG_PREEMPT underflow check; false on a violation. */
export function preemptDec(m: Machine, cpu: number, ctx: number): boolean {
  const co = m.cpuOff(cpu);
  if (m.s[co + C_PREEMPT]! <= 0) {
    m.fail('lock-misuse', `WARNING: CPU: ${cpu} at kernel/sched/core.c preempt_count_sub: DEBUG_LOCKS_WARN_ON(val > preempt_count()) in ${m.contextName(ctx)}`, cpu, ctx);
    return false;
  }
  m.w(co + C_PREEMPT, m.s[co + C_PREEMPT]! - 1);
  return true;
}

/** This CPU's own state only. */
const ownCpu = (f: FootprintBuilder): void => {
  f.write(f.ownCpu());
};
/** A call that may leave the CPU: this CPU's state, and the calling task's status and wait channel, which others read to wake or schedule it. */
export const sleeps = (f: FootprintBuilder): void => {
  f.write(f.ownCpu());
  f.write(f.ownTask());
};
/** wakeAll: every task's status and wait channel. */
export const wakes = (f: FootprintBuilder): void => {
  f.write(f.anyTask());
};
/**
 * The footprint items of the tasks that may sleep on channel (tag, id)
 * (program.ts sleepersOf): each such task's block, or every task's where
 * one may sleep on it in code other contexts run too.
 */
const sleeperItems = (f: FootprintBuilder, tag: Chan, id: number): number[] => {
  const tasks = sleepersOf(f.program, tag, id);
  return tasks === null ? [f.anyTask()] : tasks.map((t) => f.task(t));
};
/**
 * wakeAll of channel (tag, id): the status and wait channel of each task
 * that may sleep on it (sleeperItems). As the kernel's wakers reach only
 * the tasks queued on that object (__wake_up_common walks the wait
 * queue's entries; __mutex_unlock_slowpath, __up and complete wake from
 * the lock's or completion's own wait list).
 */
export const wakesOn = (f: FootprintBuilder, tag: Chan, id: number): void => {
  for (const item of sleeperItems(f, tag, id)) f.write(item);
};
/** A look at who sleeps on channel (tag, id) (a reader of an rwsem looking for a writer asleep, rwsem_down_read_slowpath): as wakesOn, read. */
export const readsSleepersOn = (f: FootprintBuilder, tag: Chan, id: number): void => {
  for (const item of sleeperItems(f, tag, id)) f.read(item);
};

export const SCHEDULER_OPS: readonly OpSemantics[] = [
  {
    name: 'preempt_disable',
    footprint: ownCpu,
    exec(m, cpu, ctx) {
      const co = m.cpuOff(cpu);
      m.w(co + C_PREEMPT, m.s[co + C_PREEMPT]! + 1);
      m.advance(ctx);
    },
  },
  {
    name: 'preempt_enable',
    footprint: ownCpu,
    exec(m, cpu, ctx) {
      if (preemptDec(m, cpu, ctx)) m.advance(ctx);
    },
  },
  {
    // schedule() from a running task: give up the CPU; "scheduling while atomic" if atomic.
    // __schedule() takes the runqueue lock with irqs off and finish_task_switch()
    // releases it with raw_spin_rq_unlock_irq(): whatever the caller had, irqs are on after.
    name: 'schedule',
    footprint: sleeps,
    exec(m, cpu, ctx) {
      if (!scheduleAllowed(m, cpu, ctx)) return;
      m.w(m.cpuOff(cpu) + C_IRQS_OFF, 0);
      m.advance(ctx);
      yieldCpu(m, cpu, ctx);
    },
  },
  {
    // cond_resched(): a voluntary preemption point (it has __might_resched too).
    name: 'cond_resched',
    footprint: sleeps,
    exec(m, cpu, ctx) {
      if (!mightSleep(m, cpu, ctx, 'cond_resched()')) return;
      m.advance(ctx);
      yieldCpu(m, cpu, ctx);
    },
  },
  {
    name: 'might_sleep',
    footprint: ownCpu,
    exec(m, cpu, ctx) {
      if (mightSleep(m, cpu, ctx, 'might_sleep()')) m.advance(ctx);
    },
  },
  {
    // msleep(ms): sleeps at least ms; the model lets the timeout end at any later point.
    name: 'msleep',
    operands: [{ kind: 'int', field: 'count', min: 0, max: 1 << 20 }],
    footprint: sleeps,
    exec(m, cpu, ctx) {
      if (m.s[m.ctxOff(ctx) + X_PHASE] === 1) {
        m.advance(ctx); // woken: the sleep is over
        return;
      }
      if (!mightSleep(m, cpu, ctx, 'msleep()')) return;
      m.w(m.ctxOff(ctx) + X_PHASE, 1);
      block(m, cpu, ctx, channel(Chan.Timeout, ctx));
    },
    waitsFor(m, _cpu, ctx) {
      return { on: [], why: `${m.contextName(ctx)} sleeps in msleep()` };
    },
  },
];

export const SCHEDULER: Mechanism = {
  name: 'scheduler',
  ops: SCHEDULER_OPS,
  choices: [SCHEDULE, PREEMPT, MIGRATE, TIMEOUT],
  // A task's exit: its status (others may wait for it) and this CPU's current task.
  // With tasks that start after another one or are stopped by kthread_stop, the exit wakes or starts others (taskExited);
  // an owned socket is checked for (objectHeldBy).
  exitFootprints: {
    [FrameKind.Task]: (f, p, _cpu, t) => {
      f.write(f.ownCpu());
      f.write(f.task(t));
      if (exitWakesOthers(p)) f.write(f.anyTask());
      if ((p.objects['sock']?.length ?? 0) > 0) f.read(f.anyObject('sock'));
    },
  },
  exits: { [FrameKind.Task]: taskExit },
};
