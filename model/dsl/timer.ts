/**
 * Builders and declarations for timers (include/linux/timer.h).
 * Declare them in a design's `timers` field.
 */

export type TimerFlag = 'IRQSAFE' | 'PINNED' | 'DEFERRABLE';

/** timer_setup(timer, func, flags): the callback, by design function name. */
export interface TimerDecl {
  readonly func: string;
  readonly flags?: readonly TimerFlag[];
}
