/*
 * Static redirect policy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "ike_const.h"
#include "ike_redirect.h"
#include "policy_static.h"

const char *const policy_admin_state_names[] = {
    "active", "draining", "down", NULL,
};

/* Renders an IDi as the text that rules and PSK entries name. */
static bool
id_matches(const char *rule, const struct policy_query *q)
{
    size_t len = strlen(rule);
    char text[INET6_ADDRSTRLEN];

    if (q->id == NULL)
        return false;
    if (q->id_type == IKE_ID_IPV4_ADDR && q->id_len == 4)
        return inet_ntop(AF_INET, q->id, text, sizeof(text)) != NULL &&
            strcmp(text, rule) == 0;
    if (q->id_type == IKE_ID_IPV6_ADDR && q->id_len == 16)
        return inet_ntop(AF_INET6, q->id, text, sizeof(text)) != NULL &&
            strcmp(text, rule) == 0;
    return len == q->id_len && memcmp(rule, q->id, len) == 0;
}

static enum policy_verdict
policy_static_decide(void *arg, const struct policy_query *q,
    struct policy_target *target)
{
    const struct policy_static *ps = arg;

    if (q->stage == POLICY_STAGE_INIT) {
        if (q->local_is_anycast && ps->have_anycast_target) {
            *target = ps->anycast_target;
            return POLICY_REDIRECT;
        }
        if (ps->state != POLICY_ADMIN_ACTIVE && ps->have_drain_target) {
            *target = ps->drain_target;
            return POLICY_REDIRECT;
        }
        if (q->redirected_from)
            return POLICY_ACCEPT;
        if (ps->have_all_target) {
            *target = ps->all_target;
            return POLICY_REDIRECT;
        }
        return POLICY_ACCEPT;
    }
    if (q->stage == POLICY_STAGE_AUTH) {
        for (size_t i = 0; i < ps->n_rules; i++) {
            if (id_matches(ps->rules[i].id, q)) {
                *target = ps->rules[i].target;
                return POLICY_REDIRECT;
            }
        }
    }
    return POLICY_ACCEPT;
}

struct policy
policy_static_policy(struct policy_static *ps)
{
    struct policy p = { policy_static_decide, ps };

    return p;
}

int
policy_target_from_text(struct policy_target *target, const char *text)
{
    struct ike_redirect_gw gw;
    uint8_t storage[16];

    if (ike_redirect_gw_from_text(&gw, text, storage) < 0 ||
        gw.len > sizeof(target->id))
        return -EINVAL;
    memset(target, 0, sizeof(*target));
    target->gw_type = gw.type;
    target->len = (uint8_t)gw.len;
    memcpy(target->id, gw.value, gw.len);
    return 0;
}

const char *
policy_target_to_text(const struct policy_target *target, char *out,
    size_t cap)
{
    struct ike_redirect_gw gw = {
        target->gw_type, target->id, target->len,
    };

    if (ike_redirect_gw_to_text(&gw, out, cap) < 0 && cap > 1) {
        out[0] = '?';
        out[1] = '\0';
    }
    return out;
}
