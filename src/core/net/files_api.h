/*
 * files_api.h — the file store over HTTP (admin only):
 *   GET    /api/files         {"files":[{"name","size","crc"}],"slots":8,"free":n,"max_size":8128}
 *   GET    /api/files/<name>  the contents
 *   PUT    /api/files/<name>  replace or create it with the body (POST too)
 *   DELETE /api/files/<name>  204
 * An upload streams into the store (storage/files.h), one sector erase per
 * loop turn at most; a client that goes away or a power cut before the
 * end leaves the previous version.
 */
#ifndef OPENPLUG_FILES_API_H
#define OPENPLUG_FILES_API_H

void files_api_start(void);

#endif
