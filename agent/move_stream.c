/*
 * Session moves from a Redis stream, acknowledged after they ran.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "move_stream.h"
#include "policy_static.h"
#include "rt/keys.h"
#include "rt/log.h"
#include "rt/redis_link.h"

#define MOVE_KEY_PREFIX KEYS_PREFIX "moves:"
#define MOVE_KEY_SIZE (sizeof(MOVE_KEY_PREFIX) + CLUSTER_ID_MAX)
#define MOVE_RESULT_KEY_SIZE (MOVE_KEY_SIZE + 8 + MOVE_ENTRY_ID_MAX)

/* One delivered entry, copied out of the XREADGROUP reply. */
struct move_entry {
    char id[MOVE_ENTRY_ID_MAX + 1];
    bool deleted;               /* the PEL names it, its fields are gone */
    bool valid;
    char error[160];
    struct move_request req;
};

struct move_stream {
    uv_loop_t *loop;
    uv_timer_t timer;
    struct redis_link *link;
    char gateway_id[CLUSTER_ID_MAX + 1];
    char key[MOVE_KEY_SIZE];
    uint32_t poll_ms;
    move_stream_execute_fn execute;
    void *execute_arg;
    bool ready;                 /* the link is READY */
    bool group_ok;              /* XGROUP CREATE succeeded or BUSYGROUP */
    bool read_pending;          /* read from "0" before ">" */
    bool busy;                  /* a command chain is in flight */
    struct move_entry queue[MOVE_STREAM_BATCH];
    size_t n_queue;
    size_t next;                /* queue[next] is being handled */
    bool more;                  /* the last read filled the batch */
    uint64_t executed;
};

static void stream_poll(struct move_stream *ms);
static void stream_next_entry(struct move_stream *ms);

static uint64_t
wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
parse_peer(const char *s, struct sockaddr_storage *out)
{
    struct sockaddr_in *in = (struct sockaddr_in *)out;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
    char host[INET6_ADDRSTRLEN + 2];
    const char *port = NULL, *colon = strrchr(s, ':');
    size_t len = strlen(s);
    long p = 0;
    char *end;

    memset(out, 0, sizeof(*out));
    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (close == NULL || (size_t)(close - s - 1) >= sizeof(host))
            return -EINVAL;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        if (close[1] == ':')
            port = close + 2;
        else if (close[1] != '\0')
            return -EINVAL;
    } else if (colon != NULL && strchr(s, ':') == colon) {
        /* One colon: IPv4 with a port. */
        if ((size_t)(colon - s) >= sizeof(host))
            return -EINVAL;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port = colon + 1;
    } else {
        if (len >= sizeof(host))
            return -EINVAL;
        memcpy(host, s, len + 1);
    }
    if (port != NULL) {
        errno = 0;
        p = strtol(port, &end, 10);
        if (port[0] == '\0' || *end != '\0' || errno != 0 || p < 1 ||
            p > 65535)
            return -EINVAL;
    }
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)p);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)p);
        return 0;
    }
    return -EINVAL;
}

static int
parse_spi(const char *s, uint8_t *spi)
{
    if (strlen(s) != 16)
        return -EINVAL;
    for (size_t i = 0; i < 8; i++) {
        unsigned v;

        if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
            strspn(s + 2 * i, "0123456789abcdefABCDEF") < 2)
            return -EINVAL;
        spi[i] = (uint8_t)v;
    }
    return 0;
}

static int
parse_field(struct move_request *out, const char *f, const char *v,
    char *err, size_t err_size)
{
    if (strcmp(f, "to") == 0) {
        if (strlen(v) > CLUSTER_ADDR_TEXT_MAX ||
            policy_target_from_text(&out->to, v) < 0)
            goto bad;
        strcpy(out->to_text, v);
    } else if (strcmp(f, "peer") == 0) {
        if (parse_peer(v, &out->peer) < 0)
            goto bad;
        out->have_peer = true;
    } else if (strcmp(f, "id") == 0) {
        if (v[0] == '\0' || strlen(v) >= sizeof(out->id))
            goto bad;
        strcpy(out->id, v);
        out->have_id = true;
    } else if (strcmp(f, "spi") == 0) {
        if (parse_spi(v, out->spi_i) < 0)
            goto bad;
        out->have_spi = true;
    } else if (strcmp(f, "move_id") == 0) {
        if (!cluster_id_is_valid(v, strlen(v), false))
            goto bad;
        strcpy(out->move_id, v);
    } else if (strcmp(f, "expires_at_ms") == 0) {
        char *end;

        errno = 0;
        out->expires_at_ms = strtoull(v, &end, 10);
        if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0)
            goto bad;
    }
    /* Other fields are ignored, as in the JSON documents. */
    return 0;
bad:
    snprintf(err, err_size, "move.%s: invalid value \"%.64s\"", f, v);
    return -EINVAL;
}

int
move_request_parse(const char *const *fields, const char *const *values,
    size_t n, struct move_request *out, char *err, size_t err_size)
{
    char entry_id[MOVE_ENTRY_ID_MAX + 1];

    memcpy(entry_id, out->entry_id, sizeof(entry_id));
    memset(out, 0, sizeof(*out));
    memcpy(out->entry_id, entry_id, sizeof(entry_id));
    for (size_t i = 0; i < n; i++) {
        if (parse_field(out, fields[i], values[i], err, err_size) < 0)
            return -EINVAL;
    }
    if (out->to_text[0] == '\0') {
        snprintf(err, err_size, "move.to: missing");
        return -EINVAL;
    }
    if (!out->have_peer && !out->have_id && !out->have_spi) {
        snprintf(err, err_size, "move: no selector, expected peer, id or"
            " spi");
        return -EINVAL;
    }
    return 0;
}

struct move_stream *
move_stream_new(uv_loop_t *loop, struct redis_link *link,
    const char *gateway_id, uint32_t poll_ms, move_stream_execute_fn fn,
    void *arg)
{
    struct move_stream *ms;

    if (!cluster_id_is_valid(gateway_id, strlen(gateway_id), false) ||
        poll_ms == 0)
        return NULL;
    if ((ms = calloc(1, sizeof(*ms))) == NULL)
        return NULL;
    ms->loop = loop;
    ms->link = link;
    strcpy(ms->gateway_id, gateway_id);
    snprintf(ms->key, sizeof(ms->key), "%s%s", MOVE_KEY_PREFIX, gateway_id);
    ms->poll_ms = poll_ms;
    ms->execute = fn;
    ms->execute_arg = arg;
    ms->read_pending = true;
    uv_timer_init(loop, &ms->timer);
    ms->timer.data = ms;
    return ms;
}

static void
on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

void
move_stream_free(struct move_stream *ms)
{
    if (ms == NULL)
        return;
    uv_timer_stop(&ms->timer);
    uv_close((uv_handle_t *)&ms->timer, on_timer_closed);
}

uint64_t
move_stream_get_executed(const struct move_stream *ms)
{
    return ms->executed;
}

static void
on_timer(uv_timer_t *t)
{
    stream_poll(t->data);
}

/* Ends a chain: on failure every unacknowledged entry is read again. */
static void
stream_idle(struct move_stream *ms, bool failed)
{
    ms->busy = false;
    ms->n_queue = 0;
    ms->next = 0;
    if (failed) {
        ms->read_pending = true;
        ms->more = false;
    }
    if (!ms->ready)
        return;
    uv_timer_start(&ms->timer, on_timer, ms->more ? 0 : ms->poll_ms, 0);
}

void
move_stream_link_ready(struct move_stream *ms)
{
    ms->ready = true;
    ms->read_pending = true;
    if (!ms->busy)
        stream_poll(ms);
}

static bool
reply_is_error(int status, const redisReply *reply, const char *prefix)
{
    return status == -EIO && reply != NULL && reply->str != NULL &&
        strncmp(reply->str, prefix, strlen(prefix)) == 0;
}

static void
on_group_created(struct redis_link *link, int status,
    const redisReply *reply, void *arg)
{
    struct move_stream *ms = arg;

    (void)link;
    if (status == -ECANCELED)
        return;
    if (status == 0 || reply_is_error(status, reply, "BUSYGROUP")) {
        ms->group_ok = true;
        ms->busy = false;
        stream_poll(ms);
        return;
    }
    log_warn("moves", "creating the consumer group failed; key=%s"
        " error=\"%s\"", ms->key, reply != NULL && reply->str != NULL ?
        reply->str : strerror(-status));
    stream_idle(ms, true);
}

/* Copies one [id, [field, value, ...]] element into the queue. */
static void
queue_entry(struct move_stream *ms, const redisReply *e)
{
    struct move_entry *m = &ms->queue[ms->n_queue];
    const char *fields[64], *values[64];
    const redisReply *kv;
    size_t n = 0;

    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING ||
        e->element[0]->len > MOVE_ENTRY_ID_MAX)
        return;
    memset(m, 0, sizeof(*m));
    memcpy(m->id, e->element[0]->str, e->element[0]->len);
    memcpy(m->req.entry_id, m->id, sizeof(m->id));
    ms->n_queue++;
    kv = e->element[1];
    if (kv->type != REDIS_REPLY_ARRAY) {
        m->deleted = true;
        return;
    }
    for (size_t i = 0; i + 1 < kv->elements && n < 64; i += 2) {
        if (kv->element[i]->type != REDIS_REPLY_STRING ||
            kv->element[i + 1]->type != REDIS_REPLY_STRING)
            continue;
        fields[n] = kv->element[i]->str;
        values[n++] = kv->element[i + 1]->str;
    }
    m->valid = move_request_parse(fields, values, n, &m->req, m->error,
        sizeof(m->error)) == 0;
}

static void
on_read(struct redis_link *link, int status, const redisReply *reply,
    void *arg)
{
    struct move_stream *ms = arg;
    const redisReply *entries;

    (void)link;
    if (status == -ECANCELED)
        return;
    if (reply_is_error(status, reply, "NOGROUP")) {
        /* Redis lost the group, for example with all its data. */
        ms->group_ok = false;
        ms->busy = false;
        stream_poll(ms);
        return;
    }
    if (status < 0) {
        log_warn("moves", "reading the move stream failed; key=%s"
            " error=\"%s\"", ms->key, reply != NULL && reply->str != NULL ?
            reply->str : strerror(-status));
        stream_idle(ms, true);
        return;
    }
    ms->n_queue = 0;
    ms->next = 0;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
        reply->element[0]->type == REDIS_REPLY_ARRAY &&
        reply->element[0]->elements == 2 &&
        reply->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
        entries = reply->element[0]->element[1];
        for (size_t i = 0; i < entries->elements &&
            ms->n_queue < MOVE_STREAM_BATCH; i++)
            queue_entry(ms, entries->element[i]);
    }
    ms->more = ms->n_queue == MOVE_STREAM_BATCH;
    if (ms->read_pending && ms->n_queue == 0) {
        /* Every entry given to this consumer before is acknowledged. */
        ms->read_pending = false;
        ms->more = true;
    }
    stream_next_entry(ms);
}

static void
stream_poll(struct move_stream *ms)
{
    int ret;

    if (!ms->ready || ms->busy)
        return;
    if (redis_link_get_state(ms->link) != REDIS_LINK_READY) {
        ms->ready = false;
        return;
    }
    ms->busy = true;
    if (!ms->group_ok)
        ret = redis_link_command(ms->link, on_group_created, ms,
            "XGROUP CREATE %s %s 0 MKSTREAM", ms->key, MOVE_STREAM_GROUP);
    else
        ret = redis_link_command(ms->link, on_read, ms,
            "XREADGROUP GROUP %s %s COUNT %d STREAMS %s %s",
            MOVE_STREAM_GROUP, ms->gateway_id, MOVE_STREAM_BATCH, ms->key,
            ms->read_pending ? "0" : ">");
    if (ret < 0) {
        ms->ready = false;
        stream_idle(ms, true);
    }
}

static void
result_key(const struct move_stream *ms, const char *entry, char *buf,
    size_t size)
{
    snprintf(buf, size, "%s:result:%s", ms->key, entry);
}

static void
on_acked(struct redis_link *link, int status, const redisReply *reply,
    void *arg)
{
    struct move_stream *ms = arg;

    (void)link;
    if (status == -ECANCELED)
        return;
    if (status < 0) {
        log_warn("moves", "acknowledging a move failed; key=%s error=\"%s\"",
            ms->key, reply != NULL && reply->str != NULL ? reply->str :
            strerror(-status));
        stream_idle(ms, true);
        return;
    }
    ms->next++;
    stream_next_entry(ms);
}

static char *
result_json(const struct move_entry *m, const char *status, int moved,
    const char *error)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:I}", "entry", m->id,
        "move_id", m->req.move_id, "status", status, "moved",
        moved < 0 ? 0 : moved, "done_at_ms", (json_int_t)wall_ms());
    char *text;

    if (o == NULL)
        return NULL;
    if (error != NULL)
        json_object_set_new(o, "error", json_string(error));
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* Runs the entry, then writes its result and acknowledges it at once. */
static void
entry_run(struct move_stream *ms, struct move_entry *m)
{
    char key[MOVE_RESULT_KEY_SIZE], why[64];
    const char *status = "done", *error = NULL;
    char *text;
    int moved = 0, ret;

    if (!m->valid) {
        /* The error quotes the bad value, so it goes through the escape. */
        char shown[LOG_ESCAPE_SIZE(sizeof(m->error))];

        status = "invalid";
        error = m->error;
        log_escape_str(shown, sizeof(shown), m->error);
        log_warn("moves", "invalid move dropped; entry=%s error=%s", m->id,
            shown);
    } else if (m->req.expires_at_ms != 0 &&
        wall_ms() >= m->req.expires_at_ms) {
        status = "expired";
        log_info("moves", "expired move dropped; entry=%s", m->id);
    } else {
        moved = ms->execute(ms->execute_arg, &m->req);
        ms->executed++;
        if (moved < 0) {
            status = "failed";
            snprintf(why, sizeof(why), "%s", strerror(-moved));
            error = why;
        }
        log_info("moves", "move done; entry=%s move_id=%s to=%s moved=%d",
            m->id, m->req.move_id, m->req.to_text, moved < 0 ? 0 : moved);
    }
    if ((text = result_json(m, status, moved, error)) == NULL) {
        stream_idle(ms, true);
        return;
    }
    result_key(ms, m->id, key, sizeof(key));
    ret = redis_link_command(ms->link, NULL, NULL, "MULTI");
    if (ret == 0)
        ret = redis_link_command(ms->link, NULL, NULL, "SET %s %s PX %d",
            key, text, MOVE_STREAM_RESULT_TTL_MS);
    if (ret == 0)
        ret = redis_link_command(ms->link, NULL, NULL, "XACK %s %s %s",
            ms->key, MOVE_STREAM_GROUP, m->id);
    if (ret == 0)
        ret = redis_link_command(ms->link, on_acked, ms, "EXEC");
    free(text);
    if (ret < 0)
        stream_idle(ms, true);
}

static void
on_result_read(struct redis_link *link, int status, const redisReply *reply,
    void *arg)
{
    struct move_stream *ms = arg;
    struct move_entry *m;

    (void)link;
    if (status == -ECANCELED)
        return;
    if (status < 0) {
        stream_idle(ms, true);
        return;
    }
    m = &ms->queue[ms->next];
    if (reply->type == REDIS_REPLY_NIL) {
        entry_run(ms, m);
        return;
    }
    /* It ran before the agent restarted; only the XACK was lost. */
    log_info("moves", "move ran before, acknowledging it; entry=%s", m->id);
    if (redis_link_command(ms->link, on_acked, ms, "XACK %s %s %s", ms->key,
        MOVE_STREAM_GROUP, m->id) < 0)
        stream_idle(ms, true);
}

static void
stream_next_entry(struct move_stream *ms)
{
    struct move_entry *m;
    char key[MOVE_RESULT_KEY_SIZE];
    int ret;

    if (ms->next >= ms->n_queue) {
        stream_idle(ms, false);
        return;
    }
    m = &ms->queue[ms->next];
    if (m->deleted)
        ret = redis_link_command(ms->link, on_acked, ms, "XACK %s %s %s",
            ms->key, MOVE_STREAM_GROUP, m->id);
    else {
        result_key(ms, m->id, key, sizeof(key));
        ret = redis_link_command(ms->link, on_result_read, ms, "GET %s",
            key);
    }
    if (ret < 0)
        stream_idle(ms, true);
}
