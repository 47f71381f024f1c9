/** Catalogue designs of NMIs, buggy then fixed. */
import type { Design } from '../../dsl/design.ts';
import { nmiRawSpinLock, nmiRawSpinTrylock } from './raw-lock-in-nmi.ts';

export const NMI_DESIGNS: readonly Design[] = [
  nmiRawSpinLock, nmiRawSpinTrylock, // B20
];
