/**
 * timer: not yet modelled (a stub so the registry lists it).
 */
import type { Mechanism } from './semantics.ts';

export const TIMER: Mechanism = { name: 'timer' };
