/*
 * Tests of proto/rt/sdnotify: datagrams to a path and to an abstract
 * socket, the error cases, and the daemons' READY=1 and STOPPING=1.  The
 * daemon tests start the built ikeshift-agent (loopback, free high ports)
 * and ikeshift-controller (against a real redis-server) with NOTIFY_SOCKET
 * pointing at a socket that the test reads, and check that the ports
 * respond once READY=1 has arrived.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "ike_const.h"
#include "ike_initiator.h"
#include "redis_server.h"
#include "rt/sdnotify.h"

/* How long a test waits for one notification or for a daemon to exit. */
#define WAIT_MS 15000

/* A datagram socket in place of systemd's notification socket. */
struct listener {
    int fd;
    char dir[64];
    char name[128];             /* the NOTIFY_SOCKET value */
};

static void
listener_open_path(struct listener *l)
{
    struct sockaddr_un addr;

    memset(l, 0, sizeof(*l));
    strcpy(l->dir, "/tmp/ikeshift-sdnotify-XXXXXX");
    cr_assert_not_null(mkdtemp(l->dir));
    snprintf(l->name, sizeof(l->name), "%s/notify", l->dir);
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, l->name);
    l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(l->fd, 0);
    cr_assert_eq(bind(l->fd, (struct sockaddr *)&addr, sizeof(addr)), 0,
        "bind %s: %s", l->name, strerror(errno));
}

/* Binds an abstract name that is unique to this test process. */
static void
listener_open_abstract(struct listener *l)
{
    struct sockaddr_un addr;
    size_t n;

    memset(l, 0, sizeof(*l));
    snprintf(l->name, sizeof(l->name), "@ikeshift-sdnotify-%ld",
        (long)getpid());
    n = strlen(l->name);
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path + 1, l->name + 1, n - 1);
    l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(l->fd, 0);
    cr_assert_eq(bind(l->fd, (struct sockaddr *)&addr,
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)), 0,
        "bind %s: %s", l->name, strerror(errno));
}

static void
listener_close(struct listener *l)
{
    if (l->fd > 0)
        close(l->fd);
    if (l->dir[0] != '\0') {
        unlink(l->name);
        rmdir(l->dir);
    }
}

/* Receives one datagram into buf as a string; returns its length or -1. */
static ssize_t
listener_recv(struct listener *l, char *buf, size_t size, int timeout_ms)
{
    struct pollfd p = { .fd = l->fd, .events = POLLIN };
    ssize_t n;

    if (poll(&p, 1, timeout_ms) != 1)
        return -1;
    if ((n = recv(l->fd, buf, size - 1, 0)) < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Reads datagrams until one equals `want` and returns 0, or returns -1 at
 * the deadline.  Other messages (STATUS=) are skipped, and the last one
 * seen is left in `last`.
 */
static int
listener_wait_for(struct listener *l, const char *want, char *last,
    size_t size)
{
    uint64_t end = now_ms() + WAIT_MS;

    last[0] = '\0';
    for (uint64_t t = now_ms(); t < end; t = now_ms()) {
        if (listener_recv(l, last, size, (int)(end - t)) < 0)
            return -1;
        if (strcmp(last, want) == 0)
            return 0;
    }
    return -1;
}

TestSuite(sdnotify, .timeout = 40);

Test(sdnotify, sends_state_to_path_socket)
{
    struct listener l;
    char buf[256];

    listener_open_path(&l);
    cr_assert_eq(sdnotify_send_to(l.name, "READY=1"), 0);
    cr_assert_eq(listener_recv(&l, buf, sizeof(buf), WAIT_MS), 7);
    cr_expect_str_eq(buf, "READY=1");
    listener_close(&l);
}

Test(sdnotify, sends_state_to_abstract_socket)
{
    struct listener l;
    char buf[256];

    listener_open_abstract(&l);
    cr_assert_eq(sdnotify_send_to(l.name, "STOPPING=1"), 0);
    cr_assert_eq(listener_recv(&l, buf, sizeof(buf), WAIT_MS), 10);
    cr_expect_str_eq(buf, "STOPPING=1");
    listener_close(&l);
}

Test(sdnotify, reads_socket_name_from_environment)
{
    struct listener l;
    char buf[256];

    listener_open_path(&l);
    cr_assert_eq(setenv(SDNOTIFY_ENV, l.name, 1), 0);
    cr_assert_eq(sdnotify_ready(), 0);
    cr_assert_gt(listener_recv(&l, buf, sizeof(buf), WAIT_MS), 0);
    cr_expect_str_eq(buf, "READY=1");
    cr_assert_eq(sdnotify_stopping(), 0);
    cr_assert_gt(listener_recv(&l, buf, sizeof(buf), WAIT_MS), 0);
    cr_expect_str_eq(buf, "STOPPING=1");
    listener_close(&l);
}

Test(sdnotify, does_nothing_without_socket_name)
{
    cr_assert_eq(unsetenv(SDNOTIFY_ENV), 0);
    cr_expect_eq(sdnotify_ready(), 0);
    cr_expect_eq(sdnotify_status("draining; sas=%d", 3), 0);
    cr_expect_eq(sdnotify_send_to(NULL, "READY=1"), 0);
    cr_expect_eq(sdnotify_send_to("", "READY=1"), 0);
}

Test(sdnotify, rejects_relative_socket_name)
{
    cr_expect_eq(sdnotify_send_to("run/notify", "READY=1"), -EINVAL);
    cr_expect_eq(sdnotify_send_to("vsock:2:1234", "READY=1"), -EINVAL);
}

Test(sdnotify, rejects_name_longer_than_sun_path)
{
    struct sockaddr_un addr;
    char path[sizeof(addr.sun_path) + 2];
    char abstract[sizeof(addr.sun_path) + 2];

    /* A path needs room for its NUL, an abstract name does not. */
    memset(path, 'a', sizeof(path));
    path[0] = '/';
    path[sizeof(addr.sun_path)] = '\0';
    memset(abstract, 'a', sizeof(abstract));
    abstract[0] = '@';
    abstract[sizeof(addr.sun_path) + 1] = '\0';
    cr_expect_eq(sdnotify_send_to(path, "READY=1"), -ENAMETOOLONG);
    cr_expect_eq(sdnotify_send_to(abstract, "READY=1"), -ENAMETOOLONG);
}

Test(sdnotify, reports_missing_listener)
{
    cr_expect_eq(sdnotify_send_to("/nonexistent/ikeshift/notify",
        "READY=1"), -ENOENT);
}

Test(sdnotify, status_replaces_newlines)
{
    struct listener l;
    char buf[512];

    listener_open_path(&l);
    cr_assert_eq(setenv(SDNOTIFY_ENV, l.name, 1), 0);
    cr_assert_eq(sdnotify_status("draining; sas=%d\nREADY=1", 12), 0);
    cr_assert_gt(listener_recv(&l, buf, sizeof(buf), WAIT_MS), 0);
    cr_expect_str_eq(buf, "STATUS=draining; sas=12 READY=1");
    listener_close(&l);
}

Test(sdnotify, status_cuts_long_text)
{
    struct listener l;
    char text[SDNOTIFY_STATUS_MAX * 2], buf[SDNOTIFY_STATUS_MAX * 4];

    memset(text, 'x', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    listener_open_path(&l);
    cr_assert_eq(setenv(SDNOTIFY_ENV, l.name, 1), 0);
    cr_assert_eq(sdnotify_status("%s", text), 0);
    cr_expect_eq(listener_recv(&l, buf, sizeof(buf), WAIT_MS),
        (ssize_t)(sizeof("STATUS=") - 1 + SDNOTIFY_STATUS_MAX));
    cr_expect_eq(strncmp(buf, "STATUS=xxx", 10), 0);
    listener_close(&l);
}

/* Tests of the built daemons. */

/* Returns the path of a built daemon, next to DUMP_BIN in the same build. */
static void
daemon_path(char *buf, size_t size, const char *name)
{
    char dump[512];
    const char *dir = getenv("IKESHIFT_BIN");

    if (dir == NULL) {
        snprintf(dump, sizeof(dump), "%s", DUMP_BIN);
        dir = dirname(dump);
    }
    snprintf(buf, size, "%s/%s", dir, name);
    if (access(buf, X_OK) != 0)
        cr_skip_test("%s is not built; run make all with the same BUILD",
            buf);
}

/* Returns a port that was free on 127.0.0.1 for `type` a moment ago. */
static uint16_t
free_port(int type)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, type, 0);
    uint16_t port = 0;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
        port = ntohs(sin.sin_port);
    if (fd >= 0)
        close(fd);
    cr_assert_neq(port, 0);
    return port;
}

static void
write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    cr_assert_not_null(fp, "fopen %s: %s", path, strerror(errno));
    cr_assert_geq(fputs(text, fp), 0);
    cr_assert_eq(fclose(fp), 0);
}

/*
 * Starts `bin` with NOTIFY_SOCKET=notify; its output goes to `log`.  The
 * daemon gets SIGKILL when the test process dies, so a failed assert
 * leaves no daemon behind.
 */
static pid_t
daemon_start(const char *bin, char *const *argv, const char *notify,
    const char *log)
{
    pid_t pid = fork();

    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
        }
        setenv(SDNOTIFY_ENV, notify, 1);
        execv(bin, argv);
        _exit(127);
    }
    return pid;
}

/* Waits for pid to exit and returns its exit status, or -1 after WAIT_MS. */
static int
daemon_wait(pid_t pid)
{
    uint64_t end = now_ms() + WAIT_MS;
    int status;

    while (now_ms() < end) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        usleep(20 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static const uint8_t agent_psk[] = "sdnotify-test-secret";
static const uint8_t agent_client[] = "client@example.net";

/*
 * Sends an IKE_SA_INIT request to 127.0.0.1:port and returns 0 when a
 * response arrives that the initiator accepts, proving that the agent's
 * UDP socket serves.
 */
static int
agent_probe_ike(uint16_t port)
{
    static const struct ike_suite suite = {
        IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256, IKE_INTEG_NONE,
        IKE_DH_CURVE25519,
    };
    struct ike_initiator_config cfg;
    struct ike_initiator_out out;
    struct sockaddr_in *peer = (struct sockaddr_in *)&cfg.peer;
    struct sockaddr_in *local = (struct sockaddr_in *)&cfg.local;
    struct ike_initiator *ini;
    struct timeval tv = { .tv_sec = 2 };
    uint8_t reply[IKE_INITIATOR_MSG_MAX];
    socklen_t len = sizeof(*local);
    ssize_t n;
    int fd, ret = -1;

    memset(&cfg, 0, sizeof(cfg));
    cfg.ike = suite;
    cfg.redirect = IKE_INITIATOR_REDIRECT_SUPPORTED;
    cfg.psk = agent_psk;
    cfg.psk_len = sizeof(agent_psk) - 1;
    cfg.id_type = IKE_ID_RFC822_ADDR;
    cfg.id = agent_client;
    cfg.id_len = sizeof(agent_client) - 1;
    peer->sin_family = AF_INET;
    peer->sin_port = htons(port);
    peer->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_geq(fd = socket(AF_INET, SOCK_DGRAM, 0), 0);
    cr_assert_eq(connect(fd, (struct sockaddr *)peer, sizeof(*peer)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)local, &len), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    cr_assert_not_null(ini = ike_initiator_new(&cfg));
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    if (send(fd, out.msg, out.len, 0) == (ssize_t)out.len &&
        (n = recv(fd, reply, sizeof(reply), 0)) > 0 &&
        ike_initiator_input(ini, reply, (size_t)n, &out) == 0 &&
        out.event != IKE_INITIATOR_EV_DROPPED)
        ret = 0;
    ike_initiator_free(ini);
    close(fd);
    return ret;
}

/* Sends {"cmd":"counters"} to the control socket; 0 when "ok":true. */
static int
agent_probe_ctl(const char *path)
{
    static const char req[] = "{\"cmd\":\"counters\"}\n";
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct timeval tv = { .tv_sec = 2 };
    char reply[256];
    ssize_t n;
    int fd, ret = -1;

    cr_assert_lt(strlen(path), sizeof(addr.sun_path));
    memcpy(addr.sun_path, path, strlen(path) + 1);
    cr_assert_geq(fd = socket(AF_UNIX, SOCK_STREAM, 0), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
        write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1) &&
        (n = read(fd, reply, sizeof(reply) - 1)) > 0) {
        reply[n] = '\0';
        if (strstr(reply, "\"ok\":true") != NULL)
            ret = 0;
    }
    close(fd);
    return ret;
}

TestSuite(sdnotify_daemon, .timeout = 60);

Test(sdnotify_daemon, agent_sends_ready_then_stopping)
{
    struct listener l;
    char bin[512], conf[256], ctl[256], log[256], text[2048], msg[512];
    uint16_t ike = free_port(SOCK_DGRAM), natt = free_port(SOCK_DGRAM);
    pid_t pid;

    daemon_path(bin, sizeof(bin), "ikeshift-agent");
    listener_open_path(&l);
    snprintf(conf, sizeof(conf), "%s/agent.json", l.dir);
    snprintf(ctl, sizeof(ctl), "%s/ctl.sock", l.dir);
    snprintf(log, sizeof(log), "%s/agent.log", l.dir);
    snprintf(text, sizeof(text),
        "{ \"listen\": { \"unicast\": [\"127.0.0.1\"], \"ike_port\": %u,"
        " \"natt_port\": %u },\n"
        "  \"identity\": { \"type\": \"fqdn\", \"value\": \"vpn.example.net\""
        " },\n"
        "  \"ike_proposals\": [\"aes128gcm16-prfsha256-x25519\"],\n"
        "  \"clients\": [ { \"id\": \"%s\", \"psk\": \"%s\" } ],\n"
        "  \"control_socket\": \"%s\", \"log_level\": \"debug\" }\n",
        (unsigned)ike, (unsigned)natt, (const char *)agent_client,
        (const char *)agent_psk, ctl);
    write_file(conf, text);

    char *argv[] = { bin, "-c", conf, NULL };

    pid = daemon_start(bin, argv, l.name, log);
    cr_assert_eq(listener_wait_for(&l, "READY=1", msg, sizeof(msg)), 0,
        "no READY=1 from the agent; last message: %s; log: %s", msg, log);
    /* READY=1 promises that both sockets serve already. */
    cr_expect_eq(agent_probe_ike(ike), 0, "no IKE_SA_INIT response");
    cr_expect_eq(agent_probe_ctl(ctl), 0, "no control socket reply");
    cr_assert_eq(kill(pid, SIGTERM), 0);
    cr_expect_eq(listener_wait_for(&l, "STOPPING=1", msg, sizeof(msg)), 0,
        "no STOPPING=1 after SIGTERM; last message: %s", msg);
    cr_expect_eq(daemon_wait(pid), 0, "agent exit status; log: %s", log);
    unlink(conf);
    unlink(log);
    unlink(ctl);
    listener_close(&l);
}

Test(sdnotify_daemon, agent_reports_drain_status)
{
    struct listener l;
    char bin[512], conf[256], ctl[256], log[256], text[2048], msg[512];
    uint16_t ike = free_port(SOCK_DGRAM), natt = free_port(SOCK_DGRAM);
    uint64_t end;
    pid_t pid;
    int seen_status = 0;

    daemon_path(bin, sizeof(bin), "ikeshift-agent");
    listener_open_path(&l);
    snprintf(conf, sizeof(conf), "%s/agent.json", l.dir);
    snprintf(ctl, sizeof(ctl), "%s/ctl.sock", l.dir);
    snprintf(log, sizeof(log), "%s/agent.log", l.dir);
    snprintf(text, sizeof(text),
        "{ \"listen\": { \"unicast\": [\"127.0.0.1\"], \"ike_port\": %u,"
        " \"natt_port\": %u },\n"
        "  \"identity\": { \"value\": \"vpn.example.net\" },\n"
        "  \"clients\": [ { \"id\": \"*\", \"psk\": \"x-secret\" } ],\n"
        "  \"policy\": { \"drain_target\": \"198.51.100.4\" },\n"
        "  \"control_socket\": \"%s\" }\n", (unsigned)ike, (unsigned)natt,
        ctl);
    write_file(conf, text);

    char *argv[] = { bin, "-c", conf, NULL };

    pid = daemon_start(bin, argv, l.name, log);
    cr_assert_eq(listener_wait_for(&l, "READY=1", msg, sizeof(msg)), 0,
        "no READY=1 from the agent; log: %s", log);
    cr_assert_eq(kill(pid, SIGTERM), 0);
    end = now_ms() + WAIT_MS;
    while (!seen_status && now_ms() < end &&
        listener_recv(&l, msg, sizeof(msg), WAIT_MS) > 0)
        seen_status = strncmp(msg, "STATUS=draining", 15) == 0;
    cr_expect(seen_status, "no STATUS=draining after SIGTERM");
    cr_expect_eq(daemon_wait(pid), 0, "agent exit status; log: %s", log);
    unlink(conf);
    unlink(log);
    unlink(ctl);
    listener_close(&l);
}

/* Sends GET /healthz to 127.0.0.1:port; returns 0 on status 200. */
static int
controller_probe_api(uint16_t port)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
    struct sockaddr_in sin = { .sin_family = AF_INET };
    struct timeval tv = { .tv_sec = 2 };
    char reply[512];
    ssize_t n;
    int fd, ret = -1;

    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_geq(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
        write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1) &&
        (n = read(fd, reply, sizeof(reply) - 1)) > 0) {
        reply[n] = '\0';
        if (strncmp(reply, "HTTP/1.1 200", 12) == 0)
            ret = 0;
    }
    close(fd);
    return ret;
}

Test(sdnotify_daemon, controller_sends_ready_then_stopping)
{
    struct listener l;
    struct redis_server *srv;
    char bin[512], conf[256], log[256], text[1024], msg[512];
    uint16_t api = free_port(SOCK_STREAM);
    pid_t pid;

    daemon_path(bin, sizeof(bin), "ikeshift-controller");
    cr_assert_not_null(srv = redis_server_start(NULL));
    listener_open_path(&l);
    snprintf(conf, sizeof(conf), "%s/controller.json", l.dir);
    snprintf(log, sizeof(log), "%s/controller.log", l.dir);
    snprintf(text, sizeof(text),
        "{ \"controller_id\": \"ctl-sdnotify\",\n"
        "  \"redis\": { \"address\": \"127.0.0.1:%u\" },\n"
        "  \"api\": { \"listen\": \"127.0.0.1:%u\" } }\n",
        (unsigned)redis_server_port(srv), (unsigned)api);
    write_file(conf, text);

    char *argv[] = { bin, "-c", conf, NULL };

    pid = daemon_start(bin, argv, l.name, log);
    cr_assert_eq(listener_wait_for(&l, "READY=1", msg, sizeof(msg)), 0,
        "no READY=1 from the controller; last message: %s; log: %s", msg,
        log);
    cr_expect_eq(controller_probe_api(api), 0, "no 200 from GET /healthz");
    cr_assert_eq(kill(pid, SIGTERM), 0);
    cr_expect_eq(listener_wait_for(&l, "STOPPING=1", msg, sizeof(msg)), 0,
        "no STOPPING=1 after SIGTERM; last message: %s", msg);
    cr_expect_eq(daemon_wait(pid), 0, "controller exit status; log: %s",
        log);
    unlink(conf);
    unlink(log);
    listener_close(&l);
    redis_server_free(srv);
}
