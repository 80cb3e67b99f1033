/*
 * http_auth.h — internals of the web password and login sessions shared by
 * http_auth.c and the API's login route (web_api.c).  Handlers of other
 * modules need only http_require_admin() / http_same_origin() from http.h.
 */
#ifndef OPENPLUG_HTTP_AUTH_H
#define OPENPLUG_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/net/http.h"
#include "core/storage/config.h"

#define HTTP_SESSIONS 4
#define HTTP_SESSION_COOKIE "op_session"
#define HTTP_SESSION_IDLE_MS (24u * 3600u * 1000u)

/* Register WebPassword. */
void http_auth_register(void);
/* Constant-time check of a candidate password. */
bool http_password_check(const char *password, size_t len);
/* Salt and hash `password` into next->web ("" clears); -1 if too long. */
int http_password_store(struct config *next, const char *password);
/* Milliseconds this address stays locked out after failed logins, 0 if not. */
uint32_t http_auth_locked_ms(uint32_t ip);
void http_auth_failed(uint32_t ip);
/* A good password from ip: its failures are forgotten. */
void http_auth_succeeded(uint32_t ip);
/* A new session: its token as 32 hex digits (the cookie's value). */
void http_session_new(char token_hex[33]);
void http_session_end(const struct http_request *req);

#endif
