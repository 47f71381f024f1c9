/**
 * The random search's flags on the command line (scripts/kdefer.ts):
 * --strategy, --depth and --workers, run as a user runs them (`node
 * scripts/kdefer.mjs check …` in a child process): bad values are bad input
 * (exit 2, one line), and worker threads give the verdict one thread gives.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../scripts/kdefer.mjs', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./random-real-bugs.ts', import.meta.url));

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
    const args = ['check', FIXTURES, '--explorer', 'random', '--seed', '7', '--runs', '4000', '--no-save'];
    const one = kdefer(...args, '--json');
    const two = kdefer(...args, '--json', '--workers', '2');
    expect(one.status, one.stderr).toBe(1); // the fixed twins are bounded-out, not verified
    expect(two.status, two.stderr).toBe(1);
    type Row = { design: string; status: string; violation: { kind: string; choices: number[] } | null; random: { strategy: string; depth: number; run: number | null; path: string | null } };
    const rows = (text: string) => (JSON.parse(text) as Row[]).map((r) => [r.design, r.status, r.violation?.kind ?? null, r.violation?.choices ?? null, r.random.strategy, r.random.depth, r.random.run, r.random.path]);
    expect(rows(two.stdout)).toEqual(rows(one.stdout));
    expect(rows(one.stdout).map((r) => r[2])).toEqual(['deadlock', null, 'deadlock', null]);
    const text = kdefer(...args);
    expect(text.stdout).toContain('random search (mix, PCT depth 5): 4000 schedules per design, seed 7');
    expect(text.stdout).toMatch(/found by run \d+ of 4000 \((pct, depth \d|guided|swarm|uniform) under mix\), \d+ runs\/s; seed 7, fast-check path \d+(:\d+)*/);
  }, 240_000);
});
