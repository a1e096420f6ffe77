/*
 * The agent's control socket: request validation through
 * ctlsock_handle_line() and the line limit through a real unix socket.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "ctlsock.h"
#include "engine_harness.h"

static struct harness h;

static void
setup(void)
{
    harness_init(&h);
    cr_assert_eq(harness_start(&h), 0);
}

static void
teardown(void)
{
    harness_free(&h);
}

TestSuite(agent_ctlsock, .init = setup, .fini = teardown, .timeout = 10);

/* Arrays, not pointers: criterion copies the parameters into each test
 * process, where the addresses of string literals differ. */
struct bad_move {
    char line[128];
    char reason[48];        /* expected text in the error */
};

static struct bad_move bad_moves[] = {
    { "{\"cmd\":\"move\",\"id\":\"\",\"to\":\"198.51.100.4\"}",
        "invalid \\\"id\\\"" },
    { "{\"cmd\":\"move\",\"peer\":\"\",\"to\":\"198.51.100.4\"}",
        "invalid \\\"peer\\\"" },
    { "{\"cmd\":\"move\",\"spi\":\"\",\"to\":\"198.51.100.4\"}",
        "invalid \\\"spi\\\"" },
    { "{\"cmd\":\"move\",\"to\":\"198.51.100.4\"}", "empty selector" },
};

ParameterizedTestParameters(agent_ctlsock, rejects_empty_move_selector)
{
    return cr_make_param_array(struct bad_move, bad_moves,
        sizeof(bad_moves) / sizeof(bad_moves[0]));
}

ParameterizedTest(struct bad_move *bm, agent_ctlsock,
    rejects_empty_move_selector)
{
    char *reply = ctlsock_handle_line(h.engine, NULL, bm->line,
        strlen(bm->line), h.now_ms);

    cr_assert_not_null(reply);
    cr_expect_not_null(strstr(reply, "\"ok\":false"), "%s", reply);
    cr_expect_not_null(strstr(reply, bm->reason), "no %s in: %s",
        bm->reason, reply);
    free(reply);
}

/* Runs loop until fd has an answer and EOF; returns the answer. */
static void
read_reply(uv_loop_t *loop, int fd, char *reply, size_t size, bool *eof)
{
    size_t got = 0;

    *eof = false;
    for (int i = 0; i < 2000 && !*eof; i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        ssize_t n = recv(fd, reply + got, size - 1 - got, MSG_DONTWAIT);

        if (n > 0)
            got += (size_t)n;
        else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            *eof = true;
        else
            usleep(1000);
    }
    reply[got] = '\0';
}

/*
 * Sends a line far over the limit and, like the ikeshift-agent ctl client,
 * reads only after the whole line is written.
 */
Test(agent_ctlsock, answers_over_long_line_before_closing)
{
    static char big[1 << 20];
    char path[64], reply[512];
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct ctlsock *cs = NULL;
    uv_loop_t loop;
    size_t sent = 0;
    bool eof;
    int fd;

    snprintf(path, sizeof(path), "/tmp/test_agent_ctlsock.%d", (int)getpid());
    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_assert_eq(ctlsock_new(&loop, path, h.engine, NULL, &cs), 0);
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = '\n';
    for (int i = 0; i < 20000 && sent < sizeof(big); i++) {
        ssize_t n = send(fd, big + sent, sizeof(big) - sent,
            MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n > 0)
            sent += (size_t)n;
        else
            cr_assert(errno == EAGAIN || errno == EWOULDBLOCK,
                "send failed after %zu bytes: %s", sent, strerror(errno));
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    cr_assert_eq(sent, sizeof(big));
    shutdown(fd, SHUT_WR);
    read_reply(&loop, fd, reply, sizeof(reply), &eof);
    cr_expect(eof, "the connection stayed open");
    cr_expect_not_null(strstr(reply, "request line too long"),
        "reply: \"%s\"", reply);
    close(fd);
    ctlsock_close(cs);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}
