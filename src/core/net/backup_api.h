/* backup_api.h — GET /api/backup, POST and GET /api/restore; see backup_api.c. */
#ifndef OPENPLUG_BACKUP_API_H
#define OPENPLUG_BACKUP_API_H

void backup_api_start(void);

#endif
