/*
 * Token bucket with millisecond refills.
 */
#include "ratelimit.h"

bool
ratelimit_take(struct ratelimit *rl, unsigned rate, uint64_t now_ms)
{
    uint64_t cap = (uint64_t)rate * 1000;

    if (!rl->started) {
        rl->started = true;
        rl->tokens = cap;
        rl->last_ms = now_ms;
    } else if (now_ms > rl->last_ms) {
        uint64_t elapsed = now_ms - rl->last_ms;

        /* Past one second the bucket is full anyway; capping first keeps
         * the product from overflowing after a long idle time. */
        if (elapsed >= 1000)
            rl->tokens = cap;
        else
            rl->tokens += elapsed * rate;
        if (rl->tokens > cap)
            rl->tokens = cap;
        rl->last_ms = now_ms;
    }
    if (rl->tokens < 1000)
        return false;
    rl->tokens -= 1000;
    return true;
}
