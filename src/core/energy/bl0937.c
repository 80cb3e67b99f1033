/* bl0937.c — the BL0937 estimator; see bl0937.h for the method. */
#include "bl0937.h"

#include <stdbool.h>
#include <stdio.h>

#include "core/drivers.h"
#include "core/energy/sensors.h"
#include "core/health.h"
#include "core/io/pins.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/storage/config.h"
#include "hal/hal.h"

#define REPORT_MS 1000
#define DECAY_REPORT_MS 250      /* updates while a switched-off load decays */
#define ZERO_AFTER_MS 60000      /* no CF edge for this long: 0 W (floor 0.03 W) */
#define CF1_SETTLE_MS 400        /* after a SEL change (7 time constants of 50 ms) */
#define VOLTAGE_DWELL_MS 1000
#define CURRENT_DWELL_MIN_MS 1000
#define CURRENT_DWELL_MAX_MS 3000     /* keeps the voltage fresh: refreshed every <= 5 s */
#define CURRENT_GIVE_UP_MS 30000      /* no two whole periods in this long: below range */
#define CF1_CHECK_MS 250
#define METERING_STALL_MS 10000  /* no gate closed for this long: metering is stuck */
#define GAP_PERIODS 3            /* an interval this many periods long may hide pulses */
#define MAX_GAP_US 400000        /* longest interrupt hold-off (flash erase, worst case) */

/* Per Hz of the chip's outputs: watts (CF), volts and amps (CF1), from the
 * settings (defaults: the typical network, see config.c). */
static struct {
    float power_w_per_hz, voltage_v_per_hz, current_a_per_hz;
} k;
static bool running;
static int cf_pin = -1, cf1_pin = -1, sel_pin = -1;
static bool sel_inverted;

/* CF: energy and power */
static uint64_t pulses;            /* energy, in CF pulses */
static bool have_cf_edge;
static uint32_t last_cf_us;
static uint32_t cf_period_us;      /* the recent period, 0 if unknown */
static uint32_t gap_us;            /* a long interval waiting for confirmation */
static uint32_t last_dt_us;        /* the latest interval, as it came */
static uint32_t gate_pulses;
static uint64_t gate_span_us;      /* time spanned by those pulses */
static uint32_t gate_ref_us;       /* time up to which the gates have accounted */
static float power_w;
static uint64_t last_cf_ms;

/* CF1: voltage and current */
enum cf1_mode { CF1_VOLTAGE, CF1_CURRENT };
static enum cf1_mode cf1_mode;
static uint64_t cf1_mode_since_ms;
static uint32_t cf1_edges;         /* after the dropped first one */
static uint32_t cf1_first_us, cf1_last_us;
static bool cf1_started;
static float voltage_v, current_a;
static uint32_t current_periods;   /* whole CF1 periods summed over current dwells */
static uint64_t current_span_us;
static uint64_t current_dwells_ms;

static struct bl0937_stats stats;
static struct sched_timer report_timer, decay_timer, cf1_timer;
static struct health_activity metering_health; /* alive at every gate */

/* ---- Edges (in the loop, with the interrupt's timestamp) ---- */

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
        last_dt_us = dt;
        gate_pulses++;
        gate_span_us += (uint32_t)(t_us - gate_ref_us);
        if (gap_us) {
            /* The latched interrupt came when interrupts returned, the next
             * edge within a period: the rate held.  The edges really made
             * from the one before the gap to this one are evenly spaced. */
            if (dt < cf_period_us * 3 / 2) {
                uint64_t span = (uint64_t)gap_us + dt;
                uint32_t made = (uint32_t)((span + cf_period_us / 2) / cf_period_us);
                uint32_t missing = made > 2 ? made - 2 : 0;
                pulses += missing;
                gate_pulses += missing;
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
    }
    have_cf_edge = true;
    last_cf_us = gate_ref_us = t_us;
    last_cf_ms = hal_time_ms();
}

static void on_cf1_edge(int pin, uint32_t t_us, bool level, void *arg)
{
    (void)pin, (void)level, (void)arg;
    stats.cf1_edges++;
    if (hal_time_ms() - cf1_mode_since_ms < CF1_SETTLE_MS)
        return; /* the output is still moving to the new quantity */
    if (!cf1_started) {
        cf1_started = true; /* the first edge only starts the clock */
        cf1_first_us = cf1_last_us = t_us;
        return;
    }
    uint32_t dt = t_us - cf1_last_us;
    if (cf1_edges >= 2 && dt > GAP_PERIODS * ((cf1_last_us - cf1_first_us) / cf1_edges) && dt < MAX_GAP_US) {
        /* Edges collapsed while interrupts were held off: this one came
         * late.  Start counting again from the next edge. */
        cf1_started = false;
        cf1_edges = 0;
        return;
    }
    cf1_edges++;
    cf1_last_us = t_us;
}

/* ---- CF1: alternate voltage and current ---- */

static void select_cf1(enum cf1_mode mode)
{
    cf1_mode = mode;
    cf1_mode_since_ms = hal_time_ms();
    cf1_started = false;
    cf1_edges = 0;
    /* BL0937: SEL high = voltage. */
    hal_pin_write(sel_pin, (mode == CF1_VOLTAGE) != sel_inverted);
}

static float cf1_frequency(void)
{
    uint32_t span = cf1_last_us - cf1_first_us;
    return cf1_edges && span ? (float)cf1_edges * 1e6f / (float)span : 0.0f;
}

static void cf1_check(void *arg)
{
    (void)arg;
    uint64_t dwell = hal_time_ms() - cf1_mode_since_ms;
    if (dwell < CF1_SETTLE_MS)
        return;
    dwell -= CF1_SETTLE_MS;
    if (cf1_mode == CF1_VOLTAGE) {
        if (dwell < VOLTAGE_DWELL_MS)
            return;
        float v = cf1_frequency() * k.voltage_v_per_hz;
        if (v > 80.0f && v < 300.0f) {
            voltage_v = v;
            stats.voltage_updates++;
        } else
            stats.cf1_rejected++;
        select_cf1(CF1_CURRENT);
        return;
    }
    /* Current: at least two whole periods, up to the longest dwell (short
     * enough to refresh the voltage every 5 s).  At a few mA a period is
     * longer than that: the whole periods of several dwells add up. */
    if (dwell < CURRENT_DWELL_MIN_MS || (cf1_edges < 2 && dwell < CURRENT_DWELL_MAX_MS))
        return;
    current_periods += cf1_edges;
    current_span_us += cf1_edges ? cf1_last_us - cf1_first_us : 0;
    current_dwells_ms += dwell;
    if (current_periods >= 2) {
        float i = (float)current_periods * 1e6f / (float)current_span_us * k.current_a_per_hz;
        if (voltage_v > 0 && i * voltage_v < power_w * 0.99f)
            stats.cf1_rejected++; /* power factor above 1: a bad sample, not a bad power */
        else
            current_a = i;
        stats.current_updates++;
        current_periods = 0;
        current_span_us = 0;
        current_dwells_ms = 0;
    } else if (current_dwells_ms > CURRENT_GIVE_UP_MS) {
        current_a = 0; /* below the range: the report falls back on P / V */
        current_periods = 0;
        current_span_us = 0;
        current_dwells_ms = 0;
    }
    select_cf1(CF1_VOLTAGE);
}

/* ---- Reports ---- */

/* The load is at most one pulse over the time since the last edge: lower
 * the power to that bound.  Returns true while the bound is what falls. */
static bool apply_bound(void)
{
    if (!have_cf_edge)
        return false;
    uint64_t quiet_ms = hal_time_ms() - last_cf_ms;
    float bound = k.power_w_per_hz * 1000.0f / (float)(quiet_ms + 1);
    bool falling = bound < power_w;
    if (falling)
        power_w = bound;
    if (quiet_ms > ZERO_AFTER_MS)
        power_w = 0;
    return falling;
}

static void publish(void)
{
    struct energy_values v = {.valid = true, .power_w = power_w, .voltage_v = voltage_v, .pulses = pulses,
                              .updated_ms = hal_time_ms()};
    /* Current never below what the power needs (PF <= 1). */
    float current = current_a;
    if (voltage_v > 0 && current * voltage_v < power_w)
        current = power_w / voltage_v;
    v.current_a = current;
    v.apparent_va = voltage_v * current;
    if (v.apparent_va < power_w)
        v.apparent_va = power_w;
    v.factor = v.apparent_va > 0 ? power_w / v.apparent_va : 0;
    float q2 = v.apparent_va * v.apparent_va - power_w * power_w;
    v.reactive_var = 0;
    if (q2 > 0) { /* sqrt by Newton: the core avoids libm */
        float q = v.apparent_va;
        for (int i = 0; i < 12; i++)
            q = 0.5f * (q + q2 / q);
        v.reactive_var = q;
    }
    sensors_publish_energy(&v);
}


/* Between gates, while a switched-off load's bound falls: follow it. */
static void decay_tick(void *arg)
{
    (void)arg;
    if (gate_pulses || !apply_bound())
        sched_timer_stop(&decay_timer); /* edges again, or nothing left to lower */
    else
        publish();
}

/* Every second: the power over the whole periods of this gate. */
static void close_gate(void *arg)
{
    (void)arg;
    health_alive(&metering_health);
    /* An edge overdue by two intervals: the load stopped or fell.  The quiet
     * time belongs to this gate, so a load switched on and off averages
     * right (and the next gate does not count it again). */
    uint32_t now_us = hal_time_us();
    if (have_cf_edge && last_dt_us && now_us - last_cf_us > 2 * last_dt_us) {
        gate_span_us += (uint32_t)(now_us - gate_ref_us);
        gate_ref_us = now_us;
    }
    if (gate_pulses)
        power_w = (float)gate_pulses * k.power_w_per_hz * 1e6f / (float)gate_span_us;
    else if (apply_bound() && !decay_timer.armed)
        sched_timer_start(&decay_timer, DECAY_REPORT_MS, DECAY_REPORT_MS);
    gate_pulses = 0;
    gate_span_us = 0;
    publish();
}

/* ---- Calibration ---- */

static void load_calibration(void)
{
    const struct config *c = config_get();
    k.power_w_per_hz = (float)c->power_cal_uw * 1e-6f;
    k.voltage_v_per_hz = (float)c->voltage_cal_uv * 1e-6f;
    k.current_a_per_hz = (float)c->current_cal_ua * 1e-6f;
}

uint32_t bl0937_constant(enum bl0937_quantity quantity)
{
    const struct config *c = config_get();
    return quantity == BL0937_POWER ? c->power_cal_uw : quantity == BL0937_VOLTAGE ? c->voltage_cal_uv
                                                                                   : c->current_cal_ua;
}

int bl0937_set_constant(enum bl0937_quantity quantity, uint32_t value)
{
    struct config *next = config_edit();
    uint32_t *field = quantity == BL0937_POWER ? &next->power_cal_uw
                      : quantity == BL0937_VOLTAGE ? &next->voltage_cal_uv
                                                   : &next->current_cal_ua;
    float ratio = (float)value / (float)*field;
    *field = value;
    int err = config_update(next);
    if (err)
        return err;
    /* The values measured so far, in the new scale. */
    if (quantity == BL0937_POWER)
        power_w *= ratio;
    else if (quantity == BL0937_VOLTAGE)
        voltage_v *= ratio;
    else
        current_a *= ratio;
    load_calibration();
    return 0;
}

int bl0937_calibrate(enum bl0937_quantity quantity, float reference, char *error, unsigned error_size)
{
    static const char *const units[] = {"W", "V", "A"};
    float measured = quantity == BL0937_POWER ? power_w : quantity == BL0937_VOLTAGE ? voltage_v : current_a;
    if (!running) {
        snprintf(error, error_size, "metering is not running (startDriver BL0937)");
        return -1;
    }
    if (!(measured > 0)) {
        snprintf(error, error_size, "nothing measured yet: plug in a steady load and wait a few seconds");
        return -1;
    }
    float ratio = reference / measured;
    if (!(ratio >= 0.25f && ratio <= 4.0f)) {
        snprintf(error, error_size, "%.3f %s against %.3f %s measured is beyond 4x: check the reference",
                 (double)reference, units[quantity], (double)measured, units[quantity]);
        return -1;
    }
    uint32_t value = (uint32_t)((float)bl0937_constant(quantity) * ratio + 0.5f);
    if (bl0937_set_constant(quantity, value) != 0) {
        snprintf(error, error_size, "cannot save the calibration (flash error)");
        return -1;
    }
    LOG_INF("NRG", "calibrated %s: %.3f %s measured, %.3f %s reference", units[quantity], (double)measured,
            units[quantity], (double)reference, units[quantity]);
    return 0;
}

/* ---- Start ---- */

static int start(void)
{
    cf_pin = pins_find(PIN_BL0937CF, 0);
    cf1_pin = pins_find(PIN_BL0937CF1, 0);
    sel_pin = pins_find(PIN_BL0937SEL, 0);
    sel_inverted = sel_pin < 0;
    if (sel_inverted)
        sel_pin = pins_find(PIN_BL0937SEL_N, 0);
    if (cf_pin < 0 || cf1_pin < 0 || sel_pin < 0) {
        LOG_ERR("NRG", "BL0937 needs BL0937CF, BL0937CF1 and BL0937SEL (or SEL_n) pins in the template");
        return -1;
    }
    load_calibration();
    hal_pin_mode(cf_pin, HAL_PIN_INPUT);
    hal_pin_mode(cf1_pin, HAL_PIN_INPUT);
    select_cf1(CF1_VOLTAGE);
    hal_pin_mode(sel_pin, HAL_PIN_OUTPUT);
    if (sched_pin_watch(cf_pin, HAL_EDGE_FALLING, on_cf_edge, NULL) ||
        sched_pin_watch(cf1_pin, HAL_EDGE_FALLING, on_cf1_edge, NULL)) {
        LOG_ERR("NRG", "BL0937: cannot attach the pin interrupts");
        return -1;
    }
    health_register(&metering_health, "metering", METERING_STALL_MS);
    sched_timer_init(&report_timer, close_gate, NULL);
    sched_timer_start(&report_timer, REPORT_MS, REPORT_MS);
    sched_timer_init(&decay_timer, decay_tick, NULL);
    sched_timer_init(&cf1_timer, cf1_check, NULL);
    sched_timer_start(&cf1_timer, CF1_CHECK_MS, CF1_CHECK_MS);
    running = true;
    LOG_INF("NRG", "BL0937 on CF GPIO%d, CF1 GPIO%d, SEL%s GPIO%d", cf_pin, cf1_pin, sel_inverted ? "_n" : "",
            sel_pin);
    return 0;
}

void bl0937_register(void)
{
    static struct driver driver = {.name = "BL0937", .start = start};
    driver_register(&driver);
}

void bl0937_get_stats(struct bl0937_stats *out) { *out = stats; }

bool bl0937_running(void) { return running; }
