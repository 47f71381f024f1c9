/**
 * A design explored within other bounds: more CPUs, more interrupts per
 * line, more timer ticks, another preemption model or kernel profile. The
 * design is the same code; only how much of the kernel's freedom the
 * explorer uses changes. Used by the vitest matchers
 * (`expect(design).toBeVerified({ cpus: 3 })`) and usable on its own before
 * `check()`.
 */
import type { ProfileName } from '../kernel/flags.ts';
import type { Design } from './design.ts';
import { DesignError } from './compile.ts';

/** Bounds to explore a design within, replacing the design's own; anything left out stays as the design says. */
export interface BoundsOverride {
  /** Number of CPUs (the design's `cpus`). Tasks pinned to a CPU beyond it are a DesignError. */
  readonly cpus?: number;
  /** Most arrivals per interrupt line, by line name (each line's `budget`); a line the design lacks is a DesignError. */
  readonly irqs?: Readonly<Record<string, number>>;
  /** Most timer ticks (`options.ticks`). */
  readonly ticks?: number;
  /** Preemption model (`options.preempt`). */
  readonly preempt?: 'none' | 'full';
  /** Kernel profile (`profile`). */
  readonly profile?: ProfileName;
}

/** The keys a BoundsOverride may have, for checking options given at run time. */
export const BOUNDS_OVERRIDE_KEYS = ['cpus', 'irqs', 'ticks', 'preempt', 'profile'] as const;

/** `design` with `bounds` replacing its own; the design itself is not changed. */
export function withBounds(design: Design, bounds: BoundsOverride): Design {
  const lines = new Set((design.irqs ?? []).map((l) => l.name));
  for (const line of Object.keys(bounds.irqs ?? {})) {
    if (!lines.has(line)) {
      throw new DesignError(design.name, 'bounds', `no interrupt line '${line}' (lines: ${[...lines].join(', ') || 'none'})`);
    }
  }
  const options = {
    ...design.options,
    ...(bounds.ticks !== undefined ? { ticks: bounds.ticks } : {}),
    ...(bounds.preempt !== undefined ? { preempt: bounds.preempt } : {}),
  };
  return {
    ...design,
    ...(bounds.cpus !== undefined ? { cpus: bounds.cpus } : {}),
    ...(bounds.profile !== undefined ? { profile: bounds.profile } : {}),
    ...(Object.keys(options).length > 0 ? { options } : {}),
    ...(design.irqs ? { irqs: design.irqs.map((l) => (bounds.irqs?.[l.name] !== undefined ? { ...l, budget: bounds.irqs[l.name]! } : l)) } : {}),
  };
}
