/**
 * `kdefer check --shard i/N`, `kdefer merge` and `--workers`, as a user
 * runs them: the compiled bin in a child process, on a design file holding
 * a verified and a buggy catalogue design. The shards' --json results merge
 * to the whole run's verdicts; merge refuses results that do not belong
 * together, naming them; --workers 2 gives the verdicts of --workers 1.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/scripts/kdefer.js', import.meta.url));
const DESIGNS = fileURLToPath(new URL('../model/designs/index.ts', import.meta.url));
const VERIFIED = 'bench-irq_lock-fixed-n2-k2';
const BUGGY = 'bench-softirq_bh-buggy-n2-k2';

const scratch = mkdtempSync(join(tmpdir(), 'kdefer-shards-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const design = join(scratch, 'pair.ts');
writeFileSync(design, `import { catalogueDesign } from ${JSON.stringify(DESIGNS)};
export const fixed = catalogueDesign(${JSON.stringify(VERIFIED)})!;
export const buggy = catalogueDesign(${JSON.stringify(BUGGY)})!;
`);

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function kdefer(...args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: scratch, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Write `content` as a result file in the scratch folder; returns its name. */
function result(name: string, content: string): string {
  writeFileSync(join(scratch, name), content);
  return name;
}

type Json = Record<string, any>;
let whole: Json[];
const shardFiles: string[] = [];

beforeAll(() => {
  const run = kdefer('check', design, '--json', '--no-save');
  expect(run.status).toBe(0);
  whole = JSON.parse(run.stdout) as Json[];
  for (let i = 0; i < 3; i++) {
    const shard = kdefer('check', design, '--shard', `${i}/3`, '--json', '--no-save');
    expect(shard.stderr).toBe('');
    shardFiles.push(result(`shard-${i}.json`, shard.stdout));
  }
}, 120_000);

describe('kdefer check --shard i/N', () => {
  it('each result names its design, shard, partition fingerprint and kdefer version; the verified design is verified in every shard', () => {
    shardFiles.forEach((file, i) => {
      const verdicts = JSON.parse(readFileSync(join(scratch, file), 'utf8')) as Json[];
      expect(verdicts.map((v) => v.design)).toEqual([VERIFIED, BUGGY]);
      for (const v of verdicts) {
        expect(v.shard).toMatchObject({ index: i, count: 3 });
        expect(v.shard.fingerprint).toMatch(/^[0-9a-f]{16}$/);
        expect(v.shard.version).toMatch(/^\d+\.\d+\.\d+/);
        expect(v.shard.prefixes).toBeGreaterThan(0);
      }
      expect(verdicts[0]!.status).toBe('verified');
    });
  });

  it('rejects a shard outside 0..N-1, and --workers above 1 with --shard', () => {
    const out = kdefer('check', design, '--shard', '3/3', '--no-save');
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/--shard: '3\/3': i counts from 0/);
    const both = kdefer('check', design, '--shard', '0/2', '--workers', '2', '--no-save');
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/a shard runs in one thread/);
  });
});

describe('kdefer merge', () => {
  it('merges all shards, in any order, to the whole run\'s verdicts', () => {
    const run = kdefer('merge', shardFiles[2]!, shardFiles[0]!, shardFiles[1]!, '--json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const merged = JSON.parse(run.stdout) as Json[];
    expect(merged.map((v) => [v.design, v.status, v.violation?.kind ?? null])).toEqual(whole.map((v) => [v.design, v.status, v.violation?.kind ?? null]));
    expect(merged[1]!.violation.choices.length).toBe(merged[1]!.violation.trace.length);
    expect(merged[0]!.merged).toMatchObject({ shards: 3 });
    const text = kdefer('merge', ...shardFiles);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/2 designs: 2 as expected/);
  });

  it('refuses missing shards, a shard given twice, other shard counts, bounds, versions or designs, and whole-run results, naming them', () => {
    const before = readdirSync(scratch).sort();
    const refuse = (files: string[], message: RegExp) => {
      const run = kdefer('merge', ...files);
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(message);
    };
    refuse([shardFiles[0]!, shardFiles[2]!], /design 'bench-irq_lock-fixed-n2-k2': missing shard 1\/3 \(given: 0\/3, 2\/3\)/);
    refuse([...shardFiles, shardFiles[1]!], /shard 1\/3 is given twice \(shard-1\.json and shard-1\.json\)/);
    const half = result('half-1.json', kdefer('check', design, '--shard', '1/2', '--json', '--no-save').stdout);
    refuse([shardFiles[0]!, half, shardFiles[2]!], /shards of different shard counts: shard-0\.json \(shard 0\/3\) has 3 shards, half-1\.json \(shard 1\/2\) has 2 shards/);
    const bounded = result('bounded-1.json', kdefer('check', design, '--shard', '1/3', '--max-states', '99999', '--json', '--no-save').stdout);
    refuse([shardFiles[0]!, bounded, shardFiles[2]!], /shards of different bounds: .*"maxStates":5000000.*"maxStates":99999/);
    const edited = (name: string, edit: (v: Json) => void) => {
      const verdicts = JSON.parse(readFileSync(join(scratch, shardFiles[1]!), 'utf8')) as Json[];
      verdicts.forEach(edit);
      return result(name, JSON.stringify(verdicts));
    };
    refuse([shardFiles[0]!, edited('old-1.json', (v) => (v.shard.version = '0.0.1')), shardFiles[2]!], /shards of different kdefer versions: .* has 0\.0\.1/);
    refuse([shardFiles[0]!, edited('changed-1.json', (v) => (v.fingerprint = '0123456789abcdef')), shardFiles[2]!], /shards of different designs \(the design changed between the runs\)/);
    refuse([result('whole.json', JSON.stringify(whole))], /whole\.json: 'bench-irq_lock-fixed-n2-k2' is not a shard's result/);
    refuse(['no-such.json'], /no-such\.json: no such file/);
    // merge writes no file.
    expect(readdirSync(scratch).sort()).toEqual([...before, 'bounded-1.json', 'changed-1.json', 'half-1.json', 'old-1.json', 'whole.json'].sort());
  });
});

describe('kdefer check --workers', () => {
  it('--workers 2 gives the verdicts of --workers 1', () => {
    const run = kdefer('check', design, '--workers', '2', '--json', '--no-save');
    expect(run.status).toBe(0);
    const two = JSON.parse(run.stdout) as Json[];
    expect(two.map((v) => [v.status, v.violation?.kind ?? null, v.violation?.choices ?? null])).toEqual(whole.map((v) => [v.status, v.violation?.kind ?? null, v.violation?.choices ?? null]));
  });
});
