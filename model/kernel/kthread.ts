/**
 * Kernel threads that tasks start and stop (kernel/kthread.c;
 * shared/kernel-semantics-drivers.md D8.1), and tasks that start when
 * another one exits (module_init/probe-style ordering).
 *
 * A design task declared with `start: 'kthread_run'` does not exist until
 * some context runs `kthread_run(name)`: it is Unborn, then runnable on its
 * CPU. A task declared with `after: 'probe'` is Unborn until task `probe`
 * exits (scheduler.ts taskExit starts it), so "remove runs after probe"
 * needs no completion.
 *
 *  - kthread_run(name) = kthread_create + wake_up_process: task context,
 *    it sleeps (kthread_create waits for kthreadd), so might_sleep. A
 *    design task is one thread: running it a second time is a kdefer limit.
 *  - kthread_should_stop() (an expression): KTHREAD_SHOULD_STOP of the
 *    running task, in T_KTHREAD.
 *  - kthread_stop(name): sets KTHREAD_SHOULD_STOP, wake_up_process(k) (any
 *    sleep ends; every wait of the model re-checks its condition, as the
 *    kernel's wait loops do, so a thread whose wait ignores
 *    kthread_should_stop() sleeps again: B45), then sleeps until the thread
 *    has exited. A thread that was created but never ran exits without
 *    running its function (kthread(): -EINTR). Stopping a thread that
 *    already exited by itself touches its freed task_struct unless the
 *    caller took a reference (get_task_struct, not modelled): a
 *    use-after-free; stopping one never created dereferences NULL.
 *
 * Not modelled: kthread_park/unpark, kthread_create without a wake-up,
 * the thread function's return value, get_task_struct.
 */
import { ContextStatus, T_CHANNEL, T_KTHREAD, X_PHASE, X_STATUS } from './layout.ts';
import type { Machine } from './machine.ts';
import { block, Chan, channel, mightSleep, sleeps } from './scheduler.ts';
import type { Mechanism, OpSemantics, OperandSpec } from './semantics.ts';

/** T_KTHREAD bit: kthread_stop has been called (kthread_should_stop()). */
export const KTHREAD_SHOULD_STOP = 1;

/** kthread_run's thread must be one the design declares as created by it. */
const NEW_THREAD: OperandSpec = { kind: 'task', field: 'target', kthread: true };
/** kthread_stop may stop any task: a boot task stands for a thread created before the design starts. */
const THREAD: OperandSpec = { kind: 'task', field: 'target' };
const taskName = (m: Machine, t: number): string => m.p.tasks[t]!.name;
const status = (m: Machine, t: number): number => m.s[m.ctxOff(t) + X_STATUS]!;

/** What kthread_stop finds when it looks at its thread. */
function stopOutcome(m: Machine, t: number): 'never-created' | 'exited' | 'not-started' | 'running' {
  const st = status(m, t);
  if (st === ContextStatus.Unborn) return 'never-created';
  if (st === ContextStatus.Done) return 'exited';
  if (st === ContextStatus.NotStarted) return 'not-started';
  return 'running';
}

export const KTHREAD_OPS: readonly OpSemantics[] = [
  {
    name: 'kthread_run',
    operands: [NEW_THREAD],
    // might_sleep reads this CPU; the thread's status (Unborn → runnable, which its CPU's scheduler then reads).
    footprint(f, a) {
      f.read(f.ownCpu());
      f.write(f.task(a));
    },
    exec(m, cpu, ctx, a) {
      if (!mightSleep(m, cpu, ctx, `kthread_run(${taskName(m, a)})`)) return;
      if (status(m, a) !== ContextStatus.Unborn) {
        throw new Error(`kdefer limit: kthread_run(${taskName(m, a)}) a second time: a design task is one thread (declare one task per thread)`);
      }
      m.w(m.ctxOff(a) + X_STATUS, ContextStatus.NotStarted);
      m.advance(ctx);
    },
    label(m, _cpu, _ctx, a) {
      return `kthread_run(${taskName(m, a)}): thread created and woken on cpu${m.cpuOfCtx(a)}`;
    },
  },
  {
    name: 'kthread_stop',
    operands: [THREAD],
    // The thread's block (status, wait channel, KTHREAD_SHOULD_STOP, which its kthread_should_stop()
    // reads); the caller sleeps until the thread's exit wakes it (scheduler.ts taskExited).
    footprint(f, a) {
      sleeps(f);
      f.write(f.task(a));
    },
    exec(m, cpu, ctx, a) {
      const o = m.ctxOff(ctx);
      const to = m.ctxOff(a);
      if (m.s[o + X_PHASE] === 0) {
        if (!mightSleep(m, cpu, ctx, `kthread_stop(${taskName(m, a)})`)) return;
        switch (stopOutcome(m, a)) {
          case 'never-created':
            m.fail('use-after-free', `BUG: kernel NULL pointer dereference: kthread_stop(${taskName(m, a)}) by ${m.contextName(ctx)}: the thread was never created (no kthread_run)`, cpu, ctx);
            return;
          case 'exited':
            m.fail('use-after-free', `BUG: KASAN: slab-use-after-free in kthread_stop: ${m.contextName(ctx)} stops ${taskName(m, a)}, which already exited and freed its task_struct (the caller holds no get_task_struct reference)`, cpu, ctx);
            return;
          case 'not-started':
            // kthread(): KTHREAD_SHOULD_STOP is set before the thread first ran, so it exits with -EINTR
            // without calling its function; nothing of it is observable before that exit.
            m.w(to + T_KTHREAD, m.s[to + T_KTHREAD]! | KTHREAD_SHOULD_STOP);
            m.w(to + X_STATUS, ContextStatus.Done);
            m.advance(ctx);
            return;
          case 'running':
            break;
        }
        m.w(to + T_KTHREAD, m.s[to + T_KTHREAD]! | KTHREAD_SHOULD_STOP);
        // wake_up_process(k): TASK_NORMAL, whatever it sleeps on.
        if (m.s[to + X_STATUS] === ContextStatus.Blocked) {
          m.w(to + X_STATUS, ContextStatus.Runnable);
          m.w(to + T_CHANNEL, 0);
        }
        m.w(o + X_PHASE, 1);
      }
      if (status(m, a) === ContextStatus.Done) {
        m.advance(ctx);
        return;
      }
      block(m, cpu, ctx, channel(Chan.Kthread, a));
    },
    label(m, _cpu, ctx, a) {
      const text = `kthread_stop(${taskName(m, a)})`;
      if (m.s[m.ctxOff(ctx) + X_PHASE] !== 0) return status(m, a) === ContextStatus.Done ? `${text}: ${taskName(m, a)} has exited` : `${text}: still running, sleeps again`;
      switch (stopOutcome(m, a)) {
        case 'never-created': return `${text}: the thread was never created`;
        case 'exited': return `${text}: ${taskName(m, a)} already exited`;
        case 'not-started': return `${text}: KTHREAD_SHOULD_STOP before it ever ran: it exits without running`;
        case 'running': return `${text}: KTHREAD_SHOULD_STOP, wake_up_process(${taskName(m, a)}), sleeps until it exits`;
      }
    },
    waitsFor(m, _cpu, ctx, a) {
      return { on: [a], why: `${m.contextName(ctx)}: kthread_stop(${taskName(m, a)}) sleeps until task ${taskName(m, a)} exits` };
    },
  },
];

export const KTHREAD: Mechanism = { name: 'kthread', ops: KTHREAD_OPS };
