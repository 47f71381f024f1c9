/**
 * B22, a get without ownership (shared/kernel-semantics-drivers.md D1.5):
 * the Bluetooth L2CAP bug fixed by d0be8347c623 ("Bluetooth: L2CAP: Fix
 * use-after-free caused by l2cap_chan_put", 2022). A channel stays on the
 * global chan_list until l2cap_chan_destroy, its release, unlinks it; so a
 * lookup under the list's read lock can find a channel whose last
 * reference was just dropped, and l2cap_chan_hold (kref_get) then adds to
 * zero: "refcount_t: addition on 0; use-after-free." The fix takes the
 * reference with kref_get_unless_zero (l2cap_chan_hold_unless_zero) and
 * treats a zero count as "not found".
 */
import { assign, defineDesign, if_, inc, kfree, load, r, read_lock, read_unlock, v, write_lock, write_unlock, type Design, type Stmt } from '../../dsl/design.ts';
import { kref_get, kref_get_unless_zero, kref_put } from '../../dsl/atomic.ts';

/** Whether chan_list links the channel (the list head is not in the channel's memory). */
const ON_LIST = 'chan_list has chan';

/** l2cap_global_chan_by_psm with the reference taken by `hold`, then the connect path uses and drops it. */
function connect(hold: 'kref_get' | 'kref_get_unless_zero'): readonly Stmt[] {
  const take: readonly Stmt[] = hold === 'kref_get'
    ? [kref_get('chan->kref'), load('chan', 1)]
    : [kref_get_unless_zero('chan->kref', 'chan')];
  return [
    load('chan', 0),
    read_lock('chan_list_lock'),
    if_(v(ON_LIST), take),
    read_unlock('chan_list_lock'),
    // l2cap_connect: use the channel, then l2cap_chan_put.
    if_(r('chan'), [inc('chan->psm'), kref_put('chan->kref', 'l2cap_chan_destroy')]),
  ];
}

const base = {
  cpus: 2,
  locks: { chan_list_lock: 'rwlock' as const },
  vars: { [ON_LIST]: 1, 'chan->kref': 1, 'chan->psm': 1 },
  structs: { chan: { members: ['chan->kref', 'chan->psm'] } },
  functions: {
    // l2cap_chan_destroy, the kref's release: unlink from chan_list under the write lock, then free.
    l2cap_chan_destroy: [write_lock('chan_list_lock'), assign(ON_LIST, 0), write_unlock('chan_list_lock'), kfree('chan')],
  },
};

/** B22: the lookup's kref_get finds the channel on the list with its count already 0. */
export const l2capChanHoldOnZero: Design = defineDesign({
  name: 'l2cap-chan-hold-on-zero',
  description:
    'Bluetooth L2CAP before d0be8347c623 (B22): l2cap_global_chan_by_psm walks chan_list under read_lock and takes the channel with l2cap_chan_hold (kref_get). ' +
    'The channel leaves the list only in its release, l2cap_chan_destroy, so between the last l2cap_chan_put on cpu0 and the release unlinking it, ' +
    'the lookup on cpu1 finds it and adds to a zero count: "refcount_t: addition on 0; use-after-free."',
  ...base,
  tasks: [
    { name: 'l2cap_sock_release', cpu: 0, body: [kref_put('chan->kref', 'l2cap_chan_destroy')] },
    { name: 'l2cap_connect', cpu: 1, body: connect('kref_get') },
  ],
  expected: 'use-after-free',
  twin: 'l2cap-chan-hold-unless-zero',
});

/** Fixed: kref_get_unless_zero; a channel already at zero is not found. */
export const l2capChanHoldUnlessZero: Design = defineDesign({
  ...l2capChanHoldOnZero,
  name: 'l2cap-chan-hold-unless-zero',
  description:
    'The same lookup after d0be8347c623 (B22 fixed): l2cap_chan_hold_unless_zero takes the reference with kref_get_unless_zero under the list\'s read lock. ' +
    'A channel whose count reached zero is treated as not found; one found holds its reference until l2cap_connect puts it, whichever put then runs the release.',
  tasks: [
    { name: 'l2cap_sock_release', cpu: 0, body: [kref_put('chan->kref', 'l2cap_chan_destroy')] },
    { name: 'l2cap_connect', cpu: 1, body: connect('kref_get_unless_zero') },
  ],
  expected: 'verified',
  twin: 'l2cap-chan-hold-on-zero',
});

