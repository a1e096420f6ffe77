/*
 * A token bucket for reply rates: `rate` tokens per second, holding at
 * most one second's worth, so a burst of `rate` replies passes at once.
 * The engine keeps one for all COOKIE and REDIRECT replies and one per
 * client slot, so one flooding address cannot use up the shared budget.
 */
#ifndef IKESHIFT_RATELIMIT_H
#define IKESHIFT_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* Zero-initialised means unused; the first ratelimit_take() fills it. */
struct ratelimit {
    uint64_t tokens;        /* in thousandths of a token */
    uint64_t last_ms;       /* time of the last refill */
    bool started;
};

/*
 * Takes one token at monotonic time now_ms (milliseconds), refilling at
 * `rate` per second first.  Returns true if a token was available.  An
 * unused bucket starts full.  Time going backwards refills nothing.
 */
bool
ratelimit_take(struct ratelimit *rl, unsigned rate, uint64_t now_ms);

#endif /* IKESHIFT_RATELIMIT_H */
