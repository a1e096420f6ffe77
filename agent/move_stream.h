/*
 * Session moves asked through the controller's API, taken from a Redis
 * stream per gateway with a consumer group, so that a move survives an
 * agent restart and is acknowledged only after it ran:
 *
 *   stream  ikeshift:moves:<gateway_id>, group "ikeshift-agent",
 *           consumer <gateway_id>
 *   result  ikeshift:moves:<gateway_id>:result:<entry id>, a JSON string
 *
 * For each entry the agent first GETs the result key.  With no result it
 * runs the move, then in one MULTI/EXEC writes the result and XACKs the
 * entry; with a result it only XACKs, so an entry delivered again after a
 * restart is not run twice.  docs/redis-keys.md defines the fields.
 */
#ifndef IKESHIFT_MOVE_STREAM_H
#define IKESHIFT_MOVE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "policy.h"
#include "rt/cluster.h"

struct redis_link;
struct move_stream;

#define MOVE_STREAM_GROUP "ikeshift-agent"
#define MOVE_STREAM_BATCH 16            /* entries per XREADGROUP */
#define MOVE_STREAM_RESULT_TTL_MS 86400000
#define MOVE_ENTRY_ID_MAX 63            /* "<ms>-<seq>" */

/* One move request, parsed from a stream entry. */
struct move_request {
    char entry_id[MOVE_ENTRY_ID_MAX + 1];
    char move_id[CLUSTER_ID_MAX + 1];   /* the caller's id, or "" */
    bool have_peer;
    struct sockaddr_storage peer;       /* port 0 matches any port */
    bool have_id;
    char id[256];                       /* IDi as text */
    bool have_spi;
    uint8_t spi_i[8];
    char to_text[CLUSTER_ADDR_TEXT_MAX + 1];
    struct policy_target to;
    uint64_t expires_at_ms;             /* wall clock, 0 for never */
};

/*
 * Runs one move and returns the number of IKE SAs moved, or a negative
 * errno that is written into the result as an error.  `req` is borrowed.
 */
typedef int (*move_stream_execute_fn)(void *arg,
    const struct move_request *req);

/*
 * Creates the consumer for `gateway_id` (copied) on the command link
 * `link` (borrowed; it must outlive the consumer and be freed first), and
 * polls the stream every `poll_ms` while the link is READY.  Returns NULL
 * on a bad id or out of memory.
 */
struct move_stream *
move_stream_new(uv_loop_t *loop, struct redis_link *link,
    const char *gateway_id, uint32_t poll_ms, move_stream_execute_fn fn,
    void *arg);

/*
 * Stops polling and frees the consumer in a libuv close callback, so the
 * loop must run once more.  Free the link before it.  NULL is ignored.
 */
void
move_stream_free(struct move_stream *ms);

/*
 * Tells the consumer that its link became READY: it creates the group if
 * needed and re-reads the entries it was given but did not acknowledge.
 */
void
move_stream_link_ready(struct move_stream *ms);

/*
 * Parses the n field-value pairs of one entry into *out (entry_id is left
 * as it was).  Returns 0, or -EINVAL with the reason in err[0..size).
 */
int
move_request_parse(const char *const *fields, const char *const *values,
    size_t n, struct move_request *out, char *err, size_t err_size);

/* Returns the number of moves run since move_stream_new(). */
uint64_t
move_stream_get_executed(const struct move_stream *ms);

#endif /* IKESHIFT_MOVE_STREAM_H */
