/*
 * Engine internals shared by engine.c and the exchange files (exch_*.c).
 * Not part of the engine's contract.
 */
#ifndef IKESHIFT_ENGINE_PRIV_H
#define IKESHIFT_ENGINE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "engine.h"
#include "engine_config.h"
#include "ike_ke.h"
#include "ike_msg.h"
#include "ike_prf.h"
#include "ike_sa.h"
#include "pool.h"
#include "ratelimit.h"

#define ENGINE_MSG_MAX          65536
#define ENGINE_COOKIE_SECRET    32
#define ENGINE_COOKIE_LEN       17      /* version octet and 16 of HMAC */
#define ENGINE_CLIENT_SLOTS     4096    /* per-client redirect bookkeeping */

/*
 * Per-client bookkeeping, direct-mapped by a hash of the client's IP
 * address.  Two addresses that share a slot share its counts, which makes
 * the limits stricter for both, never looser.
 */
struct engine_client_slot {
    uint32_t half_open;         /* half-open SAs from this address */
    uint32_t redirects;         /* REDIRECTs sent in the current period */
    uint64_t period_start_ms;
    struct ratelimit replies;   /* COOKIE and REDIRECT replies */
};

struct ike_engine {
    const struct engine_config *cfg;
    struct policy policy;
    engine_send_fn send;
    void *send_arg;
    engine_keylog_fn keylog;    /* NULL unless debug key logging is on */
    struct log_ratelimit *warn_rl;  /* peer warnings, keyed by address */
    /* SHA-256, fetched once: an implicit fetch per IKE_SA_INIT digest
     * costs as much as the digest itself in OpenSSL 3. */
    EVP_MD *sha256;
    /* HMAC contexts of every PRF the engine computes, for the same
     * reason: one fetch at first use instead of one per call. */
    struct ike_prf_ctx *prf_ctx;
    void *keylog_arg;
    struct ike_sa_table table;
    size_t n_half_open;
    /* Half-open SAs by the SHA-256 of their IKE_SA_INIT request, so that a
     * retransmission is found in constant time. */
    struct ike_sa **digest_buckets;
    size_t digest_mask;
    /* Min-heap of SAs by due_ms: the timers visit only the SAs due. */
    struct ike_sa **heap;
    size_t heap_len;
    size_t heap_cap;
    struct pool *pool;
    struct ike_ke_ctx *ke_ctx;

    /* Stateless cookies (RFC 7296 2.6): current and previous secret. */
    uint8_t cookie_secret[2][ENGINE_COOKIE_SECRET];
    uint8_t cookie_version;     /* version of cookie_secret[0] */
    uint64_t cookie_rotate_ms;  /* next rotation */

    /* COOKIE and REDIRECT replies to all clients. */
    struct ratelimit replies;

    struct engine_client_slot clients[ENGINE_CLIENT_SLOTS];
    bool child_keys_logged;
    uint64_t counters[ENGINE_CTR_COUNT];

    uint8_t plain[ENGINE_MSG_MAX];  /* decrypted payloads of the request */
    uint8_t reply[ENGINE_MSG_MAX];  /* payloads to be sealed */
    uint8_t out[ENGINE_MSG_MAX];    /* message being sent */
};

/* The received message being handled. */
struct engine_rx {
    const struct sockaddr *local;
    const struct sockaddr *peer;
    uint64_t now_ms;
    struct ike_msg msg;
    struct ike_chain inner;     /* decrypted SK contents */
};

static inline void
engine_count(struct ike_engine *e, enum engine_counter c)
{
    e->counters[c]++;
}

/* engine.c */
void engine_send_raw(struct ike_engine *e, const struct sockaddr *local,
    const struct sockaddr *peer, const uint8_t *msg, size_t len);
int engine_seal(struct ike_engine *e, struct ike_sa *sa, uint8_t exchange,
    bool response, uint32_t mid, const struct ike_writer *plain,
    size_t *out_len);
void engine_send_response(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_rx *rx, const struct ike_writer *plain);
int engine_send_request(struct ike_engine *e, struct ike_sa *sa,
    enum ike_sa_request_kind kind, const struct ike_writer *plain,
    uint64_t now_ms);
void engine_sa_delete(struct ike_engine *e, struct ike_sa *sa,
    const char *reason);
/* Recomputes sa's next deadline and moves it in the timer heap; call it
 * after a change that can make the deadline earlier. */
void engine_sa_schedule(struct ike_engine *e, struct ike_sa *sa);
/* Queues a mid-session REDIRECT to target, sent from the SA's timer at
 * at_ms or once its request slot is free, whichever is later.  target is
 * copied.  Returns 0 or -ENOMEM. */
int engine_redirect_later(struct ike_engine *e, struct ike_sa *sa,
    const struct policy_target *target, uint64_t at_ms);
void engine_digest_insert(struct ike_engine *e, struct ike_sa *sa);
struct ike_sa *engine_digest_find(const struct ike_engine *e,
    const uint8_t *digest);
void engine_keylog_sa(struct ike_engine *e, const struct ike_sa *sa);
void engine_sa_tag(const struct ike_sa *sa, char *out, size_t cap);
bool engine_take_reply_token(struct ike_engine *e,
    const struct sockaddr *peer, uint64_t now_ms);
void engine_rand(void *buf, size_t len);
void engine_addr_text(const struct sockaddr *sa, char *out, size_t cap);
void engine_log_child_keys_once(struct ike_engine *e);
uint16_t engine_client_slot(const struct sockaddr *peer);
void engine_sa_established(struct ike_engine *e, struct ike_sa *sa,
    uint64_t now_ms);
size_t engine_addr_bytes(const struct sockaddr *sa, const uint8_t **addr,
    uint16_t *port);

/* exch_init.c */
void exch_init_request(struct ike_engine *e, const struct engine_rx *rx,
    const uint8_t *buf, size_t len);

/* exch_auth.c */
void exch_auth_request(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_rx *rx);

/* exch_init.c helpers shared with the IKE SA rekey */
int exch_init_choose(const struct engine_config *cfg,
    const struct ike_payload *sa, uint8_t spi_size, struct ike_suite *out,
    uint8_t *prop_num, const uint8_t **spi);
void exch_init_build_sa(struct ike_writer *w, const struct ike_suite *s,
    uint8_t prop_num, const uint8_t *spi, uint8_t spi_size);
void exch_init_new_spi(struct ike_engine *e, uint8_t spi[8]);

/* exch_child.c: CHILD SA negotiation, shared with IKE_AUTH */
#define EXCH_CHILD_MAX_TS 8

/* One IPv4 range selector with its own address storage. */
struct exch_ts4 {
    uint8_t ip_proto;
    uint16_t start_port;
    uint16_t end_port;
    uint8_t start[4];
    uint8_t end[4];
};

/* What the responder agreed for one CHILD SA. */
struct exch_child_plan {
    uint8_t prop_num;
    struct ike_child_suite suite;
    uint16_t dh;                /* group of KEi in CREATE_CHILD_SA, or 0 */
    uint32_t spi_i;             /* the client's SPI from its proposal */
    uint32_t spi_r;             /* ours */
    struct exch_ts4 tsi[EXCH_CHILD_MAX_TS];
    size_t n_tsi;
    struct exch_ts4 tsr[EXCH_CHILD_MAX_TS];
    size_t n_tsr;
};

/* Picks the ESP proposal (RFC 7296 2.7); returns 0 or NO_PROPOSAL_CHOSEN. */
uint16_t exch_child_choose(struct ike_engine *e, const struct ike_chain *req,
    uint16_t ke_group, struct exch_child_plan *plan);
/* Narrows TSi to the inner address (if any) and TSr to the protected
 * subnets (RFC 7296 2.9); returns 0 or TS_UNACCEPTABLE. */
uint16_t exch_child_narrow(struct ike_engine *e, const struct ike_chain *req,
    struct in_addr vip, struct exch_child_plan *plan);
void exch_child_build_sa(struct ike_writer *w,
    const struct exch_child_plan *plan);
void exch_child_build_ts(struct ike_writer *w,
    const struct exch_child_plan *plan);
/* Derives (and wipes) the ESP keys; they are not installed. */
int exch_child_keys(struct ike_engine *e, struct ike_sa *sa,
    const struct exch_child_plan *plan, const uint8_t *ni, size_t ni_len,
    const uint8_t *nr, size_t nr_len, const uint8_t *g_ir, size_t g_ir_len);
/* Adds the child to sa; -ENOSPC when sa has IKE_SA_MAX_CHILDREN. */
int exch_child_add(struct ike_sa *sa, const struct exch_child_plan *plan);
void exch_child_request(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_rx *rx);

/* exch_info.c */
void exch_info_request(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_rx *rx);
void exch_info_response(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_rx *rx);
int exch_info_send_redirect(struct ike_engine *e, struct ike_sa *sa,
    const struct policy_target *target, uint64_t now_ms);
int exch_info_send_liveness(struct ike_engine *e, struct ike_sa *sa,
    uint64_t now_ms);
int exch_info_send_delete(struct ike_engine *e, struct ike_sa *sa,
    uint64_t now_ms);

#endif /* IKESHIFT_ENGINE_PRIV_H */
