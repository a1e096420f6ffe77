/*
 * Drain state machine: one function per state, dispatched by drain_step().
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "drain.h"
#include "gwreg.h"
#include "planner.h"

/* Time constant of the EWMA of the rate at which SAs leave. */
#define DRAIN_RATE_TAU_MS 10000.0

static bool
drain_id_valid(const char *id)
{
    size_t len = strnlen(id, CLUSTER_ID_MAX + 1);

    if (len == 0 || len > CLUSTER_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void
drain_params_defaults(struct drain_params *p)
{
    if (p->pace_per_s == 0)
        p->pace_per_s = DRAIN_PACE_PER_S;
    if (p->duration_ms == 0)
        p->duration_ms = DRAIN_DURATION_MS;
    if (p->margin == 0.0)
        p->margin = DRAIN_MARGIN;
    if (p->max_out == 0)
        p->max_out = DRAIN_MAX_OUT;
    if (p->jitter == 0.0)
        p->jitter = DRAIN_JITTER;
    if (p->accept_threshold == 0.0)
        p->accept_threshold = DRAIN_ACCEPT_THRESHOLD;
    if (p->settle_ms == 0)
        p->settle_ms = DRAIN_SETTLE_MS;
    if (p->headroom_share == 0.0)
        p->headroom_share = DRAIN_HEADROOM_SHARE;
}

static bool
drain_params_valid(const struct drain_params *p)
{
    return p->policy <= DRAIN_POLICY_HOLD && p->margin >= 0.0 &&
        p->margin <= 10.0 && p->jitter >= 0.0 && p->jitter <= 1.0 &&
        p->accept_threshold > 0.0 && p->accept_threshold <= 1.0 &&
        p->headroom_share > 0.0 && p->headroom_share <= 1.0;
}

int
drain_init(struct drain *d, const char *gateway_id,
    const struct drain_params *params, uint64_t seed, uint64_t now_ms)
{
    struct drain_params p = { 0 };

    if (params != NULL)
        p = *params;
    drain_params_defaults(&p);
    if (!drain_id_valid(gateway_id) || !drain_params_valid(&p))
        return -EINVAL;
    memset(d, 0, sizeof(*d));
    memcpy(d->gateway_id, gateway_id, strlen(gateway_id) + 1);
    d->params = p;
    d->state = DRAIN_REQUESTED;
    d->requested_at_ms = now_ms;
    d->state_since_ms = now_ms;
    d->deadline_at_ms = now_ms + p.duration_ms;
    d->rng = seed ? seed : 0x9e3779b97f4a7c15u;
    return 0;
}

static void
drain_enter(struct drain *d, enum drain_state s, uint64_t now_ms)
{
    d->state = s;
    d->state_since_ms = now_ms;
}

static void
drain_set_reason(struct drain *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
    va_end(ap);
}

/* xorshift64; returns a value in [-1, 1]. */
static double
drain_random_signed(struct drain *d)
{
    uint64_t x = d->rng;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    d->rng = x;
    return (double)(x >> 11) / (double)(UINT64_C(1) << 52) - 1.0;
}

/* A live, active, serving gateway other than the one being drained. */
static bool
drain_is_peer(const struct drain *d, const struct gwreg_entry *e)
{
    return e->live && e->admin == CLUSTER_ADMIN_ACTIVE && e->identity_ok &&
        e->report.state == CLUSTER_AGENT_SERVING &&
        strcmp(e->gateway_id, d->gateway_id) != 0;
}

/* Sessions a peer can still take before it reaches the threshold. */
static double
drain_peer_room(const struct drain *d, const struct gwreg_entry *e)
{
    double room = e->report.capacity * (d->params.accept_threshold - e->load);

    return room > 0.0 ? room : 0.0;
}

static int
drain_on_requested(struct drain *d, const struct gwreg *reg, uint64_t now_ms)
{
    (void)reg;
    drain_enter(d, DRAIN_ADMISSION, now_ms);
    return 1;
}

static int
drain_refuse(struct drain *d, enum drain_refusal r, uint64_t now_ms)
{
    d->refusal = r;
    drain_enter(d, DRAIN_REFUSED, now_ms);
    return 1;
}

/* Admits the drain when at most max_out gateways would be out and the
 * other active gateways have room for its sessions plus the margin. */
static int
drain_on_admission(struct drain *d, const struct gwreg *reg, uint64_t now_ms)
{
    const struct gwreg_entry *self = gwreg_get(reg, d->gateway_id);
    uint32_t out = 0, peers = 0;
    double room = 0.0;
    double need;

    if (self == NULL || !self->live) {
        drain_set_reason(d, "no live report for gateway %s", d->gateway_id);
        return drain_refuse(d, DRAIN_REFUSAL_NOT_LIVE, now_ms);
    }
    if (self->admin != CLUSTER_ADMIN_ACTIVE) {
        drain_set_reason(d, "gateway %s is not active", d->gateway_id);
        return drain_refuse(d, DRAIN_REFUSAL_NOT_ACTIVE, now_ms);
    }
    for (size_t i = 0; i < gwreg_count(reg); i++) {
        const struct gwreg_entry *e = gwreg_get_at(reg, i);

        if (e->admin != CLUSTER_ADMIN_ACTIVE)
            out++;
        else if (drain_is_peer(d, e)) {
            room += drain_peer_room(d, e);
            peers += drain_peer_room(d, e) > 0.0;
        }
    }
    if (out + 1 > d->params.max_out) {
        drain_set_reason(d, "%u gateways already out, at most %u at once",
            out, d->params.max_out);
        return drain_refuse(d, DRAIN_REFUSAL_TOO_MANY_OUT, now_ms);
    }
    /* Even an empty gateway must leave one that takes new clients. */
    if (peers == 0) {
        drain_set_reason(d, "no other gateway takes new clients (live,"
            " active, serving, right identity, below the threshold)");
        return drain_refuse(d, DRAIN_REFUSAL_NO_ROOM, now_ms);
    }
    need = self->report.ike_sas * (1.0 + d->params.margin);
    if (room < need) {
        drain_set_reason(d, "other gateways have room for %.0f sessions, "
            "drain needs %.0f (%u and margin %.2f)", room, need,
            self->report.ike_sas, d->params.margin);
        return drain_refuse(d, DRAIN_REFUSAL_NO_ROOM, now_ms);
    }
    drain_enter(d, DRAIN_NO_NEW_CLIENTS, now_ms);
    return 1;
}

/* Ends the drain at the deadline by its policy. */
static int
drain_at_deadline(struct drain *d, uint64_t now_ms)
{
    drain_set_reason(d, "deadline reached with %u IKE SAs left",
        d->remaining);
    d->pace_per_s = 0;
    drain_enter(d, d->params.policy == DRAIN_POLICY_FORCE ? DRAIN_FORCED :
        DRAIN_HELD, now_ms);
    return 1;
}

/* Reads the gateway's SA count; false when its report expired, which
 * ends the drain as drained because a gateway that is gone has no SAs. */
static bool
drain_sample(struct drain *d, const struct gwreg *reg, uint64_t now_ms)
{
    const struct gwreg_entry *self = gwreg_get(reg, d->gateway_id);

    if (self == NULL || !self->live) {
        drain_set_reason(d, "report expired");
        d->remaining = 0;
        d->pace_per_s = 0;
        drain_enter(d, DRAIN_DRAINED, now_ms);
        return false;
    }
    if (d->sample_at_ms != 0 && now_ms > d->sample_at_ms &&
        d->remaining >= self->report.ike_sas) {
        double dt = (double)(now_ms - d->sample_at_ms);
        double rate = (d->remaining - self->report.ike_sas) * 1000.0 / dt;
        double alpha = 1.0 - exp(-dt / DRAIN_RATE_TAU_MS);

        d->rate_per_s += alpha * (rate - d->rate_per_s);
    }
    d->remaining = self->report.ike_sas;
    d->sample_at_ms = now_ms;
    return true;
}

/* Waits settle_ms so every agent has the plan that turns new clients
 * away, then starts the evacuation. */
static int
drain_on_no_new_clients(struct drain *d, const struct gwreg *reg,
    uint64_t now_ms)
{
    if (!drain_sample(d, reg, now_ms))
        return 1;
    if (now_ms >= d->deadline_at_ms)
        return drain_at_deadline(d, now_ms);
    if (now_ms < d->state_since_ms + d->params.settle_ms)
        return 0;
    d->initial_sessions = d->remaining;
    drain_enter(d, DRAIN_EVACUATING, now_ms);
    return 1;
}

/*
 * Pace = min(operator pace, headroom_share x the targets' headroom rate),
 * times 1 + jitter x U(-1, 1).  A peer's headroom rate is its free
 * half-open slots (each assumed to complete one new SA per second) capped
 * by its room in sessions.
 */
static uint32_t
drain_choose_pace(struct drain *d, const struct gwreg *reg)
{
    double headroom = 0.0;
    double pace;

    for (size_t i = 0; i < gwreg_count(reg); i++) {
        const struct gwreg_entry *e = gwreg_get_at(reg, i);
        double room, slots;

        if (!drain_is_peer(d, e))
            continue;
        room = drain_peer_room(d, e);
        slots = room;
        if (e->report.half_open_limit > e->report.half_open)
            slots = e->report.half_open_limit - e->report.half_open;
        else if (e->report.half_open_limit > 0)
            slots = 0.0;
        headroom += slots < room ? slots : room;
    }
    pace = headroom * d->params.headroom_share;
    if (pace > d->params.pace_per_s)
        pace = d->params.pace_per_s;
    pace *= 1.0 + d->params.jitter * drain_random_signed(d);
    return pace < 1.0 ? 1 : (uint32_t)lround(pace);
}

static int
drain_on_evacuating(struct drain *d, const struct gwreg *reg, uint64_t now_ms)
{
    if (!drain_sample(d, reg, now_ms))
        return 1;
    if (d->remaining == 0) {
        d->pace_per_s = 0;
        drain_set_reason(d, "no IKE SAs left");
        drain_enter(d, DRAIN_DRAINED, now_ms);
        return 1;
    }
    if (now_ms >= d->deadline_at_ms)
        return drain_at_deadline(d, now_ms);
    /* A new pace every DRAIN_REPACE_MS, so jitter does not change the
     * plan every second. */
    if (d->pace_per_s == 0 || now_ms >= d->paced_at_ms + DRAIN_REPACE_MS) {
        d->pace_per_s = drain_choose_pace(d, reg);
        d->paced_at_ms = now_ms;
    }
    return 0;
}

int
drain_step(struct drain *d, const struct gwreg *reg, uint64_t now_ms)
{
    switch (d->state) {
    case DRAIN_REQUESTED:
        return drain_on_requested(d, reg, now_ms);
    case DRAIN_ADMISSION:
        return drain_on_admission(d, reg, now_ms);
    case DRAIN_NO_NEW_CLIENTS:
        return drain_on_no_new_clients(d, reg, now_ms);
    case DRAIN_EVACUATING:
        return drain_on_evacuating(d, reg, now_ms);
    case DRAIN_REFUSED:
    case DRAIN_DRAINED:
    case DRAIN_FORCED:
    case DRAIN_HELD:
    case DRAIN_RESUMED:
        return 0;
    }
    return -EINVAL;
}

int
drain_resume(struct drain *d, uint64_t now_ms)
{
    if (d->state == DRAIN_REFUSED || d->state == DRAIN_RESUMED)
        return -EALREADY;
    d->pace_per_s = 0;
    drain_set_reason(d, "resumed with %u IKE SAs left", d->remaining);
    drain_enter(d, DRAIN_RESUMED, now_ms);
    return 0;
}

bool
drain_is_final(const struct drain *d)
{
    return d->state == DRAIN_REFUSED || d->state == DRAIN_DRAINED ||
        d->state == DRAIN_FORCED || d->state == DRAIN_RESUMED;
}

enum cluster_admin_state
drain_admin_state(const struct drain *d)
{
    switch (d->state) {
    case DRAIN_NO_NEW_CLIENTS:
    case DRAIN_EVACUATING:
    case DRAIN_HELD:
        return CLUSTER_ADMIN_DRAINING;
    case DRAIN_DRAINED:
    case DRAIN_FORCED:
        return CLUSTER_ADMIN_DRAINED;
    default:
        return CLUSTER_ADMIN_ACTIVE;
    }
}

bool
drain_plan_entry(const struct drain *d, struct planner_drain *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->gateway_id, d->gateway_id, sizeof(out->gateway_id));
    switch (d->state) {
    case DRAIN_NO_NEW_CLIENTS:
        out->deadline_at_ms = d->deadline_at_ms;
        return true;
    case DRAIN_EVACUATING:
        out->pace_per_s = d->pace_per_s;
        out->deadline_at_ms = d->deadline_at_ms;
        return true;
    case DRAIN_FORCED:
        /* The deadline is in the past, so the agent deletes what is left. */
        out->deadline_at_ms = d->deadline_at_ms;
        return true;
    case DRAIN_HELD:
    case DRAIN_DRAINED:
        return true;
    default:
        return false;
    }
}

void
drain_get_progress(const struct drain *d, uint64_t now_ms,
    struct drain_progress *out)
{
    double rate = d->rate_per_s > 0.0 ? d->rate_per_s : d->pace_per_s;

    out->remaining = d->remaining;
    out->rate_per_s = d->rate_per_s;
    out->estimated_end_at_ms = 0;
    if (d->state == DRAIN_EVACUATING && rate > 0.0)
        out->estimated_end_at_ms = now_ms +
            (uint64_t)ceil(d->remaining * 1000.0 / rate);
}

static const char *const drain_state_names[] = {
    [DRAIN_REQUESTED] = "requested",
    [DRAIN_ADMISSION] = "admission",
    [DRAIN_REFUSED] = "refused",
    [DRAIN_NO_NEW_CLIENTS] = "no_new_clients",
    [DRAIN_EVACUATING] = "evacuating",
    [DRAIN_DRAINED] = "drained",
    [DRAIN_FORCED] = "forced",
    [DRAIN_HELD] = "held",
    [DRAIN_RESUMED] = "resumed",
};

static const char *const drain_policy_names[] = {
    [DRAIN_POLICY_FORCE] = "force",
    [DRAIN_POLICY_HOLD] = "hold",
};

static const char *const drain_refusal_names[] = {
    [DRAIN_REFUSAL_NONE] = "none",
    [DRAIN_REFUSAL_NOT_LIVE] = "not_live",
    [DRAIN_REFUSAL_NOT_ACTIVE] = "not_active",
    [DRAIN_REFUSAL_TOO_MANY_OUT] = "too_many_out",
    [DRAIN_REFUSAL_NO_ROOM] = "no_room",
};

const char *
drain_state_name(enum drain_state s)
{
    return (unsigned)s <= DRAIN_RESUMED ? drain_state_names[s] : "invalid";
}

const char *
drain_policy_name(enum drain_policy p)
{
    return (unsigned)p <= DRAIN_POLICY_HOLD ? drain_policy_names[p] :
        "invalid";
}

const char *
drain_refusal_name(enum drain_refusal r)
{
    return (unsigned)r <= DRAIN_REFUSAL_NO_ROOM ? drain_refusal_names[r] :
        "invalid";
}

/* JSON encoding.  Times and counts are integers; the xorshift state is a
 * hex string because JSON integers in jansson are signed 64-bit. */
#define DRAIN_JSON_VERSION 1

char *
drain_encode(const struct drain *d)
{
    const struct drain_params *p = &d->params;
    char rng[17];
    json_t *root;
    char *text;

    snprintf(rng, sizeof(rng), "%016llx", (unsigned long long)d->rng);
    root = json_pack("{s:i, s:s, s:s, s:{s:I, s:I, s:s, s:f, s:I, s:f, s:f,"
        " s:I, s:f}, s:I, s:I, s:I, s:s, s:s, s:I, s:I, s:I, s:f, s:I, s:I,"
        " s:s}",
        "version", DRAIN_JSON_VERSION,
        "gateway_id", d->gateway_id,
        "state", drain_state_name(d->state),
        "params",
        "pace_per_s", (json_int_t)p->pace_per_s,
        "duration_ms", (json_int_t)p->duration_ms,
        "policy", drain_policy_name(p->policy),
        "margin", p->margin,
        "max_out", (json_int_t)p->max_out,
        "jitter", p->jitter,
        "accept_threshold", p->accept_threshold,
        "settle_ms", (json_int_t)p->settle_ms,
        "headroom_share", p->headroom_share,
        "requested_at_ms", (json_int_t)d->requested_at_ms,
        "state_since_ms", (json_int_t)d->state_since_ms,
        "deadline_at_ms", (json_int_t)d->deadline_at_ms,
        "refusal", drain_refusal_name(d->refusal),
        "reason", d->reason,
        "initial_sessions", (json_int_t)d->initial_sessions,
        "remaining", (json_int_t)d->remaining,
        "sample_at_ms", (json_int_t)d->sample_at_ms,
        "rate_per_s", d->rate_per_s,
        "pace_per_s", (json_int_t)d->pace_per_s,
        "paced_at_ms", (json_int_t)d->paced_at_ms,
        "rng", rng);
    if (root == NULL)
        return NULL;
    text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    return text;
}

/* Parse context: the error buffer and the path prefix of the object. */
struct drain_pctx {
    char *err;
    size_t err_len;
    const char *path;
};

static int
drain_perr(struct drain_pctx *c, const char *key, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (c->err_len == 0)
        return -EINVAL;
    n = snprintf(c->err, c->err_len, "%s.%s: ", c->path, key);
    if (n >= 0 && (size_t)n < c->err_len) {
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->err_len - n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int
drain_get_uint(struct drain_pctx *c, const json_t *obj, const char *key,
    uint64_t min, uint64_t max, uint64_t *out)
{
    const json_t *v = json_object_get(obj, key);
    json_int_t i;

    if (v == NULL)
        return drain_perr(c, key, "missing");
    if (!json_is_integer(v))
        return drain_perr(c, key, "invalid type, expected an integer");
    i = json_integer_value(v);
    if (i < 0 || (uint64_t)i < min || (uint64_t)i > max)
        return drain_perr(c, key, "invalid value %lld, expected %llu-%llu",
            (long long)i, (unsigned long long)min, (unsigned long long)max);
    *out = (uint64_t)i;
    return 0;
}

static int
drain_get_u32(struct drain_pctx *c, const json_t *obj, const char *key,
    uint64_t min, uint32_t *out)
{
    uint64_t v;
    int ret = drain_get_uint(c, obj, key, min, UINT32_MAX, &v);

    if (ret == 0)
        *out = (uint32_t)v;
    return ret;
}

static int
drain_get_time(struct drain_pctx *c, const json_t *obj, const char *key,
    uint64_t *out)
{
    return drain_get_uint(c, obj, key, 0, INT64_MAX, out);
}

static int
drain_get_real(struct drain_pctx *c, const json_t *obj, const char *key,
    double min, double max, double *out)
{
    const json_t *v = json_object_get(obj, key);
    double x;

    if (v == NULL)
        return drain_perr(c, key, "missing");
    if (!json_is_number(v))
        return drain_perr(c, key, "invalid type, expected a number");
    x = json_number_value(v);
    if (!(x >= min && x <= max))
        return drain_perr(c, key, "invalid value %g, expected %g-%g", x,
            min, max);
    *out = x;
    return 0;
}

/* Looks up a string among names[0..n); *out gets its index. */
static int
drain_get_enum(struct drain_pctx *c, const json_t *obj, const char *key,
    const char *const *names, size_t n, int *out)
{
    const json_t *v = json_object_get(obj, key);

    if (v == NULL)
        return drain_perr(c, key, "missing");
    if (!json_is_string(v))
        return drain_perr(c, key, "invalid type, expected a string");
    for (size_t i = 0; i < n; i++) {
        if (strcmp(json_string_value(v), names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    return drain_perr(c, key, "invalid value \"%.40s\"",
        json_string_value(v));
}

static int
drain_get_text(struct drain_pctx *c, const json_t *obj, const char *key,
    char *out, size_t size)
{
    const json_t *v = json_object_get(obj, key);

    if (v == NULL)
        return drain_perr(c, key, "missing");
    if (!json_is_string(v))
        return drain_perr(c, key, "invalid type, expected a string");
    if (json_string_length(v) >= size ||
        strlen(json_string_value(v)) != json_string_length(v))
        return drain_perr(c, key, "invalid value, longer than %zu bytes or "
            "containing NUL", size - 1);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

#define DRAIN_NAMES(a) (a), (sizeof(a) / sizeof((a)[0]))

static int
drain_parse_params(struct drain_pctx *c, const json_t *obj,
    struct drain_params *p)
{
    int policy;
    int ret;

    if (!json_is_object(obj))
        return drain_perr(c, "params", "missing or not an object");
    c->path = "drain.params";
    if ((ret = drain_get_u32(c, obj, "pace_per_s", 1, &p->pace_per_s)) < 0 ||
        (ret = drain_get_u32(c, obj, "duration_ms", 1, &p->duration_ms)) < 0 ||
        (ret = drain_get_enum(c, obj, "policy",
            DRAIN_NAMES(drain_policy_names), &policy)) < 0 ||
        (ret = drain_get_real(c, obj, "margin", 0.0, 10.0, &p->margin)) < 0 ||
        (ret = drain_get_u32(c, obj, "max_out", 1, &p->max_out)) < 0 ||
        (ret = drain_get_real(c, obj, "jitter", 0.0, 1.0, &p->jitter)) < 0 ||
        (ret = drain_get_real(c, obj, "accept_threshold", 0.001, 1.0,
            &p->accept_threshold)) < 0 ||
        (ret = drain_get_u32(c, obj, "settle_ms", 1, &p->settle_ms)) < 0 ||
        (ret = drain_get_real(c, obj, "headroom_share", 0.001, 1.0,
            &p->headroom_share)) < 0)
        return ret;
    p->policy = (enum drain_policy)policy;
    c->path = "drain";
    return 0;
}

static int
drain_parse_rng(struct drain_pctx *c, const json_t *obj, uint64_t *out)
{
    char hex[17];
    char *end;
    int ret;

    if ((ret = drain_get_text(c, obj, "rng", hex, sizeof(hex))) < 0)
        return ret;
    if (strlen(hex) != 16 || strspn(hex, "0123456789abcdef") != 16)
        return drain_perr(c, "rng", "invalid value, expected 16 hex digits");
    *out = strtoull(hex, &end, 16);
    if (*out == 0)
        return drain_perr(c, "rng", "invalid value 0");
    return 0;
}

/* Checks that the fields agree with each other. */
static int
drain_parse_check(struct drain_pctx *c, const struct drain *d)
{
    if (!drain_id_valid(d->gateway_id))
        return drain_perr(c, "gateway_id", "invalid value \"%s\", expected "
            "1-%d characters of A-Z a-z 0-9 . _ -", d->gateway_id,
            CLUSTER_ID_MAX);
    if (d->deadline_at_ms < d->requested_at_ms)
        return drain_perr(c, "deadline_at_ms", "invalid value, before "
            "requested_at_ms");
    if (d->state_since_ms < d->requested_at_ms)
        return drain_perr(c, "state_since_ms", "invalid value, before "
            "requested_at_ms");
    if ((d->state == DRAIN_REFUSED) != (d->refusal != DRAIN_REFUSAL_NONE))
        return drain_perr(c, "refusal", "invalid value \"%s\" in state %s",
            drain_refusal_name(d->refusal), drain_state_name(d->state));
    return 0;
}

static int
drain_parse_fields(struct drain_pctx *c, const json_t *root, struct drain *d)
{
    uint64_t version;
    int state, refusal;
    int ret;

    if ((ret = drain_get_uint(c, root, "version", DRAIN_JSON_VERSION,
            DRAIN_JSON_VERSION, &version)) < 0 ||
        (ret = drain_get_text(c, root, "gateway_id", d->gateway_id,
            sizeof(d->gateway_id))) < 0 ||
        (ret = drain_get_enum(c, root, "state",
            DRAIN_NAMES(drain_state_names), &state)) < 0 ||
        (ret = drain_parse_params(c, json_object_get(root, "params"),
            &d->params)) < 0 ||
        (ret = drain_get_time(c, root, "requested_at_ms",
            &d->requested_at_ms)) < 0 ||
        (ret = drain_get_time(c, root, "state_since_ms",
            &d->state_since_ms)) < 0 ||
        (ret = drain_get_time(c, root, "deadline_at_ms",
            &d->deadline_at_ms)) < 0 ||
        (ret = drain_get_enum(c, root, "refusal",
            DRAIN_NAMES(drain_refusal_names), &refusal)) < 0 ||
        (ret = drain_get_text(c, root, "reason", d->reason,
            sizeof(d->reason))) < 0 ||
        (ret = drain_get_u32(c, root, "initial_sessions", 0,
            &d->initial_sessions)) < 0 ||
        (ret = drain_get_u32(c, root, "remaining", 0, &d->remaining)) < 0 ||
        (ret = drain_get_time(c, root, "sample_at_ms", &d->sample_at_ms)) < 0 ||
        (ret = drain_get_real(c, root, "rate_per_s", 0.0, 1e9,
            &d->rate_per_s)) < 0 ||
        (ret = drain_get_u32(c, root, "pace_per_s", 0, &d->pace_per_s)) < 0 ||
        (ret = drain_get_time(c, root, "paced_at_ms", &d->paced_at_ms)) < 0 ||
        (ret = drain_parse_rng(c, root, &d->rng)) < 0)
        return ret;
    d->state = (enum drain_state)state;
    d->refusal = (enum drain_refusal)refusal;
    return drain_parse_check(c, d);
}

int
drain_parse(struct drain *d, const char *text, size_t len, char *err,
    size_t err_len)
{
    struct drain_pctx c = { err, err_len, "drain" };
    struct drain tmp;
    json_error_t jerr;
    json_t *root;
    int ret = -EINVAL;

    memset(&tmp, 0, sizeof(tmp));
    if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) ==
        NULL) {
        if (err_len > 0)
            snprintf(err, err_len, "drain: invalid JSON at line %d column "
                "%d: %s", jerr.line, jerr.column, jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        if (err_len > 0)
            snprintf(err, err_len, "drain: invalid type, expected an object");
        goto out;
    }
    if ((ret = drain_parse_fields(&c, root, &tmp)) < 0)
        goto out;
    *d = tmp;
    ret = 0;
out:
    json_decref(root);
    return ret;
}
