/*
 * The in-memory engine test bed of engine_harness.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "engine_harness.h"
#include "ike_const.h"

const struct ike_suite harness_suite_gcm_x25519 = {
    IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_256, IKE_INTEG_NONE,
    IKE_DH_CURVE25519,
};
const struct ike_suite harness_suite_cbc_modp2048 = {
    IKE_ENCR_AES_CBC, 256, IKE_PRF_HMAC_SHA2_256,
    IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_MODP_2048,
};
const struct ike_suite harness_suite_gcm_p256 = {
    IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256, IKE_INTEG_NONE,
    IKE_DH_ECP_256,
};

const uint8_t harness_psk[] = "harness-psk-0123456789";
const size_t harness_psk_len = sizeof(harness_psk) - 1;

static const uint8_t client_id[] = "client@example.net";
static const char gw_id[] = "gw.example.net";

void
harness_addr4(struct sockaddr_storage *ss, const char *text, uint16_t port)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;

    memset(ss, 0, sizeof(*ss));
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    inet_pton(AF_INET, text, &sin->sin_addr);
}

static void
prefix4(struct config_prefix *p, const char *text, unsigned len)
{
    memset(p, 0, sizeof(*p));
    p->family = AF_INET;
    inet_pton(AF_INET, text, &p->addr.v4);
    p->len = len;
}

void
harness_init(struct harness *h)
{
    memset(h, 0, sizeof(*h));
    engine_config_init(&h->cfg);
    h->cfg.ike[0] = harness_suite_gcm_x25519;
    h->cfg.ike[1] = harness_suite_cbc_modp2048;
    h->cfg.ike[2] = harness_suite_gcm_p256;
    h->cfg.n_ike = 3;
    h->cfg.esp[0].suite = (struct ike_child_suite) {
        IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE,
    };
    h->cfg.esp[1].suite = (struct ike_child_suite) {
        IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128,
    };
    h->cfg.n_esp = 2;
    h->cfg.local_id_type = IKE_ID_FQDN;
    memcpy(h->cfg.local_id, gw_id, sizeof(gw_id) - 1);
    h->cfg.local_id_len = sizeof(gw_id) - 1;
    h->psk.id = "*";
    memcpy(h->psk.key, harness_psk, harness_psk_len);
    h->psk.key_len = harness_psk_len;
    h->cfg.psks = &h->psk;
    h->cfg.n_psks = 1;
    h->cfg.have_pool = true;
    prefix4(&h->cfg.pool, "203.0.113.64", 26);
    prefix4(&h->cfg.subnets[0], "198.51.100.0", 24);
    h->cfg.n_subnets = 1;
    h->policy.state = POLICY_ADMIN_ACTIVE;
    harness_addr4(&h->gw, "198.51.100.3", 500);
    harness_addr4(&h->client, "198.51.100.1", 500);
    h->now_ms = 1000;
}

static int
harness_capture(void *arg, const struct sockaddr *local,
    const struct sockaddr *peer, const uint8_t *msg, size_t len)
{
    struct harness *h = arg;
    struct harness_dgram *d = &h->sent[h->n_sent % HARNESS_MAX_SENT];
    size_t alen;

    if (len > sizeof(d->msg))
        return -EMSGSIZE;
    memcpy(d->msg, msg, len);
    d->len = len;
    alen = local->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                        : sizeof(struct sockaddr_in);
    memset(&d->local, 0, sizeof(d->local));
    memcpy(&d->local, local, alen);
    alen = peer->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                       : sizeof(struct sockaddr_in);
    memset(&d->peer, 0, sizeof(d->peer));
    memcpy(&d->peer, peer, alen);
    h->n_sent++;
    return 0;
}

int
harness_start(struct harness *h)
{
    h->engine = engine_new(&h->cfg, policy_static_policy(&h->policy),
        harness_capture, h);
    return h->engine != NULL ? 0 : -ENOMEM;
}

void
harness_free(struct harness *h)
{
    engine_free(h->engine);
    h->engine = NULL;
}

struct ike_initiator_config
harness_client_config(const struct harness *h, const struct ike_suite *suite)
{
    struct ike_initiator_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.ike = *suite;
    cfg.redirect = IKE_INITIATOR_REDIRECT_SUPPORTED;
    cfg.psk = harness_psk;
    cfg.psk_len = harness_psk_len;
    cfg.id_type = IKE_ID_RFC822_ADDR;
    cfg.id = client_id;
    cfg.id_len = sizeof(client_id) - 1;
    cfg.request_vip = true;
    cfg.local = h->client;
    cfg.peer = h->gw;
    return cfg;
}

size_t
harness_input_from(struct harness *h, const struct sockaddr_storage *peer,
    const uint8_t *msg, size_t len)
{
    size_t before = h->n_sent;

    engine_input(h->engine, msg, len, (const struct sockaddr *)&h->gw,
        (const struct sockaddr *)peer, h->now_ms);
    return h->n_sent - before;
}

size_t
harness_input(struct harness *h, const uint8_t *msg, size_t len)
{
    return harness_input_from(h, &h->client, msg, len);
}

const struct harness_dgram *
harness_last(const struct harness *h)
{
    if (h->n_sent == 0)
        return NULL;
    return &h->sent[(h->n_sent - 1) % HARNESS_MAX_SENT];
}

const struct harness_dgram *
harness_sent(const struct harness *h, size_t index)
{
    if (index >= h->n_sent || h->n_sent - index > HARNESS_MAX_SENT)
        return NULL;
    return &h->sent[index % HARNESS_MAX_SENT];
}

enum ike_initiator_event
harness_deliver(struct harness *h, size_t index, struct ike_initiator *ini,
    struct ike_initiator_out *out)
{
    const struct harness_dgram *d = harness_sent(h, index);

    if (d == NULL || ike_initiator_input(ini, d->msg, d->len, out) < 0) {
        out->event = IKE_INITIATOR_EV_NONE;
        out->msg = NULL;
        out->len = 0;
    }
    return out->event;
}

enum ike_initiator_event
harness_deliver_last(struct harness *h, struct ike_initiator *ini,
    struct ike_initiator_out *out)
{
    if (h->n_sent == 0) {
        out->event = IKE_INITIATOR_EV_NONE;
        out->msg = NULL;
        out->len = 0;
        return out->event;
    }
    return harness_deliver(h, h->n_sent - 1, ini, out);
}

enum ike_initiator_event
harness_step(struct harness *h, struct ike_initiator *ini,
    struct ike_initiator_out *out)
{
    size_t n = out->msg != NULL ? harness_input(h, out->msg, out->len) : 0;

    if (n == 0 || n > HARNESS_MAX_SENT) {
        out->event = IKE_INITIATOR_EV_NONE;
        out->msg = NULL;
        out->len = 0;
        return out->event;
    }
    return harness_deliver(h, h->n_sent - n, ini, out);
}

enum ike_initiator_event
harness_run(struct harness *h, struct ike_initiator *ini)
{
    struct ike_initiator_out out;
    enum ike_initiator_event last;

    if (ike_initiator_start(ini, &out) < 0)
        return IKE_INITIATOR_EV_NONE;
    last = out.event;
    /* COOKIE and INVALID_KE rounds plus IKE_AUTH need at most 4 steps. */
    for (int i = 0; i < 8 && out.msg != NULL; i++) {
        enum ike_initiator_event ev = harness_step(h, ini, &out);

        if (ev == IKE_INITIATOR_EV_NONE)
            break;
        last = ev;
        if (ev == IKE_INITIATOR_EV_ESTABLISHED)
            break;
    }
    return last;
}

struct find_arg {
    const uint8_t *spi_i;
    struct engine_sa_info *info;
    bool found;
};

static void
find_cb(void *arg, const struct engine_sa_info *sa)
{
    struct find_arg *f = arg;

    if (!f->found && memcmp(sa->spi_i, f->spi_i, 8) == 0) {
        *f->info = *sa;
        f->found = true;
    }
}

bool
harness_find_sa(struct harness *h, const uint8_t spi_i[8],
    struct engine_sa_info *info)
{
    struct find_arg f = { spi_i, info, false };

    engine_foreach_sa(h->engine, find_cb, &f);
    return f.found;
}
