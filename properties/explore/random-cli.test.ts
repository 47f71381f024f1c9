/**
 * The random search's flags on the command line (scripts/kdefer.ts):
 * --strategy, --depth and --workers, run as a user runs them (the compiled
 * bin, `node dist/scripts/kdefer.js check …`, in a child process): bad
 * values are bad input (exit 2, one line), and worker threads (started from
 * the compiled model) give the verdict one thread gives.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../dist/scripts/kdefer.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./random-real-bugs.ts', import.meta.url));

const scratch = mkdtempSync(join(tmpdir(), 'kdefer-random-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
/** The two buggy fixtures only: a random search on a fixed one would spend all its runs. */
const BUGS = join(scratch, 'bugs.ts');
writeFileSync(BUGS, `export { rwlockThreeCpuCycle, threeContextCycle } from ${JSON.stringify(FIXTURES)};\n`);

function kdefer(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('kdefer check --explorer random', () => {
  it('refuses a strategy it does not have and a depth out of range, naming them', () => {
    const strategy = kdefer('check', FIXTURES, '--explorer', 'random', '--strategy', 'lucky', '--no-save');
    expect(strategy.status).toBe(2);
    expect(strategy.stderr.trim()).toBe("kdefer: --strategy: 'lucky' is not a strategy (uniform, pct, swarm, guided, mix)");
    const depth = kdefer('check', FIXTURES, '--depth', '2', '--no-save');
    expect(depth.status).toBe(2);
    expect(depth.stderr.trim()).toBe('kdefer: --depth applies to --explorer random only');
  });

  it('gives the same verdicts, runs and paths on two worker threads as on one, and prints how each bug was found', () => {
    const args = ['check', BUGS, '--explorer', 'random', '--seed', '2', '--runs', '2000', '--no-save'];
    const one = kdefer(...args, '--json');
    const two = kdefer(...args, '--json', '--workers', '2');
    expect(one.status, one.stderr).toBe(0);
    expect(two.status, two.stderr).toBe(0);
    type Row = { design: string; status: string; violation: { kind: string; choices: number[] } | null; random: { strategy: string; depth: number; run: number | null; path: string | null } };
    const rows = (text: string) => (JSON.parse(text) as Row[]).map((r) => [r.design, r.status, r.violation?.kind ?? null, r.violation?.choices ?? null, r.random.strategy, r.random.depth, r.random.run, r.random.path]);
    expect(rows(two.stdout)).toEqual(rows(one.stdout));
    expect(rows(one.stdout).map((r) => r[2])).toEqual(['deadlock', 'deadlock']);
    const text = kdefer(...args);
    expect(text.stdout).toContain('random search (mix, PCT depth 5): 2000 schedules per design, seed 2');
    expect(text.stdout).toMatch(/found by run \d+ of 2000 \((pct, depth \d|guided|swarm|uniform) under mix\), \d+ runs\/s; seed 2, fast-check path \d+(:\d+)*/);
  }, 240_000);
});
