/*
 * Address and route checks of the benchmark load generators.
 */
#include "bench_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

bool
bench_net_addr_allowed(const struct sockaddr_storage *ss)
{
    static const uint8_t loop6[16] = { [15] = 1 };
    struct sockaddr_in in;
    struct sockaddr_in6 in6;

    if (ss->ss_family == AF_INET) {
        memcpy(&in, ss, sizeof(in));
        const uint8_t *a = (const uint8_t *)&in.sin_addr;

        return a[0] == 127 || (a[0] == 198 && a[1] == 51 && a[2] == 100) ||
            (a[0] == 203 && a[1] == 0 && a[2] == 113);
    }
    if (ss->ss_family != AF_INET6)
        return false;
    memcpy(&in6, ss, sizeof(in6));
    const uint8_t *a = in6.sin6_addr.s6_addr;

    return memcmp(a, loop6, 16) == 0 ||
        (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8);
}

int
bench_net_span_addr(const struct sockaddr_storage *base, unsigned long offset,
                    struct sockaddr_storage *out)
{
    struct sockaddr_in in;
    uint32_t a;

    if (base->ss_family != AF_INET)
        return -EINVAL;
    /* memcpy, not casts: GCC's aliasing rules lose a field written
     * through a sockaddr_in pointer into a sockaddr_storage copy. */
    memcpy(&in, base, sizeof(in));
    a = ntohl(in.sin_addr.s_addr);
    if (offset > UINT32_MAX - a)
        return -EINVAL;
    in.sin_addr.s_addr = htonl(a + (uint32_t)offset);
    memset(out, 0, sizeof(*out));
    memcpy(out, &in, sizeof(in));
    return 0;
}

/* Reads the output of `ip route get target` into out; returns 0 or < 0. */
static int
route_get(const char *target, char *out, size_t size)
{
    size_t len = 0;
    ssize_t n;
    int pipefd[2], status;
    pid_t pid;

    if (pipe(pipefd) < 0)
        return -errno;
    if ((pid = fork()) < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return -errno;
    }
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        execlp("ip", "ip", "route", "get", target, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    while (len < size - 1 &&
        (n = read(pipefd[0], out + len, size - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(pipefd[0]);
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return -EIO;
    return 0;
}

int
bench_net_check_route(const char *prog, const char *target,
                      const char *const *allow_dev, size_t n_allow_dev)
{
    char out[1024], name[64], *dev;

    if (route_get(target, out, sizeof(out)) < 0) {
        fprintf(stderr, "%s: `ip route get %s` failed; refusing to send\n",
            prog, target);
        return -EPERM;
    }
    if ((dev = strstr(out, " dev ")) == NULL ||
        sscanf(dev + 5, "%63s", name) != 1) {
        fprintf(stderr, "%s: no device in the route to %s; refusing to"
            " send\n", prog, target);
        return -EPERM;
    }
    if (strcmp(name, "lo") == 0)
        return 0;
    for (size_t i = 0; i < n_allow_dev; i++) {
        if (strcmp(name, allow_dev[i]) == 0)
            return 0;
    }
    fprintf(stderr, "%s: the route to %s leaves through %s, which is"
        " neither lo nor an --allow-dev interface; refusing to send\n", prog,
        target, name);
    return -EPERM;
}

int
bench_net_parse_addr(const char *text, uint16_t port,
                     struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_in in;
    struct sockaddr_in6 in6;

    memset(ss, 0, sizeof(*ss));
    memset(&in, 0, sizeof(in));
    memset(&in6, 0, sizeof(in6));
    if (inet_pton(AF_INET, text, &in.sin_addr) == 1) {
        in.sin_family = AF_INET;
        in.sin_port = htons(port);
        memcpy(ss, &in, sizeof(in));
        *len = sizeof(in);
        return 0;
    }
    if (inet_pton(AF_INET6, text, &in6.sin6_addr) == 1) {
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(port);
        memcpy(ss, &in6, sizeof(in6));
        *len = sizeof(in6);
        return 0;
    }
    return -EINVAL;
}

int
bench_net_parse_ulong(const char *text, unsigned long min, unsigned long max,
                      unsigned long *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}
