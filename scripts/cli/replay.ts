/**
 * `kdefer replay`: re-run a saved counterexample on its design, label by
 * label, print its trace (or JSON), and write pictures of it on request.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  boundsText, checkChoicesInRange, CounterexampleError, findDesign, parseCounterexample, replayCounterexample, type Bounds, type Design,
} from '../../model/index.ts';
import { lockdepReport } from '../../model/report/lockdep.ts';
import { scheduleHtml } from '../../model/report/html.ts';
import { perfettoTrace } from '../../model/report/perfetto.ts';
import { traceText } from '../../model/report/trace.ts';
import { compileOrExplain } from './text.ts';
import { checkModuleTrusted, loadDesignFile, projectRoot } from './designs.ts';
import { EXIT_AS_EXPECTED, EXIT_NOT_AS_EXPECTED, UsageError } from './errors.ts';
import { print } from './output.ts';

/** The flags of `replay`, as the command table (scripts/kdefer.ts) parses them. */
export interface ReplayFlags {
  readonly json?: boolean;
  readonly perfetto?: string;
  /** Write the schedule as a self-contained HTML page. */
  readonly html?: string;
  /** Folders replay may load design modules from besides the project and the file's own folder. */
  readonly allowModulePath?: readonly string[];
}

/** Write a new file for `--flag`; never overwrites one. */
function writeNew(flag: string, path: string, text: string): void {
  try {
    writeFileSync(path, text, { flag: 'wx' });
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'EEXIST' ? 'already exists (kdefer never overwrites a file)' : (e as Error).message;
    throw new UsageError(`--${flag} ${path}: ${why}`, path);
  }
}

/** A CounterexampleError as bad input naming its file. */
function asUsage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof CounterexampleError) throw new UsageError(e.message, e.file);
    throw e;
  }
}

export async function runReplay(file: string, flags: ReplayFlags): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`${file}: cannot read the file`, file);
  }
  const cx = asUsage(() => parseCounterexample(text, file));
  const modulePath = resolve(dirname(resolve(file)), cx.design.module);
  checkModuleTrusted(modulePath, file, {
    project: projectRoot(),
    counterexample: dirname(resolve(file)),
    allowed: (flags.allowModulePath ?? []).map((d) => resolve(d)),
  });
  const source = await loadDesignFile(modulePath).catch((e: unknown) => {
    if (e instanceof UsageError) throw new UsageError(`${file}: its design module ${cx.design.module}: ${e.message.replace(`${modulePath}: `, '')}`, file);
    throw e;
  });
  const design = findDesign(Object.fromEntries(source.designs.map((d, i) => [String(i), d])), cx.design.name) as Design | undefined;
  if (!design) throw new UsageError(`${file}: design '${cx.design.name}' is not exported by ${cx.design.module} (renamed or removed)`, file);
  const program = compileOrExplain(design, file);
  asUsage(() => checkChoicesInRange(cx, program, file));
  const result = replayCounterexample(cx, program);
  const trace = result.replay?.steps.map((st) => st.label) ?? [];
  const choices = result.replay?.steps.map((st) => st.choice) ?? [];
  if (flags.perfetto !== undefined) writeNew('perfetto', flags.perfetto, `${JSON.stringify(perfettoTrace(program, choices))}\n`);
  if (flags.html !== undefined) {
    const violation = result.status === 'reproduced' ? result.replay.violation : result.replay?.violation ?? null;
    writeNew('html', flags.html, scheduleHtml(program, choices, violation, { bounds: boundsText(cx.bounds as unknown as Bounds), source: file }));
  }
  if (flags.json) {
    print(JSON.stringify({
      file, design: cx.design.name, status: result.status,
      step: result.status === 'stale' ? result.step : null,
      problem: result.status === 'stale' ? result.problem : null,
      violation: result.status === 'reproduced' ? { kind: result.replay.violation!.kind, message: result.replay.violation!.message } : null,
      trace,
    }, null, 2));
  } else {
    const out = [`${file}: design '${cx.design.name}', ${cx.schedule.length} steps, recorded ${cx.violation.kind}`, ''];
    if (result.status === 'reproduced') {
      out.push(traceText(program, choices), '');
      const violation = result.replay.violation!;
      const lockdep = lockdepReport(program, choices, violation);
      if (lockdep) out.push(lockdep, '');
      out.push(`reproduced: ${violation.kind}`, ...violation.message.split('\n').map((l) => `  ${l}`));
    } else {
      trace.forEach((label, i) => out.push(`  ${String(i + 1).padStart(3)}  ${label}`));
      out.push('', `STALE: ${result.problem}`);
    }
    print(out.join('\n'));
  }
  return result.status === 'reproduced' ? EXIT_AS_EXPECTED : EXIT_NOT_AS_EXPECTED;
}
