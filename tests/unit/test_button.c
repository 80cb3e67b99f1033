/* test_button.c — button debouncing and actions on the fake board, with
 * contact bounce: click toggles at once, double click and long press are
 * events of their own. */
#include "core/events.h"
#include "core/firmware.h"
#include "core/io/button.h"
#include "core/io/channels.h"
#include "core/sched.h"
#include "fake_hal.h"
#include "harness.h"

#define BUTTON_GPIO 17

static int actions[4];
static struct event_listener listener;

static void count_action(const struct event *event, void *arg)
{
    (void)arg;
    if (event->type == EVENT_BUTTON && event->value > 0 && event->value < 4)
        actions[event->value]++;
}

static void run_ms(uint32_t ms)
{
    uint64_t end = hal_time_ms() + ms;
    while (hal_time_ms() < end)
        sched_run_once((uint32_t)(end - hal_time_ms()));
}

/* Contact closes or opens with three bounces within 1.5 ms. */
static void contact(int settled)
{
    for (int i = 0; i < 3; i++) {
        fake_pin_external(BUTTON_GPIO, settled);
        fake_time_advance_us(200);
        fake_pin_external(BUTTON_GPIO, settled < 0 ? 0 : -1);
        fake_time_advance_us(300);
    }
    fake_pin_external(BUTTON_GPIO, settled);
}

static void press(uint32_t held_ms, uint32_t then_ms)
{
    contact(0);
    run_ms(held_ms);
    contact(-1);
    run_ms(then_ms);
}

static void reset_counts(void) { memset(actions, 0, sizeof actions); }

static void test_click_toggles_at_once(void)
{
    reset_counts();
    bool before = channel_get(1);
    press(80, 40); /* the toggle is done 40 ms after release */
    CHECK_EQ(actions[BUTTON_CLICK], 1);
    CHECK(channel_get(1) != before);
    run_ms(1000);
    press(120, 1000);
    CHECK_EQ(actions[BUTTON_CLICK], 2);
    CHECK(channel_get(1) == before);
}

static void test_double_click_is_its_own_event(void)
{
    reset_counts();
    bool before = channel_get(1);
    press(80, 150);
    press(80, 1000);
    CHECK_EQ(actions[BUTTON_CLICK], 1);
    CHECK_EQ(actions[BUTTON_DOUBLE], 1);
    CHECK(channel_get(1) != before); /* the first click toggled, the second did not */
}

static void test_slow_second_click_is_a_click(void)
{
    reset_counts();
    press(80, 600);
    press(80, 600);
    CHECK_EQ(actions[BUTTON_CLICK], 2);
    CHECK_EQ(actions[BUTTON_DOUBLE], 0);
}

static void test_long_press_does_not_toggle(void)
{
    reset_counts();
    bool before = channel_get(1);
    contact(0);
    run_ms(990);
    CHECK_EQ(actions[BUTTON_LONG], 0);
    run_ms(60);
    CHECK_EQ(actions[BUTTON_LONG], 1); /* fires while still held */
    run_ms(2000);
    contact(-1);
    run_ms(500);
    CHECK_EQ(actions[BUTTON_LONG], 1);
    CHECK_EQ(actions[BUTTON_CLICK], 0);
    CHECK(channel_get(1) == before);
}

static void test_glitch_is_not_a_press(void)
{
    reset_counts();
    fake_pin_external(BUTTON_GPIO, 0);
    fake_time_advance_us(2000);
    fake_pin_external(BUTTON_GPIO, -1);
    run_ms(500);
    CHECK_EQ(actions[BUTTON_CLICK] + actions[BUTTON_DOUBLE] + actions[BUTTON_LONG], 0);
}

/* The loop held up (no turn) for a whole press: its interrupts' times. */
static void press_in_a_stall(uint32_t held_ms)
{
    contact(0);
    fake_time_advance_us(held_ms * 1000u);
    contact(-1);
    fake_time_advance_us(50000);
}

static void test_presses_during_a_stall_count_by_their_times(void)
{
    reset_counts();
    run_ms(1000);
    bool before = channel_get(1);
    press_in_a_stall(100);
    run_ms(40);
    CHECK_EQ(actions[BUTTON_CLICK], 1);
    CHECK(channel_get(1) != before);
    run_ms(1000);
    /* two taps in one stall, 250 ms apart: a click and a double click */
    reset_counts();
    press_in_a_stall(80);
    fake_time_advance_us(120000);
    press_in_a_stall(80);
    run_ms(40);
    CHECK_EQ(actions[BUTTON_CLICK], 1);
    CHECK_EQ(actions[BUTTON_DOUBLE], 1);
    run_ms(1000);
    /* held past the long-press time: a long press, no toggle */
    reset_counts();
    before = channel_get(1);
    press_in_a_stall(1500);
    run_ms(40);
    CHECK_EQ(actions[BUTTON_LONG], 1);
    CHECK_EQ(actions[BUTTON_CLICK], 0);
    CHECK(channel_get(1) == before);
    /* a glitch in a stall: nothing; a tap after it in the same stall: a click */
    reset_counts();
    contact(0);
    fake_time_advance_us(5000);
    contact(-1);
    fake_time_advance_us(50000);
    run_ms(500);
    CHECK_EQ(actions[BUTTON_CLICK] + actions[BUTTON_DOUBLE] + actions[BUTTON_LONG], 0);
    contact(0);
    fake_time_advance_us(5000);
    contact(-1);
    fake_time_advance_us(500000);
    press_in_a_stall(100);
    run_ms(40);
    CHECK_EQ(actions[BUTTON_CLICK], 1);
    CHECK_EQ(actions[BUTTON_DOUBLE] + actions[BUTTON_LONG], 0);
}

static void test_idle_button_costs_no_timer(void)
{
    struct sched_stats before, after;
    run_ms(100);
    sched_get_stats(&before);
    run_ms(10000);
    sched_get_stats(&after);
    /* Only the slow timers (housekeeping, metering) wake the loop: sampling
     * every 10 ms would take 1000 turns. */
    CHECK(after.turns - before.turns < 100);
}

int main(void)
{
    fake_flash_blank();
    firmware_boot();
    event_listen(&listener, count_action, NULL);
    run_ms(100);
    RUN(test_click_toggles_at_once);
    RUN(test_double_click_is_its_own_event);
    RUN(test_slow_second_click_is_a_click);
    RUN(test_long_press_does_not_toggle);
    RUN(test_glitch_is_not_a_press);
    RUN(test_presses_during_a_stall_count_by_their_times);
    RUN(test_idle_button_costs_no_timer);
    return harness_report();
}
