/**
 * Start-up of the compiled `kdefer` command line, as a ratio to `node -e 0`
 * (node's own start-up on this machine), so the figure means the same on a
 * fast and a slow machine. Each command is run `--runs` times (default 9)
 * and its median wall time is reported. The target: a small design checked
 * in under 0.5 s, that is kdefer's own start-up cost, the model's and the
 * design file's loading, is small next to any real search.
 *
 *   tsx scripts/bench-startup.ts [--runs N]      (npm run bench calls it)
 *
 * Builds dist/ first if a source is newer (scripts/build.mjs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'scripts', 'kdefer.js');
/** The start-up the issue asks for, in ms: a small design checked from a cold process. */
export const STARTUP_TARGET_MS = 500;

/** Median wall time of `runs` runs of `node args…`, in ms. */
function median(args: readonly string[], runs: number, cwd: string): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    times.push(performance.now() - t0);
    if (r.status !== 0 && r.status !== 1) throw new Error(`node ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** A one-CPU design with an AA deadlock, as a user writes it (TypeScript) and as plain JavaScript. */
function designFiles(dir: string): { ts: string; mjs: string } {
  const api = JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'model', 'index.js')).href);
  const body = (typed: boolean) => `import { defineDesign, inc, spin_lock, spin_unlock${typed ? ', type Design' : ''} } from ${api};
export const small${typed ? ': Design' : ''} = defineDesign({
  name: 'startup-small', cpus: 1, locks: { L: 'spinlock' }, vars: { n: 0 },
  tasks: [{ name: 't', cpu: 0, body: [spin_lock('L'), inc('n'), spin_unlock('L')] }],
  irqs: [{ name: 'eth0', handler: [spin_lock('L'), inc('n'), spin_unlock('L')] }],
});
`;
  const ts = join(dir, 'small.ts');
  const mjs = join(dir, 'small.mjs');
  writeFileSync(ts, body(true));
  writeFileSync(mjs, body(false));
  return { ts, mjs };
}

export interface StartupRow {
  readonly what: string;
  readonly ms: number;
  readonly ratio: number;
}

/** Median start-up times of kdefer's commands against `node -e 0`. */
export function benchStartup(runs = 9): { baseline: number; rows: StartupRow[] } {
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  const dir = mkdtempSync(join(tmpdir(), 'kdefer-startup-'));
  try {
    const files = designFiles(dir);
    const cx = join(ROOT, 'counterexamples', 'task-vs-hardirq-spin_lock.deadlock.json');
    const baseline = median(['-e', '0'], runs, dir);
    const commands: [string, string[]][] = [
      ['kdefer --version', ['--version']],
      ['kdefer list (the catalogue, compiled)', ['list']],
      ['kdefer check small.mjs (a JavaScript design)', ['check', files.mjs, '--no-save']],
      ['kdefer check small.ts (a TypeScript design, compiled)', ['check', files.ts, '--no-save']],
      ['kdefer replay (a catalogue counterexample)', ['replay', cx]],
    ];
    const rows = commands.map(([what, args]) => {
      const ms = median([BIN, ...args], runs, dir);
      return { what, ms, ratio: ms / baseline };
    });
    return { baseline, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { runs: { type: 'string' } } });
  const runs = Math.max(1, Number(values.runs ?? 9) | 0);
  const { baseline, rows } = benchStartup(runs);
  const width = Math.max(...rows.map((r) => r.what.length));
  console.log(`kdefer start-up, median of ${runs} runs, node ${process.version}; node -e 0 takes ${baseline.toFixed(0)} ms here`);
  for (const r of rows) {
    const flag = r.ms <= STARTUP_TARGET_MS ? '' : `  over the ${STARTUP_TARGET_MS} ms target`;
    console.log(`  ${r.what.padEnd(width)}  ${r.ms.toFixed(0).padStart(5)} ms  ${r.ratio.toFixed(2).padStart(5)} × node -e 0${flag}`);
  }
}
