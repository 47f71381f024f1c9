/**
 * model/kernel/flags.ts: kernels as profiles. Each release sets the
 * switches its kernel has (each switch names the commit that changed it),
 * `modern` is the newest release, and a verdict names the releases its
 * profile stands for.
 */
import { describe, expect, it } from 'vitest';
import {
  boundsText, check, compile, defineDesign, DesignError, disable_irq, disable_work, inc, local_lock, local_unlock, lock_sock, release_sock,
  PROFILE_INFO, PROFILES, profileText, timer_shutdown, type Design,
} from '../../model/index.ts';

const tiny = (extra: Partial<Design> = {}): Design =>
  defineDesign({ name: 'tiny', cpus: 1, vars: { x: 0 }, tasks: [{ name: 't', cpu: 0, body: [inc('x')] }], ...extra });

describe('kernel releases as profiles', () => {
  it('6.1, 6.6 and 6.12 differ exactly where the kernel changed: ksoftirqd deferral (until 6.5), timer_shutdown and disable_irq\'s might_sleep (6.2), timer pull (6.9), disable_work (6.10)', () => {
    const differ = (a: keyof typeof PROFILES, b: keyof typeof PROFILES): string[] =>
      (Object.keys(PROFILES[a]) as (keyof (typeof PROFILES)[typeof a])[]).filter((k) => PROFILES[a][k] !== PROFILES[b][k]).sort();
    expect(differ('6.1', '6.6')).toEqual(['disableIrqMightSleep', 'softirqDefer', 'timerShutdown', 'wqCpuHog']);
    expect(differ('6.6', '6.12')).toEqual(['timerPull', 'workDisable']);
    expect(PROFILES['6.1']).toMatchObject({ softirqDefer: 'ksoftirqd-running', timerShutdown: false, timerPull: false, taskletWait: 'sleep' });
    expect(PROFILES['6.12']).toMatchObject({ softirqDefer: 'inline', timerShutdown: true, timerPull: true });
  });

  it('modern is the newest release, so designs written for it follow 6.12', () => {
    expect(PROFILES.modern).toBe(PROFILES['6.12']);
    expect(PROFILE_INFO.modern.range).toBe('6.12+');
  });

  it('a profile names the releases it stands for', () => {
    expect(profileText('6.12')).toBe('6.12 (6.12+)');
    expect(profileText('6.6')).toBe('6.6 (6.5–6.8)');
    expect(profileText('6.1')).toBe('6.1 (5.13–6.1)');
    expect(profileText('modern')).toBe('modern (6.12+)');
    expect(profileText('2.4')).toBe('2.4');
  });

  it('the verdict and its bounds line name the profile with its releases, and the flags a design overrides', () => {
    const v = check(tiny({ profile: '6.6' }));
    expect(v.kernel).toBe('6.6 (6.5–6.8)');
    expect(boundsText(v.bounds)).toBe('1 CPU, profile 6.6 (6.5–6.8), preempt none');
    expect(check(tiny()).kernel).toBe('modern (6.12+)');
    expect(check(tiny({ flags: { taskletWait: 'spin', timerPull: false } })).kernel).toBe('modern (6.12+), flags taskletWait=spin timerPull=false');
  });

  it('an unknown profile is a design error naming the nearest release', () => {
    expect(() => compile(tiny({ profile: '6.9' as never }))).toThrow(DesignError);
    expect(() => compile(tiny({ profile: '6.9' as never }))).toThrow("design 'tiny': profile: unknown kernel profile '6.9' (did you mean '6.6'?)");
  });

  it('6.1 has no timer_shutdown (6.2): a design using it is refused with the reason', () => {
    const d = tiny({ profile: '6.1', timers: { t: { func: 'fn' } }, functions: { fn: [] }, tasks: [{ name: 't', cpu: 0, body: [timer_shutdown('t')] }] });
    expect(() => compile(d)).toThrow(/timer_shutdown arrived in 6\.2/);
    expect(() => compile({ ...d, profile: '6.6' })).not.toThrow();
  });

  it('6.6 has no disable_work (6.10): refused with the reason; 6.12 has it', () => {
    const d = tiny({ profile: '6.6', works: { w: { func: 'fn' } }, functions: { fn: [] }, tasks: [{ name: 't', cpu: 0, body: [disable_work('w')] }] });
    expect(() => compile(d)).toThrow(/disable_work\(\) arrived in 6\.10/);
    expect(() => compile({ ...d, profile: '6.12' })).not.toThrow();
  });

  it('disable_irq in its own handler: sleep-in-atomic from 6.2 (might_sleep), a deadlock spinning on its own INPROGRESS on 6.1', () => {
    const d = tiny({
      profile: '6.12', irqs: [{ name: 'eth0', handler: [disable_irq('eth0')] }],
      tasks: [{ name: 't', cpu: 0, body: [inc('x')] }],
    });
    expect(check(d).violation?.kind).toBe('sleep-in-atomic');
    expect(check({ ...d, profile: '6.1' }).violation?.kind).toBe('deadlock');
  });
});

describe('PREEMPT_RT: mechanisms whose RT rules are not modelled are refused, not checked under !RT rules', () => {
  const rt = (extra: Partial<Design>): Design => tiny({ profile: '6.12-rt', ...extra });
  it('local_lock_t and the socket lock name the reason; the same designs compile on 6.12', () => {
    const ll = rt({ locks: { ll: 'local_lock' }, tasks: [{ name: 't', cpu: 0, body: [local_lock('ll'), inc('x'), local_unlock('ll')] }] });
    expect(() => compile(ll)).toThrow(/local_lock\(\): not modelled on PREEMPT_RT: .*per-CPU sleeping spinlock_t.*check it under a !RT profile/);
    expect(() => compile({ ...ll, profile: '6.12' })).not.toThrow();
    const sk = rt({ socks: { sk: { backlog: 1, backlog_rcv: 'rcv' } }, functions: { rcv: [] }, tasks: [{ name: 't', cpu: 0, body: [lock_sock('sk'), release_sock('sk')] }] } as Partial<Design>);
    expect(() => compile(sk)).toThrow(/lock_sock\(\): not modelled on PREEMPT_RT: sk_lock.slock is a spinlock_t/);
    expect(() => compile({ ...sk, profile: '6.12' })).not.toThrow();
  });
});

