/**
 * npm run bench (scripts/bench.ts): the shape of its --json output on the
 * smallest configurations, kdefer's side only (SPIN is not needed: the
 * figures themselves belong to the bench, never to a test), and how pan's
 * output becomes a verdict.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePan } from '../scripts/bench.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const panOutput = (head: string, errors: number, stored: number, transitions: number): string => `${head}
(Spin Version 6.5.2 -- 6 December 2019)
\t+ Partial Order Reduction

Full statespace search for:
\tnever claim         \t- (none specified)
\tassertion violations\t+
\tcycle checks       \t- (disabled by -DSAFETY)
\tinvalid end states\t+

State-vector 76 byte, depth reached 68, errors: ${errors}
     ${stored} states, stored
     1555 states, matched
     ${transitions} transitions (= stored+matched)
        0 atomic steps

Stats on memory usage (in Megabytes):
  128.000\tmemory used for hash table (-w24)
  133.634\ttotal actual memory usage

pan: elapsed time 0.01 seconds
`;

describe('npm run bench', () => {
  it('--json --no-spin prints exactly an array of {design, cpus, k, kdefer, spin} rows', { timeout: 180_000 }, () => {
    const tsx = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const r = spawnSync(process.execPath, [tsx, 'scripts/bench.ts', '--json', '--no-spin', '--cpus', '2', '--filter', 'irq_lock'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 170_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as unknown;
    const figures = (verdict: string) => ({ verdict, states: expect.any(Number), ms: expect.any(Number), peakMB: expect.any(Number) });
    expect(rows).toEqual([
      { design: 'bench-irq_lock-buggy-n2-k2', cpus: 2, k: 2, kdefer: figures('deadlock'), spin: null },
      { design: 'bench-irq_lock-fixed-n2-k2', cpus: 2, k: 2, kdefer: figures('verified'), spin: null },
    ]);
    for (const row of rows as { kdefer: { states: number; peakMB: number } }[]) {
      expect(row.kdefer.states).toBeGreaterThan(0);
      expect(row.kdefer.peakMB).toBeGreaterThan(0);
    }
  });

  it("reads pan's verdict: errors 0, invalid end state, the seq assertion as ordering, other assertions", () => {
    expect(parsePan(panOutput('', 0, 9446, 19169))).toMatchObject({ verdict: 'verified', states: 9446, transitions: 19169, memMB: 133.634 });
    // The header's "invalid end states +" is what pan checks, not an error.
    expect(parsePan(panOutput('pan:1: invalid end state (at depth 27)\npan: wrote irq_lock.pml.trail', 1, 63, 63))).toMatchObject({ verdict: 'deadlock' });
    expect(parsePan(panOutput('pan:1: assertion violated (seq==rcv_nxt) (at depth 60)', 1, 1513, 3068))).toMatchObject({ verdict: 'ordering', states: 1513 });
    expect(parsePan(panOutput('pan:1: assertion violated (x==rcv_nxt) (at depth 80)', 1, 1513, 3068))).toMatchObject({ verdict: 'ordering' });
    expect(parsePan(panOutput('pan:1: assertion violated ( !(pending)&&(bh==0)) (at depth 9)', 1, 10, 10))).toMatchObject({ verdict: 'lost-softirq' });
    expect(parsePan(panOutput('pan:1: assertion violated (cnt==(2*2)) (at depth 9)', 1, 10, 10))).toMatchObject({ verdict: 'assertion' });
    // Large counts are printed in exponent form.
    expect(parsePan(panOutput('', 0, 0, 0).replace('     0 states, stored', '6.0413605e+07 states, stored'))).toMatchObject({ states: 60_413_605 });
    expect(parsePan('pan: out of memory\n')).toMatchObject({ verdict: 'bounded-out' });
  });
});
