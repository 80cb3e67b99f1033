/*
 * mqtt_replies.h — command replies over MQTT, of any number and length.
 *
 * A reply goes out on stat/<topic>/<suffix> at once when the client's
 * transmit buffer has room; otherwise it waits, in order, in a queue on
 * the heap (growing to MQTT_REPLIES_MAX, given back when empty), and the
 * publisher sends it as room frees up, so a burst such as Help's one reply
 * per module, or the next command's reply after it, is never lost.  Like
 * Tasmota, Status 0 goes out as one message per part: Status on STATUS,
 * StatusPRM on STATUS1, StatusFWR on STATUS2, StatusTIM on STATUS7,
 * StatusSNS on STATUS10, StatusSTS on STATUS11, …; so does any other reply
 * too long for one message (each top-level member its own message, on the
 * same topic).
 */
#ifndef OPENPLUG_MQTT_REPLIES_H
#define OPENPLUG_MQTT_REPLIES_H

#define MQTT_REPLIES_MAX 8192  /* bytes of replies waiting at most; more are dropped, with a log line */
#define MQTT_REPLY_SPLIT 3072  /* a reply longer than this (no room in MQTT_TX_MAX with its topic) goes out in parts */

/* Send (or queue) a reply on stat/<topic>/<suffix>. */
void mqtt_reply(const char *suffix, const char *json);
/* Send what waits, while there is room (the publisher calls it). */
void mqtt_replies_send(void);
/* Forget what waits (the connection is gone). */
void mqtt_replies_drop(void);

#endif
