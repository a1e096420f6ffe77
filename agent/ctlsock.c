/*
 * Control socket server and client.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "ctlsock.h"
#include "engine.h"
#include "policy_static.h"
#include "rt/config_value.h"
#include "rt/log.h"
#include "udp_io.h"

#define CTL_LINE_MAX 4096

struct ctlsock {
    uv_pipe_t server;
    uv_loop_t *loop;
    struct ike_engine *engine;
    struct udp_io *io;
    char path[108];
};

struct ctl_client {
    uv_pipe_t pipe;
    uv_shutdown_t shutdown;
    struct ctlsock *cs;
    bool discarding;        /* line too long: answered, reading to EOF */
    size_t len;
    char buf[CTL_LINE_MAX];
};

static char *
reply_error(const char *msg)
{
    json_t *o = json_pack("{s:b,s:s}", "ok", 0, "error", msg);
    char *s = json_dumps(o, JSON_COMPACT);
    char *line = NULL;

    json_decref(o);
    if (s != NULL && (line = malloc(strlen(s) + 2)) != NULL)
        sprintf(line, "%s\n", s);
    free(s);
    return line;
}

static char *
reply_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    char *line = NULL;

    json_decref(o);
    if (s != NULL && (line = malloc(strlen(s) + 2)) != NULL)
        sprintf(line, "%s\n", s);
    free(s);
    return line;
}

static void
list_one(void *arg, const struct engine_sa_info *sa)
{
    json_t *arr = arg;
    char ispi[17], rspi[17], local[64], peer[64];

    for (int i = 0; i < 8; i++) {
        snprintf(ispi + 2 * i, 3, "%02x", sa->spi_i[i]);
        snprintf(rspi + 2 * i, 3, "%02x", sa->spi_r[i]);
    }
    config_value_format_addr(&sa->local, 1, local, sizeof(local));
    config_value_format_addr(&sa->peer, 1, peer, sizeof(peer));
    json_array_append_new(arr, json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:s}",
        "ispi", ispi, "rspi", rspi, "local", local, "peer", peer,
        "id", sa->id, "state", sa->state,
        "redirect_supported", sa->redirect_supported,
        "redirected", sa->redirected, "vip", sa->vip));
}

static char *
cmd_counters(struct ike_engine *engine, struct udp_io *io)
{
    json_t *c = json_object();

    for (int i = 0; i < ENGINE_CTR_COUNT; i++)
        json_object_set_new(c, engine_counter_name(i),
            json_integer((json_int_t)engine_counter_get(engine, i)));
    json_object_set_new(c, "sas", json_integer(
        (json_int_t)engine_sa_count(engine)));
    json_object_set_new(c, "half_open", json_integer(
        (json_int_t)engine_half_open_count(engine)));
    if (io != NULL) {
        const struct udp_io_counters *u = udp_io_get_counters(io);

        json_object_set_new(c, "udp_esp_dropped",
            json_integer((json_int_t)u->esp_dropped));
        json_object_set_new(c, "udp_keepalives_dropped",
            json_integer((json_int_t)u->keepalives_dropped));
        json_object_set_new(c, "udp_invalid_dropped",
            json_integer((json_int_t)u->invalid_dropped));
        json_object_set_new(c, "udp_send_errors",
            json_integer((json_int_t)u->send_errors));
    }
    return reply_json(json_pack("{s:b,s:o}", "ok", 1, "counters", c));
}

static int
parse_spi(const char *s, uint8_t spi[8])
{
    if (strlen(s) != 16)
        return -EINVAL;
    for (int i = 0; i < 8; i++) {
        unsigned v;

        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -EINVAL;
        spi[i] = (uint8_t)v;
    }
    return 0;
}

static char *
cmd_move(struct ike_engine *engine, json_t *req, uint64_t now_ms)
{
    const char *peer = json_string_value(json_object_get(req, "peer"));
    const char *id = json_string_value(json_object_get(req, "id"));
    const char *spi = json_string_value(json_object_get(req, "spi"));
    const char *to = json_string_value(json_object_get(req, "to"));
    struct engine_selector sel = { NULL, NULL, NULL };
    struct sockaddr_storage ss;
    struct policy_target target;
    uint8_t spi_i[8];
    int n;

    if (id != NULL && id[0] == '\0')
        return reply_error("invalid \"id\": must not be empty");
    if (to == NULL || policy_target_from_text(&target, to) < 0)
        return reply_error("missing or invalid \"to\": expected an IPv4 or"
            " IPv6 address or a host name");
    if (peer != NULL) {
        if (config_value_parse_addrport(peer, AF_UNSPEC, 0, &ss) < 0 &&
            config_value_parse_addr(peer, AF_UNSPEC, &ss) < 0)
            return reply_error("invalid \"peer\": expected an address");
        sel.peer = (const struct sockaddr *)&ss;
    }
    if (spi != NULL) {
        if (parse_spi(spi, spi_i) < 0)
            return reply_error("invalid \"spi\": expected 16 hex digits");
        sel.spi_i = spi_i;
    }
    sel.id = id;

    /* The engine counts the SAs it skips; the difference is this move's. */
    uint64_t unsupported = engine_counter_get(engine,
        ENGINE_CTR_REDIRECT_UNSUPPORTED);
    uint64_t same = engine_counter_get(engine, ENGINE_CTR_REDIRECT_SELF);

    if ((n = engine_redirect_sas(engine, &sel, &target, now_ms)) < 0)
        return reply_error("empty selector: give peer, id or spi");
    return reply_json(json_pack("{s:b,s:i,s:I,s:I}", "ok", 1, "moved", n,
        "refused_no_support", (json_int_t)(engine_counter_get(engine,
        ENGINE_CTR_REDIRECT_UNSUPPORTED) - unsupported),
        "refused_same_gateway", (json_int_t)(engine_counter_get(engine,
        ENGINE_CTR_REDIRECT_SELF) - same)));
}

char *
ctlsock_handle_line(struct ike_engine *engine, struct udp_io *io,
    const char *line, size_t len, uint64_t now_ms)
{
    json_error_t jerr;
    json_t *req = json_loadb(line, len, 0, &jerr);
    const char *cmd;
    char *reply;

    if (req == NULL || !json_is_object(req)) {
        json_decref(req);
        return reply_error("invalid JSON: expected one object per line");
    }
    cmd = json_string_value(json_object_get(req, "cmd"));
    if (cmd == NULL) {
        reply = reply_error("missing \"cmd\"");
    } else if (strcmp(cmd, "list") == 0) {
        json_t *arr = json_array();

        engine_foreach_sa(engine, list_one, arr);
        reply = reply_json(json_pack("{s:b,s:o}", "ok", 1, "sas", arr));
    } else if (strcmp(cmd, "counters") == 0) {
        reply = cmd_counters(engine, io);
    } else if (strcmp(cmd, "move") == 0) {
        reply = cmd_move(engine, req, now_ms);
    } else {
        reply = reply_error("unknown cmd: expected list, counters or move");
    }
    json_decref(req);
    return reply;
}

static void
client_closed(uv_handle_t *h)
{
    free(h->data);
}

static void
client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct ctl_client *c = h->data;

    (void)suggested;
    buf->base = c->buf + c->len;
    buf->len = sizeof(c->buf) - c->len;
}

static void
client_written(uv_write_t *w, int status)
{
    (void)status;
    free(w->data);
    free(w);
}

static void
client_send(struct ctl_client *c, char *line)
{
    uv_write_t *w = malloc(sizeof(*w));
    uv_buf_t buf;

    if (w == NULL || line == NULL) {
        free(w);
        free(line);
        return;
    }
    w->data = line;
    buf = uv_buf_init(line, (unsigned)strlen(line));
    if (uv_write(w, (uv_stream_t *)&c->pipe, &buf, 1, client_written) < 0)
        client_written(w, 0);
}

static void
client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct ctl_client *c = s->data;
    char *nl;

    (void)buf;
    if (nread < 0) {
        uv_close((uv_handle_t *)s, client_closed);
        return;
    }
    if (c->discarding)
        return;
    c->len += (size_t)nread;
    while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
        size_t n = (size_t)(nl - c->buf);

        client_send(c, ctlsock_handle_line(c->cs->engine, c->cs->io, c->buf,
            n, uv_now(c->cs->loop)));
        memmove(c->buf, nl + 1, c->len - n - 1);
        c->len -= n + 1;
    }
    if (c->len == sizeof(c->buf)) {
        char msg[64];

        /* Closing at once would make the client's write of the rest of
         * the line fail with EPIPE before it reads the error, so the
         * error goes out with a shutdown and the rest is read and
         * discarded until the client closes.  NOTE: a client that never
         * closes keeps its connection open. */
        snprintf(msg, sizeof(msg), "request line too long: the maximum is"
            " %d bytes", CTL_LINE_MAX - 1);
        client_send(c, reply_error(msg));
        c->discarding = true;
        c->len = 0;
        if (uv_shutdown(&c->shutdown, s, NULL) < 0)
            uv_close((uv_handle_t *)s, client_closed);
    }
}

static void
server_connection(uv_stream_t *server, int status)
{
    struct ctlsock *cs = server->data;
    struct ctl_client *c;

    if (status < 0 || (c = calloc(1, sizeof(*c))) == NULL)
        return;
    c->cs = cs;
    uv_pipe_init(cs->loop, &c->pipe, 0);
    c->pipe.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 ||
        uv_read_start((uv_stream_t *)&c->pipe, client_alloc, client_read) < 0)
        uv_close((uv_handle_t *)&c->pipe, client_closed);
}

int
ctlsock_new(uv_loop_t *loop, const char *path, struct ike_engine *engine,
    struct udp_io *io, struct ctlsock **out)
{
    struct ctlsock *cs = calloc(1, sizeof(*cs));
    int ret;

    *out = NULL;
    if (cs == NULL)
        return UV_ENOMEM;
    if (strlen(path) >= sizeof(cs->path)) {
        free(cs);
        return UV_ENAMETOOLONG;
    }
    snprintf(cs->path, sizeof(cs->path), "%s", path);
    cs->loop = loop;
    cs->engine = engine;
    cs->io = io;
    uv_pipe_init(loop, &cs->server, 0);
    cs->server.data = cs;
    *out = cs;
    unlink(path);
    if ((ret = uv_pipe_bind(&cs->server, path)) < 0 ||
        (ret = uv_listen((uv_stream_t *)&cs->server, 16,
        server_connection)) < 0) {
        log_error("ctl", "control socket failed; path=%s error=%s", path,
            uv_strerror(ret));
        return ret;
    }
    log_notice("ctl", "control socket listening; path=%s", path);
    return 0;
}

static void
server_closed(uv_handle_t *h)
{
    free(h->data);
}

void
ctlsock_close(struct ctlsock *cs)
{
    if (cs == NULL)
        return;
    unlink(cs->path);
    uv_close((uv_handle_t *)&cs->server, server_closed);
}

int
ctlsock_client(const char *path, const char *request)
{
    struct sockaddr_un sun;
    char buf[65536];
    size_t len = 0;
    ssize_t n;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "ctl: socket path too long: %s\n", path);
        return 2;
    }
    memcpy(sun.sun_path, path, strlen(path));
    if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
        connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        fprintf(stderr, "ctl: connecting to %s failed: %s\n", path,
            strerror(errno));
        if (fd >= 0)
            close(fd);
        return 2;
    }
    if (write(fd, request, strlen(request)) < 0 || write(fd, "\n", 1) < 0) {
        fprintf(stderr, "ctl: sending failed: %s\n", strerror(errno));
        close(fd);
        return 2;
    }
    while (len < sizeof(buf) - 1 &&
        (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
        len += (size_t)n;
        if (memchr(buf, '\n', len) != NULL)
            break;
    }
    close(fd);
    buf[len] = '\0';
    fputs(buf, stdout);
    return strstr(buf, "\"ok\":true") != NULL ? 0 : 1;
}
