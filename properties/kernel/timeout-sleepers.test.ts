/**
 * The timeout choice source (model/kernel/scheduler.ts TIMEOUT) is active
 * only in a program with one of TIMEOUT_SLEEPERS, found by the
 * instructions' text: it must name every operation that blocks a task on
 * its timeout channel, and the text must find every instruction of them.
 * This reads model/kernel/*.ts for the blocking calls on a timeout channel
 * and fails on one it does not know; on every catalogue design it compares
 * the text's answer with the opcodes'; and a task in msleep still gets its
 * timeout.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../model/designs/index.ts';
import { check, compile, defineDesign, inc, kmalloc, msleep, type Design } from '../../model/index.ts';
import { OPS } from '../../model/kernel/registry.ts';
import { sleepsOnTimeout, TIMEOUT_SLEEPERS } from '../../model/kernel/scheduler.ts';

const kernelDir = fileURLToPath(new URL('../../model/kernel/', import.meta.url));

/** By opcode: whether the program has an instruction of a timeout sleeper. */
function byOpcode(d: Design): boolean {
  const p = compile(d);
  for (let pc = 0; pc < p.code.length; pc += 4) if (TIMEOUT_SLEEPERS.includes(OPS[p.code[pc]!]!.name)) return true;
  return false;
}

describe('the sleeps a timeout ends', () => {
  it('are blocked on in the kernel model only where TIMEOUT_SLEEPERS knows (msleep in scheduler.ts, kmalloc/kzalloc in lifetime.ts)', () => {
    const sites: string[] = [];
    for (const file of readdirSync(kernelDir).filter((f) => f.endsWith('.ts'))) {
      readFileSync(path.join(kernelDir, file), 'utf8').split('\n').forEach((line) => {
        if (/block\([^)]*channel\(Chan\.Timeout/.test(line)) sites.push(file);
      });
    }
    expect(sites.sort()).toEqual(['lifetime.ts', 'scheduler.ts']);
    expect([...TIMEOUT_SLEEPERS].sort()).toEqual(['kmalloc', 'kzalloc', 'msleep']);
  });

  it('are found by the text exactly where they are by opcode, on every catalogue design and on kmalloc with a result', () => {
    const designs = [...CATALOGUE, defineDesign({
      name: 'alloc', cpus: 1, structs: { dev: { members: [] } },
      tasks: [{ name: 't', cpu: 0, body: [kmalloc('dev', 'GFP_KERNEL', { ret: 'p' })] }],
    })];
    const disagree = designs.filter((d) => sleepsOnTimeout(compile(d)) !== byOpcode(d)).map((d) => d.name);
    expect(disagree).toEqual([]);
    expect(designs.filter(byOpcode).length).toBeGreaterThan(3);
  });

  it('a task in msleep is woken by its timeout (the source is active in a program with msleep)', () => {
    const sleeper = defineDesign({ name: 'sleeper', cpus: 1, vars: { x: 0 }, tasks: [{ name: 't', cpu: 0, body: [msleep(10), inc('x')] }] });
    const v = check(sleeper, { lockdep: false });
    expect(v.status).toBe('verified');
  });
});
