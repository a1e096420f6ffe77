/*
 * libFuzzer harness for the IKE message parser.
 *
 * Each input is treated as a port 4500 datagram (non-ESP marker stripped
 * when present) or else as a whole IKE message.  A message that parses has
 * every payload body decoded, is rebuilt with the builders from the decoded
 * values, and must parse again to the same values.  The rebuilt octets must
 * also rebuild to themselves.  An SK body is parsed as if it were a
 * decrypted inner chain.  Any disagreement calls abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_const.h"
#include "ike_msg.h"
#include "ike_natd.h"
#include "ike_payload.h"
#include "ike_redirect.h"
#include "ike_sa_payload.h"

#define MAX_PROPOSALS   64
#define MAX_TRANSFORMS  256
#define MAX_SELECTORS   256
#define MAX_CP_ATTRS    1024
#define OUT_MAX         70000

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
    if (!cond)
        abort();
}

static int
same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Scratch arrays for rebuilding SA, TS and CP payloads. */
struct scratch {
    struct ike_proposal_spec props[MAX_PROPOSALS];
    struct ike_transform xforms[MAX_TRANSFORMS];
    struct ike_ts ts[MAX_SELECTORS];
    struct ike_cp_attr attrs[MAX_CP_ATTRS];
};

static struct scratch scratch;

/* Rebuilds an SA payload, or returns 0 if it exceeds the scratch arrays. */
static int
rebuild_sa(struct ike_writer *w, const struct ike_payload *p)
{
    struct ike_proposal prop;
    size_t pc = 0;
    size_t n_props = 0;
    size_t n_xf = 0;

    while (ike_sa_payload_next_proposal(p, &pc, &prop, NULL) > 0) {
        size_t tc = 0;
        size_t first = n_xf;

        if (n_props == MAX_PROPOSALS)
            return 0;
        while (n_xf < MAX_TRANSFORMS &&
            ike_sa_payload_next_transform(&prop, &tc, &scratch.xforms[n_xf],
            NULL) > 0)
            n_xf++;
        if (tc != prop.transforms_len)
            return 0;
        scratch.props[n_props++] = (struct ike_proposal_spec){
            .num = prop.num, .proto_id = prop.proto_id,
            .spi_size = prop.spi_size, .spi = prop.spi,
            .transforms = &scratch.xforms[first],
            .n_transforms = n_xf - first,
        };
    }
    ike_sa_payload_build(w, scratch.props, n_props);
    return 1;
}

/* Re-encodes p through the builder of its type.  Returns 0 to skip. */
static int
rebuild_payload(struct ike_writer *w, const struct ike_payload *p)
{
    size_t cursor = 0;
    size_t n = 0;

    switch (p->type) {
    case IKE_P_SA:
        return rebuild_sa(w, p);
    case IKE_P_KE: {
        struct ike_ke_payload ke;

        check(ike_payload_parse_ke(p, &ke, NULL) == 0);
        ike_payload_build_ke(w, ke.group, ke.data, ke.len);
        return 1;
    }
    case IKE_P_NONCE: {
        struct ike_nonce nonce;

        check(ike_payload_parse_nonce(p, &nonce, NULL) == 0);
        ike_payload_build_nonce(w, nonce.data, nonce.len);
        return 1;
    }
    case IKE_P_NOTIFY: {
        struct ike_notify nt;

        check(ike_payload_parse_notify(p, &nt, NULL) == 0);
        ike_payload_build_notify(w, nt.proto_id, nt.spi, nt.spi_size,
            nt.type, nt.data, nt.data_len);
        return 1;
    }
    case IKE_P_IDI:
    case IKE_P_IDR: {
        struct ike_id id;

        check(ike_payload_parse_id(p, &id, NULL) == 0);
        ike_payload_build_id(w, p->type, id.id_type, id.data, id.len);
        return 1;
    }
    case IKE_P_AUTH: {
        struct ike_auth auth;

        check(ike_payload_parse_auth(p, &auth, NULL) == 0);
        ike_payload_build_auth(w, auth.method, auth.data, auth.len);
        return 1;
    }
    case IKE_P_CERT:
    case IKE_P_CERTREQ: {
        struct ike_cert cert;

        check(ike_payload_parse_cert(p, &cert, NULL) == 0);
        ike_payload_build_cert(w, p->type, cert.encoding, cert.data,
            cert.len);
        return 1;
    }
    case IKE_P_TSI:
    case IKE_P_TSR: {
        struct ike_ts_payload tsp;

        check(ike_payload_parse_ts(p, &tsp, NULL) == 0);
        while (n < MAX_SELECTORS &&
            ike_payload_next_ts(&tsp, &cursor, &scratch.ts[n], NULL) > 0)
            n++;
        check(n == tsp.count);
        ike_payload_build_ts(w, p->type, scratch.ts, n);
        return 1;
    }
    case IKE_P_CP: {
        struct ike_cp cp;

        check(ike_payload_parse_cp(p, &cp, NULL) == 0);
        while (n < MAX_CP_ATTRS && ike_payload_next_cp_attr(&cp, &cursor,
            &scratch.attrs[n], NULL) > 0)
            n++;
        if (cursor != cp.attrs_len)
            return 0;
        ike_payload_build_cp(w, cp.cfg_type, scratch.attrs, n);
        return 1;
    }
    case IKE_P_DELETE: {
        struct ike_delete del;

        check(ike_payload_parse_delete(p, &del, NULL) == 0);
        ike_payload_build_delete(w, del.proto_id, del.spi_size, del.spis,
            del.n_spi);
        return 1;
    }
    case IKE_P_VENDOR:
        ike_payload_build_vendor(w, p->body, p->body_len);
        return 1;
    case IKE_P_SK: {
        struct ike_sk sk;

        check(ike_payload_parse_sk(p, &sk, NULL) == 0);
        ike_payload_build_sk(w, sk.first_inner, sk.data, sk.len);
        return 1;
    }
    case IKE_P_SKF: {
        struct ike_skf skf;

        check(ike_payload_parse_skf(p, &skf, NULL) == 0);
        ike_payload_build_skf(w, skf.first_inner, skf.fragment, skf.total,
            skf.data, skf.len);
        return 1;
    }
    default:
        /* EAP and unknown types: the body is opaque. */
        ike_payload_build_raw(w, p->type, p->known ? 0 : p->critical,
            p->body, p->body_len);
        return 1;
    }
}

/* Rebuilds every payload of c, or returns 0 if one was skipped. */
static int
rebuild_chain(struct ike_writer *w, const struct ike_chain *c)
{
    for (size_t i = 0; i < c->count; i++) {
        if (!rebuild_payload(w, &c->payloads[i]))
            return 0;
    }
    return 1;
}

static void
compare_sa(const struct ike_payload *a, const struct ike_payload *b)
{
    struct ike_proposal pa;
    struct ike_proposal pb;
    size_t ca = 0;
    size_t cb = 0;

    while (ike_sa_payload_next_proposal(a, &ca, &pa, NULL) > 0) {
        struct ike_transform xa;
        struct ike_transform xb;
        size_t ta = 0;
        size_t tb = 0;

        check(ike_sa_payload_next_proposal(b, &cb, &pb, NULL) == 1);
        check(pa.num == pb.num && pa.proto_id == pb.proto_id);
        check(pa.n_transforms == pb.n_transforms);
        check(same_bytes(pa.spi, pa.spi_size, pb.spi, pb.spi_size));
        while (ike_sa_payload_next_transform(&pa, &ta, &xa, NULL) > 0) {
            check(ike_sa_payload_next_transform(&pb, &tb, &xb, NULL) == 1);
            check(xa.type == xb.type && xa.id == xb.id);
            check(xa.has_key_length == xb.has_key_length);
            check(xa.key_length == xb.key_length);
            check(same_bytes(xa.attrs, xa.attrs_len, xb.attrs,
                xb.attrs_len));
        }
        check(ike_sa_payload_next_transform(&pb, &tb, &xb, NULL) == 0);
    }
    check(ike_sa_payload_next_proposal(b, &cb, &pb, NULL) == 0);
}

static void
compare_ts(const struct ike_payload *a, const struct ike_payload *b)
{
    struct ike_ts_payload pa;
    struct ike_ts_payload pb;
    struct ike_ts sa;
    struct ike_ts sb;
    size_t ca = 0;
    size_t cb = 0;

    check(ike_payload_parse_ts(a, &pa, NULL) == 0);
    check(ike_payload_parse_ts(b, &pb, NULL) == 0);
    check(pa.count == pb.count);
    while (ike_payload_next_ts(&pa, &ca, &sa, NULL) > 0) {
        check(ike_payload_next_ts(&pb, &cb, &sb, NULL) == 1);
        check(sa.type == sb.type && sa.ip_proto == sb.ip_proto);
        check(sa.start_port == sb.start_port && sa.end_port == sb.end_port);
        check(same_bytes(sa.start_addr, sa.addr_len, sb.start_addr,
            sb.addr_len));
        check(same_bytes(sa.end_addr, sa.addr_len, sb.end_addr,
            sb.addr_len));
        check(same_bytes(sa.data, sa.data_len, sb.data, sb.data_len));
    }
}

static void
compare_cp(const struct ike_payload *a, const struct ike_payload *b)
{
    struct ike_cp pa;
    struct ike_cp pb;
    struct ike_cp_attr aa;
    struct ike_cp_attr ab;
    size_t ca = 0;
    size_t cb = 0;

    check(ike_payload_parse_cp(a, &pa, NULL) == 0);
    check(ike_payload_parse_cp(b, &pb, NULL) == 0);
    check(pa.cfg_type == pb.cfg_type);
    while (ike_payload_next_cp_attr(&pa, &ca, &aa, NULL) > 0) {
        check(ike_payload_next_cp_attr(&pb, &cb, &ab, NULL) == 1);
        check(aa.type == ab.type);
        check(same_bytes(aa.value, aa.len, ab.value, ab.len));
    }
    check(ike_payload_next_cp_attr(&pb, &cb, &ab, NULL) == 0);
}

/* Checks that a and b decode to the same values. */
static void
compare_payload(const struct ike_payload *a, const struct ike_payload *b)
{
    union {
        struct ike_ke_payload ke;
        struct ike_notify nt;
        struct ike_id id;
        struct ike_auth auth;
        struct ike_cert cert;
        struct ike_delete del;
        struct ike_skf skf;
    } ua, ub;

    check(a->type == b->type && a->body_len == b->body_len);
    check(a->known == b->known);
    switch (a->type) {
    case IKE_P_SA:
        compare_sa(a, b);
        return;
    case IKE_P_KE:
        check(ike_payload_parse_ke(a, &ua.ke, NULL) == 0);
        check(ike_payload_parse_ke(b, &ub.ke, NULL) == 0);
        check(ua.ke.group == ub.ke.group);
        check(same_bytes(ua.ke.data, ua.ke.len, ub.ke.data, ub.ke.len));
        return;
    case IKE_P_NOTIFY:
        check(ike_payload_parse_notify(a, &ua.nt, NULL) == 0);
        check(ike_payload_parse_notify(b, &ub.nt, NULL) == 0);
        check(ua.nt.proto_id == ub.nt.proto_id && ua.nt.type == ub.nt.type);
        check(same_bytes(ua.nt.spi, ua.nt.spi_size, ub.nt.spi,
            ub.nt.spi_size));
        check(same_bytes(ua.nt.data, ua.nt.data_len, ub.nt.data,
            ub.nt.data_len));
        return;
    case IKE_P_IDI:
    case IKE_P_IDR:
        check(ike_payload_parse_id(a, &ua.id, NULL) == 0);
        check(ike_payload_parse_id(b, &ub.id, NULL) == 0);
        check(ua.id.id_type == ub.id.id_type);
        check(same_bytes(ua.id.data, ua.id.len, ub.id.data, ub.id.len));
        return;
    case IKE_P_AUTH:
        check(ike_payload_parse_auth(a, &ua.auth, NULL) == 0);
        check(ike_payload_parse_auth(b, &ub.auth, NULL) == 0);
        check(ua.auth.method == ub.auth.method);
        check(same_bytes(ua.auth.data, ua.auth.len, ub.auth.data,
            ub.auth.len));
        return;
    case IKE_P_CERT:
    case IKE_P_CERTREQ:
        check(ike_payload_parse_cert(a, &ua.cert, NULL) == 0);
        check(ike_payload_parse_cert(b, &ub.cert, NULL) == 0);
        check(ua.cert.encoding == ub.cert.encoding);
        check(same_bytes(ua.cert.data, ua.cert.len, ub.cert.data,
            ub.cert.len));
        return;
    case IKE_P_TSI:
    case IKE_P_TSR:
        compare_ts(a, b);
        return;
    case IKE_P_CP:
        compare_cp(a, b);
        return;
    case IKE_P_DELETE:
        check(ike_payload_parse_delete(a, &ua.del, NULL) == 0);
        check(ike_payload_parse_delete(b, &ub.del, NULL) == 0);
        check(ua.del.proto_id == ub.del.proto_id);
        check(ua.del.spi_size == ub.del.spi_size);
        check(ua.del.n_spi == ub.del.n_spi);
        check(same_bytes(ua.del.spis, b->body_len - 4, ub.del.spis,
            b->body_len - 4));
        return;
    case IKE_P_SKF:
        check(ike_payload_parse_skf(a, &ua.skf, NULL) == 0);
        check(ike_payload_parse_skf(b, &ub.skf, NULL) == 0);
        check(ua.skf.fragment == ub.skf.fragment);
        check(ua.skf.total == ub.skf.total);
        check(a->next == b->next);
        check(same_bytes(ua.skf.data, ua.skf.len, ub.skf.data, ub.skf.len));
        return;
    case IKE_P_SK:
        check(a->next == b->next);
        check(same_bytes(a->body, a->body_len, b->body, b->body_len));
        return;
    default:
        if (!a->known)
            check(a->critical == b->critical);
        check(same_bytes(a->body, a->body_len, b->body, b->body_len));
        return;
    }
}

static void
compare_chain(const struct ike_chain *a, const struct ike_chain *b)
{
    check(a->count == b->count);
    for (size_t i = 0; i < a->count; i++) {
        compare_payload(&a->payloads[i], &b->payloads[i]);
        check(a->payloads[i].offset == b->payloads[i].offset);
    }
}

/* Feeds notify bodies to the RFC 5685 and NAT-D decoders. */
static void
exercise_notifies(const struct ike_msg *msg)
{
    const struct ike_payload *p = NULL;
    struct ike_notify nt;
    struct ike_redirect rd;
    char text[IKE_REDIRECT_GW_TEXT_MAX];

    while ((p = ike_chain_find(&msg->chain, IKE_P_NOTIFY, p)) != NULL) {
        check(ike_payload_parse_notify(p, &nt, NULL) == 0);
        check(nt.data_offset + nt.data_len == p->offset + 4 + p->body_len);
        for (int ctx = 1; ctx <= 2; ctx++) {
            if (ike_redirect_parse(&nt, ctx, &rd, NULL) == 0)
                check(ike_redirect_gw_to_text(&rd.gw, text,
                    sizeof(text)) == 0);
        }
        if (ike_redirect_parse_from(&nt, &rd.gw, NULL) == 0)
            check(ike_redirect_gw_to_text(&rd.gw, text, sizeof(text)) == 0);
        (void)ike_redirect_parse_supported(&nt, NULL);
        if (nt.type == IKE_N_NAT_DETECTION_SOURCE_IP) {
            static const uint8_t addr[4] = { 198, 51, 100, 1 };

            (void)ike_natd_match(&nt, msg->hdr.spi_i, msg->hdr.spi_r, addr,
                sizeof(addr), 500, NULL);
        }
    }
}

static uint8_t out1[OUT_MAX];
static uint8_t out2[OUT_MAX];

/* Parses the SK body as an inner chain and round-trips it when valid. */
static void
exercise_inner(const struct ike_msg *msg)
{
    static struct ike_chain inner;
    static struct ike_chain again;
    const struct ike_payload *sk = ike_msg_encrypted(msg);
    struct ike_writer w;

    if (sk == NULL || sk->type != IKE_P_SK)
        return;
    if (ike_chain_parse(&inner, sk->body, sk->body_len, sk->next, NULL) < 0)
        return;
    ike_writer_init(&w, out2, sizeof(out2));
    ike_chain_begin(&w);
    if (!rebuild_chain(&w, &inner))
        return;
    check(ike_writer_error(&w) == 0);
    check(ike_writer_len(&w) == sk->body_len);
    check(ike_writer_first_type(&w) == sk->next);
    check(ike_chain_parse(&again, out2, ike_writer_len(&w), sk->next,
        NULL) == 0);
    compare_chain(&inner, &again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ike_msg msg;
    static struct ike_msg rebuilt;
    struct ike_parse_error err;
    struct ike_writer w;
    size_t off = 0;

    if (ike_natd_classify(data, size, &off) != IKE_UDP_IKE)
        off = 0;
    if (ike_msg_parse(&msg, data + off, size - off, &err) < 0) {
        check(err.code != IKE_E_OK);
        check(err.offset <= size - off);
        check(ike_error_name(err.code)[0] != '\0');
        return 0;
    }
    check(msg.len <= size - off);
    exercise_notifies(&msg);
    exercise_inner(&msg);

    ike_writer_init(&w, out1, sizeof(out1));
    ike_msg_begin(&w, &msg.hdr);
    if (!rebuild_chain(&w, &msg.chain))
        return 0;
    check(ike_writer_error(&w) == 0);
    check(ike_writer_len(&w) == msg.len);
    check(ike_msg_parse(&rebuilt, out1, ike_writer_len(&w), &err) == 0);
    check(memcmp(rebuilt.hdr.spi_i, msg.hdr.spi_i, IKE_SPI_LEN) == 0);
    check(memcmp(rebuilt.hdr.spi_r, msg.hdr.spi_r, IKE_SPI_LEN) == 0);
    check(rebuilt.hdr.next_payload == msg.hdr.next_payload);
    check(rebuilt.hdr.exchange == msg.hdr.exchange);
    check(rebuilt.hdr.flags == msg.hdr.flags);
    check(rebuilt.hdr.msg_id == msg.hdr.msg_id);
    check(rebuilt.hdr.length == msg.hdr.length);
    compare_chain(&msg.chain, &rebuilt.chain);

    /* The rebuilt octets are canonical, so rebuilding them changes none. */
    size_t len1 = ike_writer_len(&w);

    ike_writer_init(&w, out2, sizeof(out2));
    ike_msg_begin(&w, &rebuilt.hdr);
    check(rebuild_chain(&w, &rebuilt.chain));
    check(ike_writer_len(&w) == len1);
    check(memcmp(out1, out2, len1) == 0);

    /* One octet too little room must fail cleanly. */
    ike_writer_init(&w, out2, len1 - 1);
    ike_msg_begin(&w, &rebuilt.hdr);
    (void)rebuild_chain(&w, &rebuilt.chain);
    check(ike_writer_error(&w) != 0);
    return 0;
}
