/*
 * echo_udp: a bare UDP echo server, the upper bound for the redirect
 * benchmark.  It reads datagrams in batches with recvmmsg() and sends each
 * one back to its sender unchanged with sendmmsg(), with no parsing, so
 * its rate is what the kernel's UDP path allows on one core.
 *
 * It binds only loopback or documentation addresses and exits by itself
 * after --duration seconds (at most 600).  On exit it prints one JSON object
 * with the datagrams received and sent.
 *
 *   echo_udp [--bind ADDR] [--port N] [--duration S]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH           64
#define DGRAM_MAX       2048
#define MAX_DURATION_S  600
#define RCVBUF          (4 << 20)

static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* True for 127.0.0.0/8, 198.51.100.0/24 and 203.0.113.0/24 (RFC 5737). */
static int
addr_allowed(const struct in_addr *a)
{
    const uint8_t *b = (const uint8_t *)a;

    return b[0] == 127 || (b[0] == 198 && b[1] == 51 && b[2] == 100) ||
        (b[0] == 203 && b[1] == 0 && b[2] == 113);
}

static void
usage(FILE *fp)
{
    fprintf(fp,
        "usage: echo_udp [--bind ADDR] [--port N] [--duration S]\n"
        "  --bind ADDR    IPv4 address to bind, default 127.0.0.1 (loopback"
        " or documentation range)\n"
        "  --port N       UDP port, default 500\n"
        "  --duration S   exit after S seconds, default 60, at most %d\n",
        MAX_DURATION_S);
}

/* Receives one batch and sends it back; returns datagrams received. */
static int
echo_batch(int fd, unsigned long *sent, unsigned long *send_errors)
{
    static uint8_t bufs[BATCH][DGRAM_MAX];
    struct sockaddr_storage peers[BATCH];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    int n, done = 0;

    memset(msgs, 0, sizeof(msgs));
    for (int k = 0; k < BATCH; k++) {
        iov[k].iov_base = bufs[k];
        iov[k].iov_len = DGRAM_MAX;
        msgs[k].msg_hdr.msg_name = &peers[k];
        msgs[k].msg_hdr.msg_namelen = sizeof(peers[k]);
        msgs[k].msg_hdr.msg_iov = &iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
    }
    n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
        return 0;
    /* The same headers go back out: msg_len becomes the send length. */
    for (int k = 0; k < n; k++)
        iov[k].iov_len = msgs[k].msg_len;
    while (done < n) {
        int r = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);

        if (r <= 0) {
            *send_errors += (unsigned long)(n - done);
            break;
        }
        done += r;
    }
    *sent += (unsigned long)done;
    return n;
}

int
main(int argc, char **argv)
{
    struct sockaddr_in sin;
    const char *bind_text = "127.0.0.1";
    unsigned long port = 500, duration = 60;
    unsigned long received = 0, sent = 0, send_errors = 0;
    int fd, buf = RCVBUF;
    uint64_t end;

    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *endp = NULL;

        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (v == NULL) {
            fprintf(stderr, "echo_udp: missing value after %s\n", argv[i]);
            return 2;
        }
        i++;
        if (strcmp(argv[i - 1], "--bind") == 0) {
            bind_text = v;
            continue;
        }
        errno = 0;
        unsigned long x = strtoul(v, &endp, 10);

        if (errno != 0 || *endp != '\0' || endp == v) {
            fprintf(stderr, "echo_udp: invalid number %s\n", v);
            return 2;
        }
        if (strcmp(argv[i - 1], "--port") == 0 && x >= 1 && x <= 65535) {
            port = x;
        } else if (strcmp(argv[i - 1], "--duration") == 0 && x >= 1 &&
            x <= MAX_DURATION_S) {
            duration = x;
        } else {
            fprintf(stderr, "echo_udp: invalid option %s %s\n", argv[i - 1],
                v);
            usage(stderr);
            return 2;
        }
    }
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind_text, &sin.sin_addr) != 1 ||
        !addr_allowed(&sin.sin_addr)) {
        fprintf(stderr, "echo_udp: --bind %s is not a loopback or"
            " documentation IPv4 address\n", bind_text);
        return 2;
    }
    if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)) < 0 ||
        bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        fprintf(stderr, "echo_udp: binding %s:%lu failed: %s\n", bind_text,
            port, strerror(errno));
        return 1;
    }
    end = now_ms() + duration * 1000u;
    for (uint64_t t = now_ms(); t < end; t = now_ms()) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int n;

        if (poll(&pfd, 1, (int)(end - t)) <= 0)
            continue;
        /* Bounded, so that the deadline is checked under constant load. */
        for (int b = 0; b < 256 &&
            (n = echo_batch(fd, &sent, &send_errors)) > 0; b++)
            received += (unsigned long)n;
    }
    printf("{\"received\": %lu, \"sent\": %lu, \"send_errors\": %lu}\n",
        received, sent, send_errors);
    close(fd);
    return 0;
}
