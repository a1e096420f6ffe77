/*
 * IKE SA allocation and the SPIr hash table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_sa.h"

#define TABLE_MIN_BUCKETS 1024

struct ike_sa *
ike_sa_new(void)
{
    return calloc(1, sizeof(struct ike_sa));
}

void
ike_sa_drop_init(struct ike_sa *sa)
{
    if (sa->init == NULL)
        return;
    free(sa->init->request);
    free(sa->init->response);
    OPENSSL_cleanse(sa->init, sizeof(*sa->init));
    free(sa->init);
    sa->init = NULL;
}

void
ike_sa_free(struct ike_sa *sa)
{
    if (sa == NULL)
        return;
    ike_sa_drop_init(sa);
    ike_keys_wipe_sa(&sa->keys);
    free(sa->id);
    free(sa->response);
    free(sa->request);
    free(sa->redirect_to);
    free(sa);
}

const char *
ike_sa_state_name(const struct ike_sa *sa)
{
    switch (sa->state) {
    case IKE_SA_HALF_OPEN:
        return "half-open";
    case IKE_SA_ESTABLISHED:
        return sa->redirected ? "redirected" : "established";
    default:
        return "closing";
    }
}

int
ike_sa_table_init(struct ike_sa_table *t)
{
    memset(t, 0, sizeof(*t));
    if ((t->buckets = calloc(TABLE_MIN_BUCKETS, sizeof(*t->buckets))) ==
        NULL)
        return -ENOMEM;
    t->mask = TABLE_MIN_BUCKETS - 1;
    return 0;
}

void
ike_sa_table_fini(struct ike_sa_table *t)
{
    free(t->buckets);
    t->buckets = NULL;
}

static size_t
spi_hash(const uint8_t spi[8])
{
    uint64_t v;

    memcpy(&v, spi, sizeof(v));
    return (size_t)(v ^ (v >> 29));
}

static void
table_grow(struct ike_sa_table *t)
{
    size_t n = (t->mask + 1) * 2;
    struct ike_sa **b = calloc(n, sizeof(*b));

    /* Without memory the table keeps working, only with longer chains. */
    if (b == NULL)
        return;
    for (size_t i = 0; i <= t->mask; i++) {
        struct ike_sa *sa = t->buckets[i];

        while (sa != NULL) {
            struct ike_sa *next = sa->hnext;
            size_t h = spi_hash(sa->spi_r) & (n - 1);

            sa->hnext = b[h];
            b[h] = sa;
            sa = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->mask = n - 1;
}

int
ike_sa_table_insert(struct ike_sa_table *t, struct ike_sa *sa)
{
    size_t h;

    if (t->count > t->mask)
        table_grow(t);
    h = spi_hash(sa->spi_r) & t->mask;
    sa->hnext = t->buckets[h];
    t->buckets[h] = sa;
    sa->prev = NULL;
    sa->next = t->head;
    if (t->head != NULL)
        t->head->prev = sa;
    t->head = sa;
    t->count++;
    return 0;
}

void
ike_sa_table_remove(struct ike_sa_table *t, struct ike_sa *sa)
{
    struct ike_sa **pp = &t->buckets[spi_hash(sa->spi_r) & t->mask];

    while (*pp != NULL && *pp != sa)
        pp = &(*pp)->hnext;
    if (*pp == NULL)
        return;
    *pp = sa->hnext;
    if (sa->prev != NULL)
        sa->prev->next = sa->next;
    else
        t->head = sa->next;
    if (sa->next != NULL)
        sa->next->prev = sa->prev;
    sa->hnext = sa->prev = sa->next = NULL;
    t->count--;
}

struct ike_sa *
ike_sa_table_find(const struct ike_sa_table *t, const uint8_t spi_r[8])
{
    struct ike_sa *sa = t->buckets[spi_hash(spi_r) & t->mask];

    while (sa != NULL && memcmp(sa->spi_r, spi_r, 8) != 0)
        sa = sa->hnext;
    return sa;
}

void
ike_sa_addr_set(union ike_sa_addr *dst, const struct sockaddr *src)
{
    memset(dst, 0, sizeof(*dst));
    if (src->sa_family == AF_INET)
        memcpy(&dst->in, src, sizeof(dst->in));
    else if (src->sa_family == AF_INET6)
        memcpy(&dst->in6, src, sizeof(dst->in6));
}

bool
ike_sa_addr_equal(const struct sockaddr *a, const struct sockaddr *b,
    bool port)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)a;
        const struct sockaddr_in *y = (const struct sockaddr_in *)b;

        return x->sin_addr.s_addr == y->sin_addr.s_addr &&
            (!port || x->sin_port == y->sin_port);
    }
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
        const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

        return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 &&
            (!port || x->sin6_port == y->sin6_port);
    }
    return false;
}
