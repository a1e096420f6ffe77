/*
 * udp_io over loopback: replies are queued, sent with sendmmsg once the
 * loop has run its poll phase, in order, with the non-ESP marker on the
 * NAT-T port.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "ike_const.h"
#include "rt/log.h"
#include "udp_io.h"

static uv_loop_t loop;
static struct udp_io *io;
static int peer_fd = -1;
static struct sockaddr_in peer;
static struct sockaddr_in local_ike, local_natt;

static void
setup(void)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof(peer);
    /* Ports derived from the pid, so parallel test processes differ. */
    uint16_t port = (uint16_t)(20000 + (getpid() % 20000) * 2);

    log_set_level(LOG_LEVEL_WARN);
    cr_assert_eq(uv_loop_init(&loop), 0);
    memset(&addr, 0, sizeof(addr));
    ((struct sockaddr_in *)&addr)->sin_family = AF_INET;
    ((struct sockaddr_in *)&addr)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(udp_io_new(&loop, &addr, 1, port, (uint16_t)(port + 1),
        1 << 20, &io), 0, "binding 127.0.0.1:%u failed", port);
    local_ike = *(struct sockaddr_in *)&addr;
    local_ike.sin_port = htons(port);
    local_natt = local_ike;
    local_natt.sin_port = htons((uint16_t)(port + 1));

    peer_fd = socket(AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(peer_fd, 0);
    memset(&peer, 0, sizeof(peer));
    peer.sin_family = AF_INET;
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(peer_fd, (struct sockaddr *)&peer, sizeof(peer)), 0);
    cr_assert_eq(getsockname(peer_fd, (struct sockaddr *)&peer, &len), 0);
}

static void
teardown(void)
{
    udp_io_close(io);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (peer_fd >= 0)
        close(peer_fd);
}

TestSuite(udp_io, .init = setup, .fini = teardown);

/* Sends a 4-octet datagram holding `i` from `local` to the test peer. */
static int
send_index(const struct sockaddr_in *local, uint32_t i)
{
    uint8_t msg[4] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16),
        (uint8_t)(i >> 8), (uint8_t)i };

    return udp_io_send(io, (const struct sockaddr *)local,
        (const struct sockaddr *)&peer, msg, sizeof(msg));
}

/* Reads one datagram without waiting; returns its length or -1. */
static ssize_t
peer_read(uint8_t *buf, size_t size)
{
    return recv(peer_fd, buf, size, MSG_DONTWAIT);
}

Test(udp_io, holds_replies_until_loop_runs)
{
    uint8_t buf[64];

    cr_assert_eq(send_index(&local_ike, 1), 0);
    cr_expect_eq(peer_read(buf, sizeof(buf)), -1);
    uv_run(&loop, UV_RUN_NOWAIT);
    cr_expect_eq(peer_read(buf, sizeof(buf)), 4);
}

Test(udp_io, sends_queued_replies_in_order)
{
    uint8_t buf[64];

    for (uint32_t i = 0; i < 40; i++)
        cr_assert_eq(send_index(&local_ike, i), 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    for (uint32_t i = 0; i < 40; i++) {
        cr_assert_eq(peer_read(buf, sizeof(buf)), 4, "datagram %u", i);
        cr_expect_eq(buf[3], (uint8_t)i, "datagram %u out of order", i);
    }
    cr_expect_eq(peer_read(buf, sizeof(buf)), -1);
    cr_expect_eq(udp_io_get_counters(io)->send_errors, 0);
}

Test(udp_io, flushes_full_queue_before_loop_runs)
{
    uint8_t buf[64];
    int before = 0;

    /* The queue takes 64 datagrams, so the 65th sends the first 64. */
    for (uint32_t i = 0; i < 65; i++)
        cr_assert_eq(send_index(&local_ike, i), 0);
    while (peer_read(buf, sizeof(buf)) == 4)
        before++;
    cr_expect_eq(before, 64);
    uv_run(&loop, UV_RUN_NOWAIT);
    cr_expect_eq(peer_read(buf, sizeof(buf)), 4);
    cr_expect_eq(buf[3], 64);
}

Test(udp_io, adds_non_esp_marker_on_natt_port)
{
    static const uint8_t zero[IKE_NON_ESP_MARKER_LEN];
    uint8_t buf[64];
    struct sockaddr_in from;
    socklen_t len = sizeof(from);

    cr_assert_eq(send_index(&local_natt, 7), 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    cr_assert_eq(recvfrom(peer_fd, buf, sizeof(buf), MSG_DONTWAIT,
        (struct sockaddr *)&from, &len), IKE_NON_ESP_MARKER_LEN + 4);
    cr_expect_eq(memcmp(buf, zero, sizeof(zero)), 0);
    cr_expect_eq(buf[IKE_NON_ESP_MARKER_LEN + 3], 7);
    cr_expect_eq(from.sin_port, local_natt.sin_port);
}

Test(udp_io, replies_from_socket_of_local_address)
{
    uint8_t buf[64];
    struct sockaddr_in from;
    socklen_t len = sizeof(from);

    cr_assert_eq(send_index(&local_natt, 1), 0);
    cr_assert_eq(send_index(&local_ike, 2), 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    cr_assert_gt(recvfrom(peer_fd, buf, sizeof(buf), MSG_DONTWAIT,
        (struct sockaddr *)&from, &len), 0);
    cr_expect_eq(from.sin_port, local_natt.sin_port);
    len = sizeof(from);
    cr_assert_eq(recvfrom(peer_fd, buf, sizeof(buf), MSG_DONTWAIT,
        (struct sockaddr *)&from, &len), 4);
    cr_expect_eq(from.sin_port, local_ike.sin_port);
}

Test(udp_io, rejects_unknown_local_address)
{
    struct sockaddr_in other = local_ike;

    other.sin_port = htons(9);
    cr_expect_eq(send_index(&other, 1), -EADDRNOTAVAIL);
    cr_expect_eq(udp_io_get_counters(io)->send_errors, 1);
}

Test(udp_io, sends_queued_replies_on_close)
{
    uint8_t buf[64];

    cr_assert_eq(send_index(&local_ike, 3), 0);
    udp_io_close(io);
    io = NULL;
    cr_expect_eq(peer_read(buf, sizeof(buf)), 4);
}
