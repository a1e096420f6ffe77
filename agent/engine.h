/*
 * The IKEv2 responder engine: IKE SA table, exchanges and timers, with no
 * sockets and no clock of its own.  The I/O layer feeds it datagrams and the
 * current time and sends what it hands back; tests drive it in memory the
 * same way.
 */
#ifndef IKESHIFT_ENGINE_H
#define IKESHIFT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "policy.h"

struct ike_engine;
struct engine_config;           /* defined in engine_config.h */
struct ike_sa_keys;             /* defined in ike_keys.h */

/*
 * Sends one IKE message (header first, no non-ESP marker) from `local` to
 * `peer`.  The I/O layer adds the 4-octet marker when the local port is
 * 4500.  Returns 0 or a negative errno; the engine counts failures.
 */
typedef int (*engine_send_fn)(void *arg, const struct sockaddr *local,
    const struct sockaddr *peer, const uint8_t *msg, size_t len);

/*
 * Receives the SPIs (8 octets each) and keys of every new IKE SA, from
 * IKE_SA_INIT and from IKE SA rekeys, for the debug key log (keylog.h).
 * Everything is borrowed for the duration of the call.
 */
typedef void (*engine_keylog_fn)(void *arg, const uint8_t *spi_i,
    const uint8_t *spi_r, const struct ike_sa_keys *keys);

/* Creates an engine; `cfg` is borrowed and must outlive it.  NULL on error. */
struct ike_engine *engine_new(const struct engine_config *cfg,
    struct policy policy, engine_send_fn send, void *send_arg);
void engine_free(struct ike_engine *engine);

/* Sets (or with NULL clears) the key log callback; off by default. */
void engine_set_keylog(struct ike_engine *engine, engine_keylog_fn fn,
    void *arg);

/*
 * Handles one received IKE message (the marker already stripped; `len` is
 * the UDP payload length after it).  Addresses are borrowed.  `now_ms` is a
 * monotonic time in milliseconds.  Bad input is dropped and counted.
 */
void engine_input(struct ike_engine *engine, const uint8_t *msg, size_t len,
    const struct sockaddr *local, const struct sockaddr *peer,
    uint64_t now_ms);

/*
 * Runs the timers that are due at now_ms, visiting only the IKE SAs whose
 * deadline has passed.  Returns the next deadline in ms (never UINT64_MAX
 * while the cookie secret rotates).
 */
uint64_t engine_run_timers(struct ike_engine *engine, uint64_t now_ms);

/*
 * Returns the earliest deadline in ms without running anything, in
 * constant time, so the I/O layer can arm its timer after each batch of
 * datagrams.  A deadline may be early (a client's message postponed it);
 * engine_run_timers() then does nothing for that SA.
 */
uint64_t engine_next_deadline(const struct ike_engine *engine);

/* A summary of one IKE SA, for listing and for selectors. */
struct engine_sa_info {
    uint8_t spi_i[8];
    uint8_t spi_r[8];
    struct sockaddr_storage local;
    struct sockaddr_storage peer;
    uint8_t id_type;            /* IDi type, 0 before IKE_AUTH */
    char id[256];               /* IDi data as text, NUL-terminated */
    const char *state;          /* "half-open", "established", ... */
    bool redirect_supported;
    bool redirected;            /* a mid-session REDIRECT was sent */
    char vip[46];               /* inner address given, "" if none */
    uint64_t established_ms;
};

typedef void (*engine_sa_fn)(void *arg, const struct engine_sa_info *sa);

/* Calls `fn` for every IKE SA. */
void engine_foreach_sa(struct ike_engine *engine, engine_sa_fn fn,
    void *arg);

/*
 * Selects IKE SAs by peer address (port ignored when 0), IDi text or
 * initiator SPI; at least one field must be set, or -EINVAL.
 */
struct engine_selector {
    const struct sockaddr *peer;
    const char *id;
    const uint8_t *spi_i;       /* 8 octets */
};

/*
 * Sends a mid-session REDIRECT (INFORMATIONAL) to `target` to every
 * established IKE SA that matches and announced redirect support.  Returns
 * the number of SAs redirected, or a negative errno.
 */
int engine_redirect_sas(struct ike_engine *engine,
    const struct engine_selector *sel, const struct policy_target *target,
    uint64_t now_ms);

/*
 * Counters by stage and reason.  Names are stable, because the control
 * socket and monitoring use them as keys.
 */
#define ENGINE_COUNTERS(X) \
    X(RX_MESSAGES, "rx_messages") \
    X(RX_DROP_PARSE, "rx_drop_parse") \
    X(RX_DROP_UNKNOWN_SPI, "rx_drop_unknown_spi") \
    X(RX_DROP_INTEGRITY, "rx_drop_integrity") \
    X(RX_DROP_OLD_MID, "rx_drop_old_mid") \
    X(RX_DROP_FUTURE_MID, "rx_drop_future_mid") \
    X(RX_DROP_UNEXPECTED, "rx_drop_unexpected") \
    X(RX_DROP_FRAGMENT, "rx_drop_fragment") \
    X(RX_RETRANSMITS, "rx_retransmits_answered") \
    X(INIT_REQUESTS, "init_requests") \
    X(INIT_ACCEPTED, "init_accepted") \
    X(INIT_NO_PROPOSAL, "init_no_proposal_chosen") \
    X(INIT_INVALID_KE, "init_invalid_ke_sent") \
    X(INIT_COOKIES_SENT, "init_cookies_sent") \
    X(INIT_COOKIE_INVALID, "init_cookie_invalid") \
    X(INIT_DROP_HALF_OPEN, "init_drop_half_open_limit") \
    X(INIT_DROP_PEER_LIMIT, "init_drop_peer_limit") \
    X(INIT_DROP_RATE, "init_drop_reply_rate") \
    X(INIT_DROP_MAX_SAS, "init_drop_max_sas") \
    X(INIT_NO_REDIRECT_SUPPORT, "init_clients_without_redirect_support") \
    X(INIT_REDIRECTED_FROM, "init_redirected_from_accepted") \
    X(INIT_REDIRECTED_FROM_MALFORMED, "init_redirected_from_malformed") \
    X(REDIRECT_INIT, "redirects_sent_init") \
    X(REDIRECT_AUTH, "redirects_sent_auth") \
    X(REDIRECT_MIDSESSION, "redirects_sent_midsession") \
    X(REDIRECT_CLIENT_LIMIT, "redirects_refused_client_limit") \
    X(REDIRECT_UNSUPPORTED, "redirects_refused_no_support") \
    X(REDIRECT_SELF, "redirects_refused_same_gateway") \
    X(HALF_OPEN_EXPIRED, "half_open_expired") \
    X(AUTH_FAILED, "auth_failed") \
    X(SA_ESTABLISHED, "sas_established") \
    X(SA_DELETED, "sas_deleted") \
    X(CHILD_CREATED, "child_sas_created") \
    X(CHILD_NO_PROPOSAL, "child_no_proposal_chosen") \
    X(CHILD_TS_UNACCEPTABLE, "child_ts_unacceptable") \
    X(CHILD_ADDRESS_FAILURE, "child_internal_address_failure") \
    X(CHILD_REFUSED_REDIRECTED, "child_refused_redirected") \
    X(CHILD_REKEYED, "child_sas_rekeyed") \
    X(IKE_REKEYED, "ike_sas_rekeyed") \
    X(DELETES_RECEIVED, "deletes_received") \
    X(LIVENESS_SENT, "liveness_checks_sent") \
    X(LIVENESS_FAILED, "liveness_failures") \
    X(TX_MESSAGES, "tx_messages") \
    X(TX_RETRANSMITS, "tx_retransmits") \
    X(TX_ERRORS, "tx_errors")

enum engine_counter {
#define ENGINE_COUNTER_ENUM(name, text) ENGINE_CTR_##name,
    ENGINE_COUNTERS(ENGINE_COUNTER_ENUM)
#undef ENGINE_COUNTER_ENUM
    ENGINE_CTR_COUNT
};

/* Returns the stable name of counter c, or NULL out of range. */
const char *engine_counter_name(enum engine_counter c);

/* Returns the value of counter c (0 out of range). */
uint64_t engine_counter_get(const struct ike_engine *engine,
    enum engine_counter c);

/* Returns the number of IKE SAs, and of those the half-open ones. */
size_t engine_sa_count(const struct ike_engine *engine);
size_t engine_half_open_count(const struct ike_engine *engine);

/*
 * Sends an INFORMATIONAL DELETE for every IKE SA and frees them, for a
 * shutdown without a drain target.  The DELETEs are not retransmitted.
 */
void engine_delete_all(struct ike_engine *engine, uint64_t now_ms);

/*
 * Sends a mid-session REDIRECT to at most `max` established SAs that
 * support it and were not redirected yet.  Returns the number sent.  The
 * drain on SIGTERM calls it at its pace.
 */
size_t engine_redirect_some(struct ike_engine *engine,
    const struct policy_target *target, size_t max, uint64_t now_ms);

#endif /* IKESHIFT_ENGINE_H */
