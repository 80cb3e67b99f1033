/*
 * heap.c — the core's run-time heap blocks with their count and budget;
 * see heap.h.  Each block carries its size in a header in front of it, so
 * giving it back needs no size from the caller.
 */
#include "heap.h"

#include <stdlib.h>

/* The header keeps the block behind it aligned for any type (16 bytes on
 * the chip and the host; a union with max_align_t would take 32 on RV32). */
union block_header {
    _Alignas(max_align_t) size_t size;
};

static struct heap_stats stats;
static uint32_t budget;

void *heap_take(size_t size)
{
    size_t total = sizeof(union block_header) + size;
    if (total < size || (budget && total > budget - (stats.in_use < budget ? stats.in_use : budget))) {
        stats.refused++;
        return NULL;
    }
    union block_header *header = malloc(total);
    if (!header) {
        stats.refused++;
        return NULL;
    }
    header->size = total;
    stats.in_use += (uint32_t)total;
    if (stats.in_use > stats.peak)
        stats.peak = stats.in_use;
    return header + 1;
}

void heap_give(void *block)
{
    if (!block)
        return;
    union block_header *header = (union block_header *)block - 1;
    stats.in_use -= (uint32_t)header->size;
    free(header);
}

void heap_get_stats(struct heap_stats *out) { *out = stats; }

void heap_set_budget(uint32_t bytes) { budget = bytes; }
