/**
 * Sleeping without the wait-queue protocol: a lost wakeup, then a hung
 * task (kernel/sched/wait.c; the 2.2/2.4 sleep_on race that removed
 * interruptible_sleep_on in 3.15).
 */
import { assign, defineDesign, eq, if_, mutex_lock, mutex_unlock, ne, sleep_on, v, wait_event, wake_up } from '../../dsl/design.ts';

/** Check, then sleep: the wake_up can fall between the two. */
export const sleepOnRace = defineDesign({
  name: 'sleep_on-lost-wakeup',
  description:
    'A reader checks for data and, finding none, calls interruptible_sleep_on() (the 2.2/2.4 idiom): a lost wakeup race. The writer stores data and calls wake_up(). ' +
    'If the wake_up comes between the check and the sleep it wakes nobody, and the reader sleeps forever: a hung task.',
  cpus: 2,
  vars: { data: 0 },
  waitqueues: { 'sk->sk_wq': {} },
  tasks: [
    { name: 'reader', cpu: 0, replicable: true, body: [if_(eq(v('data'), 0), [sleep_on('sk->sk_wq')])] },
    { name: 'writer', cpu: 1, replicable: true, body: [assign('data', 1), wake_up('sk->sk_wq')] },
  ],
  expected: 'hung-task',
  twin: 'wait_event-no-lost-wakeup',
});

/** wait_event: the condition is re-checked after the task state is set. */
export const waitEventNoLostWakeup = defineDesign({
  name: 'wait_event-no-lost-wakeup',
  description:
    'The reader uses wait_event(), which sets the task state before checking the condition and re-checks it after every wake_up, so there is no lost wakeup. ' +
    'A wake_up before the sleep finds the condition true; one after it wakes the sleeper.',
  cpus: 2,
  vars: { data: 0 },
  waitqueues: { 'sk->sk_wq': {} },
  tasks: [
    { name: 'reader', cpu: 0, replicable: true, body: [wait_event('sk->sk_wq', ne(v('data'), 0))] },
    { name: 'writer', cpu: 1, replicable: true, body: [assign('data', 1), wake_up('sk->sk_wq')] },
  ],
  expected: 'verified',
  twin: 'sleep_on-lost-wakeup',
});

/** B5 with sleeping locks: mutexes taken in opposite orders. */
export const mutexAbba = defineDesign({
  name: 'mutex-abba',
  description:
    'Two tasks take two mutexes in opposite orders (B5 with mutexes). Each sleeps on the mutex the other holds: a deadlock that ' +
    'blocks both tasks for ever, found as a cycle of mutex owners.',
  cpus: 2,
  locks: { 'dev->mutex': 'mutex', 'rtnl_mutex': 'mutex' },
  tasks: [
    { name: 'ioctl', cpu: 0, replicable: true, body: [mutex_lock('rtnl_mutex'), mutex_lock('dev->mutex'), mutex_unlock('dev->mutex'), mutex_unlock('rtnl_mutex')] },
    { name: 'probe', cpu: 1, replicable: true, body: [mutex_lock('dev->mutex'), mutex_lock('rtnl_mutex'), mutex_unlock('rtnl_mutex'), mutex_unlock('dev->mutex')] },
  ],
  expected: 'deadlock',
  twin: 'mutex-ordered',
});

export const mutexOrdered = defineDesign({
  name: 'mutex-ordered',
  description:
    'Both tasks take rtnl_mutex before dev->mutex (B5 fixed): one global order, no cycle.',
  cpus: 2,
  locks: { 'dev->mutex': 'mutex', 'rtnl_mutex': 'mutex' },
  tasks: [
    { name: 'ioctl', cpu: 0, replicable: true, body: [mutex_lock('rtnl_mutex'), mutex_lock('dev->mutex'), mutex_unlock('dev->mutex'), mutex_unlock('rtnl_mutex')] },
    { name: 'probe', cpu: 1, replicable: true, body: [mutex_lock('rtnl_mutex'), mutex_lock('dev->mutex'), mutex_unlock('dev->mutex'), mutex_unlock('rtnl_mutex')] },
  ],
  expected: 'verified',
  twin: 'mutex-abba',
});
