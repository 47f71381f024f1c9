/**
 * What the command line tells its caller: the exit statuses, and the error
 * that means "the user gave something wrong" as opposed to a fault of
 * kdefer itself.
 */

/** Every verdict as expected (check), the counterexample reproduces (replay). */
export const EXIT_AS_EXPECTED = 0;
/** At least one verdict not as expected (check), the counterexample is stale (replay). */
export const EXIT_NOT_AS_EXPECTED = 1;
/** Bad input (flag, file, design, counterexample) or an internal error. */
export const EXIT_BAD_INPUT = 2;

/**
 * A mistake in what the user gave: a flag, a file, a design. Its message is
 * one line naming the culprit (printed after `kdefer: `); `file` is the file
 * at fault, if one is, for `--json`'s `{ error: { message, file } }`.
 */
export class UsageError extends Error {
  readonly file: string | null;
  constructor(message: string, file: string | null = null) {
    super(message);
    this.name = 'UsageError';
    this.file = file;
  }
}
