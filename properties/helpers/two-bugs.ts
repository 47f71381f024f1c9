/**
 * A design with two bugs lockdep predicts: eth0 takes &Z, which task a
 * takes with irqs on (an AA deadlock on cpu0, the shortest violation, the
 * verdict's), and tasks a and b take &X and &Y in opposite orders (an ABBA
 * deadlock across the CPUs). The second prediction is confirmed only by a
 * violation the sweep after the verdict's meets (model/index.ts
 * lockdepEntries): without it, it would come out not reachable.
 */
import { defineDesign, inc, spin_lock, spin_unlock, type Design } from '../../model/index.ts';

export const twoBugs: Design = defineDesign({
  name: 'two-bugs', cpus: 2, locks: { X: 'spinlock', Y: 'spinlock', Z: 'spinlock' }, vars: { n: 0 },
  irqs: [{ name: 'eth0', cpus: [0], handler: [spin_lock('Z'), inc('n'), spin_unlock('Z')] }],
  tasks: [
    { name: 'a', cpu: 0, body: [spin_lock('Z'), inc('n'), spin_unlock('Z'), spin_lock('X'), spin_lock('Y'), inc('n'), spin_unlock('Y'), spin_unlock('X')] },
    { name: 'b', cpu: 1, body: [spin_lock('Y'), spin_lock('X'), inc('n'), spin_unlock('X'), spin_unlock('Y')] },
  ],
});
