/**
 * Builders and declarations for 2.2/2.4 bottom halves and task queues
 * (2.4 include/linux/interrupt.h, include/linux/tqueue.h).
 */

/** The 2.4 BH slots a design may install a handler in with init_bh(). */
export const BH_NAMES = ['TIMER_BH', 'TQUEUE_BH', 'DIGI_BH', 'SERIAL_BH', 'RISCOM8_BH', 'SPECIALIX_BH', 'AURORA_BH', 'ESP_BH', 'SCSI_BH', 'IMMEDIATE_BH', 'CYCLADES_BH', 'CM206_BH', 'JS_BH', 'MACSERIAL_BH', 'ISICOM_BH'] as const;
export type BhName = (typeof BH_NAMES)[number];

/** A tq_struct: its routine, by design function name. */
export interface TqStructDecl {
  readonly routine: string;
}
