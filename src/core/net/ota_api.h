/*
 * ota_api.h — POST /api/ota (upload an image) and GET /api/ota (progress);
 * see ota_api.c.
 */
#ifndef OPENPLUG_OTA_API_H
#define OPENPLUG_OTA_API_H

void ota_api_start(void);

#endif
