/*
 * ssdp_parse.h — the one SSDP message the plug reads: an M-SEARCH request
 * (UPnP Device Architecture 1.1, 1.3.2).  Pure code over a byte buffer,
 * fuzzed (fuzz/fuzz_ssdp.c): anything that is not a well-formed search is
 * refused and the caller ignores the datagram.
 */
#ifndef OPENPLUG_SSDP_PARSE_H
#define OPENPLUG_SSDP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define SSDP_ST_MAX 128

struct ssdp_search {
    char st[SSDP_ST_MAX]; /* search target, e.g. "ssdp:all" */
    int mx;               /* seconds the reply may be delayed; -1 when absent (unicast search) */
};

/* 0 and *out filled for an M-SEARCH with MAN "ssdp:discover" and an ST;
 * -1 otherwise (another method, a NOTIFY, a response, garbage). */
int ssdp_parse_search(const char *buf, size_t len, struct ssdp_search *out);

#endif
