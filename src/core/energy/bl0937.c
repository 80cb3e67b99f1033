/* bl0937.c — the BL0937 and HLW8012 drivers; see bl0937.h for the method. */
#include "bl0937.h"

#include <stdbool.h>
#include <stdio.h>

#include "core/health.h"
#include "core/io/pins.h"
#include "core/log.h"
#include "core/sched.h"
#include "hal/hal.h"

#define REPORT_MS 1000
#define START_LOAD_W 0.3f         /* a load this small has a period within the first report */
#define CF1_SETTLE_MS 400          /* after a SEL change (7 time constants of 50 ms) */
#define VOLTAGE_DWELL_MS 1000
#define CURRENT_DWELL_MS 2000      /* voltage refreshed every 3.8 s */
#define CURRENT_DWELL_LOW_MS 8000  /* below LOW_CURRENT_A: every 9.8 s, two periods at 4 mA */
#define LOW_CURRENT_A 0.020f
#define CURRENT_GIVE_UP_MS 40000   /* dwells adding up to this without two periods: below range */
#define METERING_STALL_MS 10000    /* no report for this long: metering is stuck */
#define GAP_PERIODS 3              /* an interval this many periods long may hide pulses */
#define MAX_GAP_US 400000          /* longest interrupt hold-off (flash erase, worst case) */

/* What tells the two chips apart. */
struct chip {
    const struct meter_driver *driver;
    enum pin_role cf_role;
    bool sel_high_selects_voltage;
};
static const struct chip bl0937 = {&bl0937_driver, PIN_BL0937CF, true};
static const struct chip hlw8012 = {&hlw8012_driver, PIN_HLW8012CF, false};
static const struct chip *chip; /* the one running, NULL when stopped */

static int cf_pin = -1, cf1_pin = -1, sel_pin = -1;
static bool sel_inverted;

/* Per Hz of the outputs, from meter_constant(): W (= J per pulse), V, A;
 * and the power constant as an integer for the energy count. */
static struct {
    float power, voltage, current;
} k;
static uint32_t uj_per_pulse;

/* CF: energy */
static uint64_t pulses;          /* since the start */
static uint64_t counted_pulses;  /* turned into energy_uj */
static uint64_t energy_uj;
static bool have_cf_edge, have_period;
static uint32_t last_cf_us;
static uint32_t cf_period_us;    /* smoothed, for blackout detection */
static uint32_t open_period_us;  /* the latest regular interval: the pulse in progress' rate */
static uint32_t gap_us;          /* a long interval waiting for confirmation */

/* Reports: the energy of each, over the time since the one before. */
static bool power_known;
static uint32_t ledger_us;       /* reports have accounted up to here */
static uint64_t ledger_pulses;   /* ... for these pulses */
static float open_j;             /* ... and this much of the pulse in progress */
static float backlog_j;          /* counted, held back by the rate cap (at most a pulse) */
static float peak_w;             /* fastest rate measured since the last report */
static float power_w;
static float smooth_power_w;     /* the reports through a 10 s time constant */
static uint64_t start_ms;

/* CF1: voltage and current */
enum cf1_mode { CF1_VOLTAGE, CF1_CURRENT };
static enum cf1_mode cf1_mode;
static bool cf1_settling;
static uint32_t window_us;       /* the dwell's measuring window starts here (after the settle) */
static uint32_t cf1_count, cf1_first_us, cf1_last_us;
static uint32_t cf1_min_dt, cf1_max_dt; /* intervals in the window: regular, or a bursty load? */
static float window_peak_w;      /* fastest CF rate in the window */
static float voltage_v, current_a;
static bool have_voltage, have_current;
static bool voltage_fresh;       /* the last voltage dwell gave a value */
static bool dwell_long;          /* the current dwell in progress is CURRENT_DWELL_LOW_MS */
static uint32_t current_dwells;  /* since the start */
static float current_phase, current_window_s, current_energy_j; /* dwells adding up */
static float dwell_start_j;
static float current_power_w;    /* mean active power over the dwells of current_a */

static struct bl0937_stats stats;
static struct sched_timer report_timer, dwell_timer;
static struct health_activity metering_health;

/* ---- CF ---- */

/* Energy of the pulse in progress at `now_us`: the latest period's rate
 * times the time since the last edge, at most one pulse. */
static float open_energy(uint32_t now_us)
{
    if (!have_period || !open_period_us)
        return 0;
    float part = (float)(uint32_t)(now_us - last_cf_us) / (float)open_period_us;
    return (part < 1 ? part : 1) * k.power;
}

static float counted_energy(uint32_t now_us) { return (float)pulses * k.power + open_energy(now_us); }

/* A long interval may hide edges that collapsed into one interrupt while
 * interrupts were held off (a flash erase: up to 300 ms).  It is taken for
 * such a gap only if the next interval is no longer than the period before
 * — otherwise the load simply dropped. */
static void on_cf_edge(int pin, uint32_t t_us, bool level, void *arg)
{
    (void)pin, (void)level, (void)arg;
    stats.cf_edges++;
    pulses++;
    if (have_cf_edge) {
        uint32_t dt = t_us - last_cf_us; /* wraps correctly */
        if (gap_us) {
            if (dt < cf_period_us * 3 / 2) {
                /* The latched interrupt came when interrupts returned, the
                 * next edge within a period: the rate held.  The edges
                 * really made since the one before the gap were evenly
                 * spaced. */
                uint64_t span = (uint64_t)gap_us + dt;
                uint32_t made = (uint32_t)((span + cf_period_us / 2) / cf_period_us);
                uint32_t missing = made > 2 ? made - 2 : 0;
                pulses += missing;
                stats.pulses_filled += missing;
            } else {
                cf_period_us = 0; /* a new rate: learn it again */
            }
            gap_us = 0;
        } else if (cf_period_us && dt > GAP_PERIODS * cf_period_us && dt < MAX_GAP_US) {
            gap_us = dt;
        } else {
            /* The period, smoothed against interrupt latency jitter. */
            cf_period_us = cf_period_us ? cf_period_us - cf_period_us / 8 + dt / 8 : dt;
        }
        if (!gap_us && dt) {
            open_period_us = dt;
            float rate = k.power * 1e6f / (float)dt;
            if (rate > peak_w)
                peak_w = rate;
            if (rate > window_peak_w)
                window_peak_w = rate;
            have_period = true;
        }
    }
    if (!have_period) {
        /* Until a period is known the reports start here: the pulses
         * before have no time they belong to. */
        ledger_us = t_us;
        ledger_pulses = pulses;
        open_j = 0;
    }
    have_cf_edge = true;
    last_cf_us = t_us;
}

/* ---- CF1: alternate voltage and current ---- */

/* The dwell's length follows the power averaged over ~10 s, not the last
 * values: on a bursty load a length that followed them would hold the
 * values of one kind longer than the other.  The first is short, and the
 * one after a voltage dwell that gave no value (a blackout), so that the
 * voltage comes soon. */
static bool long_dwell(void)
{
    return current_dwells && voltage_fresh && smooth_power_w / voltage_v < LOW_CURRENT_A;
}

/* Switch SEL; the window opens after the settle time (window_open()). */
static void select_cf1(enum cf1_mode mode)
{
    cf1_mode = mode;
    cf1_settling = true;
    window_us = hal_time_us() + CF1_SETTLE_MS * 1000u; /* edges before are the output moving */
    hal_pin_write(sel_pin, (mode == CF1_VOLTAGE) == chip->sel_high_selects_voltage ? !sel_inverted : sel_inverted);
    sched_timer_start(&dwell_timer, CF1_SETTLE_MS, 0);
}

static void window_open(void)
{
    cf1_settling = false;
    cf1_count = 0;
    window_peak_w = 0;
    window_us = hal_time_us();
    dwell_start_j = counted_energy(window_us);
    dwell_long = cf1_mode == CF1_CURRENT && long_dwell();
    uint32_t dwell = cf1_mode == CF1_VOLTAGE ? VOLTAGE_DWELL_MS : dwell_long ? CURRENT_DWELL_LOW_MS : CURRENT_DWELL_MS;
    sched_timer_start(&dwell_timer, dwell, 0);
}

static void on_cf1_edge(int pin, uint32_t t_us, bool level, void *arg)
{
    (void)pin, (void)level, (void)arg;
    stats.cf1_edges++;
    if (cf1_settling || (int32_t)(t_us - window_us) < 0)
        return; /* the output is still moving to the new quantity */
    uint32_t dt = t_us - cf1_last_us;
    /* Voltage is steady: an interval half again the average already means
     * an edge was lost (interrupt jitter of 100 us is well within it).  A
     * current may pause between bursts: only a long gap counts there. */
    uint32_t average = cf1_count >= 2 ? (cf1_last_us - cf1_first_us) / (cf1_count - 1) : 0;
    uint32_t late = cf1_mode == CF1_VOLTAGE ? average + average / 2 : GAP_PERIODS * average;
    if (cf1_count >= 2 && dt > late && dt < MAX_GAP_US) {
        /* This edge came late: edges collapsed while interrupts were held
         * off (or the loop was late).  The window starts again here. */
        window_us = t_us;
        window_peak_w = 0;
        dwell_start_j = counted_energy(t_us);
        cf1_count = 0;
    }
    if (cf1_count >= 1) {
        cf1_min_dt = cf1_count == 1 || dt < cf1_min_dt ? dt : cf1_min_dt;
        cf1_max_dt = cf1_count == 1 || dt > cf1_max_dt ? dt : cf1_max_dt;
    }
    if (!cf1_count++)
        cf1_first_us = t_us;
    cf1_last_us = t_us;
}

static void measure_voltage(void)
{
    voltage_fresh = false;
    if (cf1_count < 2)
        return;
    float v = (float)(cf1_count - 1) * 1e6f / (float)(cf1_last_us - cf1_first_us) * k.voltage;
    if (v > 80.0f && v < 300.0f) {
        voltage_v = v;
        have_voltage = voltage_fresh = true;
        stats.voltage_updates++;
    } else
        stats.cf1_rejected++;
}

/* A steady load over the window: no CF period much faster than the mean
 * power, and regular CF1 intervals (jitter aside). */
static bool window_steady(float mean_w)
{
    return window_peak_w <= mean_w * 1.5f && (cf1_count < 3 || cf1_max_dt <= cf1_min_dt + cf1_min_dt / 2);
}

/* The periods in the window.  At a steady rate: the whole ones between the
 * first and last edge, and the parts before the first and after the last
 * by the period — exact.  Otherwise (a bursty load) the edges: on average
 * as many as the periods, where a guessed part would not be. */
static float window_phase(uint32_t end_us, bool steady)
{
    if (!steady || cf1_count < 2)
        return (float)cf1_count;
    float period = (float)(cf1_last_us - cf1_first_us) / (float)(cf1_count - 1);
    float before = (float)(cf1_first_us - window_us) / period;
    float after = (float)(end_us - cf1_last_us) / period;
    return (float)(cf1_count - 1) + (before < 1 ? before : 1) + (after < 1 ? after : 1);
}

static void measure_current(void)
{
    uint32_t now_us = hal_time_us();
    current_dwells++;
    float window_s = (float)(uint32_t)(now_us - window_us) * 1e-6f;
    float energy_j = counted_energy(now_us) - dwell_start_j;
    bool regular = window_steady(energy_j / window_s);
    if (!regular) /* a bursty load: each dwell on its own, as added ones would be held shorter */
        current_phase = current_window_s = current_energy_j = 0;
    current_phase += window_phase(now_us, regular);
    current_window_s += window_s;
    current_energy_j += energy_j;
    if (regular && (current_energy_j > 0 || !power_known) && current_phase < 2 &&
        current_window_s * 1000 < CURRENT_GIVE_UP_MS)
        return; /* a steady small current (or no power yet): add the next dwell, not two periods yet */
    float i = current_phase / current_window_s * k.current;
    float mean_power = current_energy_j / current_window_s;
    current_phase = current_window_s = current_energy_j = 0;
    if (regular && have_voltage && i * voltage_v < mean_power * 0.97f) {
        stats.cf1_rejected++; /* power factor above 1 over the same time: a bad sample */
        return;
    }
    current_a = i;
    current_power_w = regular ? mean_power : 0; /* a bursty load's count is noisy both ways: no floor */
    have_current = true;
    stats.current_updates++;
}

static void dwell_done(void *arg)
{
    (void)arg;
    if (cf1_settling)
        window_open();
    else if (cf1_mode == CF1_VOLTAGE) {
        measure_voltage();
        select_cf1(CF1_CURRENT);
    } else {
        measure_current();
        select_cf1(CF1_VOLTAGE);
    }
}

/* ---- Reports ---- */

static void report(void *arg)
{
    (void)arg;
    health_alive(&metering_health);
    uint32_t now_us = hal_time_us();
    energy_uj += (pulses - counted_pulses) * uj_per_pulse;
    counted_pulses = pulses;
    /* Two periods of the smallest load reported from the start, and a
     * second: no period by then means less (BL0937: 12.4 s, 0.15 W). */
    uint64_t unknown_ms = (uint64_t)(2000.0f * k.power / START_LOAD_W) + 1000;
    if (!power_known && (have_period || hal_time_ms() - start_ms >= unknown_ms)) {
        power_known = true;
        if (!have_period) {
            ledger_us = now_us; /* below half START_LOAD_W, or nothing plugged in: 0 until a period comes */
            ledger_pulses = pulses;
        }
    }
    if (power_known && now_us != ledger_us) {
        float open = open_energy(now_us);
        float seconds = (float)(uint32_t)(now_us - ledger_us) * 1e-6f;
        float p = ((float)(pulses - ledger_pulses) * k.power + open - open_j + backlog_j) / seconds;
        float cap = have_period ? k.power * 1e6f / (float)open_period_us : 0;
        if (peak_w > cap)
            cap = peak_w;
        backlog_j = 0;
        if (have_period && p > cap) {
            backlog_j = (p - cap) * seconds;
            if (backlog_j > k.power)
                backlog_j = k.power;
            p = cap;
        }
        power_w = p > 0 ? p : 0;
        smooth_power_w += (power_w - smooth_power_w) * 0.1f;
        /* A load switched on during a long current dwell: end it now, so
         * the current and voltage follow within seconds (the margin keeps
         * a bursty load's ripple from ending dwells at its bursts). */
        if (dwell_long && !cf1_settling && voltage_v > 0 && smooth_power_w / voltage_v >= 2 * LOW_CURRENT_A) {
            dwell_long = false;
            sched_timer_start(&dwell_timer, 0, 0);
        }
        ledger_us = now_us;
        ledger_pulses = pulses;
        open_j = open;
        peak_w = 0;
    }
    struct meter_reading r = {.import_uj = energy_uj, .updated_ms = hal_time_ms()};
    r.valid = (power_known ? METER_HAS_POWER : 0) | (have_voltage ? METER_HAS_VOLTAGE : 0) |
              (have_current ? METER_HAS_CURRENT : 0);
    r.power_w = power_w;
    r.voltage_v = voltage_v;
    r.current_a = current_a;
    if (have_voltage && have_current) {
        /* Never below the active power over the current's own dwell. */
        r.apparent_va = voltage_v * current_a;
        if (r.apparent_va < current_power_w)
            r.apparent_va = current_power_w;
    }
    meter_publish(&r);
}

/* ---- Calibration ---- */

static void load_constants(void)
{
    uj_per_pulse = meter_constant(METER_POWER);
    k.power = (float)uj_per_pulse * 1e-6f;
    k.voltage = (float)meter_constant(METER_VOLTAGE) * 1e-6f;
    k.current = (float)meter_constant(METER_CURRENT) * 1e-6f;
}

static float measured(enum meter_quantity quantity)
{
    return quantity == METER_POWER ? power_w : quantity == METER_VOLTAGE ? voltage_v : current_a;
}

static void rescale(enum meter_quantity quantity, float ratio)
{
    if (quantity == METER_POWER) {
        power_w *= ratio;
        peak_w *= ratio;
        open_j *= ratio;
        backlog_j *= ratio;
    } else if (quantity == METER_VOLTAGE)
        voltage_v *= ratio;
    else
        current_a *= ratio;
    load_constants();
}

/* ---- Start and stop ---- */

static bool find_pins(const struct chip *c)
{
    cf_pin = pins_find(c->cf_role, 0);
    if (cf_pin < 0 && c == &hlw8012)
        cf_pin = pins_find(PIN_BL0937CF, 0); /* OpenBeken's form: startDriver HLW8012 on BL0937 pins */
    cf1_pin = pins_find(PIN_BL0937CF1, 0);
    sel_pin = pins_find(PIN_BL0937SEL, 0);
    sel_inverted = sel_pin < 0;
    if (sel_inverted)
        sel_pin = pins_find(PIN_BL0937SEL_N, 0);
    return cf_pin >= 0 && cf1_pin >= 0 && sel_pin >= 0;
}

static void stop(void)
{
    sched_timer_stop(&report_timer);
    sched_timer_stop(&dwell_timer);
    sched_pin_unwatch(cf_pin);
    sched_pin_unwatch(cf1_pin);
    hal_pin_mode(sel_pin, HAL_PIN_INPUT);
    health_unregister(&metering_health);
    chip = NULL;
}

static int start(const struct chip *c)
{
    if (!find_pins(c)) {
        LOG_ERR("NRG", "%s needs CF (%s), BL0937CF1 and BL0937SEL (or SEL_n) pins in the template", c->driver->name,
                pin_role_name(c->cf_role));
        return -1;
    }
    /* Everything measured starts afresh; meter.c keeps the energy. */
    pulses = counted_pulses = energy_uj = ledger_pulses = 0;
    have_cf_edge = have_period = power_known = have_voltage = have_current = voltage_fresh = false;
    cf_period_us = open_period_us = gap_us = 0;
    open_j = backlog_j = peak_w = power_w = smooth_power_w = voltage_v = current_a = current_power_w = 0;
    current_phase = current_window_s = current_energy_j = 0;
    current_dwells = 0;
    stats = (struct bl0937_stats){0};
    start_ms = hal_time_ms();
    chip = c;
    load_constants();
    hal_pin_mode(cf_pin, HAL_PIN_INPUT);
    hal_pin_mode(cf1_pin, HAL_PIN_INPUT);
    sched_timer_init(&report_timer, report, NULL);
    sched_timer_init(&dwell_timer, dwell_done, NULL);
    select_cf1(CF1_VOLTAGE);
    hal_pin_mode(sel_pin, HAL_PIN_OUTPUT);
    if (sched_pin_watch(cf_pin, HAL_EDGE_FALLING, on_cf_edge, NULL) ||
        sched_pin_watch(cf1_pin, HAL_EDGE_FALLING, on_cf1_edge, NULL)) {
        LOG_ERR("NRG", "%s: cannot attach the pin interrupts", c->driver->name);
        stop();
        return -1;
    }
    health_register(&metering_health, "metering", METERING_STALL_MS);
    sched_timer_start(&report_timer, REPORT_MS, REPORT_MS);
    LOG_INF("NRG", "%s on CF GPIO%d, CF1 GPIO%d, SEL%s GPIO%d", c->driver->name, cf_pin, cf1_pin,
            sel_inverted ? "_n" : "", sel_pin);
    return 0;
}

static void write_stats(struct json_writer *w)
{
    jw_int(w, "CfEdges", (int64_t)stats.cf_edges);
    jw_int(w, "Cf1Edges", (int64_t)stats.cf1_edges);
    jw_int(w, "PulsesFilled", (int64_t)stats.pulses_filled);
    jw_int(w, "Cf1Rejected", stats.cf1_rejected);
    jw_int(w, "VoltageUpdates", stats.voltage_updates);
    jw_int(w, "CurrentUpdates", stats.current_updates);
}

void bl0937_get_stats(struct bl0937_stats *out) { *out = stats; }

/* ---- The two chips ---- */

static bool bl0937_in_template(void) { return pins_find(PIN_BL0937CF, 0) >= 0; }
static bool hlw8012_in_template(void) { return pins_find(PIN_HLW8012CF, 0) >= 0; }
static int bl0937_start(void) { return start(&bl0937); }
static int hlw8012_start(void) { return start(&hlw8012); }

static const char *const pulse_units[METER_QUANTITY_COUNT] = {"uW per Hz of CF", "uV per Hz of CF1",
                                                              "uA per Hz of CF1"};

/* The typical BL0937 network (1 mOhm shunt, 1981:1 divider, Vref 1.218 V):
 * Vref^2 D / (Rs 1721506), Vref D / 15397, Vref / (Rs 94638). */
static const uint32_t bl0937_defaults[METER_QUANTITY_COUNT] = {1707150, 156710, 12870};

/* The typical HLW8012 network (1 mOhm shunt, 2351:1 divider, Vref 2.43 V,
 * fosc 3.579 MHz): Vref^2 D 128 / (48 Rs fosc), Vref D 512 / (2 fosc),
 * Vref 512 / (24 Rs fosc). */
static const uint32_t hlw8012_defaults[METER_QUANTITY_COUNT] = {10343612, 408637, 14484};

const struct meter_driver bl0937_driver = {
    .name = "BL0937", .in_template = bl0937_in_template, .start = bl0937_start, .stop = stop,
    .measured = measured, .rescale = rescale, .write_stats = write_stats, .constant_units = pulse_units,
    .constant_defaults = bl0937_defaults, .id = METER_CHIP_BL0937,
    .measures = METER_HAS_POWER | METER_HAS_VOLTAGE | METER_HAS_CURRENT,
};

const struct meter_driver hlw8012_driver = {
    .name = "HLW8012", .in_template = hlw8012_in_template, .start = hlw8012_start, .stop = stop,
    .measured = measured, .rescale = rescale, .write_stats = write_stats, .constant_units = pulse_units,
    .constant_defaults = hlw8012_defaults, .id = METER_CHIP_HLW8012,
    .measures = METER_HAS_POWER | METER_HAS_VOLTAGE | METER_HAS_CURRENT,
};
