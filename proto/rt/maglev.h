/*
 * Weighted consistent hashing over a plan's redirect targets, with the
 * table-filling scheme of Google's Maglev load balancer.  Each target walks
 * its own permutation of the table's slots and claims the next free slot
 * on its turn; a target with a larger weight gets more turns, so it owns
 * about weight / sum(weights) of the slots.  When one target of N leaves,
 * about 1/N of the keys move, mostly those that the leaving target owned
 * (tests/unit/test_maglev.c measures both).
 *
 * The table depends only on the targets' gateway ids and weights, not on
 * their order in the list, so the controller and every agent that build a
 * table from the same plan map each key to the same target.  The caller
 * chooses the key (for example the client's identity or address).
 */
#ifndef IKESHIFT_RT_MAGLEV_H
#define IKESHIFT_RT_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

#include "rt/cluster.h"

/* Table sizes: a prime well above the number of targets. */
#define MAGLEV_SIZE_DEFAULT 65537
#define MAGLEV_SIZE_SMALL   4099
#define MAGLEV_MAX_TARGETS  CLUSTER_MAX_TARGETS

struct maglev_table;

/*
 * Creates an empty table of `size` slots.  Returns NULL when `size` is not
 * a prime in 2..16777213, or when out of memory.  The caller frees the
 * table with maglev_free().
 */
struct maglev_table *
maglev_new(uint32_t size);

/* Frees `table`; NULL is ignored. */
void
maglev_free(struct maglev_table *table);

/*
 * Fills `table` from targets[0..n) (read, not kept).  Returns 0, or
 * -EINVAL when n exceeds MAGLEV_MAX_TARGETS or the table size, or a
 * weight is 0, in which case the table is left empty.  n == 0 empties it.
 */
int
maglev_build(struct maglev_table *table, const struct cluster_target *targets,
    size_t n);

/*
 * Returns the index into the targets[] of the last maglev_build() that
 * owns key[0..keylen), or -ENOENT when the table is empty.
 */
int
maglev_lookup(const struct maglev_table *table, const void *key,
    size_t keylen);

/*
 * Looks up two candidates for key[0..keylen): out[0] is what
 * maglev_lookup() returns, out[1] the owner of the slot that a second,
 * independent hash of the key picks, or of the next slot after it owned
 * by another target.  Returns 2; 1 with out[1] = out[0] when no other
 * target owns a slot; -ENOENT when the table is empty.
 */
int
maglev_lookup2(const struct maglev_table *table, const void *key,
    size_t keylen, int out[2]);

/* Margin by which the first candidate must be busier than the second
 * before cluster_choose_target() takes the second, in permille of load. */
#define CLUSTER_P2C_MARGIN_PERMILLE 100

/*
 * Chooses between two candidates by power of two choices: returns
 * `second` when loads[first] exceeds loads[second] by more than
 * `margin_permille`, else `first`.  `loads` (read only) contains the loads
 * of the targets in permille, indexed like the targets[] of the table.
 */
size_t
cluster_choose_target(const uint16_t *loads, size_t first, size_t second,
    uint16_t margin_permille);

/* Returns the number of slots that target `index` owns (tests, metrics). */
uint32_t
maglev_count_slots(const struct maglev_table *table, size_t index);

/* Returns the table size given to maglev_new(). */
uint32_t
maglev_get_size(const struct maglev_table *table);

#endif /* IKESHIFT_RT_MAGLEV_H */
