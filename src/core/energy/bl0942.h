/*
 * bl0942.h — driver of the BL0942 metering chip on a UART (4800 baud 8N1),
 * behind the meter interface (meter.h).
 *
 * Every 250 ms it takes what the chip sent, parses it (bl0942_packet.h:
 * bad checksums, packets cut short and bytes out of sync are dropped and
 * counted, never turned into readings), then asks again (0x58 0xAA, "read
 * all").  Each good packet becomes a reading:
 *   power   = WATT x constant, signed: below 0 the plug feeds the mains
 *             (a solar micro-inverter), and export energy grows;
 *   voltage = V_RMS x constant, current = I_RMS x constant,
 *   frequency = 10^6 / FREQ (the chip measures the mains period in us);
 *   energy  = CF_CNT steps (24 bits, wraps) x 1638.4 x 256 WATT-seconds per
 *             step, to import or export by the sign of WATT, plus the
 *             energy of WATT integrated since the last step (kept below one
 *             step, so the count never goes back and never runs ahead).
 * Constants per LSB of the chip's registers (nW, nV, pA), defaults from
 * the datasheet's transfer functions (Vref 1.218 V) with a 1 mOhm shunt and
 * a 5 x 390 kOhm + 510 Ohm divider.
 *
 * Pins: BL0942TX and BL0942RX in the template (the plug's side), or, for
 * `startDriver BL0942` with neither, TX GPIO16 / RX GPIO7: the module's
 * UART pins, where BL602 plugs wire the chip.
 */
#ifndef OPENPLUG_BL0942_H
#define OPENPLUG_BL0942_H

#include "core/energy/meter.h"

#define BL0942_BAUD 4800u
#define BL0942_POLL_MS 250u
#define BL0942_DEFAULT_TX_GPIO 16
#define BL0942_DEFAULT_RX_GPIO 7

/* The driver: meter_register(&bl0942_driver) at boot (startDriver BL0942). */
extern const struct meter_driver bl0942_driver;

#endif
