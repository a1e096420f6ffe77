/*
 * The responder engine: message dispatch, message ID window and
 * retransmission cache (RFC 7296 2.1-2.3), sealing, timers and the
 * control operations.  The exchanges themselves are in exch_*.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "engine_priv.h"
#include "ike_redirect.h"
#include "ike_sk.h"
#include "policy_static.h"
#include "rt/log.h"

static const char *const counter_names[] = {
#define ENGINE_COUNTER_NAME(name, text) text,
    ENGINE_COUNTERS(ENGINE_COUNTER_NAME)
#undef ENGINE_COUNTER_NAME
};

const char *
engine_counter_name(enum engine_counter c)
{
    if ((unsigned)c >= ENGINE_CTR_COUNT)
        return NULL;
    return counter_names[c];
}

uint64_t
engine_counter_get(const struct ike_engine *engine, enum engine_counter c)
{
    if ((unsigned)c >= ENGINE_CTR_COUNT)
        return 0;
    return engine->counters[c];
}

size_t
engine_sa_count(const struct ike_engine *engine)
{
    return engine->table.count;
}

size_t
engine_half_open_count(const struct ike_engine *engine)
{
    return engine->n_half_open;
}

void
engine_rand(void *buf, size_t len)
{
    /* RAND_bytes fails only when the OpenSSL DRBG cannot be seeded, which
     * the startup check in engine_new() rules out. */
    if (RAND_bytes(buf, (int)len) != 1)
        abort();
}

/* Timer heap (a binary min-heap on due_ms, 1-based positions). */
static void
heap_set(struct ike_engine *e, size_t pos, struct ike_sa *sa)
{
    e->heap[pos - 1] = sa;
    sa->heap_pos = (uint32_t)pos;
}

static void
heap_up(struct ike_engine *e, size_t pos)
{
    struct ike_sa *sa = e->heap[pos - 1];

    while (pos > 1 && e->heap[pos / 2 - 1]->due_ms > sa->due_ms) {
        heap_set(e, pos, e->heap[pos / 2 - 1]);
        pos /= 2;
    }
    heap_set(e, pos, sa);
}

static void
heap_down(struct ike_engine *e, size_t pos)
{
    struct ike_sa *sa = e->heap[pos - 1];

    for (;;) {
        size_t child = 2 * pos;

        if (child > e->heap_len)
            break;
        if (child < e->heap_len &&
            e->heap[child]->due_ms < e->heap[child - 1]->due_ms)
            child++;
        if (e->heap[child - 1]->due_ms >= sa->due_ms)
            break;
        heap_set(e, pos, e->heap[child - 1]);
        pos = child;
    }
    heap_set(e, pos, sa);
}

static void
heap_remove(struct ike_engine *e, struct ike_sa *sa)
{
    size_t pos = sa->heap_pos;
    struct ike_sa *last;

    if (pos == 0)
        return;
    sa->heap_pos = 0;
    last = e->heap[--e->heap_len];
    if (last == sa)
        return;
    heap_set(e, pos, last);
    heap_up(e, pos);
    heap_down(e, last->heap_pos);
}

static int
heap_push(struct ike_engine *e, struct ike_sa *sa)
{
    if (e->heap_len == e->heap_cap) {
        size_t cap = e->heap_cap ? 2 * e->heap_cap : 1024;
        struct ike_sa **h = realloc(e->heap, cap * sizeof(*h));

        if (h == NULL)
            return -ENOMEM;
        e->heap = h;
        e->heap_cap = cap;
    }
    e->heap_len++;
    heap_set(e, e->heap_len, sa);
    heap_up(e, e->heap_len);
    return 0;
}

/* Returns when sa's timers next need to run; 0 means at once, UINT64_MAX
 * never.  It has no side effects, so it may be called at any time. */
static uint64_t
engine_sa_deadline(const struct ike_engine *e, const struct ike_sa *sa)
{
    const struct engine_config *cfg = e->cfg;
    uint64_t next = UINT64_MAX;

    if (sa->state == IKE_SA_HALF_OPEN)
        return sa->expire_ms;
    if (sa->request != NULL)
        next = sa->request->next_ms;
    if (sa->expire_ms != 0 && sa->state != IKE_SA_CLOSING &&
        sa->expire_ms < next)
        next = sa->expire_ms;
    if (sa->state == IKE_SA_ESTABLISHED && sa->request == NULL) {
        if (sa->redirect_to != NULL)
            return sa->redirect_at_ms;
        if (cfg->liveness_interval_ms != 0 &&
            sa->last_rx_ms + cfg->liveness_interval_ms < next)
            next = sa->last_rx_ms + cfg->liveness_interval_ms;
    }
    return next;
}

void
engine_sa_schedule(struct ike_engine *e, struct ike_sa *sa)
{
    uint64_t due = engine_sa_deadline(e, sa);

    if (due == UINT64_MAX) {
        heap_remove(e, sa);
        return;
    }
    if (sa->heap_pos == 0) {
        sa->due_ms = due;
        if (heap_push(e, sa) < 0)
            log_error("ike", "scheduling a timer failed; reason=no_memory");
        return;
    }
    if (due < sa->due_ms) {
        sa->due_ms = due;
        heap_up(e, sa->heap_pos);
    } else if (due > sa->due_ms) {
        sa->due_ms = due;
        heap_down(e, sa->heap_pos);
    }
}

static size_t
digest_bucket(const struct ike_engine *e, const uint8_t *digest)
{
    uint64_t h;

    /* SHA-256 output is uniform, so its first octets index the buckets. */
    memcpy(&h, digest, sizeof(h));
    return (size_t)h & e->digest_mask;
}

void
engine_digest_insert(struct ike_engine *e, struct ike_sa *sa)
{
    size_t b = digest_bucket(e, sa->init->digest);

    sa->dnext = e->digest_buckets[b];
    e->digest_buckets[b] = sa;
}

static void
engine_digest_remove(struct ike_engine *e, struct ike_sa *sa)
{
    struct ike_sa **pp;

    if (sa->init == NULL)
        return;
    pp = &e->digest_buckets[digest_bucket(e, sa->init->digest)];
    for (; *pp != NULL; pp = &(*pp)->dnext) {
        if (*pp == sa) {
            *pp = sa->dnext;
            sa->dnext = NULL;
            return;
        }
    }
}

struct ike_sa *
engine_digest_find(const struct ike_engine *e, const uint8_t *digest)
{
    struct ike_sa *sa = e->digest_buckets[digest_bucket(e, digest)];

    for (; sa != NULL; sa = sa->dnext) {
        if (memcmp(sa->init->digest, digest, IKE_SA_DIGEST_LEN) == 0)
            return sa;
    }
    return NULL;
}

struct ike_engine *
engine_new(const struct engine_config *cfg, struct policy policy,
    engine_send_fn send, void *send_arg)
{
    struct ike_engine *e;
    uint8_t probe[8];

    if (RAND_bytes(probe, sizeof(probe)) != 1)
        return NULL;
    if ((e = calloc(1, sizeof(*e))) == NULL)
        return NULL;
    e->cfg = cfg;
    e->policy = policy;
    e->send = send;
    e->send_arg = send_arg;
    if (ike_sa_table_init(&e->table) < 0)
        goto fail;
    /* Half-open SAs never exceed max_half_open, so this many buckets keep
     * the digest chains short. */
    e->digest_mask = 64;
    while (e->digest_mask < cfg->max_half_open && e->digest_mask < 1u << 20)
        e->digest_mask <<= 1;
    if ((e->digest_buckets = calloc(e->digest_mask,
        sizeof(*e->digest_buckets))) == NULL)
        goto fail;
    e->digest_mask--;
    if ((e->ke_ctx = ike_ke_ctx_new()) == NULL)
        goto fail;
    if ((e->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
        goto fail;
    if ((e->prf_ctx = ike_prf_ctx_new()) == NULL)
        goto fail;
    /* At most 5 warnings per peer address in 10 s, for 4096 addresses. */
    if ((e->warn_rl = log_ratelimit_new(5, 10000, 4096)) == NULL)
        goto fail;
    if (cfg->have_pool && (e->pool = pool_new(&cfg->pool)) == NULL)
        goto fail;
    engine_rand(e->cookie_secret, sizeof(e->cookie_secret));
    return e;
fail:
    engine_free(e);
    return NULL;
}

void
engine_free(struct ike_engine *engine)
{
    struct ike_sa *sa;

    if (engine == NULL)
        return;
    while (engine->table.buckets != NULL &&
        (sa = engine->table.head) != NULL) {
        ike_sa_table_remove(&engine->table, sa);
        ike_sa_free(sa);
    }
    ike_sa_table_fini(&engine->table);
    free(engine->digest_buckets);
    free(engine->heap);
    ike_ke_ctx_free(engine->ke_ctx);
    log_ratelimit_free(engine->warn_rl);
    EVP_MD_free(engine->sha256);
    ike_prf_ctx_free(engine->prf_ctx);
    pool_free(engine->pool);
    OPENSSL_cleanse(engine->cookie_secret, sizeof(engine->cookie_secret));
    OPENSSL_cleanse(engine->plain, sizeof(engine->plain));
    OPENSSL_cleanse(engine->reply, sizeof(engine->reply));
    free(engine);
}

void
engine_set_keylog(struct ike_engine *engine, engine_keylog_fn fn, void *arg)
{
    engine->keylog = fn;
    engine->keylog_arg = arg;
}

void
engine_keylog_sa(struct ike_engine *e, const struct ike_sa *sa)
{
    if (e->keylog != NULL)
        e->keylog(e->keylog_arg, sa->spi_i, sa->spi_r, &sa->keys);
}

void
engine_addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        snprintf(out, cap, "%s:%u", ip, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        snprintf(out, cap, "[%s]:%u", ip, ntohs(in6->sin6_port));
    } else {
        snprintf(out, cap, "?");
    }
}

static void
hex8(const uint8_t spi[8], char out[17])
{
    static const char digits[] = "0123456789abcdef";

    for (int i = 0; i < 8; i++) {
        out[2 * i] = digits[spi[i] >> 4];
        out[2 * i + 1] = digits[spi[i] & 0x0f];
    }
    out[16] = '\0';
}

void
engine_sa_tag(const struct ike_sa *sa, char *out, size_t cap)
{
    char i[17], r[17], peer[64];

    hex8(sa->spi_i, i);
    hex8(sa->spi_r, r);
    engine_addr_text(&sa->peer.sa, peer, sizeof(peer));
    snprintf(out, cap, "ispi=%s rspi=%s peer=%s", i, r, peer);
}

void
engine_log_child_keys_once(struct ike_engine *e)
{
    if (e->child_keys_logged)
        return;
    e->child_keys_logged = true;
    log_notice("child", "CHILD SA keys are derived but not installed in the"
        " kernel; ESP traffic is not forwarded; reason=no_kernel_esp");
}

uint16_t
engine_client_slot(const struct sockaddr *peer)
{
    const uint8_t *addr;
    uint16_t port;
    size_t len = engine_addr_bytes(peer, &addr, &port);
    uint32_t h = 2166136261u;

    /* FNV-1a over the address octets; the port is left out on purpose. */
    for (size_t i = 0; i < len; i++)
        h = (h ^ addr[i]) * 16777619u;
    return (uint16_t)(h & (ENGINE_CLIENT_SLOTS - 1));
}

size_t
engine_addr_bytes(const struct sockaddr *sa, const uint8_t **addr,
    uint16_t *port)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        *addr = (const uint8_t *)&in->sin_addr;
        *port = ntohs(in->sin_port);
        return 4;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        *addr = (const uint8_t *)&in6->sin6_addr;
        *port = ntohs(in6->sin6_port);
        return 16;
    }
    *addr = NULL;
    *port = 0;
    return 0;
}

void
engine_sa_established(struct ike_engine *e, struct ike_sa *sa,
    uint64_t now_ms)
{
    if (sa->state == IKE_SA_HALF_OPEN) {
        e->n_half_open--;
        e->clients[sa->client_slot].half_open--;
        engine_digest_remove(e, sa);
    }
    sa->state = IKE_SA_ESTABLISHED;
    sa->established_ms = now_ms;
    sa->expire_ms = 0;
    sa->last_rx_ms = now_ms;
    engine_sa_schedule(e, sa);
}

void
engine_send_raw(struct ike_engine *e, const struct sockaddr *local,
    const struct sockaddr *peer, const uint8_t *msg, size_t len)
{
    if (e->send(e->send_arg, local, peer, msg, len) < 0)
        engine_count(e, ENGINE_CTR_TX_ERRORS);
    else
        engine_count(e, ENGINE_CTR_TX_MESSAGES);
}

bool
engine_take_reply_token(struct ike_engine *e, const struct sockaddr *peer,
    uint64_t now_ms)
{
    struct engine_client_slot *slot = &e->clients[engine_client_slot(peer)];

    /* The client's own bucket first, so that replies refused to a
     * flooding address do not use up the budget of everyone else. */
    if (!ratelimit_take(&slot->replies, e->cfg->reply_rate_per_peer, now_ms))
        return false;
    return ratelimit_take(&e->replies, e->cfg->reply_rate, now_ms);
}

int
engine_seal(struct ike_engine *e, struct ike_sa *sa, uint8_t exchange,
    bool response, uint32_t mid, const struct ike_writer *plain,
    size_t *out_len)
{
    struct ike_writer w;
    struct ike_header hdr;
    int ret;

    memset(&hdr, 0, sizeof(hdr));
    memcpy(hdr.spi_i, sa->spi_i, 8);
    memcpy(hdr.spi_r, sa->spi_r, 8);
    hdr.exchange = exchange;
    /* RFC 7296 3.1: we are the original responder, so I stays clear. */
    hdr.flags = response ? IKE_FLAG_RESPONSE : 0;
    hdr.msg_id = mid;
    if ((ret = ike_writer_error(plain)) < 0)
        return ret;
    ike_writer_init(&w, e->out, sizeof(e->out));
    ike_msg_begin(&w, &hdr);
    ike_writer_patch8(&w, 16, IKE_P_SK);
    if ((ret = ike_writer_error(&w)) < 0)
        return ret;
    return ike_sk_seal(&sa->keys, IKE_SK_FROM_RESPONDER,
        ike_writer_first_type(plain), plain->buf, ike_writer_len(plain),
        e->out, ike_writer_len(&w), sizeof(e->out), out_len);
}

void
engine_send_response(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_rx *rx, const struct ike_writer *plain)
{
    size_t len;
    uint8_t *copy;
    char tag[160];

    if (engine_seal(e, sa, rx->msg.hdr.exchange, true, rx->msg.hdr.msg_id,
        plain, &len) < 0) {
        engine_sa_tag(sa, tag, sizeof(tag));
        log_error("ike", "building a response failed; %s", tag);
        engine_count(e, ENGINE_CTR_TX_ERRORS);
        return;
    }
    sa->rx_mid = rx->msg.hdr.msg_id + 1;
    if ((copy = realloc(sa->response, len)) != NULL) {
        memcpy(copy, e->out, len);
        sa->response = copy;
        sa->response_len = (uint32_t)len;
        sa->response_mid = rx->msg.hdr.msg_id;
        sa->have_response = true;
    } else {
        sa->have_response = false;
    }
    engine_send_raw(e, rx->local, rx->peer, e->out, len);
}

int
engine_send_request(struct ike_engine *e, struct ike_sa *sa,
    enum ike_sa_request_kind kind, const struct ike_writer *plain,
    uint64_t now_ms)
{
    struct ike_sa_request *req;
    size_t len;
    int ret;

    if (sa->request != NULL)
        return -EBUSY;
    if ((ret = engine_seal(e, sa, IKE_X_INFORMATIONAL, false, sa->tx_mid,
        plain, &len)) < 0)
        return ret;
    if ((req = malloc(sizeof(*req) + len)) == NULL)
        return -ENOMEM;
    req->kind = (uint8_t)kind;
    req->tries = 1;
    req->mid = sa->tx_mid++;
    req->next_ms = now_ms + e->cfg->retransmit_base_ms;
    req->len = len;
    memcpy(req->msg, e->out, len);
    sa->request = req;
    engine_sa_schedule(e, sa);
    engine_send_raw(e, &sa->local.sa, &sa->peer.sa, req->msg, len);
    return 0;
}

void
engine_sa_delete(struct ike_engine *e, struct ike_sa *sa, const char *reason)
{
    char tag[160];

    engine_sa_tag(sa, tag, sizeof(tag));
    ike_sa_table_remove(&e->table, sa);
    heap_remove(e, sa);
    if (sa->state == IKE_SA_HALF_OPEN) {
        e->n_half_open--;
        e->clients[sa->client_slot].half_open--;
        engine_digest_remove(e, sa);
    }
    if (sa->vip.s_addr != 0)
        pool_release(e->pool, sa->vip);
    if (sa->state != IKE_SA_HALF_OPEN)
        log_info("ike", "IKE SA deleted; %s reason=%s", tag, reason);
    else
        log_debug("ike", "half-open IKE SA removed; %s reason=%s", tag,
            reason);
    engine_count(e, ENGINE_CTR_SA_DELETED);
    ike_sa_free(sa);
}

/* Opens the SK payload of rx->msg into e->plain and parses its chain. */
static int
engine_open(struct ike_engine *e, struct ike_sa *sa, struct engine_rx *rx)
{
    const struct ike_payload *sk = ike_msg_encrypted(&rx->msg);
    struct ike_parse_error err;
    size_t plain_len;
    uint8_t next;

    if (sk == NULL) {
        engine_count(e, ENGINE_CTR_RX_DROP_PARSE);
        return -EBADMSG;
    }
    if (sk->type == IKE_P_SKF) {
        /* We never send IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383 2.3). */
        engine_count(e, ENGINE_CTR_RX_DROP_FRAGMENT);
        return -EBADMSG;
    }
    if (ike_sk_open(&sa->keys, IKE_SK_FROM_INITIATOR, rx->msg.raw,
        rx->msg.len, sk->offset, e->plain, sizeof(e->plain), &plain_len,
        &next) < 0) {
        engine_count(e, ENGINE_CTR_RX_DROP_INTEGRITY);
        return -EBADMSG;
    }
    if (ike_chain_parse(&rx->inner, e->plain, plain_len, next, &err) < 0) {
        engine_count(e, ENGINE_CTR_RX_DROP_PARSE);
        return -EBADMSG;
    }
    return 0;
}

static void
engine_sa_request(struct ike_engine *e, struct ike_sa *sa,
    struct engine_rx *rx)
{
    const struct ike_header *h = &rx->msg.hdr;

    if ((h->flags & IKE_FLAG_INITIATOR) == 0) {
        engine_count(e, ENGINE_CTR_RX_DROP_UNEXPECTED);
        return;
    }
    /* RFC 7296 2.1: a repeated request gets the same response again. */
    if (sa->have_response && h->msg_id == sa->response_mid &&
        h->msg_id + 1 == sa->rx_mid) {
        engine_count(e, ENGINE_CTR_RX_RETRANSMITS);
        engine_send_raw(e, rx->local, rx->peer, sa->response,
            sa->response_len);
        return;
    }
    if (h->msg_id < sa->rx_mid) {
        engine_count(e, ENGINE_CTR_RX_DROP_OLD_MID);
        return;
    }
    if (h->msg_id > sa->rx_mid) {
        engine_count(e, ENGINE_CTR_RX_DROP_FUTURE_MID);
        return;
    }
    if (engine_open(e, sa, rx) < 0)
        return;
    /* RFC 7296 2.23: follow the client to its new address and port (the
     * float to 4500) once a message from there has authenticated. */
    ike_sa_addr_set(&sa->local, rx->local);
    ike_sa_addr_set(&sa->peer, rx->peer);
    sa->last_rx_ms = rx->now_ms;
    switch (h->exchange) {
    case IKE_X_AUTH:
        if (sa->state != IKE_SA_HALF_OPEN) {
            engine_count(e, ENGINE_CTR_RX_DROP_UNEXPECTED);
            return;
        }
        exch_auth_request(e, sa, rx);
        return;
    case IKE_X_CREATE_CHILD_SA:
        if (sa->state == IKE_SA_HALF_OPEN) {
            engine_count(e, ENGINE_CTR_RX_DROP_UNEXPECTED);
            return;
        }
        exch_child_request(e, sa, rx);
        return;
    case IKE_X_INFORMATIONAL:
        if (sa->state == IKE_SA_HALF_OPEN) {
            engine_count(e, ENGINE_CTR_RX_DROP_UNEXPECTED);
            return;
        }
        exch_info_request(e, sa, rx);
        return;
    default:
        engine_count(e, ENGINE_CTR_RX_DROP_UNEXPECTED);
        return;
    }
}

void
engine_input(struct ike_engine *engine, const uint8_t *msg, size_t len,
    const struct sockaddr *local, const struct sockaddr *peer,
    uint64_t now_ms)
{
    struct engine_rx rx;
    struct ike_header hdr;
    struct ike_parse_error err;
    struct ike_sa *sa;
    static const uint8_t zero[8];

    memset(&rx, 0, sizeof(rx));
    rx.local = local;
    rx.peer = peer;
    rx.now_ms = now_ms;
    engine_count(engine, ENGINE_CTR_RX_MESSAGES);
    if (ike_msg_parse_header(&hdr, msg, len, &err) < 0) {
        engine_count(engine, ENGINE_CTR_RX_DROP_PARSE);
        return;
    }
    if (hdr.exchange == IKE_X_SA_INIT) {
        /* RFC 7296 2.2: IKE_SA_INIT is always Message ID 0. */
        if ((hdr.flags & IKE_FLAG_RESPONSE) != 0 || hdr.msg_id != 0 ||
            memcmp(hdr.spi_r, zero, 8) != 0) {
            engine_count(engine, ENGINE_CTR_RX_DROP_UNEXPECTED);
            return;
        }
        exch_init_request(engine, &rx, msg, len);
        return;
    }
    sa = ike_sa_table_find(&engine->table, hdr.spi_r);
    if (sa == NULL || memcmp(sa->spi_i, hdr.spi_i, 8) != 0) {
        engine_count(engine, ENGINE_CTR_RX_DROP_UNKNOWN_SPI);
        return;
    }
    if (ike_msg_parse(&rx.msg, msg, len, &err) < 0) {
        engine_count(engine, ENGINE_CTR_RX_DROP_PARSE);
        return;
    }
    if ((hdr.flags & IKE_FLAG_RESPONSE) != 0) {
        if (sa->request == NULL || hdr.msg_id != sa->request->mid ||
            hdr.exchange != IKE_X_INFORMATIONAL) {
            engine_count(engine, ENGINE_CTR_RX_DROP_UNEXPECTED);
            return;
        }
        if (engine_open(engine, sa, &rx) < 0)
            return;
        sa->last_rx_ms = now_ms;
        exch_info_response(engine, sa, &rx);
        return;
    }
    engine_sa_request(engine, sa, &rx);
}

/* Runs the due timers of one SA.  Returns false when sa was freed. */
static bool
engine_sa_timers(struct ike_engine *e, struct ike_sa *sa, uint64_t now)
{
    const struct engine_config *cfg = e->cfg;
    struct ike_sa_request *req = sa->request;

    if (sa->state == IKE_SA_HALF_OPEN) {
        if (now >= sa->expire_ms) {
            engine_count(e, ENGINE_CTR_HALF_OPEN_EXPIRED);
            engine_sa_delete(e, sa, "half_open_timeout");
            return false;
        }
        return true;
    }
    if (req != NULL && now >= req->next_ms) {
        if (req->tries >= cfg->retransmit_tries) {
            if (req->kind == IKE_SA_REQ_LIVENESS)
                engine_count(e, ENGINE_CTR_LIVENESS_FAILED);
            engine_sa_delete(e, sa, req->kind == IKE_SA_REQ_DELETE ?
                "delete_sent" : "peer_not_responding");
            return false;
        }
        /* Back off: base, 2 x base, 4 x base, ... */
        req->next_ms = now + (cfg->retransmit_base_ms << req->tries);
        req->tries++;
        engine_count(e, ENGINE_CTR_TX_RETRANSMITS);
        engine_send_raw(e, &sa->local.sa, &sa->peer.sa, req->msg, req->len);
    }
    if (sa->expire_ms != 0 && now >= sa->expire_ms &&
        sa->state != IKE_SA_CLOSING) {
        sa->expire_ms = 0;
        sa->state = IKE_SA_CLOSING;
        if (sa->request != NULL) {
            free(sa->request);
            sa->request = NULL;
        }
        if (exch_info_send_delete(e, sa, now) < 0) {
            engine_sa_delete(e, sa, "redirect_grace_over");
            return false;
        }
    }
    if (sa->state == IKE_SA_ESTABLISHED && sa->request == NULL) {
        if (sa->redirect_to != NULL && now >= sa->redirect_at_ms) {
            struct policy_target *t = sa->redirect_to;

            sa->redirect_to = NULL;
            exch_info_send_redirect(e, sa, t, now);
            free(t);
        } else if (sa->redirect_to == NULL &&
            cfg->liveness_interval_ms != 0 &&
            now >= sa->last_rx_ms + cfg->liveness_interval_ms) {
            exch_info_send_liveness(e, sa, now);
        }
    }
    return true;
}

uint64_t
engine_next_deadline(const struct ike_engine *engine)
{
    uint64_t next = engine->cookie_rotate_ms;

    if (engine->heap_len > 0 && engine->heap[0]->due_ms < next)
        next = engine->heap[0]->due_ms;
    return next;
}

uint64_t
engine_run_timers(struct ike_engine *engine, uint64_t now_ms)
{
    /* RFC 7296 2.6: rotate the cookie secret, keeping the previous one. */
    if (now_ms >= engine->cookie_rotate_ms) {
        memcpy(engine->cookie_secret[1], engine->cookie_secret[0],
            ENGINE_COOKIE_SECRET);
        engine_rand(engine->cookie_secret[0], ENGINE_COOKIE_SECRET);
        engine->cookie_version++;
        engine->cookie_rotate_ms = now_ms + engine->cfg->cookie_rotate_ms;
    }
    /* Only the SAs that are due are visited.  A deadline that moved later
     * (a client message postpones the liveness check) costs one visit that
     * finds nothing to do and reschedules. */
    while (engine->heap_len > 0 && engine->heap[0]->due_ms <= now_ms) {
        struct ike_sa *sa = engine->heap[0];

        heap_remove(engine, sa);
        if (!engine_sa_timers(engine, sa, now_ms))
            continue;
        engine_sa_schedule(engine, sa);
        /* An action that failed (a request that could not be built) leaves
         * the deadline in the past: retry in a second instead of looping. */
        if (sa->heap_pos != 0 && sa->due_ms <= now_ms) {
            sa->due_ms = now_ms + 1000;
            heap_down(engine, sa->heap_pos);
        }
    }
    return engine_next_deadline(engine);
}

static void
engine_fill_info(const struct ike_sa *sa, struct engine_sa_info *info)
{
    memset(info, 0, sizeof(*info));
    memcpy(info->spi_i, sa->spi_i, 8);
    memcpy(info->spi_r, sa->spi_r, 8);
    memcpy(&info->local, &sa->local, sizeof(sa->local));
    memcpy(&info->peer, &sa->peer, sizeof(sa->peer));
    info->id_type = sa->id_type;
    if (sa->id != NULL)
        snprintf(info->id, sizeof(info->id), "%s", sa->id);
    info->state = ike_sa_state_name(sa);
    info->redirect_supported = sa->redirect_supported;
    info->redirected = sa->redirected;
    if (sa->vip.s_addr != 0)
        inet_ntop(AF_INET, &sa->vip, info->vip, sizeof(info->vip));
    info->established_ms = sa->established_ms;
}

void
engine_foreach_sa(struct ike_engine *engine, engine_sa_fn fn, void *arg)
{
    struct engine_sa_info info;

    for (struct ike_sa *sa = engine->table.head; sa != NULL; sa = sa->next) {
        engine_fill_info(sa, &info);
        fn(arg, &info);
    }
}

static bool
engine_sa_selected(const struct ike_sa *sa, const struct engine_selector *sel)
{
    if (sel->peer != NULL) {
        bool port = false;

        if (sel->peer->sa_family == AF_INET)
            port = ((const struct sockaddr_in *)sel->peer)->sin_port != 0;
        else if (sel->peer->sa_family == AF_INET6)
            port = ((const struct sockaddr_in6 *)sel->peer)->sin6_port != 0;
        if (!ike_sa_addr_equal(&sa->peer.sa, sel->peer, port))
            return false;
    }
    if (sel->id != NULL && (sa->id == NULL || strcmp(sa->id, sel->id) != 0))
        return false;
    if (sel->spi_i != NULL && memcmp(sa->spi_i, sel->spi_i, 8) != 0)
        return false;
    return true;
}

/* Returns true when target is the address sa is connected to, so that a
 * redirect would only make the client reconnect to the same gateway. */
static bool
target_is_local(const struct ike_sa *sa, const struct policy_target *target)
{
    const struct sockaddr *local = &sa->local.sa;

    if (target->gw_type == IKE_GW_IPV4 && local->sa_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)local)->sin_addr,
            target->id, 4) == 0;
    if (target->gw_type == IKE_GW_IPV6 && local->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)local)->sin6_addr,
            target->id, 16) == 0;
    return false;
}

/* Sends the REDIRECT now or once the request slot is free. */
static int
engine_redirect_one(struct ike_engine *e, struct ike_sa *sa,
    const struct policy_target *target, uint64_t now_ms)
{
    char tag[160], gw[IKE_REDIRECT_GW_TEXT_MAX];

    engine_count(e, ENGINE_CTR_REDIRECT_MIDSESSION);
    engine_sa_tag(sa, tag, sizeof(tag));
    log_info("ike", "redirecting peer; stage=informational %s gw=%s", tag,
        policy_target_to_text(target, gw, sizeof(gw)));
    if (sa->request == NULL)
        return exch_info_send_redirect(e, sa, target, now_ms);
    return engine_redirect_later(e, sa, target, now_ms);
}

int
engine_redirect_later(struct ike_engine *e, struct ike_sa *sa,
    const struct policy_target *target, uint64_t at_ms)
{
    if (sa->redirect_to == NULL &&
        (sa->redirect_to = malloc(sizeof(*target))) == NULL)
        return -ENOMEM;
    *sa->redirect_to = *target;
    sa->redirect_at_ms = at_ms;
    engine_sa_schedule(e, sa);
    return 0;
}

int
engine_redirect_sas(struct ike_engine *engine,
    const struct engine_selector *sel, const struct policy_target *target,
    uint64_t now_ms)
{
    int n = 0;

    if (sel == NULL || (sel->peer == NULL && sel->id == NULL &&
        sel->spi_i == NULL))
        return -EINVAL;
    for (struct ike_sa *sa = engine->table.head; sa != NULL; sa = sa->next) {
        if (sa->state != IKE_SA_ESTABLISHED || !engine_sa_selected(sa, sel))
            continue;
        if (!sa->redirect_supported) {
            engine_count(engine, ENGINE_CTR_REDIRECT_UNSUPPORTED);
            continue;
        }
        if (target_is_local(sa, target)) {
            engine_count(engine, ENGINE_CTR_REDIRECT_SELF);
            continue;
        }
        if (engine_redirect_one(engine, sa, target, now_ms) == 0)
            n++;
    }
    return n;
}

size_t
engine_redirect_some(struct ike_engine *engine,
    const struct policy_target *target, size_t max, uint64_t now_ms)
{
    size_t n = 0;

    for (struct ike_sa *sa = engine->table.head; sa != NULL && n < max;
        sa = sa->next) {
        if (sa->state != IKE_SA_ESTABLISHED || sa->redirected ||
            sa->redirect_to != NULL || !sa->redirect_supported)
            continue;
        if (engine_redirect_one(engine, sa, target, now_ms) == 0)
            n++;
    }
    return n;
}

void
engine_delete_all(struct ike_engine *engine, uint64_t now_ms)
{
    struct ike_sa *sa;

    while ((sa = engine->table.head) != NULL) {
        if (sa->state != IKE_SA_HALF_OPEN) {
            free(sa->request);
            sa->request = NULL;
            exch_info_send_delete(engine, sa, now_ms);
        }
        engine_sa_delete(engine, sa, "shutdown");
    }
}
