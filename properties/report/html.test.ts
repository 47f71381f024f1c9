/**
 * The picture of a schedule (model/report/html.ts, `kdefer replay --html`):
 * a self-contained page, the same bytes every time, shown in a headless
 * Chromium (Debian's chromium, driven by playwright-core; .ci/run installs
 * it). Pins the lanes (one per CPU, one per lock), the frames stacked by
 * kind with their names, the interrupt and softirq markers, the violation
 * highlighted, and that the arrow keys step the cursor. A screenshot of
 * each page is saved in out/ for a human to look at.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, defineDesign, spin_lock, spin_unlock } from '../../model/index.ts';
import { scheduleHtml } from '../../model/report/html.ts';
import { counterexample } from './counterexamples.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'out');
const CHROMIUM = '/usr/bin/chromium';
const scratch = mkdtempSync(join(tmpdir(), 'kdefer-html-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The page of a catalogue design's counterexample. */
function page(name: string): string {
  const cx = counterexample(name);
  return scheduleHtml(cx.program, cx.violation.choices, cx.violation);
}

describe('scheduleHtml, as text', () => {
  it('is the same bytes every time', () => {
    expect(page('abba-spin_lock')).toBe(page('abba-spin_lock'));
  });

  it('is self-contained: nothing is loaded from anywhere, and the policy forbids it', () => {
    const html = page('task-vs-softirq-spin_lock');
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
    // The only URL is SVG's namespace name, which is never fetched.
    expect(html.match(/https?:\/\/[^\s"'<>)]*/g)).toEqual(expect.arrayContaining([]));
    expect([...new Set(html.match(/https?:\/\/[^\s"'<>)]*/g))]).toEqual(['http://www.w3.org/2000/svg']);
    expect(html).not.toMatch(/<link\b|<img\b|<iframe\b|\bsrc=|@import|@font-face/);
    expect([...new Set(html.match(/url\([^)]*\)/g))]).toEqual(['url(#hatch)']);
  });

  it('escapes what the design names: a name is text, never markup', () => {
    const design = defineDesign({
      name: '<script>alert(1)</script>',
      cpus: 1,
      locks: { '<b>L</b>': 'spinlock' },
      tasks: [{ name: 't"</script>', cpu: 0, body: [spin_lock('<b>L</b>'), spin_unlock('<b>L</b>')] }],
    });
    const html = scheduleHtml(compile(design), [0, 0]);
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<b>L</b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html.match(/<script>/g)).toHaveLength(1);
  });
});

describe('the page in a browser', () => {
  let context: BrowserContext;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)`);
    mkdirSync(OUT, { recursive: true });
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'kdefer-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 900 },
    });
  }, 60_000);
  afterAll(async () => {
    await context?.close();
  });

  /** Open the page of `name` from a file, failing on any request that is not the file itself or on a script error. */
  async function open(name: string): Promise<Page> {
    const file = join(scratch, `${name}.html`);
    writeFileSync(file, page(name));
    const tab = await context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    tab.on('request', (r) => requests.push(r.url()));
    tab.on('pageerror', (e) => errors.push(e.message));
    tab.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await tab.goto(pathToFileURL(file).href);
    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(errors).toEqual([]);
    return tab;
  }

  it('B2 (task vs softirq): the lane, the frames stacked by kind, the markers, the lock, the violation; the arrow keys step', async () => {
    const tab = await open('task-vs-softirq-spin_lock');
    const steps = counterexample('task-vs-softirq-spin_lock').violation.choices.length;
    expect(await tab.locator('g.lane').count()).toBe(1);
    expect(await tab.locator('g.lock-lane').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-lock')))).toEqual(['&priv->lock']);
    const frames = await tab.locator('g.lane .frame').evaluateAll((fs) => fs.map((f) => `${f.getAttribute('data-kind')}:${f.getAttribute('data-name')}`));
    expect(frames).toEqual(expect.arrayContaining(['task:task ethtool', 'hardirq:hardirq eth0', 'softirq:softirq', 'softirq:softirq NET_RX']));
    // Stacked as the kernel stacks them: the hardirq above the softirq above the task.
    const y = async (kind: string) => (await tab.locator(`g.lane .frame[data-kind="${kind}"] rect`).first().boundingBox())!.y;
    expect(await y('hardirq')).toBeLessThan(await y('softirq'));
    expect(await y('softirq')).toBeLessThan(await y('task'));
    // eth0 arrives at step 2, NET_RX is raised, pending softirqs run at irq_exit.
    expect(await tab.locator('.marker.irq').evaluateAll((ms) => ms.map((m) => [m.getAttribute('data-step'), m.textContent]))).toEqual([['2', 'cpu0: eth0 interrupt arriveseth0']]);
    expect(await tab.locator('.marker.raise text').allTextContents()).toEqual(['NET_RX']);
    expect(await tab.locator('.marker.softirq').count()).toBe(1);
    // The violation: its kind at the top and on the last column, the two contexts of the AA cycle outlined.
    expect(await tab.locator('body').getAttribute('data-violation')).toBe('deadlock');
    expect(await tab.locator('.violation-tag').textContent()).toBe('deadlock');
    expect(await tab.locator('header .violation').textContent()).toContain('AA deadlock on cpu0: softirq NET_RX spins on a lock held by a context it interrupted');
    expect(await tab.locator('.frame.stuck').evaluateAll((fs) => fs.map((f) => f.getAttribute('data-name')).sort())).toEqual(['softirq NET_RX', 'task ethtool']);
    expect(await tab.locator('.lock-lane .wait').evaluateAll((ws) => ws.map((w) => w.textContent))).toEqual([expect.stringContaining('softirq NET_RX spins')]);
    // The cursor starts before the first step; → steps, ← steps back, End goes to the violation.
    const at = async () => Number(await tab.locator('body').getAttribute('data-step'));
    const panel = () => tab.locator('section.panel:not([hidden])');
    expect(await at()).toBe(0);
    await tab.keyboard.press('ArrowRight');
    expect(await at()).toBe(1);
    expect(await panel().locator('.step-head code').textContent()).toBe('cpu0 [task ethtool]: spin_lock(&priv->lock)');
    expect(await panel().locator('.cpu-card .stack').textContent()).toContain('task ethtool {&priv->lock}');
    await tab.keyboard.press('ArrowRight');
    expect(await at()).toBe(2);
    expect(await panel().locator('.step-head code').textContent()).toBe('cpu0: eth0 interrupt arrives');
    await tab.keyboard.press('ArrowLeft');
    expect(await at()).toBe(1);
    await tab.keyboard.press('End');
    expect(await at()).toBe(steps);
    expect(await tab.locator('.steps li[aria-current="step"]').getAttribute('class')).toBe('bad');
    expect(await tab.locator('#cursor').getAttribute('x')).toBe(await tab.locator(`.col-hit[data-col="${steps}"]`).getAttribute('x'));
    await tab.screenshot({ path: join(OUT, 'task-vs-softirq-spin_lock.png'), fullPage: true });
    await tab.close();
  });

  it('ABBA on two CPUs: a lane per CPU, a lane per lock, both waiters stuck', async () => {
    const tab = await open('abba-spin_lock');
    expect(await tab.locator('g.lane').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-cpu')))).toEqual(['0', '1']);
    expect(await tab.locator('g.lock-lane').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-lock')))).toEqual(['&A', '&B']);
    expect(await tab.locator('g.lane[data-cpu="0"] .frame').first().getAttribute('data-name')).toBe('task mover0');
    expect(await tab.locator('g.lane[data-cpu="1"] .frame').first().getAttribute('data-name')).toBe('task mover1');
    expect(await tab.locator('.frame.stuck.waiting').evaluateAll((fs) => fs.map((f) => f.getAttribute('data-name')).sort())).toEqual(['task mover0', 'task mover1']);
    expect(await tab.locator('.lock-lane .hold text').allTextContents()).toEqual(['task mover0', 'task mover1']);
    await tab.keyboard.press('End');
    await tab.screenshot({ path: join(OUT, 'abba-spin_lock.png'), fullPage: true });
    await tab.close();
  });
});

describe('kdefer replay --html', () => {
  const BIN = join(ROOT, 'dist', 'scripts', 'kdefer.js');
  const saved = join(ROOT, 'counterexamples', 'task-vs-hardirq-spin_lock.deadlock.json');

  it('writes the page, and never overwrites a file', () => {
    const out = join(scratch, 'b1.html');
    const run = spawnSync(process.execPath, [BIN, 'replay', saved, '--html', out], { cwd: ROOT, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('data-violation="deadlock"');
    expect(html).toContain('within 1 CPU, ≤1 eth0 interrupt, profile modern (6.12+), preempt none');
    writeFileSync(out, 'my notes\n');
    const again = spawnSync(process.execPath, [BIN, 'replay', saved, '--html', out], { cwd: ROOT, encoding: 'utf8' });
    expect(again.status).toBe(2);
    expect(again.stderr).toBe(`kdefer: --html ${out}: already exists (kdefer never overwrites a file)\n`);
    expect(readFileSync(out, 'utf8')).toBe('my notes\n');
  });
});
