/**
 * The closed set of violation kinds, each with a stable name. A violation is
 * raised inside `step` by writing a code into the state vector's header; the
 * explorers read it back into a `Violation` with its message.
 */

export const VIOLATION_KINDS = [
  'deadlock',
  'lock-misuse',
  'lock-leak',
  'bad-bh-enable',
  'assertion',
  'sleep-in-atomic',
  'hung-task',
  'use-after-free',
  'lost-softirq',
  'data-race',
  'ordering',
  'lockdep',
] as const;

export type ViolationKind = (typeof VIOLATION_KINDS)[number];

/** Numeric code stored in the state vector (0 = no violation). */
export function kindCode(kind: ViolationKind): number {
  return VIOLATION_KINDS.indexOf(kind) + 1;
}

export function kindOf(code: number): ViolationKind {
  const kind = VIOLATION_KINDS[code - 1];
  if (!kind) throw new Error(`kdefer internal error: violation code ${code} has no kind`);
  return kind;
}

export function isViolationKind(s: string): s is ViolationKind {
  return (VIOLATION_KINDS as readonly string[]).includes(s);
}
