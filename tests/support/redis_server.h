/*
 * A redis-server for one test: started from /usr/bin/redis-server on a
 * free loopback port with its data in a fresh temporary directory, and
 * stopped by its pid.  The server gets SIGKILL if the test process dies
 * first, so a crashed test leaves no server behind.
 */
#ifndef IKESHIFT_TEST_REDIS_SERVER_H
#define IKESHIFT_TEST_REDIS_SERVER_H

#include <stdint.h>
#include <sys/types.h>

#define REDIS_SERVER_BIN "/usr/bin/redis-server"

/* How long redis_server_start() waits for PING, in milliseconds. */
#define REDIS_SERVER_START_MS 5000

struct redis_server;

/*
 * Starts a server with --port N --bind 127.0.0.1 --save '' --appendonly
 * yes --dir TMP plus the NULL-terminated `extra` arguments (may be NULL),
 * and waits until it answers PING.  Returns NULL on failure, after
 * printing why to stderr.  Stop it with redis_server_free().
 */
struct redis_server *
redis_server_start(const char *const *extra);

/* Stops the server (SIGTERM, then SIGKILL after 2 s), removes its
 * directory and frees `srv`; NULL is ignored. */
void
redis_server_free(struct redis_server *srv);

/* Kills the server with SIGKILL and reaps it; port and data are kept. */
int
redis_server_kill(struct redis_server *srv);

/* Starts the server again on the same port and directory. */
int
redis_server_restart(struct redis_server *srv);

/* Sends SIGSTOP or SIGCONT to the server. */
int
redis_server_pause(struct redis_server *srv);
int
redis_server_resume(struct redis_server *srv);

/* Returns the TCP port on 127.0.0.1. */
uint16_t
redis_server_port(const struct redis_server *srv);

/*
 * Runs one command on a new blocking connection (hiredis sync API), after
 * AUTH with `password` unless NULL, and returns 0 if Redis answered with
 * anything but an error reply.  For test setup: ACL SETUSER, PUBLISH,
 * CLIENT KILL.
 */
int
redis_server_command(const struct redis_server *srv, const char *password,
    const char *fmt, ...);

/* Returns a loopback port with no listener at the time of the call. */
uint16_t
redis_server_free_port(void);

#endif /* IKESHIFT_TEST_REDIS_SERVER_H */
