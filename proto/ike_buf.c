/*
 * Bounded reader and sticky-error writer, documented in ike_buf.h.
 */
#include "ike_buf.h"

#include <errno.h>
#include <string.h>

void
ike_reader_init(struct ike_reader *r, const uint8_t *buf, size_t len)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
}

size_t
ike_reader_left(const struct ike_reader *r)
{
    return r->len - r->pos;
}

int
ike_reader_u8(struct ike_reader *r, uint8_t *v)
{
    if (ike_reader_left(r) < 1)
        return -EBADMSG;
    *v = r->buf[r->pos];
    r->pos += 1;
    return 0;
}

int
ike_reader_u16(struct ike_reader *r, uint16_t *v)
{
    if (ike_reader_left(r) < 2)
        return -EBADMSG;
    *v = ike_load16(r->buf + r->pos);
    r->pos += 2;
    return 0;
}

int
ike_reader_u32(struct ike_reader *r, uint32_t *v)
{
    if (ike_reader_left(r) < 4)
        return -EBADMSG;
    *v = ike_load32(r->buf + r->pos);
    r->pos += 4;
    return 0;
}

int
ike_reader_bytes(struct ike_reader *r, size_t n, const uint8_t **out)
{
    if (ike_reader_left(r) < n)
        return -EBADMSG;
    *out = r->buf + r->pos;
    r->pos += n;
    return 0;
}

void
ike_writer_init(struct ike_writer *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = buf == NULL ? 0 : cap;
    w->len = 0;
    w->err = 0;
    w->hdr_off = IKE_WRITER_NONE;
    w->np_off = IKE_WRITER_NONE;
    w->payload_off = IKE_WRITER_NONE;
    w->first_type = 0;
    w->payload_open = 0;
    w->chain_closed = 0;
}

uint8_t *
ike_writer_reserve(struct ike_writer *w, size_t n)
{
    if (w->err != 0)
        return NULL;
    if (w->cap - w->len < n) {
        w->err = -ENOBUFS;
        return NULL;
    }
    if (w->buf == NULL)
        return NULL;

    uint8_t *p = w->buf + w->len;

    w->len += n;
    return p;
}

void
ike_writer_u8(struct ike_writer *w, uint8_t v)
{
    uint8_t *p = ike_writer_reserve(w, 1);

    if (p != NULL)
        p[0] = v;
}

void
ike_writer_u16(struct ike_writer *w, uint16_t v)
{
    uint8_t *p = ike_writer_reserve(w, 2);

    if (p != NULL)
        ike_store16(p, v);
}

void
ike_writer_u32(struct ike_writer *w, uint32_t v)
{
    uint8_t *p = ike_writer_reserve(w, 4);

    if (p != NULL)
        ike_store32(p, v);
}

void
ike_writer_bytes(struct ike_writer *w, const void *data, size_t n)
{
    uint8_t *p;

    if (data == NULL && n > 0) {
        ike_writer_fail(w, -EINVAL);
        return;
    }
    p = ike_writer_reserve(w, n);

    if (p != NULL && n > 0)
        memcpy(p, data, n);
}

void
ike_writer_zero(struct ike_writer *w, size_t n)
{
    uint8_t *p = ike_writer_reserve(w, n);

    if (p != NULL && n > 0)
        memset(p, 0, n);
}

/* Returns 1 if width octets at off lie inside what was written. */
static int
ike_writer_written(struct ike_writer *w, size_t off, size_t width)
{
    if (w->err != 0)
        return 0;
    if (off > w->len || w->len - off < width) {
        w->err = -EINVAL;
        return 0;
    }
    return 1;
}

void
ike_writer_patch8(struct ike_writer *w, size_t off, uint8_t v)
{
    if (ike_writer_written(w, off, 1))
        w->buf[off] = v;
}

void
ike_writer_patch16(struct ike_writer *w, size_t off, uint16_t v)
{
    if (ike_writer_written(w, off, 2))
        ike_store16(w->buf + off, v);
}

void
ike_writer_patch32(struct ike_writer *w, size_t off, uint32_t v)
{
    if (ike_writer_written(w, off, 4))
        ike_store32(w->buf + off, v);
}

void
ike_writer_fail(struct ike_writer *w, int err)
{
    if (w->err == 0)
        w->err = err;
}

int
ike_writer_error(const struct ike_writer *w)
{
    return w->err;
}

size_t
ike_writer_len(const struct ike_writer *w)
{
    return w->len;
}
