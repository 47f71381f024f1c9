/**
 * Standard output under `--json` holds one JSON value and nothing else.
 * A design file is code, and may print (a console.log at import time, a
 * debug line): once stdout is reserved, everything written to it through
 * process.stdout (console.log, console.info, console.table, …) goes to
 * stderr instead, and only `print` reaches the real stdout.
 */

type Write = typeof process.stdout.write;

/** stdout's own write, once reserved. */
let stdoutWrite: Write | null = null;

/** From now on, stdout is kdefer's alone: any other write to it goes to stderr. */
export function reserveStdout(): void {
  if (stdoutWrite) return;
  stdoutWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as Write;
}

/** Print kdefer's own output (a report, a JSON document) on stdout, with a newline. */
export function print(text: string): void {
  if (stdoutWrite) stdoutWrite(`${text}\n`);
  else process.stdout.write(`${text}\n`);
}

/** One line on stderr, `kdefer: ` first. */
export function complain(text: string): void {
  process.stderr.write(`kdefer: ${text}\n`);
}
