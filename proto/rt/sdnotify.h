/*
 * Readiness and status messages to the service manager, in the protocol of
 * systemd's sd_notify(3), without libsystemd: one datagram of newline
 * separated VAR=VALUE lines to the AF_UNIX socket named in $NOTIFY_SOCKET.
 * A name that starts with '/' is a file system path, and one that starts
 * with '@' is an abstract socket name (Linux), whose '@' stands for the
 * leading NUL byte.  Without $NOTIFY_SOCKET every call does nothing, so the
 * daemons can call these functions also when systemd did not start them.
 */
#ifndef IKESHIFT_RT_SDNOTIFY_H
#define IKESHIFT_RT_SDNOTIFY_H

#include <stddef.h>

/* Environment variable that names the socket, as systemd sets it. */
#define SDNOTIFY_ENV "NOTIFY_SOCKET"

/* Maximum length of a STATUS= text in bytes; longer texts are cut. */
#define SDNOTIFY_STATUS_MAX 256

/*
 * Sends `state` (borrowed, for example "READY=1") as one datagram to the
 * socket named by `socket_name` (borrowed).  Returns 0 when it was sent or
 * `socket_name` is NULL or empty, -EINVAL when the name is neither a path
 * nor an abstract name, -ENAMETOOLONG when it does not fit sun_path, or
 * the negative errno of socket() or sendto().
 */
int
sdnotify_send_to(const char *socket_name, const char *state);

/*
 * Sends `state` (borrowed) to the socket in $NOTIFY_SOCKET.  Returns what
 * sdnotify_send_to() returns; 0 when the variable is unset.
 */
int
sdnotify_send(const char *state);

/* Sends READY=1: startup is finished and the daemon serves. */
int
sdnotify_ready(void);

/* Sends STOPPING=1: the daemon has begun to stop. */
int
sdnotify_stopping(void);

/*
 * Sends STATUS= with the printf-formatted text, which systemctl status
 * shows.  The text is cut at SDNOTIFY_STATUS_MAX bytes and each newline
 * in it becomes a space, because a newline would start another variable.
 * Returns what sdnotify_send() returns.
 */
int
sdnotify_status(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif /* IKESHIFT_RT_SDNOTIFY_H */
