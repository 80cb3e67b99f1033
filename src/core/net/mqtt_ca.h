/*
 * mqtt_ca.h — the CA certificate MQTT over TLS trusts (MqttCA): the file
 * `mqtt_ca.pem` of the file store (storage/files.h), so the web UI can
 * upload it too.
 *
 * A PEM certificate is longer than a command line, so MqttCA takes it a
 * line at a time (or whole, with its newlines, as one MQTT payload):
 * "-----BEGIN CERTIFICATE-----" starts a draft, each line is added, and
 * "-----END CERTIFICATE-----" checks the whole certificate and saves it.
 * `MqttCA 0` deletes it.  Used when MqttFingerprint is not set.
 */
#ifndef OPENPLUG_MQTT_CA_H
#define OPENPLUG_MQTT_CA_H

#include "core/cmd/cmd.h"

#define MQTT_CA_FILE "mqtt_ca.pem"
#define MQTT_CA_MAX 2560 /* PEM bytes: RSA-2048 and EC CAs fit, RSA-4096 does not */

/* The stored PEM, NUL-terminated, in a heap block of its size (at most
 * MQTT_CA_MAX + 1) that the caller gives back with heap_give() once TLS has
 * parsed it; NULL when there is none, it is unreadable or the heap is short. */
char *mqtt_ca_pem_load(void);

enum cmd_result cmd_mqtt_ca(struct cmd_ctx *ctx);

#endif
