/**
 * Allocation contexts (shared/kernel-semantics-drivers.md D9 and the
 * context predicates' pitfall P1).
 *
 * B50: kmalloc(GFP_KERNEL) under a spinlock. The Linux Driver Verification
 * project's rule 0043 ("Using a blocking memory allocation when spinlock is
 * held") cites the orinoco fix in drivers/net/wireless/orinoco/wext.c:
 * orinoco_ioctl_set_genie copied the WPA IE with GFP_KERNEL between
 * orinoco_lock and orinoco_unlock, a spin_lock_irqsave of priv->lock that
 * the interrupt handler also takes; the fix allocates with GFP_ATOMIC, which
 * never sleeps but may fail, and the existing -ENOMEM path unlocks.
 *
 * B49: a context-guessing GFP. libsas's sas_alloc_event chose
 * `in_interrupt() ? GFP_ATOMIC : GFP_KERNEL`, but an LLDD that notifies a
 * phy event from task context with its own spinlock held (irqs off) is not
 * "in interrupt", and gets GFP_KERNEL. preempt.h says in_interrupt() must
 * not be used to decide whether sleeping is allowed; Ahmed S. Darwish's
 * 2021 series removing in_interrupt() from libsas made the callers pass
 * their gfp_t (sas_alloc_event(phy, gfp_flags)).
 */
import {
  call, defineDesign, if_, in_interrupt, inc, kmalloc, r, spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore, type Design, type Gfp,
  type Stmt,
} from '../../dsl/design.ts';

// ------------------------------------------------------------ B50

/** orinoco_ioctl_set_genie: allocate the IE copy under orinoco_lock; on -ENOMEM goto out, which unlocks. */
const setGenie = (gfp: Gfp): readonly Stmt[] => [
  spin_lock_irqsave('priv->lock', 'flags'),
  kmalloc('buf', gfp, { ret: 'buf', mayFail: true }),
  if_(r('buf'), [inc('buf->len'), inc('priv->wpa_ie_len')]),
  spin_unlock_irqrestore('priv->lock', 'flags'),
];

const orinoco = {
  cpus: 2,
  locks: { 'priv->lock': 'spinlock' as const },
  vars: { 'priv->wpa_ie_len': 0, 'priv->irq_events': 0, 'buf->len': 0 },
  structs: { buf: { members: ['buf->len'], allocated: false } },
  // orinoco_interrupt takes priv->lock too: the reason the ioctl path disables irqs.
  irqs: [{ name: 'orinoco', cpus: [0], handler: [spin_lock('priv->lock'), inc('priv->irq_events'), spin_unlock('priv->lock')] }],
};

/** B50: GFP_KERNEL with priv->lock held and irqs off. */
export const orinocoGfpKernelUnderLock: Design = defineDesign({
  name: 'orinoco-gfp_kernel-under-spinlock',
  description:
    'orinoco_ioctl_set_genie before the fix Linux Driver Verification rule 0043 cites (B50): it copies the WPA IE with kmalloc(GFP_KERNEL) between orinoco_lock and orinoco_unlock, ' +
    'a spin_lock_irqsave of priv->lock. GFP_KERNEL may sleep in direct reclaim, and might_alloc warns on every call: sleeping function called from invalid context.',
  ...orinoco,
  tasks: [{ name: 'orinoco_ioctl_set_genie', cpu: 0, body: setGenie('GFP_KERNEL') }],
  expected: 'sleep-in-atomic',
  twin: 'orinoco-gfp_atomic-under-spinlock',
});

/** Fixed: GFP_ATOMIC, and the failure path unlocks. */
export const orinocoGfpAtomicUnderLock: Design = defineDesign({
  ...orinocoGfpKernelUnderLock,
  name: 'orinoco-gfp_atomic-under-spinlock',
  description:
    'The same ioctl allocates with GFP_ATOMIC (B50 fixed): the allocation never sleeps, so holding priv->lock with irqs off is fine; it may fail, and the model explores the NULL return, ' +
    'where the -ENOMEM path skips the copy and still unlocks, as well as the success path.',
  tasks: [{ name: 'orinoco_ioctl_set_genie', cpu: 0, body: setGenie('GFP_ATOMIC') }],
  expected: 'verified',
  twin: 'orinoco-gfp_kernel-under-spinlock',
});

// ------------------------------------------------------------ B49

/** sas_alloc_event and the event it fills; `gfp` undefined: the in_interrupt() guess. */
const allocEvent = (gfp?: Gfp): readonly Stmt[] => {
  const alloc = (g: Gfp): Stmt => kmalloc('event', g, { ret: 'event', mayFail: true });
  return [
    gfp ? alloc(gfp) : if_(in_interrupt(), [alloc('GFP_ATOMIC')], [alloc('GFP_KERNEL')]),
    if_(r('event'), [inc('event->type')]),
  ];
};

const libsas = (gfp?: Gfp) => ({
  cpus: 1,
  locks: { 'mvi->lock': 'spinlock' as const },
  vars: { 'event->type': 0, 'phy->state': 0 },
  structs: { event: { members: ['event->type'], allocated: false } },
  functions: { sas_notify_phy_event: allocEvent(gfp) },
});

/** The LLDD's phy-change path in task context: under its host lock, irqs off, it notifies libsas. */
const phyChange: readonly Stmt[] = [
  spin_lock_irqsave('mvi->lock', 'flags'),
  inc('phy->state'),
  call('sas_notify_phy_event'),
  spin_unlock_irqrestore('mvi->lock', 'flags'),
];

/** B49: in_interrupt() is false under a spinlock in a task, so the guess says GFP_KERNEL. */
export const libsasInInterruptGuess: Design = defineDesign({
  name: 'libsas-in_interrupt-gfp-guess',
  description:
    "libsas's sas_alloc_event before Ahmed S. Darwish's 2021 series (B49, pitfall P1): it picks in_interrupt() ? GFP_ATOMIC : GFP_KERNEL. An LLDD notifies a phy event from task context " +
    'with its host lock held by spin_lock_irqsave: in_interrupt() is false there, the guess says GFP_KERNEL, and might_alloc reports sleeping in atomic context.',
  ...libsas(),
  tasks: [{ name: 'lldd_phy_change', cpu: 0, body: phyChange }],
  expected: 'sleep-in-atomic',
  twin: 'libsas-caller-passes-gfp',
});

/** Fixed: the caller, who knows it holds a spinlock, passes GFP_ATOMIC. */
export const libsasCallerPassesGfp: Design = defineDesign({
  ...libsasInInterruptGuess,
  ...libsas('GFP_ATOMIC'),
  name: 'libsas-caller-passes-gfp',
  description:
    'The same notification after the series (B49 fixed): sas_alloc_event(phy, gfp_flags) takes the gfp from its caller, and the LLDD, which knows it holds its lock with irqs off, passes GFP_ATOMIC. ' +
    'The allocation never sleeps; its failure path (no event) is explored too.',
  expected: 'verified',
  twin: 'libsas-in_interrupt-gfp-guess',
});
