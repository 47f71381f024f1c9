/**
 * B40, a free without a grace period (shared/kernel-semantics-drivers.md
 * D6.3), in the shape of the kernel's own RCU example
 * (Documentation/RCU/whatisRCU.rst, foo_get_a and foo_update_a): readers
 * fetch gbl_foo with rcu_dereference under rcu_read_lock and read its
 * field; the updater publishes a new foo with rcu_assign_pointer under
 * foo_mutex and must not free the old one until every reader that may
 * hold it has left its critical section. whatisRCU's updater calls
 * synchronize_rcu() before kfree(); kfree_rcu is the asynchronous form,
 * its callback running in RCU_SOFTIRQ after the grace period.
 */
import { defineDesign, eq, if_, kfree, load, mutex_lock, mutex_unlock, r, v, type Design, type Stmt } from '../../dsl/design.ts';
import { kfree_rcu, rcu_assign_pointer, rcu_dereference, rcu_dereference_protected, rcu_read_lock, rcu_read_unlock } from '../../dsl/rcu.ts';

/** gbl_foo's values: 1 is the old foo, 2 the new one (always live). */
const OLD = 1;
const NEW = 2;

/** foo_get_a: the reader, a softirq-free task on cpu0. */
const fooGetA: readonly Stmt[] = [
  rcu_read_lock(),
  rcu_dereference('fp', 'gbl_foo'),
  if_(eq(r('fp'), OLD), [load('a', v('old_fp->a'))], [load('a', v('new_fp->a'))]),
  rcu_read_unlock(),
];

/** foo_update_a up to the free: replace gbl_foo under foo_mutex. */
const publish: readonly Stmt[] = [
  mutex_lock('foo_mutex'),
  rcu_dereference_protected('old', 'gbl_foo'),
  rcu_assign_pointer('gbl_foo', NEW),
  mutex_unlock('foo_mutex'),
];

const base = {
  cpus: 2,
  locks: { foo_mutex: 'mutex' as const },
  vars: { gbl_foo: OLD, 'old_fp->a': 1, 'new_fp->a': 2 },
  structs: { old_fp: { members: ['old_fp->a', 'old_fp->rcu'] } },
  rcu_heads: { 'old_fp->rcu': {} },
};

/** B40: kfree right after rcu_assign_pointer. */
export const rcuFreeWithoutGracePeriod: Design = defineDesign({
  name: 'rcu-free-without-grace-period',
  description:
    "whatisRCU's foo_update_a without its synchronize_rcu (B40): the updater replaces gbl_foo and kfrees the old foo at once. A reader on cpu0 that fetched the old pointer " +
    'with rcu_dereference before the replacement is still inside rcu_read_lock, and its read of old_fp->a touches freed memory.',
  ...base,
  tasks: [
    { name: 'foo_get_a', cpu: 0, body: fooGetA },
    { name: 'foo_update_a', cpu: 1, body: [...publish, kfree('old_fp')] },
  ],
  expected: 'use-after-free',
  twin: 'rcu-kfree_rcu-after-publish',
});

/** Fixed: kfree_rcu, the free deferred past a grace period. */
export const rcuKfreeRcuAfterPublish: Design = defineDesign({
  ...rcuFreeWithoutGracePeriod,
  name: 'rcu-kfree_rcu-after-publish',
  description:
    'The same updater frees the old foo with kfree_rcu(old_fp, rcu) (B40 fixed; synchronize_rcu then kfree is the synchronous form): the free runs in RCU_SOFTIRQ only after ' +
    'a grace period, which waits for every reader that was inside rcu_read_lock when kfree_rcu was called, so a reader holding the old pointer finishes first.',
  tasks: [
    { name: 'foo_get_a', cpu: 0, body: fooGetA },
    { name: 'foo_update_a', cpu: 1, body: [...publish, kfree_rcu('old_fp', 'old_fp->rcu')] },
  ],
  expected: 'verified',
  twin: 'rcu-free-without-grace-period',
});
