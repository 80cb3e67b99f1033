/*
 * console.h — the serial console: command lines in, log lines and one JSON
 * reply per command out.  Reads without blocking, in every loop turn.
 */
#ifndef OPENPLUG_CONSOLE_H
#define OPENPLUG_CONSOLE_H

void console_start(void);

#endif
