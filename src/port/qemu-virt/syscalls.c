/*
 * syscalls.c — what newlib needs from the qemu-virt board (built with
 * --disable-newlib-supplied-syscalls): _sbrk hands out the heap between
 * the end of .bss and the loop stack and keeps its high-water mark; _write
 * goes to the console UART; there are no files.  Also the board's memory
 * figures: static RAM from the linker's symbols, the heap peak, and the
 * loop stack's high-water mark from the paint start.S left on it.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <sys/stat.h>

#include "hal/hal.h"
#include "virt.h"

#define STACK_PAINT 0x5AA5C33Cu /* as start.S paints it */

extern char __data_start[], __data_end[], __bss_start[], __bss_end[];
extern char __heap_start[], __heap_end[], __stack_bottom[], __stack_top[];

static char *heap_top = __heap_start;
static char *heap_peak = __heap_start;

void *_sbrk(ptrdiff_t increment);
void *_sbrk(ptrdiff_t increment)
{
    char *previous = heap_top;
    if (increment > __heap_end - heap_top || increment < __heap_start - heap_top) {
        errno = ENOMEM;
        return (void *)-1;
    }
    heap_top += increment;
    if (heap_top > heap_peak)
        heap_peak = heap_top;
    return previous;
}

int _write(int fd, const void *buf, size_t len);
int _write(int fd, const void *buf, size_t len)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    hal_console_write(buf, len);
    return (int)len;
}

int _read(int fd, void *buf, size_t len);
int _read(int fd, void *buf, size_t len)
{
    (void)fd;
    (void)buf;
    (void)len;
    return 0; /* the console is read through hal_console_read() */
}

int _close(int fd);
int _close(int fd)
{
    (void)fd;
    errno = EBADF;
    return -1;
}

int _fstat(int fd, struct stat *st);
int _fstat(int fd, struct stat *st)
{
    (void)fd;
    st->st_mode = S_IFCHR; /* stdout is a character device: line-buffered */
    return 0;
}

int _isatty(int fd);
int _isatty(int fd) { return fd <= 2; }

int _lseek(int fd, int offset, int whence);
int _lseek(int fd, int offset, int whence)
{
    (void)fd;
    (void)offset;
    (void)whence;
    errno = ESPIPE;
    return -1;
}

int _getpid(void);
int _getpid(void) { return 1; }

int _kill(int pid, int signal);
int _kill(int pid, int signal)
{
    (void)pid;
    (void)signal;
    errno = EINVAL;
    return -1;
}

/* abort() and exit(): the chip cannot stop, it restarts. */
void _exit(int status);
void _exit(int status)
{
    (void)status;
    virt_reset(HAL_RESET_CRASH);
}

static uint32_t stack_high_water(void)
{
    const uint32_t *word = (const uint32_t *)(void *)__stack_bottom;
    while ((const char *)word < __stack_top && *word == STACK_PAINT)
        word++;
    return (uint32_t)(__stack_top - (const char *)word);
}

void virt_memory(struct virt_memory *out)
{
    out->data = (uint32_t)(__data_end - __data_start);
    out->bss = (uint32_t)(__bss_end - __bss_start);
    out->heap_size = (uint32_t)(__heap_end - __heap_start);
    out->heap_peak = (uint32_t)(heap_peak - __heap_start);
    out->stack_size = (uint32_t)(__stack_top - __stack_bottom);
    out->stack_peak = stack_high_water();
}

/* Heap bytes handed out by malloc and not freed (newlib's own count). */
uint32_t virt_heap_in_use(void) { return (uint32_t)mallinfo().uordblks; }

/* One line on the console; the console test (tests/qemu) reads it. */
void virt_memory_report(void)
{
    struct virt_memory m;
    virt_memory(&m);
    printf("qemu-virt: memory: static RAM %lu B (data %lu + bss %lu), heap peak %lu of %lu B, "
           "loop stack high-water %lu of %lu B\n",
           (unsigned long)(m.data + m.bss), (unsigned long)m.data, (unsigned long)m.bss, (unsigned long)m.heap_peak,
           (unsigned long)m.heap_size, (unsigned long)m.stack_peak, (unsigned long)m.stack_size);
    fflush(stdout);
}
