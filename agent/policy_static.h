/*
 * The static redirect policy: fixed rules from the agent configuration,
 * plus an admin state that the agent changes itself when it drains.
 *   - a new client arriving on an anycast address goes to anycast_target;
 *   - while draining or down, a new client goes to drain_target;
 *   - a request with REDIRECTED_FROM is otherwise accepted;
 *   - else every new client goes to all_target, if set;
 *   - at IKE_AUTH, an identity listed in rules goes to its target.
 * The engine asks only about clients that announced redirect support.
 */
#ifndef IKESHIFT_POLICY_STATIC_H
#define IKESHIFT_POLICY_STATIC_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

enum policy_admin_state {
    POLICY_ADMIN_ACTIVE,
    POLICY_ADMIN_DRAINING,
    POLICY_ADMIN_DOWN,
};

/* Names of the admin states in the configuration, NULL-terminated. */
extern const char *const policy_admin_state_names[];

struct policy_static_rule {
    const char *id;                 /* IDi data as text; borrowed */
    struct policy_target target;
};

struct policy_static {
    enum policy_admin_state state;
    bool have_anycast_target;
    struct policy_target anycast_target;
    bool have_all_target;
    struct policy_target all_target;
    bool have_drain_target;
    struct policy_target drain_target;
    const struct policy_static_rule *rules;     /* borrowed */
    size_t n_rules;
};

/* Returns the policy interface over ps, which is borrowed. */
struct policy
policy_static_policy(struct policy_static *ps);

/*
 * Sets *target from text: an IPv4 or IPv6 literal or a host name
 * (RFC 5685 9.2 types 1, 2, 3).  Returns 0 or -EINVAL.
 */
int
policy_target_from_text(struct policy_target *target, const char *text);

/* Writes target as text into out[0..cap) and returns out ("?" if bad). */
const char *
policy_target_to_text(const struct policy_target *target, char *out,
    size_t cap);

#endif /* IKESHIFT_POLICY_STATIC_H */
