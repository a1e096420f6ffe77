/*
 * Bounded big-endian reader and writer over caller buffers.
 *
 * Neither allocates.  The reader never reads outside the buffer it was
 * given.  The writer records its first failure (-ENOBUFS when the buffer is
 * full, or the error a builder passed to ike_writer_fail()) and ignores every
 * later write, so a builder can issue a run of writes and check once at the
 * end.  Chain state (which Next Payload field to patch) also lives in the
 * writer, and ike_msg.h documents it.
 */
#ifndef IKESHIFT_IKE_BUF_H
#define IKESHIFT_IKE_BUF_H

#include <stddef.h>
#include <stdint.h>

/* Loads and stores of network-order integers.  p must hold enough octets. */
static inline uint16_t
ike_load16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
ike_load32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
        (uint32_t)p[2] << 8 | p[3];
}

static inline void
ike_store16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void
ike_store32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A read cursor over buf[0..len).  buf is borrowed. */
struct ike_reader {
    const uint8_t *buf;
    size_t len;
    size_t pos;             /* next octet to read */
};

/* Sentinel for ike_writer.hdr_off and np_off: no such field. */
#define IKE_WRITER_NONE ((size_t)-1)

/*
 * A write cursor over buf[0..cap).  buf is borrowed and must outlive the
 * writer.  The fields after err belong to the ike_msg chain builder.
 */
struct ike_writer {
    uint8_t *buf;
    size_t cap;
    size_t len;             /* octets written so far */
    int err;                /* first failure (negative errno), or 0 */
    size_t hdr_off;         /* IKE header being built, or IKE_WRITER_NONE */
    size_t np_off;          /* Next Payload field the next payload sets */
    size_t payload_off;     /* generic header of the open payload */
    uint8_t first_type;     /* type of the first payload of the chain */
    uint8_t payload_open;   /* 1 between payload begin and end */
    uint8_t chain_closed;   /* 1 after SK or SKF: nothing may follow */
};

/* Points r at buf[0..len), which the caller keeps valid while r is used. */
void
ike_reader_init(struct ike_reader *r, const uint8_t *buf, size_t len);

/* Returns the number of octets left to read. */
size_t
ike_reader_left(const struct ike_reader *r);

/*
 * Each reads one value and advances, or returns -EBADMSG without moving
 * when fewer octets are left than the value needs.
 */
int
ike_reader_u8(struct ike_reader *r, uint8_t *v);

int
ike_reader_u16(struct ike_reader *r, uint16_t *v);

int
ike_reader_u32(struct ike_reader *r, uint32_t *v);

/*
 * Lends a pointer to the next n octets in *out and advances past them, or
 * returns -EBADMSG without moving when fewer than n are left.
 */
int
ike_reader_bytes(struct ike_reader *r, size_t n, const uint8_t **out);

/*
 * Starts an empty writer over buf[0..cap) with no chain open.  A NULL buf
 * gives a writer with no room, which fails on its first write.
 */
void
ike_writer_init(struct ike_writer *w, uint8_t *buf, size_t cap);

/*
 * Each appends its value in network order.  On overflow nothing is written
 * and the writer fails with -ENOBUFS.  After any failure they do nothing.
 */
void
ike_writer_u8(struct ike_writer *w, uint8_t v);

void
ike_writer_u16(struct ike_writer *w, uint16_t v);

void
ike_writer_u32(struct ike_writer *w, uint32_t v);

/* Appends n octets copied from data.  data may be NULL only when n is 0;
 * otherwise the writer fails with -EINVAL. */
void
ike_writer_bytes(struct ike_writer *w, const void *data, size_t n);

/* Appends n zero octets. */
void
ike_writer_zero(struct ike_writer *w, size_t n);

/*
 * Appends n octets for the caller to fill in place and returns a pointer to
 * them, or NULL after a failure.  The pointer is valid until the buffer is
 * reused.
 */
uint8_t *
ike_writer_reserve(struct ike_writer *w, size_t n);

/*
 * Each overwrites the 8, 16 or 32-bit field at off, which must already be
 * written.  A field outside the written octets fails the writer with
 * -EINVAL.
 */
void
ike_writer_patch8(struct ike_writer *w, size_t off, uint8_t v);

void
ike_writer_patch16(struct ike_writer *w, size_t off, uint16_t v);

void
ike_writer_patch32(struct ike_writer *w, size_t off, uint32_t v);

/* Records err (negative errno) unless the writer has already failed. */
void
ike_writer_fail(struct ike_writer *w, int err);

/* Returns the first failure as a negative errno, or 0. */
int
ike_writer_error(const struct ike_writer *w);

/* Returns the number of octets written. */
size_t
ike_writer_len(const struct ike_writer *w);

#endif /* IKESHIFT_IKE_BUF_H */
