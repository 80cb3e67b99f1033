/*
 * sim_bl0942.c — the BL0942 metering chip of a simulated BL0942 plug
 * (--meter bl0942), on the board's UART wires, measuring the same load and
 * mains as the BL0937 model (sim_bl0937.c owns them: --load, --mains,
 * --load-profile, the world's `load`; a negative watts value is a source
 * such as a solar micro-inverter, fed back through the plug).
 *
 * Wiring: the chip's RX <- GPIO16 (the plug's TX), the chip's TX -> GPIO7
 * (the plug's RX), 4800 baud 8N1, chip address 0.  It answers the command
 * 0x58 0xAA ("read all") with the 23-byte packet of bl0942_packet.h, 1 ms
 * after the command's last stop bit, its registers as they stand at the
 * command; anything else it hears is ignored (and counted).
 *
 * Registers (datasheet transfer functions, Vref 1.218 V, signals at the
 * pins in mV: Vi = I x Rshunt, Vv = V / divider; --shunt-mohm, default 1,
 * --divider, default 3824.53 = 5 x 390 kOhm + 510 Ohm over 510 Ohm here):
 *   I_RMS = 305978 Vi / Vref, I_FAST_RMS the same,
 *   V_RMS = 73989 Vv / Vref,
 *   WATT  = 3537 Vi Vv pf / Vref^2, signed: below 0 for a source,
 *   CF_CNT: one count per 1638.4 x 256 WATT-seconds of |WATT| (the chip
 *           accumulates the absolute value), 24 bits, wrapping; it starts
 *           at --bl0942-cf-start (default 0) at power-on,
 *   FREQ  = 10^6 / 50 Hz = 20000 (the mains period in us).
 * Each answer's I_RMS, V_RMS and WATT carry read noise, uniform within
 * +-(0.1 % + 4 LSB) (from --seed); CF_CNT is the chip's own integral and
 * has none.
 * Current flows only while the relay (GPIO2, high = closed) conducts.  The
 * chip runs from power-on whatever the firmware does, and a reboot of the
 * plug carries its count over (it is not reset with the CPU).
 *
 * Faults for tests (--bl0942-fault KIND[/EVERY], or the world request
 * `bl0942 fault KIND [EVERY]`): every EVERY-th answer (default 3) is
 *   corrupt   one bit of V_RMS flipped, the checksum left as it was;
 *   truncate  cut after 12 bytes;
 *   desync    its first 7 bytes lost (the plug hears it from the middle);
 *   junk      3 noise bytes before it (the packet itself good).
 * `bl0942` alone answers the chip's figures as JSON.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/energy/bl0942_packet.h"
#include "sim.h"

#define VREF 1.218
#define K_I 305978.0
#define K_V 73989.0
#define K_P 3537.0
#define WATT_SECONDS_PER_COUNT 419430.4 /* 1638.4 x 256 */
#define FREQ_50HZ 20000u
#define BAUD 4800u
#define TURNAROUND_US 1000u
#define REG_MAX 0xFFFFFFu
#define WATT_MAX 0x7FFFFF
#define NOISE_RELATIVE 0.001
#define NOISE_LSB 4.0
#define HANDOVER_ENV "OPENPLUG_SIM_BL0942"

enum fault { FAULT_NONE, FAULT_CORRUPT, FAULT_TRUNCATE, FAULT_DESYNC, FAULT_JUNK, FAULT_COUNT };
static const char *const fault_names[FAULT_COUNT] = {"none", "corrupt", "truncate", "desync", "junk"};

static struct {
    bool fitted;
    double shunt_ohm, divider;
    double watt_seconds; /* |WATT| integrated since power-on, in LSB x s */
    uint64_t t_ref_us;   /* ... up to this device time */
    uint32_t cf_start;
    bool got_command;    /* the last byte heard was the read command */
    enum fault fault;
    uint32_t fault_every;
    uint64_t answers, damaged, ignored_bytes, misframed_bytes;
} chip;

/* ---- Registers from the load ---- */

struct registers {
    double i_rms, v_rms, watt; /* unrounded */
};

static struct registers registers_now(void)
{
    struct sim_load l;
    sim_load_now(&l);
    double amps = l.relay_closed ? l.amps : 0;
    double vi_mv = fabs(amps) * chip.shunt_ohm * 1000, vv_mv = l.volts / chip.divider * 1000;
    double watt = K_P * vi_mv * vv_mv * l.pf / (VREF * VREF);
    return (struct registers){K_I * vi_mv / VREF, K_V * vv_mv / VREF, amps < 0 ? -watt : watt};
}

/* A register as read: the value with its noise. */
static double noisy(double v)
{
    double u = (double)(sim_random_model() >> 11) * 0x1p-53 * 2 - 1; /* -1 .. 1 */
    return v + u * (fabs(v) * NOISE_RELATIVE + NOISE_LSB);
}

static uint32_t clamp_reg(double v) { return v <= 0 ? 0 : v >= REG_MAX ? REG_MAX : (uint32_t)llround(v); }

/* Integrate the energy up to device time t under the load in force. */
void sim_bl0942_sync(uint64_t t_us)
{
    if (!chip.fitted || t_us <= chip.t_ref_us)
        return;
    chip.watt_seconds += fabs(registers_now().watt) * (double)(t_us - chip.t_ref_us) * 1e-6;
    chip.t_ref_us = t_us;
}

static uint32_t cf_cnt(void)
{
    double counts = floor(chip.watt_seconds / WATT_SECONDS_PER_COUNT);
    return (uint32_t)((chip.cf_start + (uint64_t)fmod(counts, (double)BL0942_CF_CNT_MODULO)) % BL0942_CF_CNT_MODULO);
}

/* ---- The answer ---- */

static void answer(uint64_t t_us)
{
    sim_bl0942_sync(sim_now_us()); /* the command was written now; it ends at t_us */
    struct registers r = registers_now();
    double watt = noisy(r.watt);
    watt = watt > WATT_MAX ? WATT_MAX : watt < -WATT_MAX ? -WATT_MAX : watt;
    struct bl0942_packet p = {
        .i_rms = clamp_reg(noisy(r.i_rms)),
        .v_rms = clamp_reg(noisy(r.v_rms)),
        .i_fast_rms = clamp_reg(noisy(r.i_rms)),
        .watt = (int32_t)llround(watt),
        .cf_cnt = cf_cnt(),
        .freq = FREQ_50HZ,
    };
    uint8_t bytes[3 + BL0942_PACKET_SIZE];
    uint8_t *packet = bytes + 3;
    bl0942_packet_encode(&p, packet);
    const uint8_t *send = packet;
    size_t len = BL0942_PACKET_SIZE;
    chip.answers++;
    enum fault fault = chip.fault != FAULT_NONE && chip.answers % chip.fault_every == 0 ? chip.fault : FAULT_NONE;
    switch (fault) {
    case FAULT_CORRUPT: packet[5] ^= 0x10; break;
    case FAULT_TRUNCATE: len = 12; break;
    case FAULT_DESYNC:
        send += 7;
        len -= 7;
        break;
    case FAULT_JUNK:
        memcpy(bytes, "\xA5\x0F\xF0", 3);
        send = bytes;
        len += 3;
        break;
    case FAULT_NONE:
    case FAULT_COUNT: break;
    }
    if (fault != FAULT_NONE)
        chip.damaged++;
    sim_uart_to_plug(SIM_BL0942_TX_GPIO, BAUD, HAL_UART_8N1, send, len, t_us + TURNAROUND_US);
}

void sim_bl0942_line_byte(int gpio, uint32_t baud, enum hal_uart_framing framing, uint8_t byte, uint64_t t_us)
{
    if (!chip.fitted || gpio != SIM_BL0942_RX_GPIO)
        return;
    if (baud != BAUD || framing != HAL_UART_8N1) {
        chip.misframed_bytes++;
        chip.got_command = false;
        return;
    }
    if (chip.got_command && byte == BL0942_REG_ALL) {
        chip.got_command = false;
        answer(t_us);
        return;
    }
    if (chip.got_command)
        chip.ignored_bytes++; /* the command's byte before this one */
    chip.got_command = byte == BL0942_CMD_READ;
    if (!chip.got_command)
        chip.ignored_bytes++;
}

/* ---- Faults and figures ---- */

/* "corrupt", "truncate/5": false with a message if bad. */
static bool parse_fault(const char *kind, const char *every, char *err, unsigned size)
{
    enum fault fault = FAULT_COUNT;
    for (int i = 0; i < FAULT_COUNT; i++)
        if (strcmp(kind, fault_names[i]) == 0)
            fault = (enum fault)i;
    char *end = NULL;
    long n = every ? strtol(every, &end, 10) : 3;
    if (fault == FAULT_COUNT || (every && (end == every || *end || n < 1 || n > 1000000))) {
        snprintf(err, size, "expected none|corrupt|truncate|desync|junk and an EVERY of 1..1000000");
        return false;
    }
    chip.fault = fault;
    chip.fault_every = (uint32_t)n;
    return true;
}

void sim_bl0942_request(char *args, char *out, unsigned size)
{
    char *save, *verb = args ? strtok_r(args, " \t", &save) : NULL;
    if (!chip.fitted) {
        snprintf(out, size, "error: bl0942: this board has no BL0942 (--meter bl0942)\n");
        return;
    }
    if (verb && strcmp(verb, "fault") == 0) {
        char *kind = strtok_r(NULL, " \t", &save), *every = strtok_r(NULL, " \t", &save), err[96];
        if (!kind || strtok_r(NULL, " \t", &save) || !parse_fault(kind, every, err, sizeof err)) {
            snprintf(out, size, "error: bl0942 fault: %s\n", kind ? err : "expected a kind");
            return;
        }
        snprintf(out, size, "ok bl0942 fault %s every %u\n", fault_names[chip.fault], chip.fault_every);
        return;
    }
    if (verb) {
        snprintf(out, size, "error: bl0942: expected nothing or fault KIND [EVERY]\n");
        return;
    }
    sim_bl0942_sync(sim_now_us());
    struct registers r = registers_now();
    uint64_t rx_lost, unheard;
    sim_uart_stats(&rx_lost, &unheard);
    snprintf(out, size,
             "ok {\"answers\":%llu,\"damaged\":%llu,\"fault\":\"%s\",\"every\":%u,\"ignored_bytes\":%llu,"
             "\"misframed_bytes\":%llu,\"unheard_bytes\":%llu,\"rx_lost\":%llu,\"cf_cnt\":%u,\"watt\":%.1f,"
             "\"v_rms\":%.0f,\"i_rms\":%.0f}\n",
             (unsigned long long)chip.answers, (unsigned long long)chip.damaged, fault_names[chip.fault],
             chip.fault_every, (unsigned long long)chip.ignored_bytes, (unsigned long long)chip.misframed_bytes,
             (unsigned long long)unheard, (unsigned long long)rx_lost, cf_cnt(), r.watt, r.v_rms, r.i_rms);
}

/* ---- Start and reboot ---- */

bool sim_bl0942_start(void)
{
    chip.fitted = sim_opt.meter == SIM_METER_BL0942;
    if (!chip.fitted)
        return true;
    chip.shunt_ohm = sim_opt.shunt_mohm / 1000;
    chip.divider = sim_opt.divider > 0 ? sim_opt.divider : 1950510.0 / 510.0; /* 5 x 390 kOhm + 510 Ohm */
    chip.fault_every = 3;
    if (sim_opt.bl0942_fault) {
        char copy[64], err[96];
        snprintf(copy, sizeof copy, "%s", sim_opt.bl0942_fault);
        char *slash = strchr(copy, '/');
        if (slash)
            *slash++ = '\0';
        if (!parse_fault(copy, slash, err, sizeof err)) {
            fprintf(stderr, "openplug-sim: --bl0942-fault %s: %s\n", sim_opt.bl0942_fault, err);
            return false;
        }
    }
    chip.cf_start = sim_opt.bl0942_cf_start % BL0942_CF_CNT_MODULO;
    const char *handed = getenv(HANDOVER_ENV);
    double watt_seconds;
    unsigned long long answers;
    if (handed && sscanf(handed, "%lf %llu", &watt_seconds, &answers) == 2 && watt_seconds >= 0) {
        chip.watt_seconds = watt_seconds; /* the chip kept counting through the plug's reboot */
        chip.answers = answers;
    }
    chip.t_ref_us = sim_now_us();
    return true;
}

void sim_bl0942_handover(char *entry, size_t size)
{
    *entry = '\0';
    if (!chip.fitted)
        return;
    sim_bl0942_sync(sim_now_us());
    snprintf(entry, size, "%s=%.17g %llu", HANDOVER_ENV, chip.watt_seconds, (unsigned long long)chip.answers);
}
