/* test_bl0942.c — the BL0942 driver on the fake board, behind meter.c:
 * chosen by the template, readings from good packets only, signed power
 * and export energy, CF_CNT wrapping, a silent chip withdrawn, calibration,
 * and the refusals (one UART pin only, a busy UART).  A small chip model
 * answers every "read all" the driver writes to the fake UART. */
#include "core/cmd/cmd.h"
#include "core/energy/bl0942.h"
#include "core/energy/bl0942_packet.h"
#include "core/energy/meter.h"
#include "core/firmware.h"
#include "core/sched.h"
#include "fake_hal.h"
#include "harness.h"

#define LSB_PER_W 623.3938
#define LSB_PER_V 15883.34
#define LSB_PER_A 251213.46
#define WATT_SECONDS_PER_STEP 419430.4

static const char *const bl0942_template =
    "Template {\"name\":\"t\",\"pins\":{\"2\":\"Rel;1\",\"7\":\"BL0942RX;0\",\"16\":\"BL0942TX;0\"}}";

/* The chip: the load it sees, its energy accumulator and CF_CNT. */
static struct {
    double watts, volts, amps;
    double watt_seconds; /* |WATT| x s */
    uint32_t cf_start;
    enum { GOOD, CORRUPT, SILENT } mode;
    unsigned requests;
} chip = {.watts = 1000, .volts = 230, .amps = 1000.0 / 230};

static char reply[1024];

static void keep(const char *json, void *arg)
{
    (void)arg;
    snprintf(reply, sizeof reply, "%s", json);
}

static const char *run(const char *text)
{
    static char line[CMD_LINE_MAX + 1];
    snprintf(line, sizeof line, "%s", text);
    reply[0] = '\0';
    cmd_execute(line, SOURCE_CONSOLE, keep, NULL);
    return reply;
}

static void answer_requests(void)
{
    while (fake_uart.open && fake_uart.written_len >= 2) {
        CHECK_EQ(fake_uart.written[0], BL0942_CMD_READ);
        CHECK_EQ(fake_uart.written[1], BL0942_REG_ALL);
        memmove(fake_uart.written, fake_uart.written + 2, fake_uart.written_len - 2);
        fake_uart.written_len -= 2;
        chip.requests++;
        double steps = chip.watt_seconds / WATT_SECONDS_PER_STEP;
        struct bl0942_packet p = {
            .i_rms = (uint32_t)(chip.amps * LSB_PER_A + 0.5),
            .v_rms = (uint32_t)(chip.volts * LSB_PER_V + 0.5),
            .i_fast_rms = (uint32_t)(chip.amps * LSB_PER_A + 0.5),
            .watt = (int32_t)(chip.watts * LSB_PER_W + (chip.watts < 0 ? -0.5 : 0.5)),
            .cf_cnt = (uint32_t)((chip.cf_start + (uint64_t)steps) % BL0942_CF_CNT_MODULO),
            .freq = 20000,
        };
        uint8_t bytes[BL0942_PACKET_SIZE];
        bl0942_packet_encode(&p, bytes);
        if (chip.mode == CORRUPT)
            bytes[5] ^= 0x10;
        if (chip.mode != SILENT)
            fake_uart_feed(bytes, sizeof bytes);
    }
}

/* Advance the firmware and the chip by ms in 10 ms steps. */
static void run_ms(uint32_t ms)
{
    uint64_t end = hal_time_ms() + ms;
    while (hal_time_ms() < end) {
        uint64_t before = hal_time_ms();
        sched_run_once(10);
        chip.watt_seconds += (chip.watts < 0 ? -chip.watts : chip.watts) * LSB_PER_W *
                             (double)(hal_time_ms() - before) / 1000.0;
        answer_requests();
    }
}

static void test_template_starts_it(void)
{
    CHECK_CONTAINS(run(bl0942_template), "\"t\"");
    run_ms(100);
    CHECK(meter_running() == &bl0942_driver);
    CHECK(fake_uart.open);
    CHECK_EQ(fake_uart.tx_pin, 16);
    CHECK_EQ(fake_uart.rx_pin, 7);
    CHECK_EQ(fake_uart.baud, 4800);
    run("Power on");
}

static void test_readings_at_a_load(void)
{
    chip.watts = 1000, chip.volts = 230, chip.amps = 1000 / (230 * 0.8); /* pf 0.8 */
    run_ms(2000);
    const struct meter_reading *r = meter_reading();
    CHECK((r->valid & (METER_HAS_POWER | METER_HAS_VOLTAGE | METER_HAS_CURRENT | METER_HAS_FREQUENCY |
                       METER_HAS_EXPORT)) == (METER_HAS_POWER | METER_HAS_VOLTAGE | METER_HAS_CURRENT |
                                              METER_HAS_FREQUENCY | METER_HAS_EXPORT));
    CHECK(r->power_w > 999.5f && r->power_w < 1000.5f);
    CHECK(r->voltage_v > 229.9f && r->voltage_v < 230.1f);
    CHECK(r->current_a > 5.43f && r->current_a < 5.44f);
    CHECK(r->factor > 0.799f && r->factor < 0.801f);
    CHECK(r->frequency_hz > 49.99f && r->frequency_hz < 50.01f);
    CHECK(chip.requests >= 7 && chip.requests <= 9); /* every 250 ms */
    chip.amps = 1000.0 / 230;
}

static void test_energy_import_then_export(void)
{
    run_ms(500);
    uint64_t import0 = meter_reading()->import_uj, export0 = meter_reading()->export_uj;
    run_ms(100000); /* 1 kW for 100 s: 100 kJ */
    double imported = (double)(meter_reading()->import_uj - import0);
    CHECK(imported > 0.997e11 && imported < 1.003e11);
    CHECK_EQ(meter_reading()->export_uj, export0);
    chip.watts = -500; /* a solar micro-inverter */
    run_ms(500);
    CHECK(meter_reading()->power_w < -499.5f && meter_reading()->power_w > -500.5f);
    uint64_t import1 = meter_reading()->import_uj, export1 = meter_reading()->export_uj;
    run_ms(100000);
    double exported = (double)(meter_reading()->export_uj - export1);
    CHECK(exported > 0.497e11 && exported < 0.503e11);
    CHECK_EQ(meter_reading()->import_uj, import1); /* nothing drawn */
    chip.watts = 1000;
}

static void test_cf_cnt_wrap(void)
{
    /* the chip resets (CF_CNT jumps: re-based, nothing lost) to a count
     * about to wrap */
    chip.watt_seconds = 0;
    chip.cf_start = BL0942_CF_CNT_MODULO - 20;
    run_ms(500);
    uint64_t import0 = meter_reading()->import_uj;
    run_ms(30000); /* ~45 steps of 672.8 J: across the wrap */
    double imported = (double)(meter_reading()->import_uj - import0);
    CHECK(imported > 2.975e10 && imported < 3.025e10); /* the step's phase: within half a poll, once */
    chip.cf_start = 0;
}

static void test_bad_packets_make_no_reading(void)
{
    run_ms(1000);
    float before = meter_reading()->power_w;
    chip.watts = 2000;
    chip.mode = CORRUPT;
    run_ms(2000);
    CHECK(meter_reading()->power_w == before); /* not 2000, and not a corrupted voltage */
    CHECK(meter_reading()->valid != 0);
    run_ms(2000); /* 3 s without a good packet: withdrawn */
    CHECK_EQ(meter_reading()->valid, 0);
    CHECK(bl0942_driver.measured(METER_POWER) == 0); /* nothing to calibrate against */
    chip.mode = GOOD;
    run_ms(1000);
    CHECK(meter_reading()->power_w > 1999 && meter_reading()->power_w < 2001);
    chip.mode = SILENT;
    run_ms(3500);
    CHECK_EQ(meter_reading()->valid, 0);
    chip.mode = GOOD;
    chip.watts = 1000;
    run_ms(1000);
}

static void test_calibration(void)
{
    char error[96];
    uint32_t before = meter_constant(METER_POWER);
    CHECK_EQ(before, 1604122);
    CHECK_EQ(meter_calibrate(METER_POWER, 1100, error, sizeof error), 0);
    CHECK(meter_constant(METER_POWER) > 1764400 && meter_constant(METER_POWER) < 1764700);
    run_ms(1000);
    CHECK(meter_reading()->power_w > 1099 && meter_reading()->power_w < 1101);
    CHECK(meter_calibrate(METER_POWER, 9000, error, sizeof error) < 0); /* beyond 4x */
    CHECK(meter_constant(METER_POWER) > 1764400 && meter_constant(METER_POWER) < 1764700);
    CHECK_EQ(meter_set_constant(METER_POWER, before), 0);
}

static void test_pins_refused_and_default_pair(void)
{
    /* one UART pin only: refused, no meter */
    run("Template {\"name\":\"half\",\"pins\":{\"2\":\"Rel;1\",\"16\":\"BL0942TX;0\"}}");
    run_ms(100);
    CHECK(meter_running() == NULL);
    CHECK(!fake_uart.open);
    /* no BL0942 pins: startDriver BL0942 takes TX GPIO16 / RX GPIO7 */
    run("Template {\"name\":\"bare\",\"pins\":{\"2\":\"Rel;1\"}}");
    run_ms(100);
    CHECK(meter_running() == NULL);
    run("startDriver BL0942");
    run_ms(1000);
    CHECK(meter_running() == &bl0942_driver);
    CHECK_EQ(fake_uart.tx_pin, 16);
    CHECK_EQ(fake_uart.rx_pin, 7);
    CHECK(meter_reading()->power_w > 999 && meter_reading()->power_w < 1001);
}

int main(void)
{
    fake_flash_blank();
    firmware_boot();
    RUN(test_template_starts_it);
    RUN(test_readings_at_a_load);
    RUN(test_energy_import_then_export);
    RUN(test_cf_cnt_wrap);
    RUN(test_bad_packets_make_no_reading);
    RUN(test_calibration);
    RUN(test_pins_refused_and_default_pair);
    return harness_report();
}
