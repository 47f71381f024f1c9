/**
 * model/kernel/kthread.ts: kthread_run, kthread_should_stop, kthread_stop
 * (kernel/kthread.c), and tasks that start after another task exits.
 */
import { describe, expect, it } from 'vitest';
import {
  BUG_ON, check, compile, defineDesign, DesignError, inc, kthread_run, kthread_should_stop, kthread_stop, lt, msleep, not, or, spin_lock, spin_unlock, v,
  wait_event, wake_up, while_, type Design, type Stmt, type TaskSpec,
} from '../../model/index.ts';
import { ContextStatus, X_STATUS } from '../../model/kernel/layout.ts';
import { Schedule } from '../helpers/schedule.ts';

const design = (tasks: readonly TaskSpec[], extra: Partial<Design> = {}): Design => defineDesign({
  name: 'kthread', cpus: 2, locks: { L: 'spinlock' }, vars: { n: 0, go: 0 }, waitqueues: { wq: {} }, tasks, ...extra,
});
const poller = (body: readonly Stmt[]): TaskSpec => ({ name: 'poller', cpu: 1, start: 'kthread_run', body });
const status = (s: Schedule, task: string): number => s.s[s.m.ctxOff(s.p.tasks.findIndex((t) => t.name === task)) + X_STATUS]!;
const loop = while_(not(kthread_should_stop()), [inc('n'), msleep(1)], { bound: 2 });

describe('kthread_run', () => {
  it('a task started by kthread_run does not exist until it is run, then is runnable on its CPU', () => {
    const s = new Schedule(design([{ name: 'probe', cpu: 0, body: [kthread_run('poller')] }, poller([inc('n')])]));
    expect(status(s, 'poller')).toBe(ContextStatus.Unborn);
    expect(s.can('task poller')).toBe(false);
    s.take('kthread_run(poller): thread created and woken on cpu1');
    expect(status(s, 'poller')).toBe(ContextStatus.NotStarted);
    s.take('schedule() → task poller');
  });

  it('kthread_run sleeps (kthread_create waits for kthreadd): under a spinlock it sleeps in atomic context', () => {
    const v = check(design([{ name: 'probe', cpu: 0, body: [spin_lock('L'), kthread_run('poller'), spin_unlock('L')] }, poller([])]));
    expect(v.violation?.kind).toBe('sleep-in-atomic');
    expect(v.violation?.message).toContain('kthread_run(poller)');
  });

  it('a thread never run never runs', () => {
    const s = new Schedule(design([{ name: 'probe', cpu: 0, body: [] }, poller([inc('n')])]));
    s.runToEnd();
    expect([s.variable('n'), status(s, 'poller')]).toEqual([0, ContextStatus.Unborn]);
  });

  it('kthread_run must name a task declared with start: kthread_run', () => {
    expect(() => compile(design([{ name: 'probe', cpu: 0, body: [kthread_run('other')] }, { name: 'other', cpu: 1, body: [] }]))).toThrow(DesignError);
  });

  it('running the same thread twice is a kdefer limit, not a verdict', () => {
    expect(() => check(design([{ name: 'probe', cpu: 0, body: [kthread_run('poller'), kthread_run('poller')] }, poller([])]))).toThrow(/kdefer limit/);
  });
});

describe('kthread_stop', () => {
  const stopper = (before: readonly Stmt[] = []): TaskSpec => ({ name: 'remove', cpu: 0, after: 'probe', body: [...before, kthread_stop('poller')] });
  const probe: TaskSpec = { name: 'probe', cpu: 0, body: [kthread_run('poller')] };

  it('sets KTHREAD_SHOULD_STOP, which the thread reads with kthread_should_stop(), and sleeps until the thread exits', () => {
    const s = new Schedule(design([probe, poller([loop]), stopper()]));
    s.run('kthread_run(poller)', '[task probe]: return', 'schedule() → task remove', 'schedule() → task poller', '[task poller]: loop counter = 0', '[task poller]: while (!kthread_should_stop()) → true');
    s.take('kthread_stop(poller): KTHREAD_SHOULD_STOP, wake_up_process(poller), sleeps until it exits');
    expect(s.can('[task remove]')).toBe(false);
    s.runToEnd(['[task poller]']);
    expect([status(s, 'poller'), status(s, 'remove'), s.violation()]).toEqual([ContextStatus.Done, ContextStatus.Done, null]);
    expect(s.labels).toContain('cpu0 [task remove]: kthread_stop(poller): poller has exited');
  });

  it('wakes the thread whatever it sleeps on, and a wait that re-checks only its own condition sleeps again: kthread_stop hangs (B45)', () => {
    const verdict = check(design([probe, poller([wait_event('wq', v('go'))]), stopper()]));
    expect(verdict.violation?.kind).toBe('hung-task');
    expect(verdict.violation?.message).toContain('task remove');
  });

  it('a wait that also ends on kthread_should_stop() lets the thread exit', () => {
    expect(check(design([probe, poller([wait_event('wq', or(v('go'), kthread_should_stop()))]), stopper()])).status).toBe('verified');
  });

  it('a thread stopped before it ever ran exits without running its function', () => {
    const s = new Schedule(design([probe, poller([inc('n')]), stopper()]));
    s.run('kthread_run(poller)', '[task probe]: return', 'schedule() → task remove');
    s.take('kthread_stop(poller): KTHREAD_SHOULD_STOP before it ever ran: it exits without running');
    s.runToEnd();
    expect([s.variable('n'), status(s, 'poller'), s.violation()]).toEqual([0, ContextStatus.Done, null]);
  });

  it('stopping a thread that already returned by itself touches its freed task_struct', () => {
    const v = check(design([probe, poller([inc('n')]), stopper()]));
    expect(v.violation?.kind).toBe('use-after-free');
    expect(v.violation?.message).toContain('already exited and freed its task_struct');
  });

  it('stopping a thread never created dereferences NULL', () => {
    const v = check(design([{ name: 'probe', cpu: 0, body: [] }, poller([]), stopper()]));
    expect(v.violation?.message).toContain('BUG: kernel NULL pointer dereference: kthread_stop(poller)');
  });

  it('kthread_stop sleeps: under a spinlock it sleeps in atomic context', () => {
    const v = check(design([probe, poller([loop]), stopper([spin_lock('L')])]));
    expect(v.violation?.kind).toBe('sleep-in-atomic');
  });
});

describe('tasks that start after another task (after: …)', () => {
  it('an after task is Unborn until the task it follows exits, with no completion between them', () => {
    const s = new Schedule(design([{ name: 'probe', cpu: 0, body: [inc('n')] }, { name: 'remove', cpu: 1, after: 'probe', body: [inc('go')] }]));
    expect(s.can('task remove')).toBe(false);
    s.take('n++');
    expect(s.can('task remove')).toBe(false);
    s.take('[task probe]: return');
    s.run('schedule() → task remove', 'go++');
  });

  it('every schedule runs remove after probe', () => {
    const d = design([
      { name: 'probe', cpu: 0, body: [inc('n'), inc('n')] },
      { name: 'remove', cpu: 1, after: 'probe', body: [BUG_ON(lt(v('n'), 2), 'remove before probe finished'), inc('go')] },
    ]);
    expect(check(d).status).toBe('verified');
    const s = new Schedule(d);
    s.runToEnd(['task remove']);
    expect(s.labels.findIndex((l) => l.includes('go++'))).toBeGreaterThan(s.labels.findIndex((l) => l.includes('[task probe]: return')));
  });

  it('a cycle of after tasks, or an unknown one, is a design error', () => {
    expect(() => compile(design([{ name: 'a', cpu: 0, after: 'b', body: [] }, { name: 'b', cpu: 1, after: 'a', body: [] }]))).toThrow(/cycle|after/);
    expect(() => compile(design([{ name: 'a', cpu: 0, after: 'nobody', body: [] }]))).toThrow(DesignError);
  });

  it('a kthread_run thread is started by kthread_run, not by after', () => {
    expect(() => compile(design([bootProbe(), { name: 'poller', cpu: 1, start: 'kthread_run', after: 'probe', body: [] }]))).toThrow(DesignError);
  });
});

function bootProbe(): TaskSpec {
  return { name: 'probe', cpu: 0, body: [kthread_run('poller'), wake_up('wq')] };
}
