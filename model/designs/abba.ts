/**
 * B5, ABBA (shared/kernel-semantics.md §8; locking.rst "Deadlock: Simple
 * and Advanced"): two tasks on two CPUs nest the same two locks.
 */
import { defineDesign, inc, spin_lock, spin_unlock, type Design } from '../dsl/design.ts';

const nest = (outer: string, inner: string) =>
  [spin_lock(outer), spin_lock(inner), inc('moved'), spin_unlock(inner), spin_unlock(outer)];

/** cpu0 nests B inside A, cpu1 nests A inside B. */
export const abbaSpinLock: Design = defineDesign({
  name: 'abba-spin_lock',
  description:
    'Two tasks move an entry between two lists: on cpu0 under spin_lock(&A) then spin_lock(&B), on cpu1 under spin_lock(&B) then spin_lock(&A). ' +
    'B5: cpu0 takes A and cpu1 takes B, then each spins on the lock the other holds; neither can release what it holds, a circular wait across the two CPUs.',
  cpus: 2,
  locks: { A: 'spinlock', B: 'spinlock' },
  vars: { moved: 0 },
  tasks: [
    { name: 'mover0', cpu: 0, replicable: true, body: nest('A', 'B') },
    { name: 'mover1', cpu: 1, replicable: true, body: nest('B', 'A') },
  ],
  expected: 'deadlock',
  twin: 'abba-ordered',
});

/** Both CPUs take A before B. */
export const abbaOrdered: Design = defineDesign({
  ...abbaSpinLock,
  name: 'abba-ordered',
  description:
    'The same two tasks, both taking spin_lock(&A) before spin_lock(&B). ' +
    'Fix for B5: with one global lock order the holder of B always already holds A, so whoever waits for B waits for a CPU that needs nothing it holds; no cycle can form.',
  tasks: [
    { name: 'mover0', cpu: 0, replicable: true, body: nest('A', 'B') },
    { name: 'mover1', cpu: 1, replicable: true, body: nest('A', 'B') },
  ],
  expected: 'verified',
  twin: 'abba-spin_lock',
});
