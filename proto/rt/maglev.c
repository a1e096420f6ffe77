/*
 * Maglev lookup table; see maglev.h.
 */
#include "rt/maglev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAGLEV_SIZE_MAX 16777213u   /* largest prime below 2^24 */
#define MAGLEV_EMPTY    UINT16_MAX

/* Seeds that make the four hashes independent of each other. */
#define MAGLEV_SEED_KEY     0x6b657973u
#define MAGLEV_SEED_KEY2    0x6b657932u
#define MAGLEV_SEED_OFFSET  0x6f666673u
#define MAGLEV_SEED_SKIP    0x736b6970u

struct maglev_table {
    uint32_t size;
    size_t n_targets;
    uint16_t *slot;             /* size entries: target index or EMPTY */
};

/* Working state of one target while the table fills. */
struct maglev_turn {
    size_t index;               /* position in the caller's targets[] */
    const char *id;
    uint32_t weight;
    uint32_t pos;               /* next slot in its permutation */
    uint32_t skip;
    uint64_t credit;
};

/*
 * FNV-1a over the bytes, then the splitmix64 finalizer, because FNV alone
 * spreads short keys that differ in their last byte poorly.
 */
static uint64_t
maglev_hash(const void *data, size_t len, uint32_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull ^ seed;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

static int
maglev_is_prime(uint32_t n)
{
    if (n < 2)
        return 0;
    for (uint32_t d = 2; (uint64_t)d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

struct maglev_table *
maglev_new(uint32_t size)
{
    struct maglev_table *t;

    if (size > MAGLEV_SIZE_MAX || !maglev_is_prime(size))
        return NULL;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return NULL;
    if ((t->slot = malloc((size_t)size * sizeof(*t->slot))) == NULL) {
        free(t);
        return NULL;
    }
    t->size = size;
    memset(t->slot, 0xff, (size_t)size * sizeof(*t->slot));
    return t;
}

void
maglev_free(struct maglev_table *table)
{
    if (table == NULL)
        return;
    free(table->slot);
    free(table);
}

static int
maglev_turn_cmp(const void *a, const void *b)
{
    const struct maglev_turn *x = a, *y = b;
    int c = strcmp(x->id, y->id);

    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Claims the next free slot in turn's permutation for it. */
static void
maglev_claim(struct maglev_table *t, struct maglev_turn *turn)
{
    /* The permutation visits every slot once per `size` steps, because
     * size is prime and skip lies in 1..size-1, and a slot is still free
     * whenever this is called. */
    while (t->slot[turn->pos] != MAGLEV_EMPTY)
        turn->pos = (uint32_t)(((uint64_t)turn->pos + turn->skip) % t->size);
    t->slot[turn->pos] = (uint16_t)turn->index;
}

static void
maglev_fill(struct maglev_table *t, struct maglev_turn *turns, size_t n)
{
    uint32_t wmax = 0;
    uint32_t filled = 0;

    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(turns[i].id);

        turns[i].pos = (uint32_t)(maglev_hash(turns[i].id, len,
            MAGLEV_SEED_OFFSET) % t->size);
        turns[i].skip = (uint32_t)(maglev_hash(turns[i].id, len,
            MAGLEV_SEED_SKIP) % (t->size - 1)) + 1;
        if (turns[i].weight > wmax)
            wmax = turns[i].weight;
    }
    /*
     * Weighted turns: each round adds a target's weight to its credit,
     * and a target whose credit reaches the largest weight claims a slot.
     * The heaviest target claims one every round, so the loop ends.
     */
    for (;;) {
        for (size_t i = 0; i < n; i++) {
            turns[i].credit += turns[i].weight;
            if (turns[i].credit < wmax)
                continue;
            turns[i].credit -= wmax;
            maglev_claim(t, &turns[i]);
            if (++filled == t->size)
                return;
        }
    }
}

int
maglev_build(struct maglev_table *table, const struct cluster_target *targets,
    size_t n)
{
    struct maglev_turn *turns;

    memset(table->slot, 0xff, (size_t)table->size * sizeof(*table->slot));
    table->n_targets = 0;
    if (n == 0)
        return 0;
    if (n > MAGLEV_MAX_TARGETS || n > table->size)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (targets[i].weight == 0)
            return -EINVAL;
    if ((turns = calloc(n, sizeof(*turns))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        turns[i].index = i;
        turns[i].id = targets[i].gateway_id;
        turns[i].weight = targets[i].weight;
    }
    /* Sorting makes the table independent of the list's order.  Equal
     * ids, which a valid plan never has, keep their list order. */
    qsort(turns, n, sizeof(*turns), maglev_turn_cmp);
    maglev_fill(table, turns, n);
    table->n_targets = n;
    free(turns);
    return 0;
}

int
maglev_lookup(const struct maglev_table *table, const void *key,
    size_t keylen)
{
    if (table->n_targets == 0)
        return -ENOENT;
    uint64_t h = maglev_hash(key, keylen, MAGLEV_SEED_KEY);
    return table->slot[h % table->size];
}

int
maglev_lookup2(const struct maglev_table *table, const void *key,
    size_t keylen, int out[2])
{
    if (table->n_targets == 0)
        return -ENOENT;
    out[0] = maglev_lookup(table, key, keylen);
    uint64_t h = maglev_hash(key, keylen, MAGLEV_SEED_KEY2);
    uint32_t slot = (uint32_t)(h % table->size);
    /* The second hash may land on a slot of the first candidate; the
     * next slot owned by another target keeps the two distinct.  Slots
     * interleave, so this takes a target about as often as its share. */
    for (uint32_t i = 0; i < table->size; i++) {
        if (table->slot[slot] != out[0]) {
            out[1] = table->slot[slot];
            return 2;
        }
        slot = slot + 1 == table->size ? 0 : slot + 1;
    }
    out[1] = out[0];
    return 1;
}

size_t
cluster_choose_target(const uint16_t *loads, size_t first, size_t second,
    uint16_t margin_permille)
{
    if ((uint32_t)loads[first] > (uint32_t)loads[second] + margin_permille)
        return second;
    return first;
}

uint32_t
maglev_count_slots(const struct maglev_table *table, size_t index)
{
    uint32_t count = 0;

    for (uint32_t i = 0; i < table->size; i++)
        if (table->slot[i] == index)
            count++;
    return count;
}

uint32_t
maglev_get_size(const struct maglev_table *table)
{
    return table->size;
}
