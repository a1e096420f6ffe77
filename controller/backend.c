/*
 * The controller's cycle and API backend; backend.h describes them.
 */
#include "backend.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drain.h"
#include "leader.h"
#include "rt/cluster_plan.h"
#include "rt/log.h"
#include "store.h"

#define CTL_METRICS_SIZE 4096

enum ctl_phase {
    CTL_PHASE_STANDBY,
    CTL_PHASE_SYNCING,      /* leader, reloading the stored state */
    CTL_PHASE_PLANNING,     /* leader, state reloaded */
};

/* The sent_at_ms of a report key as last read, so that a key whose report
 * never changes cannot bring its gateway back after it expired. */
struct ctl_seen {
    char gateway_id[CLUSTER_ID_MAX + 1];
    uint64_t sent_at_ms;
};

struct ctl_backend {
    struct ctl_backend_config cfg;
    struct ctl_seen *seen;      /* sorted by gateway_id */
    size_t n_seen;
    struct store *store;
    struct leader *leader;
    struct gwreg *reg;
    struct planner *planner;
    enum ctl_phase phase;
    bool cycling;               /* a cycle's command is pending */
    bool plan_pending;          /* a plan write is pending */
    bool plan_dirty;            /* the plan computed was not written yet */
    uint64_t written_epoch;
    uint64_t move_seq;
    uint64_t cycles;
    bool load_for_sync;         /* the pending state read began as leader */
    /* A standby's copy of the stored plan, for GET /v1/plan; NULL until
     * a valid one was read. */
    char *stored_plan;
    bool plan_reading;
    uint64_t reports_over_limit;    /* dropped: registry full */
    uint64_t over_limit_logged_ms;
    size_t n_drains;
    struct drain drains[CTL_BACKEND_MAX_DRAINS];
};

static uint64_t
ctl_now_ms(const struct ctl_backend *b)
{
    struct timespec ts;

    if (b->cfg.clock != NULL)
        return b->cfg.clock(b->cfg.clock_arg);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct ctl_backend *
ctl_backend_new(const struct ctl_backend_config *cfg, struct store *store,
    struct leader *leader)
{
    struct ctl_backend *b = calloc(1, sizeof(*b));

    if (b == NULL)
        goto fail;
    b->cfg = *cfg;
    b->store = store;
    b->leader = leader;
    b->reg = gwreg_new(&cfg->registry, ctl_now_ms(b));
    b->planner = planner_new(&cfg->planner, 0);
    if (b->reg == NULL || b->planner == NULL)
        goto fail;
    return b;
fail:
    if (b != NULL) {
        gwreg_free(b->reg);
        planner_free(b->planner);
    }
    free(b);
    return NULL;
}

void
ctl_backend_free(struct ctl_backend *b)
{
    if (b == NULL)
        return;
    gwreg_free(b->reg);
    planner_free(b->planner);
    free(b->seen);
    free(b->stored_plan);
    free(b);
}

bool
ctl_backend_is_planning(const struct ctl_backend *b)
{
    return b->phase == CTL_PHASE_PLANNING;
}

const struct gwreg *
ctl_backend_get_registry(const struct ctl_backend *b)
{
    return b->reg;
}

const struct cluster_plan *
ctl_backend_get_plan(const struct ctl_backend *b)
{
    const struct cluster_plan *p = planner_get_plan(b->planner);

    return p != NULL && p->epoch != 0 ? p : NULL;
}

uint64_t
ctl_backend_get_written_epoch(const struct ctl_backend *b)
{
    return b->written_epoch;
}

static struct drain *
ctl_find_drain(struct ctl_backend *b, const char *gateway_id)
{
    for (size_t i = 0; i < b->n_drains; i++)
        if (strcmp(b->drains[i].gateway_id, gateway_id) == 0)
            return &b->drains[i];
    return NULL;
}

static void
ctl_remove_drain(struct ctl_backend *b, struct drain *d)
{
    size_t i = (size_t)(d - b->drains);

    memmove(&b->drains[i], &b->drains[i + 1],
        (b->n_drains - i - 1) * sizeof(*d));
    b->n_drains--;
}

static void
ctl_save_cb(struct store *s, int status, void *arg)
{
    struct ctl_backend *b = arg;

    (void)s;
    (void)b;
    if (status != 0)
        log_error("controller", "gateway state not saved; error=%d",
            status);
}

/* Saves a gateway's admin state and drain (NULL removes it), fenced. */
static void
ctl_save_gateway(struct ctl_backend *b, const char *gateway_id,
    enum cluster_admin_state admin, const struct drain *d)
{
    struct leader_fence f;

    if (leader_get_fence(b->leader, &f) < 0)
        return;
    if (store_save_gateway(b->store, &f, gateway_id, admin, d, ctl_save_cb,
        b) < 0) {
        log_error("controller", "gateway state not saved; gateway=%s "
            "reason=%s", gateway_id, "redis link not ready");
    }
}

/* Steps drain `d` until it stops changing, keeping the registry in step.
 * Returns true when its state changed. */
static bool
ctl_step_drain(struct ctl_backend *b, struct drain *d, uint64_t now_ms)
{
    bool changed = false;

    for (int i = 0; i < 4; i++) {
        enum drain_state before = d->state;

        if (drain_step(d, b->reg, now_ms) <= 0)
            break;
        changed = true;
        gwreg_set_admin(b->reg, d->gateway_id, drain_admin_state(d),
            now_ms);
        log_info("drain", "drain state changed; gateway=%s from=%s to=%s",
            d->gateway_id, drain_state_name(before),
            drain_state_name(d->state));
    }
    return changed;
}

static void
ctl_plan_written_cb(struct store *s, int status, void *arg)
{
    struct ctl_backend *b = arg;
    const struct cluster_plan *p;

    (void)s;
    b->plan_pending = false;
    if (status != 0)
        return;     /* the store logged it; plan_dirty retries */
    p = planner_get_plan(b->planner);
    b->written_epoch = p->epoch;
    b->plan_dirty = false;
    log_info("controller", "plan written; epoch=%" PRIu64 " term=%" PRIu64
        " gateways=%zu", p->epoch, p->leader_term, p->n_gateways);
}

/* Steps the drains, computes the plan and writes it when it changed. */
static void
ctl_plan(struct ctl_backend *b, uint64_t now_ms)
{
    struct planner_drain pd[CTL_BACKEND_MAX_DRAINS];
    size_t n_pd = 0;
    struct leader_fence f;
    int rc;

    for (size_t i = 0; i < b->n_drains; i++) {
        struct drain *d = &b->drains[i];

        if (ctl_step_drain(b, d, now_ms))
            ctl_save_gateway(b, d->gateway_id, drain_admin_state(d), d);
        if (drain_plan_entry(d, &pd[n_pd]))
            n_pd++;
    }
    if (b->plan_pending)
        return;
    rc = planner_compute(b->planner, b->reg, pd, n_pd, now_ms);
    if (rc < 0) {
        log_error("controller", "plan not computed; error=%d", rc);
        return;
    }
    if (rc == 1)
        b->plan_dirty = true;
    if (!b->plan_dirty || leader_get_fence(b->leader, &f) < 0)
        return;
    if (store_write_plan(b->store, &f, planner_get_plan(b->planner),
        ctl_plan_written_cb, b) < 0) {
        return;
    }
    b->plan_pending = true;
}

/* Replaces the admin states and drains with the stored ones. */
static void
ctl_apply_state(struct ctl_backend *b, const struct store_state *st,
    uint64_t now_ms)
{
    for (size_t i = 0; i < st->n_admin; i++) {
        const struct gwreg_entry *e = gwreg_get(b->reg,
            st->admin[i].gateway_id);

        if (e == NULL || e->admin != st->admin[i].admin)
            gwreg_set_admin(b->reg, st->admin[i].gateway_id,
                st->admin[i].admin, now_ms);
    }
    b->n_drains = 0;
    for (size_t i = 0; i < st->n_drains && i < CTL_BACKEND_MAX_DRAINS; i++)
        b->drains[b->n_drains++] = st->drains[i];
}

static void
ctl_state_cb(struct store *s, int status, const struct store_state *st,
    void *arg)
{
    struct ctl_backend *b = arg;
    uint64_t now;

    (void)s;
    b->cycling = false;
    if (status != 0)
        return;
    now = ctl_now_ms(b);
    ctl_apply_state(b, st, now);
    if (b->phase != CTL_PHASE_SYNCING || !b->load_for_sync ||
        !leader_is_leading(b->leader))
        return;
    /* The planner continues from the stored epoch, so epochs never go
     * back when leadership moves or the controller restarts. */
    struct planner *p = planner_new(&b->cfg.planner,
        leader_get_stored_epoch(b->leader));

    if (p == NULL) {
        log_error("controller", "planner not created; error=%d", -ENOMEM);
        return;
    }
    planner_free(b->planner);
    b->planner = p;
    planner_set_leader(p, leader_get_id(b->leader),
        leader_get_term(b->leader));
    b->plan_dirty = false;
    b->phase = CTL_PHASE_PLANNING;
    log_info("controller", "planning as leader; term=%" PRIu64
        " stored_epoch=%" PRIu64 " drains=%zu", leader_get_term(b->leader),
        leader_get_stored_epoch(b->leader), b->n_drains);
    ctl_plan(b, now);
}

/* Feeds the fresh reports: a report with the sent_at_ms already seen
 * does not count as seen again, so a dead agent's key that has not
 * expired yet does not keep its gateway alive. */
static int
ctl_seen_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ctl_seen *)a)->gateway_id,
        ((const struct ctl_seen *)b)->gateway_id);
}

/* Stores one report, and logs when a gateway starts or stops presenting
 * an identity other than the cluster's. */
static void
ctl_store_report(struct ctl_backend *b, const struct cluster_report *r,
    uint64_t now_ms)
{
    const struct gwreg_entry *e = gwreg_get(b->reg, r->gateway_id);
    bool was_ok = e == NULL || !e->live || e->identity_ok;
    char shown[72];
    int rc;

    rc = gwreg_update_report(b->reg, r, now_ms);
    if (rc == -ENOSPC) {
        b->reports_over_limit++;
        if (now_ms >= b->over_limit_logged_ms + CTL_BACKEND_WARN_MS) {
            b->over_limit_logged_ms = now_ms;
            log_warn("controller", "report dropped: %d gateways are live,"
                " the most one plan can carry; gateway=%s dropped_total=%"
                PRIu64, CLUSTER_PLAN_MAX_GATEWAYS, r->gateway_id,
                b->reports_over_limit);
        }
        return;
    }
    if (rc < 0) {
        log_error("controller", "report not stored; gateway=%s",
            r->gateway_id);
        return;
    }
    e = gwreg_get(b->reg, r->gateway_id);
    if (e == NULL || e->identity_ok == was_ok)
        return;
    log_escape_str(shown, sizeof(shown), r->identity);
    if (!e->identity_ok)
        log_warn("controller", "gateway presents another identity than the"
            " cluster, so it gets no clients until its agent's identity is"
            " fixed; gateway=%s identity=\"%s\" cluster_identity=\"%s\"",
            r->gateway_id,
            r->identity[0] != '\0' ? shown : "(none reported)",
            b->cfg.registry.identity);
    else
        log_notice("controller", "gateway presents the cluster identity"
            " again; gateway=%s", r->gateway_id);
}

static void
ctl_feed_reports(struct ctl_backend *b, const struct cluster_report *r,
    size_t n, uint64_t now_ms)
{
    struct ctl_seen *next = calloc(n > 0 ? n : 1, sizeof(*next));

    if (next == NULL) {
        log_error("controller", "out of memory; reports skipped this cycle");
        gwreg_expire(b->reg, now_ms);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(next[i].gateway_id, sizeof(next[i].gateway_id), "%s",
            r[i].gateway_id);
        next[i].sent_at_ms = r[i].sent_at_ms;
    }
    qsort(next, n, sizeof(*next), ctl_seen_cmp);
    for (size_t i = 0; i < n; i++) {
        struct ctl_seen key;
        const struct ctl_seen *old;

        snprintf(key.gateway_id, sizeof(key.gateway_id), "%s",
            r[i].gateway_id);
        old = b->n_seen > 0 ? bsearch(&key, b->seen, b->n_seen,
            sizeof(*b->seen), ctl_seen_cmp) : NULL;
        /* Unchanged since the last read: live or expired, it is no news. */
        if (old != NULL && old->sent_at_ms == r[i].sent_at_ms)
            continue;
        ctl_store_report(b, &r[i], now_ms);
    }
    free(b->seen);
    b->seen = next;
    b->n_seen = n;
    gwreg_expire(b->reg, now_ms);
}

/* Keeps a valid stored plan for a standby's GET /v1/plan.  An invalid
 * one leaves the last good copy, as agents do. */
static void
ctl_stored_plan_cb(struct store *s, int status, const char *text,
    size_t len, void *arg)
{
    struct ctl_backend *b = arg;
    struct cluster_plan plan = { 0 };
    char err[CLUSTER_ERR_SIZE];
    char *copy;

    (void)s;
    b->plan_reading = false;
    if (status == -ENOENT) {
        free(b->stored_plan);
        b->stored_plan = NULL;
        return;
    }
    if (status != 0)
        return;
    if (cluster_plan_parse(text, len, &plan, err, sizeof(err)) < 0) {
        log_debug("controller", "stored plan not kept; error=\"%s\"", err);
        cluster_plan_clear(&plan);
        return;
    }
    cluster_plan_clear(&plan);
    if ((copy = strndup(text, len)) == NULL)
        return;
    free(b->stored_plan);
    b->stored_plan = copy;
}

static void
ctl_reports_cb(struct store *s, int status,
    const struct cluster_report *reports, size_t n, void *arg)
{
    struct ctl_backend *b = arg;
    uint64_t now;

    now = ctl_now_ms(b);
    if (status == 0)
        ctl_feed_reports(b, reports, n, now);
    else
        gwreg_expire(b->reg, now);
    if (b->phase == CTL_PHASE_PLANNING) {
        b->cycling = false;
        ctl_plan(b, now);
        return;
    }
    /* A standby, or a new leader, (re)reads the stored states, and a
     * standby the plan too. */
    if (b->phase == CTL_PHASE_STANDBY && !b->plan_reading &&
        store_read_plan(s, ctl_stored_plan_cb, b) == 0)
        b->plan_reading = true;
    b->load_for_sync = b->phase == CTL_PHASE_SYNCING;
    if (store_load_state(s, ctl_state_cb, b) < 0) {
        b->cycling = false;
    }
}

int
ctl_backend_cycle(struct ctl_backend *b)
{
    int rc;

    if (b->cycling)
        return 0;
    b->cycles++;
    if ((rc = store_read_reports(b->store, ctl_reports_cb, b)) < 0) {
        gwreg_expire(b->reg, ctl_now_ms(b));
        return rc;
    }
    b->cycling = true;
    return 0;
}

void
ctl_backend_set_leading(struct ctl_backend *b, bool leading)
{
    if (leading) {
        b->phase = CTL_PHASE_SYNCING;
        return;
    }
    b->phase = CTL_PHASE_STANDBY;
    b->plan_dirty = false;
}


/* API callbacks.  Reads work on every controller; changes need the
 * leader, so a standby rejects them with -EAGAIN (503). */

static int
ctl_need_leader(const struct ctl_backend *b, char *msg)
{
    if (b->phase == CTL_PHASE_PLANNING)
        return 0;
    snprintf(msg, API_MESSAGE_MAX, "this controller is not the leader; "
        "retry on the leader");
    return -EAGAIN;
}

/* Returns the address clients reach a live gateway at, or NULL. */
static const char *
ctl_gateway_address(const struct gwreg_entry *e)
{
    if (!e->live)
        return NULL;
    if (e->report.public_addr[0] != '\0')
        return e->report.public_addr;
    return e->report.n_unicast > 0 ? e->report.unicast[0] : NULL;
}

/* Returns the drain as JSON with its progress, or NULL. */
static json_t *
ctl_drain_json(const struct drain *d, uint64_t now_ms)
{
    struct drain_progress pr;
    char *text = drain_encode(d);
    json_t *j;

    if (text == NULL)
        return NULL;
    j = json_loads(text, 0, NULL);
    free(text);
    if (j == NULL)
        return NULL;
    drain_get_progress(d, now_ms, &pr);
    json_object_set_new(j, "progress", json_pack("{s:I, s:f, s:I}",
        "remaining", (json_int_t)pr.remaining, "rate_per_s", pr.rate_per_s,
        "estimated_end_at_ms", (json_int_t)pr.estimated_end_at_ms));
    return j;
}

static json_t *
ctl_gateway_json(struct ctl_backend *b, const struct gwreg_entry *e,
    uint64_t now_ms)
{
    const char *addr = ctl_gateway_address(e);
    struct drain *d = ctl_find_drain(b, e->gateway_id);
    json_t *j = json_pack("{s:s, s:b, s:s, s:f, s:I}",
        "gateway_id", e->gateway_id, "live", e->live,
        "admin", cluster_admin_state_name(e->admin), "load", e->load,
        "last_seen_ms", (json_int_t)e->last_seen_ms);

    if (j == NULL)
        return NULL;
    if (e->live) {
        json_object_set_new(j, "site", json_string(e->report.site));
        json_object_set_new(j, "state",
            json_string(cluster_agent_state_name(e->report.state)));
        json_object_set_new(j, "ike_sas",
            json_integer(e->report.ike_sas));
        json_object_set_new(j, "capacity",
            json_integer(e->report.capacity));
        json_object_set_new(j, "plan_epoch",
            json_integer((json_int_t)e->report.plan_epoch));
        json_object_set_new(j, "identity", json_string(e->report.identity));
        json_object_set_new(j, "identity_ok", json_boolean(e->identity_ok));
    }
    if (addr != NULL)
        json_object_set_new(j, "address", json_string(addr));
    json_object_set_new(j, "drain", d != NULL ? ctl_drain_json(d, now_ms) :
        json_null());
    return j;
}

static int
ctl_api_get_cluster(void *ctx, json_t **out, char *msg)
{
    struct ctl_backend *b = ctx;
    size_t live = 0;
    uint64_t epoch = b->written_epoch;

    (void)msg;
    for (size_t i = 0; i < gwreg_count(b->reg); i++)
        live += gwreg_get_at(b->reg, i)->live;
    /* A standby has written no plan; it shows the stored one's epoch. */
    if (b->phase != CTL_PHASE_PLANNING && b->stored_plan != NULL) {
        json_t *p = json_loads(b->stored_plan, 0, NULL);

        epoch = (uint64_t)json_integer_value(json_object_get(p, "epoch"));
        json_decref(p);
    }
    *out = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:s?}",
        "controller_id", leader_get_id(b->leader),
        "leader", b->phase == CTL_PHASE_PLANNING,
        "term", (json_int_t)leader_get_term(b->leader),
        "plan_epoch", (json_int_t)epoch,
        "gateways", (json_int_t)gwreg_count(b->reg),
        "live_gateways", (json_int_t)live,
        "drains", (json_int_t)b->n_drains,
        "identity", b->cfg.registry.identity[0] != '\0' ?
        b->cfg.registry.identity : NULL);
    return *out != NULL ? 0 : -ENOMEM;
}

static int
ctl_api_list_gateways(void *ctx, json_t **out, char *msg)
{
    struct ctl_backend *b = ctx;
    uint64_t now = ctl_now_ms(b);
    json_t *arr = json_array();

    (void)msg;
    if (arr == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < gwreg_count(b->reg); i++)
        if (json_array_append_new(arr, ctl_gateway_json(b,
            gwreg_get_at(b->reg, i), now)) < 0) {
            json_decref(arr);
            return -ENOMEM;
        }
    *out = json_pack("{s:o}", "gateways", arr);
    return *out != NULL ? 0 : -ENOMEM;
}

static int
ctl_api_get_gateway(void *ctx, const char *gateway_id, json_t **out,
    char *msg)
{
    struct ctl_backend *b = ctx;
    const struct gwreg_entry *e = gwreg_get(b->reg, gateway_id);

    if (e == NULL) {
        snprintf(msg, API_MESSAGE_MAX, "gateway %s not found", gateway_id);
        return -ENOENT;
    }
    *out = ctl_gateway_json(b, e, ctl_now_ms(b));
    return *out != NULL ? 0 : -ENOMEM;
}

static int
ctl_api_get_plan(void *ctx, json_t **out, char *msg)
{
    struct ctl_backend *b = ctx;
    const struct cluster_plan *p = ctl_backend_get_plan(b);
    char err[CLUSTER_ERR_SIZE];
    char *text = NULL;
    int rc;

    /* A standby returns the plan it last read from Redis. */
    if (b->phase != CTL_PHASE_PLANNING) {
        if (b->stored_plan == NULL) {
            snprintf(msg, API_MESSAGE_MAX, "this controller is a standby "
                "and has read no valid stored plan yet; retry on the "
                "leader");
            return -EAGAIN;
        }
        *out = json_loads(b->stored_plan, 0, NULL);
        return *out != NULL ? 0 : -ENOMEM;
    }
    if (p == NULL) {
        snprintf(msg, API_MESSAGE_MAX, "no plan computed yet");
        return -ENOENT;
    }
    if ((rc = cluster_plan_encode(p, &text, err, sizeof(err))) < 0) {
        /* The controller's own failure, not the request's: 500. */
        snprintf(msg, API_MESSAGE_MAX, "plan not encoded: %.200s", err);
        return rc == -EINVAL ? -EIO : rc;
    }
    *out = json_loads(text, 0, NULL);
    free(text);
    return *out != NULL ? 0 : -ENOMEM;
}

/* A drain request that waits for its fenced write. */
struct ctl_drain_wait {
    struct ctl_backend *b;
    api_done_fn *done;
    void *done_arg;
    char gateway_id[CLUSTER_ID_MAX + 1];
};

/* Takes a drain that was not stored back out, so that this controller
 * does not act on what Redis has not stored. */
static void
ctl_forget_drain(struct ctl_backend *b, const char *gateway_id)
{
    struct drain *d = ctl_find_drain(b, gateway_id);

    if (d == NULL)
        return;
    ctl_remove_drain(b, d);
    gwreg_set_admin(b->reg, gateway_id, CLUSTER_ADMIN_ACTIVE, ctl_now_ms(b));
}

/* Completes the drain request once Redis stored its state, or refused
 * it. */
static void
ctl_drain_saved_cb(struct store *s, int status, void *arg)
{
    struct ctl_drain_wait *w = arg;
    struct ctl_backend *b = w->b;
    char msg[API_MESSAGE_MAX];
    struct drain *d;

    (void)s;
    if (status == 0 && (d = ctl_find_drain(b, w->gateway_id)) != NULL) {
        w->done(w->done_arg, 0, ctl_drain_json(d, ctl_now_ms(b)), "");
    } else if (status == 0) {
        snprintf(msg, API_MESSAGE_MAX, "the drain of %s was stored but has "
            "ended since", w->gateway_id);
        w->done(w->done_arg, -EALREADY, NULL, msg);
    } else if (status == -EPERM) {
        ctl_forget_drain(b, w->gateway_id);
        log_warn("drain", "drain not stored, lease lost; gateway=%s",
            w->gateway_id);
        w->done(w->done_arg, -EAGAIN, NULL, "the drain was not stored: "
            "this controller lost the lease before the write; retry on the "
            "leader");
    } else {
        log_error("drain", "drain state not stored; gateway=%s error=%d",
            w->gateway_id, status);
        snprintf(msg, API_MESSAGE_MAX, "the drain state could not be stored "
            "in Redis (error %d); check GET /v1/gateways/%s before a retry",
            status, w->gateway_id);
        w->done(w->done_arg, -EIO, NULL, msg);
    }
    free(w);
}

static int
ctl_api_drain(void *ctx, const char *gateway_id,
    const struct drain_params *params, json_t **out, char *msg,
    api_done_fn *done, void *done_arg)
{
    struct ctl_backend *b = ctx;
    uint64_t now = ctl_now_ms(b);
    struct drain *d;
    struct drain fresh;
    int rc;

    if ((rc = ctl_need_leader(b, msg)) < 0)
        return rc;
    if ((d = ctl_find_drain(b, gateway_id)) != NULL) {
        snprintf(msg, API_MESSAGE_MAX, "gateway %s already has a drain in "
            "state %s", gateway_id, drain_state_name(d->state));
        return -EALREADY;
    }
    /* A gateway without a registry entry is unknown (404, as for GET and
     * resume).  An entry that is not live (its report expired while it
     * was not active) is refused below as not_live (409). */
    if (gwreg_get(b->reg, gateway_id) == NULL) {
        snprintf(msg, API_MESSAGE_MAX, "gateway %s is not known",
            gateway_id);
        return -ENOENT;
    }
    if (b->n_drains >= CTL_BACKEND_MAX_DRAINS) {
        snprintf(msg, API_MESSAGE_MAX, "too many drains (maximum %d)",
            CTL_BACKEND_MAX_DRAINS);
        return -EBUSY;
    }
    /* The admission check fills targets up to the load at which the
     * planner stops sending them clients, so both use one threshold. */
    struct drain_params p = *params;

    if (p.accept_threshold == 0.0)
        p.accept_threshold = b->cfg.planner.accept_threshold > 0.0 ?
            b->cfg.planner.accept_threshold : PLANNER_ACCEPT_THRESHOLD;
    if ((rc = drain_init(&fresh, gateway_id, &p, now ^ b->cycles,
        now)) < 0) {
        snprintf(msg, API_MESSAGE_MAX, "invalid drain parameters");
        return rc;
    }
    ctl_step_drain(b, &fresh, now);
    if (fresh.state == DRAIN_REFUSED) {
        snprintf(msg, API_MESSAGE_MAX, "drain refused (%s): %s",
            drain_refusal_name(fresh.refusal), fresh.reason);
        return -EBUSY;
    }
    b->drains[b->n_drains++] = fresh;
    log_info("drain", "drain started; gateway=%s state=%s pace_per_s=%u",
        gateway_id, drain_state_name(fresh.state), fresh.params.pace_per_s);
    /* The response waits for the fenced write, so that a drain is
     * accepted only once Redis has stored it. */
    struct ctl_drain_wait *w = calloc(1, sizeof(*w));
    struct leader_fence f;

    (void)out;
    if (w != NULL) {
        w->b = b;
        w->done = done;
        w->done_arg = done_arg;
        snprintf(w->gateway_id, sizeof(w->gateway_id), "%s", gateway_id);
    }
    if (w == NULL || leader_get_fence(b->leader, &f) < 0 ||
        store_save_gateway(b->store, &f, gateway_id,
        drain_admin_state(&fresh), &fresh, ctl_drain_saved_cb, w) < 0) {
        free(w);
        ctl_forget_drain(b, gateway_id);
        snprintf(msg, API_MESSAGE_MAX, "the drain could not be stored: the "
            "link to Redis is not ready; retry later");
        return -EAGAIN;
    }
    return 1;
}

static int
ctl_api_resume(void *ctx, const char *gateway_id, json_t **out, char *msg)
{
    struct ctl_backend *b = ctx;
    uint64_t now = ctl_now_ms(b);
    const struct gwreg_entry *e = gwreg_get(b->reg, gateway_id);
    struct drain *d;
    int rc;

    if ((rc = ctl_need_leader(b, msg)) < 0)
        return rc;
    d = ctl_find_drain(b, gateway_id);
    if (d == NULL && (e == NULL || e->admin == CLUSTER_ADMIN_ACTIVE)) {
        snprintf(msg, API_MESSAGE_MAX, "gateway %s is %s", gateway_id,
            e == NULL ? "not known" : "already active");
        return e == NULL ? -ENOENT : -EALREADY;
    }
    if (d != NULL) {
        drain_resume(d, now);
        *out = ctl_drain_json(d, now);
        ctl_remove_drain(b, d);
    } else {
        *out = json_pack("{s:s, s:s}", "gateway_id", gateway_id, "state",
            "resumed");
    }
    gwreg_set_admin(b->reg, gateway_id, CLUSTER_ADMIN_ACTIVE, now);
    log_info("drain", "gateway resumed; gateway=%s", gateway_id);
    ctl_save_gateway(b, gateway_id, CLUSTER_ADMIN_ACTIVE, NULL);
    return *out != NULL ? 0 : -ENOMEM;
}

static void
ctl_move_cb(struct store *s, int status, void *arg)
{
    (void)s;
    (void)arg;
    if (status != 0)
        log_error("controller", "session move not queued; error=%d",
            status);
}

/* Formats the request's selector value into buf. */
static const char *
ctl_move_selector(const struct api_redirect *req, char *buf, size_t size,
    const char **value)
{
    switch (req->selector) {
    case API_SELECT_PEER:
        *value = req->peer;
        return "peer";
    case API_SELECT_IDENTITY:
        *value = req->identity;
        return "id";
    case API_SELECT_SPI:
        snprintf(buf, size, "%016" PRIx64, req->spi);
        *value = buf;
        return "spi";
    }
    return NULL;
}

static int
ctl_api_redirect(void *ctx, const struct api_redirect *req, json_t **out,
    char *msg)
{
    struct ctl_backend *b = ctx;
    const struct gwreg_entry *target = gwreg_get(b->reg, req->target);
    uint64_t now = ctl_now_ms(b);
    char spi[17], move_id[CLUSTER_ID_MAX + 1];
    struct store_move m = { 0 };
    struct leader_fence f;
    json_t *queued;
    int rc;

    if ((rc = ctl_need_leader(b, msg)) < 0 ||
        (rc = leader_get_fence(b->leader, &f)) < 0)
        return rc;
    if (target == NULL || ctl_gateway_address(target) == NULL ||
        target->admin != CLUSTER_ADMIN_ACTIVE) {
        snprintf(msg, API_MESSAGE_MAX, "target %s is not a live active "
            "gateway", req->target);
        return target == NULL ? -ENOENT : -EBUSY;
    }
    if (!target->identity_ok) {
        snprintf(msg, API_MESSAGE_MAX, "target %s presents %s%.64s, not the"
            " cluster identity", req->target,
            target->report.identity[0] != '\0' ? "identity " :
            "no identity", target->report.identity);
        return -EBUSY;
    }
    snprintf(move_id, sizeof(move_id), "m%" PRIu64 "-%" PRIu64, f.term,
        ++b->move_seq);
    m.selector = ctl_move_selector(req, spi, sizeof(spi), &m.value);
    m.to = ctl_gateway_address(target);
    m.target_id = target->gateway_id;
    m.move_id = move_id;
    m.expires_at_ms = now + CTL_BACKEND_MOVE_TTL_MS;
    if ((queued = json_array()) == NULL)
        return -ENOMEM;
    /* The controller does not know which gateway holds the session, so
     * every other live gateway gets the move; the one holding it acts. */
    for (size_t i = 0; i < gwreg_count(b->reg); i++) {
        const struct gwreg_entry *e = gwreg_get_at(b->reg, i);

        if (!e->live || e == target)
            continue;
        if (store_push_move(b->store, &f, e->gateway_id, &m, ctl_move_cb,
            b) < 0) {
            continue;
        }
        json_array_append_new(queued, json_string(e->gateway_id));
    }
    log_info("controller", "session move queued; move_id=%s %s=%s to=%s "
        "gateways=%zu", move_id, m.selector, m.value, m.to,
        json_array_size(queued));
    *out = json_pack("{s:s, s:s, s:s, s:o}", "move_id", move_id, "target",
        req->target, "to", m.to, "queued_on", queued);
    return *out != NULL ? 0 : -ENOMEM;
}

static int
ctl_api_metrics(void *ctx, char **text, char *msg)
{
    struct ctl_backend *b = ctx;
    const struct store_stats *st = store_get_stats(b->store);
    size_t live = 0;
    int n;

    (void)msg;
    for (size_t i = 0; i < gwreg_count(b->reg); i++)
        live += gwreg_get_at(b->reg, i)->live;
    if ((*text = malloc(CTL_METRICS_SIZE)) == NULL)
        return -ENOMEM;
    n = snprintf(*text, CTL_METRICS_SIZE,
        "# TYPE ikeshift_controller_leader gauge\n"
        "ikeshift_controller_leader %d\n"
        "# TYPE ikeshift_controller_term gauge\n"
        "ikeshift_controller_term %" PRIu64 "\n"
        "# TYPE ikeshift_controller_plan_epoch gauge\n"
        "ikeshift_controller_plan_epoch %" PRIu64 "\n"
        "# TYPE ikeshift_controller_gateways_live gauge\n"
        "ikeshift_controller_gateways_live %zu\n"
        "# TYPE ikeshift_controller_drains gauge\n"
        "ikeshift_controller_drains %zu\n"
        "# TYPE ikeshift_controller_reports_read_total counter\n"
        "ikeshift_controller_reports_read_total %" PRIu64 "\n"
        "# TYPE ikeshift_controller_reports_invalid_total counter\n"
        "ikeshift_controller_reports_invalid_total %" PRIu64 "\n"
        "# TYPE ikeshift_controller_plans_written_total counter\n"
        "ikeshift_controller_plans_written_total %" PRIu64 "\n"
        "# TYPE ikeshift_controller_writes_fenced_total counter\n"
        "ikeshift_controller_writes_fenced_total %" PRIu64 "\n"
        "# TYPE ikeshift_controller_redis_errors_total counter\n"
        "ikeshift_controller_redis_errors_total %" PRIu64 "\n"
        "# TYPE ikeshift_controller_reports_over_limit_total counter\n"
        "ikeshift_controller_reports_over_limit_total %" PRIu64 "\n",
        b->phase == CTL_PHASE_PLANNING, leader_get_term(b->leader),
        b->written_epoch, live, b->n_drains, st->reports_read,
        st->reports_invalid, st->plans_written, st->writes_fenced,
        st->redis_errors + leader_get_errors(b->leader),
        b->reports_over_limit);
    if (n < 0 || n >= CTL_METRICS_SIZE) {
        free(*text);
        *text = NULL;
        return -ENOMEM;
    }
    return 0;
}

void
ctl_backend_get_api(struct ctl_backend *b, struct api_backend *out)
{
    memset(out, 0, sizeof(*out));
    out->ctx = b;
    out->get_cluster = ctl_api_get_cluster;
    out->list_gateways = ctl_api_list_gateways;
    out->get_gateway = ctl_api_get_gateway;
    out->get_plan = ctl_api_get_plan;
    out->drain = ctl_api_drain;
    out->resume = ctl_api_resume;
    out->redirect = ctl_api_redirect;
    out->metrics = ctl_api_metrics;
}
