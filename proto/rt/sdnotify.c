/*
 * sd_notify(3) messages over a datagram socket; see sdnotify.h.
 */
#include "rt/sdnotify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * Fills `addr` from a $NOTIFY_SOCKET value and stores the address length.
 * An abstract name is not NUL-terminated: its length alone ends it, so
 * the length counts exactly the name's bytes after the leading NUL.
 */
static int
sdnotify_fill_addr(const char *name, struct sockaddr_un *addr,
    socklen_t *len)
{
    size_t n = strlen(name);

    if (name[0] != '/' && name[0] != '@')
        return -EINVAL;
    if (n > sizeof(addr->sun_path) ||
        (name[0] == '/' && n == sizeof(addr->sun_path)))
        return -ENAMETOOLONG;
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path, name, n);
    if (name[0] == '@')
        addr->sun_path[0] = '\0';
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    return 0;
}

int
sdnotify_send_to(const char *socket_name, const char *state)
{
    struct sockaddr_un addr;
    socklen_t len;
    int fd, ret;

    if (socket_name == NULL || socket_name[0] == '\0')
        return 0;
    if ((ret = sdnotify_fill_addr(socket_name, &addr, &len)) < 0)
        return ret;
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return -errno;
    ret = 0;
    if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
        (const struct sockaddr *)&addr, len) < 0)
        ret = -errno;
    close(fd);
    return ret;
}

int
sdnotify_send(const char *state)
{
    return sdnotify_send_to(getenv(SDNOTIFY_ENV), state);
}

int
sdnotify_ready(void)
{
    return sdnotify_send("READY=1");
}

int
sdnotify_stopping(void)
{
    return sdnotify_send("STOPPING=1");
}

int
sdnotify_status(const char *fmt, ...)
{
    char msg[sizeof("STATUS=") + SDNOTIFY_STATUS_MAX];
    size_t head = sizeof("STATUS=") - 1;
    va_list ap;

    if (getenv(SDNOTIFY_ENV) == NULL)
        return 0;
    memcpy(msg, "STATUS=", head);
    va_start(ap, fmt);
    if (vsnprintf(msg + head, sizeof(msg) - head, fmt, ap) < 0)
        msg[head] = '\0';
    va_end(ap);
    for (char *p = msg + head; *p != '\0'; p++) {
        if (*p == '\n')
            *p = ' ';
    }
    return sdnotify_send(msg);
}
