/*
 * bl0942.c — the BL0942 driver: polls the chip over the HAL's UART, turns
 * good packets into meter readings and energy counts; see bl0942.h for the
 * method.  It measures and nothing else: calibration, the energy counters
 * and every output are meter.c's and beyond.
 */
#include "core/energy/bl0942.h"

#include <stdbool.h>
#include <stdint.h>

#include "core/energy/bl0942_packet.h"
#include "core/energy/meter.h"
#include "core/io/pins.h"
#include "core/log.h"
#include "core/sched.h"
#include "hal/hal.h"

#define STALE_MS 3000u      /* no good packet for this long: the reading is withdrawn */
#define INTEGRATE_MAX_MS 1000u /* energy between packets further apart is left to CF_CNT */
#define VOLTS_FOR_FREQUENCY 20.0f /* the chip measures no period without mains */
#define DROP_LOG_MS 60000u  /* dropped packets are logged at most this often */

/* 1638.4 x 256 WATT-seconds per CF_CNT step: with the power constant in nW
 * per LSB, uJ per step = constant x 419430.4 / 1000 = constant x 4194304 / 10^4. */
#define UJ_PER_STEP_NUM 4194304u
#define UJ_PER_STEP_DEN 10000u

enum direction { IMPORT, EXPORT };

static const char *const constant_units[METER_QUANTITY_COUNT] = {
    "nW per LSB of WATT", "nV per LSB of V_RMS", "pA per LSB of I_RMS"};
/* Datasheet transfer functions, Vref 1.218 V, signals at the pins in mV:
 *   I_RMS = 305978 x Vi / Vref, V_RMS = 73989 x Vv / Vref,
 *   WATT = 3537 x Vi x Vv x cos(phi) / Vref^2,
 * with Vi = 1 mV per A (1 mOhm) and Vv = V x 510 / 1950510:
 * 15883.34 LSB per V, 251213.46 LSB per A, 623.394 LSB per W. */
static const uint32_t constant_defaults[METER_QUANTITY_COUNT] = {1604122u, 62959u, 3980678u};

static struct {
    bool running;
    int uart, tx_pin, rx_pin;
    struct sched_timer poll_timer;
    struct bl0942_parser parser;
    struct bl0942_cf_counter cf;
    uint32_t write_stalls;   /* requests the transmit FIFO did not take */
    uint32_t dropped_logged; /* bad + cut packets as last logged */
    uint64_t dropped_log_ms;
    bool answering;          /* a good packet within STALE_MS */
    bool have_packet;
    bool stepping;          /* a CF_CNT step seen since the start: its phase is known */
    uint64_t last_good_ms;
    uint64_t last_power_uw; /* |power| of the last packet, for the integration */
    enum direction last_direction;
    uint64_t counted_uj[2];  /* by direction: CF_CNT steps, and what was integrated before the first */
    uint64_t partial_uj[2];  /* integrated since the last step, below one step */
    float measured[METER_QUANTITY_COUNT];
    float frequency_hz;
} bl = {.uart = -1};

static uint64_t uj_per_step(void)
{
    return (uint64_t)meter_constant(METER_POWER) * UJ_PER_STEP_NUM / UJ_PER_STEP_DEN;
}

/* Energy of this packet.  The chip's count is exact but coarse (a step is
 * 0.19 Wh) and where its accumulator stands between steps is unknown at
 * first: until the first step after a start (or a chip reset) the energy is
 * the power integrated; from that step on it is whole steps to the
 * direction of the power, plus the power integrated since the last step as
 * the part of a step not yet counted (below one step, so the count never
 * runs ahead of the chip nor goes back). */
static void count_energy(const struct bl0942_packet *p, uint64_t power_uw, enum direction dir, uint64_t dt_ms)
{
    uint64_t step = uj_per_step();
    uint32_t rebased = bl.cf.rebased;
    uint32_t steps = bl0942_cf_update(&bl.cf, p->cf_cnt, bl0942_cf_max_step(bl.have_packet ? dt_ms : 0));
    uint64_t span_ms = dt_ms < INTEGRATE_MAX_MS ? dt_ms : INTEGRATE_MAX_MS;
    uint64_t mean_uw = bl.last_direction == dir ? (bl.last_power_uw + power_uw) / 2 : power_uw;
    uint64_t integrated = bl.have_packet ? mean_uw * span_ms / 1000u : 0;
    if (bl.cf.rebased != rebased)
        bl.stepping = false; /* the chip was reset: its accumulator is unknown again */
    if (!bl.stepping) {
        for (int d = 0; d < 2; d++) { /* what was integrated is kept as counted */
            bl.counted_uj[d] += bl.partial_uj[d];
            bl.partial_uj[d] = 0;
        }
        if (!steps) {
            bl.counted_uj[dir] += integrated;
            return;
        }
        /* The chip passed its last step within this packet's energy: its
         * accumulator holds somewhere between nothing and what came after
         * the step before; take the middle (off by at most half a poll's
         * energy, once). */
        uint64_t interval = integrated;
        if (dt_ms > INTEGRATE_MAX_MS && (uint64_t)steps * step > interval)
            interval = (uint64_t)steps * step; /* a long silence: the chip's count says more */
        uint64_t after = interval > (uint64_t)(steps - 1) * step ? interval - (uint64_t)(steps - 1) * step : 0;
        uint64_t held = (after < step ? after : step - 1) / 2;
        bl.counted_uj[dir] += interval - held;
        bl.partial_uj[dir] = held;
        bl.stepping = true;
        return;
    }
    uint64_t stepped = (uint64_t)steps * step, partial = bl.partial_uj[dir] + integrated;
    bl.counted_uj[dir] += stepped;
    partial = partial > stepped ? partial - stepped : 0; /* the steps take what they counted */
    bl.partial_uj[dir] = partial < step ? partial : (step ? step - 1 : 0);
}

/* A fresh reading each time: meter_publish() adds earlier runs' counts
 * into the one it is given. */
static void publish(struct meter_reading *r)
{
    r->import_uj = bl.counted_uj[IMPORT] + bl.partial_uj[IMPORT];
    r->export_uj = bl.counted_uj[EXPORT] + bl.partial_uj[EXPORT];
    r->updated_ms = hal_time_ms();
    meter_publish(r);
}

static void take_packet(const struct bl0942_packet *p)
{
    uint64_t now = hal_time_ms();
    float power = (float)p->watt * (float)meter_constant(METER_POWER) * 1e-9f;
    float volts = (float)p->v_rms * (float)meter_constant(METER_VOLTAGE) * 1e-9f;
    float amps = (float)p->i_rms * (float)meter_constant(METER_CURRENT) * 1e-12f;
    enum direction dir = p->watt < 0 ? EXPORT : IMPORT;
    uint64_t magnitude = (uint64_t)(p->watt < 0 ? -(int64_t)p->watt : p->watt);
    uint64_t power_uw = magnitude * meter_constant(METER_POWER) / 1000u;

    count_energy(p, power_uw, dir, now - bl.last_good_ms);
    bl.have_packet = true;
    bl.last_good_ms = now;
    bl.last_power_uw = power_uw;
    bl.last_direction = dir;
    bl.measured[METER_POWER] = power < 0 ? -power : power;
    bl.measured[METER_VOLTAGE] = volts;
    bl.measured[METER_CURRENT] = amps;
    if (!bl.answering)
        LOG_INF("NRG", "BL0942 answering on RX GPIO%d", bl.rx_pin);
    bl.answering = true;

    struct meter_reading r = {
        .valid = METER_HAS_POWER | METER_HAS_VOLTAGE | METER_HAS_CURRENT | METER_HAS_EXPORT,
        .power_w = power,
        .voltage_v = volts,
        .current_a = amps, /* apparent power: meter.c's V x I */
    };
    if (volts >= VOLTS_FOR_FREQUENCY && p->freq) {
        r.valid |= METER_HAS_FREQUENCY;
        r.frequency_hz = 1e6f / (float)p->freq;
    }
    bl.frequency_hz = r.frequency_hz;
    publish(&r);
}

/* Damaged packets say something about the wiring: logged, but not more
 * than once a minute. */
static void log_drops(void)
{
    uint32_t dropped = bl.parser.bad_checksum + bl.parser.truncated;
    uint64_t now = hal_time_ms();
    if (dropped == bl.dropped_logged || (bl.dropped_log_ms && now - bl.dropped_log_ms < DROP_LOG_MS))
        return;
    bl.dropped_logged = dropped;
    bl.dropped_log_ms = now;
    LOG_INF("NRG", "BL0942 dropped packets since start: %lu bad checksum, %lu cut short, %lu bytes out of sync",
            (unsigned long)bl.parser.bad_checksum, (unsigned long)bl.parser.truncated,
            (unsigned long)bl.parser.junk_bytes);
}

/* Once a poll period: take the answer to the last request, then ask again. */
static void poll(void *unused)
{
    (void)unused;
    uint8_t bytes[64];
    struct bl0942_packet packets[4];
    int n;
    bool heard = false;
    while ((n = hal_uart_read(bl.uart, bytes, sizeof bytes)) > 0) {
        heard = true;
        size_t got = bl0942_parser_feed(&bl.parser, bytes, (size_t)n, packets, 4);
        for (size_t i = 0; i < got; i++)
            take_packet(&packets[i]);
    }
    if (!heard)
        bl0942_parser_idle(&bl.parser); /* quiet for a whole period: a packet under way was cut */
    log_drops();
    if (bl.answering && hal_time_ms() - bl.last_good_ms >= STALE_MS) {
        bl.answering = false;
        LOG_ERR("NRG", "BL0942: no good packet for %u s on RX GPIO%d", STALE_MS / 1000u, bl.rx_pin);
        for (int q = 0; q < METER_QUANTITY_COUNT; q++)
            bl.measured[q] = 0;
        publish(&(struct meter_reading){0}); /* withdrawn (valid 0); the energy counts stay */
    }
    if (bl.parser.len)
        return; /* an answer is still arriving: a new request would cut it */
    static const uint8_t request[2] = {BL0942_CMD_READ, BL0942_REG_ALL};
    if (hal_uart_write(bl.uart, request, sizeof request) != (int)sizeof request)
        bl.write_stalls++;
}

static bool in_template(void) { return pins_find(PIN_BL0942TX, 0) >= 0 || pins_find(PIN_BL0942RX, 0) >= 0; }

static int start(void)
{
    int tx = pins_find(PIN_BL0942TX, 0), rx = pins_find(PIN_BL0942RX, 0);
    if (tx < 0 && rx < 0) {
        tx = BL0942_DEFAULT_TX_GPIO;
        rx = BL0942_DEFAULT_RX_GPIO;
    } else if (tx < 0 || rx < 0) {
        LOG_ERR("NRG", "BL0942 needs both BL0942TX and BL0942RX pins in the template (or neither: GPIO%d/GPIO%d)",
                BL0942_DEFAULT_TX_GPIO, BL0942_DEFAULT_RX_GPIO);
        return -1;
    }
    int uart = hal_uart_open(tx, rx, BL0942_BAUD, HAL_UART_8N1);
    if (uart < 0) {
        LOG_ERR("NRG", "BL0942: cannot open the UART on TX GPIO%d, RX GPIO%d: %s", tx, rx,
                uart == HAL_EIO ? "this board has no spare UART" : uart == HAL_EBUSY ? "in use" : "bad pins");
        return -1;
    }
    bl.uart = uart;
    bl.tx_pin = tx;
    bl.rx_pin = rx;
    bl0942_parser_reset(&bl.parser);
    bl.cf = (struct bl0942_cf_counter){0};
    bl.write_stalls = bl.dropped_logged = 0;
    bl.dropped_log_ms = 0;
    bl.answering = bl.have_packet = bl.stepping = false;
    for (int d = 0; d < 2; d++)
        bl.counted_uj[d] = bl.partial_uj[d] = 0; /* the counts are this run's own (meter.h) */
    for (int q = 0; q < METER_QUANTITY_COUNT; q++)
        bl.measured[q] = 0;
    sched_timer_init(&bl.poll_timer, poll, NULL);
    sched_timer_start(&bl.poll_timer, 0, BL0942_POLL_MS);
    bl.running = true;
    LOG_INF("NRG", "BL0942 on TX GPIO%d, RX GPIO%d, %u baud 8N1", tx, rx, BL0942_BAUD);
    return 0;
}

static void stop(void)
{
    if (!bl.running)
        return;
    sched_timer_stop(&bl.poll_timer);
    hal_uart_close(bl.uart);
    bl.uart = -1;
    bl.running = false;
}

static float measured(enum meter_quantity quantity)
{
    return (unsigned)quantity < METER_QUANTITY_COUNT && bl.answering ? bl.measured[quantity] : 0;
}

/* The constant moved by ratio: what was measured with the old one moves
 * with it (the next packet is converted with the new one anyway). */
static void rescale(enum meter_quantity quantity, float ratio)
{
    if ((unsigned)quantity < METER_QUANTITY_COUNT && ratio > 0)
        bl.measured[quantity] *= ratio;
}

static void write_stats(struct json_writer *w)
{
    jw_object_begin(w, "BL0942");
    jw_int(w, "Tx", bl.tx_pin);
    jw_int(w, "Rx", bl.rx_pin);
    jw_int(w, "Packets", bl.parser.good);
    jw_int(w, "BadChecksum", bl.parser.bad_checksum);
    jw_int(w, "Truncated", bl.parser.truncated);
    jw_int(w, "JunkBytes", bl.parser.junk_bytes);
    jw_int(w, "CfRebased", bl.cf.rebased);
    jw_int(w, "WriteStalls", bl.write_stalls);
    jw_bool(w, "Answering", bl.answering);
    jw_float(w, "Frequency", bl.answering ? bl.frequency_hz : 0, 2);
    jw_object_end(w);
}

const struct meter_driver bl0942_driver = {
    .name = "BL0942",
    .in_template = in_template,
    .start = start,
    .stop = stop,
    .measured = measured,
    .rescale = rescale,
    .write_stats = write_stats,
    .constant_units = constant_units,
    .constant_defaults = constant_defaults,
    .id = METER_CHIP_BL0942,
    .measures = METER_HAS_POWER | METER_HAS_VOLTAGE | METER_HAS_CURRENT | METER_HAS_FREQUENCY | METER_HAS_EXPORT,
};
