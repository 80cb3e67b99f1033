/* web_metrics.h — GET /metrics, the Prometheus text format (web_metrics.c). */
#ifndef OPENPLUG_WEB_METRICS_H
#define OPENPLUG_WEB_METRICS_H

void web_metrics_start(void);

#endif
