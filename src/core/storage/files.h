/*
 * files.h — a small power-cut-safe file store in the media partition
 * (sectors 24-55, layout.h): autoexec.bat, certificates, a few files of up
 * to FILES_SIZE_MAX bytes each.
 *
 * The area is cut into FILES_SLOTS slots of two banks; a bank is two
 * sectors: a 64-byte header, then the data.  A file lives in one slot; a
 * write goes to the slot's other bank (erase, program the data, program
 * the header last), so the old version stays readable until the new
 * header — with a sequence number and CRCs over itself and the data — is
 * complete.  The bank with the higher valid sequence number is current.  A
 * delete is a header-only version marked deleted.  So a power cut at any
 * instant leaves either the old or the new file, never a mix, and each
 * write wears only its own two sectors.
 *
 * Writes are streamed (an HTTP upload hands over its body in pieces) and
 * erase at most one sector per call, as the main loop demands.  One write
 * at a time.  Not a directory tree: flat names of [A-Za-z0-9._-].
 */
#ifndef OPENPLUG_FILES_H
#define OPENPLUG_FILES_H

#include <stdbool.h>
#include <stdint.h>

#define FILES_SLOTS 8
#define FILES_NAME_MAX 32          /* characters */
#define FILES_HEADER_SIZE 64u
#define FILES_BANK_SECTORS 2u
#define FILES_SIZE_MAX (FILES_BANK_SECTORS * 4096u - FILES_HEADER_SIZE) /* 8128 bytes */

#define FILES_ENOENT (-10) /* no such file */
#define FILES_ENOSPC (-11) /* every slot holds a file */
#define FILES_EBUSY (-12)  /* another write is under way */
#define FILES_ENAME (-13)  /* bad name */
#define FILES_ETOOBIG (-14)

struct files_info {
    char name[FILES_NAME_MAX + 1];
    uint32_t size;
    uint32_t crc; /* CRC-32 of the contents */
};

/* Scan the area (at boot; also after a test rewrites the flash).  Returns
 * the number of files, or a negative HAL_E* on a flash error. */
int files_mount(void);

/* Up to `max` files, in slot order; returns how many were written. */
int files_list(struct files_info *out, int max);
int files_stat(const char *name, struct files_info *out);
/* Read up to len bytes from offset; returns the count (0 at the end) or
 * FILES_ENOENT / a HAL_E*. */
int files_read(const char *name, uint32_t offset, void *buf, uint32_t len);

bool files_name_valid(const char *name);
/* Human words for a negative return of this module (or HAL_E*). */
const char *files_strerror(int err);

/* Streamed write: begin (checks and picks the bank), then chunks adding up
 * to exactly `size` bytes, then commit (which makes the new version
 * current).  A chunk call erases at most one sector and returns how many
 * bytes it took (maybe fewer than len: call again for the rest, in a later
 * loop turn), or a negative error.  Abort (or a power cut) before commit
 * leaves the old version. */
int files_write_begin(const char *name, uint32_t size);
int files_write_chunk(const void *data, uint32_t len);
int files_write_commit(void);
void files_write_abort(void);
bool files_write_busy(void);
/* True when the next chunk call starts by erasing a sector (a caller that
 * already erased one in this loop turn waits for the next). */
bool files_write_would_erase(void);

/* A whole small file in one call, for commands and tests: may erase two
 * sectors in one turn, so only for files of at most one sector's worth
 * from a loop turn (the HTTP upload streams instead). */
int files_write(const char *name, const void *data, uint32_t len);

/* Delete (one sector erase and one program). */
int files_delete(const char *name);

#endif
