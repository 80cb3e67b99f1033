/*
 * button.h — debounced push buttons: click, double click, long press.
 *
 * A button costs nothing while idle: its press edge raises an interrupt,
 * and only then is it sampled every BUTTON_SAMPLE_MS until released.  A
 * level counts once it has been stable for BUTTON_STABLE_SAMPLES samples.
 *   click        released before the long-press time: toggles its channel
 *                at once (no waiting for a possible second click);
 *   double click a second click released within button_double_ms of the
 *                first: an event of its own, it does not toggle back;
 *   long press   held for button_long_ms: an event, no toggle.
 * Every action is published as EVENT_BUTTON (value: enum button_action).
 * What a click switches depends on the kind (OpenBeken's button roles):
 * its channel (Btn), every relay (Btn_Tgl_All: all off if any is on, else
 * all on) or nothing (Btn_ScriptOnly: events only).  A switch
 * (TglChanOnTgl) is a rocker: each settled change of level, either way,
 * is a click that toggles its channel; it has no double click or long
 * press, and while still it waits for an interrupt on the opposite edge.
 * A push button's interrupt follows both edges (sched_pin_watch_both), so
 * a press and its release are recorded with their times even while the
 * main loop is held up: a tap the sampler could not see (a stall longer
 * than the tap: the world's `hang 1` and a 100 ms press in the simulator)
 * counts by those times when it lasted at least the sampler's
 * BUTTON_STABLE_SAMPLES x BUTTON_SAMPLE_MS; shorter ones are glitches.
 */
#ifndef OPENPLUG_BUTTON_H
#define OPENPLUG_BUTTON_H

#include <stdbool.h>

#define BUTTON_MAX 4
#define BUTTON_SAMPLE_MS 10
#define BUTTON_STABLE_SAMPLES 2

enum button_action { BUTTON_CLICK = 1, BUTTON_DOUBLE = 2, BUTTON_LONG = 3 };
const char *button_action_name(enum button_action action);

enum button_kind { BUTTON_PUSH, BUTTON_TOGGLE_ALL, BUTTON_SCRIPT_ONLY, BUTTON_SWITCH };

/* Start watching a button on gpio (pressed = low if active_low); channel
 * is its POWER index. */
void button_attach(int gpio, bool active_low, unsigned channel, enum button_kind kind);
void button_detach(int gpio);

#endif
