/**
 * Catalogue designs of the TCP receive path (shared/kernel-semantics.md §7;
 * Miller's 1999 post in shared/seeds/), buggy then fixed, pair by pair.
 */
import type { Design } from '../../dsl/design.ts';
import {
  millerLockSockSpinLock, millerReaderClearsUcopyUnderSlock, millerReaderClearsUcopyUnlocked, millerReaderSleepOn, millerReaderWaitEvent,
  millerTcpProcessContext,
} from './miller.ts';
import { tcpReleaseSockClearsOwnedFirst, tcpLockSockBacklogModern } from './modern.ts';
import { prequeueAfterReleaseSock, prequeueBeforeReleaseSock } from './prequeue.ts';

/** The TCP designs, buggy then fixed, pair by pair (the catalogue spreads them in). */
export const TCP_DESIGNS: readonly Design[] = [
  millerLockSockSpinLock, millerTcpProcessContext, // B2 in lock_sock; Miller's proposal
  millerReaderSleepOn, millerReaderWaitEvent, // lost wakeup of the blocked reader
  millerReaderClearsUcopyUnlocked, millerReaderClearsUcopyUnderSlock, // N4 at 3 segments: ucopy.task cleared outside slock (issue 14)
  tcpReleaseSockClearsOwnedFirst, tcpLockSockBacklogModern, // N2/N4; the modern kernel
  prequeueAfterReleaseSock, prequeueBeforeReleaseSock, // N4, 4.x prequeue
];
