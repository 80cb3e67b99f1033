/* events.c — listener list and synchronous publishing; see events.h. */
#include "events.h"

#include <stddef.h>

static struct event_listener *listeners;

const char *source_name(enum source source)
{
    static const char *const names[SOURCE_COUNT] = {"boot", "console", "button", "web", "mqtt", "script", "overload", "ntp",
                                                    "timer", "pulsetime"};
    return (unsigned)source < SOURCE_COUNT ? names[source] : "?";
}

void event_listen(struct event_listener *listener, event_fn fn, void *arg)
{
    for (struct event_listener *l = listeners; l; l = l->next)
        if (l == listener) { /* a module started again: linking it twice would loop */
            listener->fn = fn;
            listener->arg = arg;
            return;
        }
    listener->fn = fn;
    listener->arg = arg;
    listener->next = listeners;
    listeners = listener;
}

void event_publish(const struct event *event)
{
    for (struct event_listener *l = listeners; l; l = l->next)
        l->fn(event, l->arg);
}
