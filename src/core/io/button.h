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
 */
#ifndef OPENPLUG_BUTTON_H
#define OPENPLUG_BUTTON_H

#include <stdbool.h>

#define BUTTON_MAX 4
#define BUTTON_SAMPLE_MS 10
#define BUTTON_STABLE_SAMPLES 2

enum button_action { BUTTON_CLICK = 1, BUTTON_DOUBLE = 2, BUTTON_LONG = 3 };
const char *button_action_name(enum button_action action);

/* Start watching a button on gpio (pressed = low if active_low). */
void button_attach(int gpio, bool active_low, unsigned channel);
void button_detach(int gpio);

#endif
