/**
 * Builders and declarations for tasklets (include/linux/interrupt.h).
 * Declare them in a design's `tasklets` field.
 */

/** DECLARE_TASKLET / tasklet_setup: the function it runs, by design function name. */
export interface TaskletDecl {
  readonly func: string;
  /** DECLARE_TASKLET_DISABLED: starts with count 1. */
  readonly disabled?: boolean;
}
