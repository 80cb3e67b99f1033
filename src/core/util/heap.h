/*
 * heap.h — the core's run-time heap blocks: buffers that exist only while
 * something is active (an open HTTP connection, a CA certificate being
 * received or loaded, an MQTT command being run), taken here and given back
 * on every path that ends the activity.
 *
 * One place keeps count of what the core holds, so the bound each user
 * promises (e.g. HTTP_POOL connection buffers) is measured: bytes in use,
 * the peak since boot, and requests refused.  A budget, when set, refuses a
 * block that would take the core's total above it, as a short heap would;
 * the tests use it to drive the refusal paths.  Start-up allocations of the
 * SDK (lwIP, mbedTLS, Wi-Fi) do not come through here.
 */
#ifndef OPENPLUG_HEAP_H
#define OPENPLUG_HEAP_H

#include <stddef.h>
#include <stdint.h>

/* A block of `size` bytes (aligned for any type), or NULL when the heap or
 * the budget is short. */
void *heap_take(size_t size);
/* Give a block back; NULL is ignored. */
void heap_give(void *block);

struct heap_stats {
    uint32_t in_use;  /* bytes the core holds now */
    uint32_t peak;    /* the most it held at once since boot */
    uint32_t refused; /* heap_take calls answered NULL */
};
void heap_get_stats(struct heap_stats *out);

/* Refuse blocks that would take the core's total above `bytes` (0: only
 * the heap itself limits). */
void heap_set_budget(uint32_t bytes);

#endif
