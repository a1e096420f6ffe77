/*
 * Blocking HTTP/1.1 client over one TCP connection per request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <llhttp.h>

#include "http_client.h"

int
http_url_parse(const char *url, struct http_url *out)
{
    static const char scheme[] = "http://";
    const char *p;
    const char *end;

    memset(out, 0, sizeof(*out));
    if (strncasecmp(url, "https://", 8) == 0)
        return -ENOTSUP;
    if (strncasecmp(url, scheme, sizeof(scheme) - 1) != 0)
        return strstr(url, "://") != NULL ? -ENOTSUP : -EINVAL;
    p = url + sizeof(scheme) - 1;
    if (*p == '[') {
        p++;
        if ((end = strchr(p, ']')) == NULL)
            return -EINVAL;
    } else {
        end = p + strcspn(p, ":/");
    }
    size_t len = (size_t)(end - p);
    if (len == 0 || len > HTTP_CLIENT_HOST_MAX)
        return -EINVAL;
    memcpy(out->host, p, len);
    out->host[len] = '\0';
    if (*end == ']')
        end++;

    out->port = 80;
    if (*end == ':') {
        char *stop;
        unsigned long port = strtoul(end + 1, &stop, 10);
        if (stop == end + 1 || port == 0 || port > 65535)
            return -EINVAL;
        out->port = (uint16_t)port;
        end = stop;
    }
    if (*end != '\0' && strcmp(end, "/") != 0)
        return -EINVAL;
    return 0;
}

static int
client_connect(const struct http_url *url, int timeout_ms)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;

    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, url->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(url->port);
        len = sizeof(*sin);
    } else if (inet_pton(AF_INET6, url->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(url->port);
        len = sizeof(*sin6);
    } else {
        /* TODO: host names are not resolved; give an address. */
        return -EINVAL;
    }
    if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -errno;

    struct timeval tv = {
        .tv_sec = timeout_ms / 1000,
        .tv_usec = (timeout_ms % 1000) * 1000,
    };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
        int err = errno == EINPROGRESS || errno == EAGAIN ? ETIMEDOUT : errno;
        close(fd);
        return -err;
    }
    return fd;
}

static int
client_send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

struct client_parse {
    struct http_client_response *resp;
    char field[32];
    size_t field_len;
    bool field_is_type;
    size_t type_len;
    bool done;
    bool too_big;
};

static int
client_on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct client_parse *cp = p->data;
    size_t room = sizeof(cp->field) - 1 - cp->field_len;
    size_t n = len < room ? len : room;

    memcpy(cp->field + cp->field_len, at, n);
    cp->field_len += n;
    cp->field[cp->field_len] = '\0';
    return 0;
}

static int
client_on_header_field_complete(llhttp_t *p)
{
    struct client_parse *cp = p->data;

    cp->field_is_type = strcasecmp(cp->field, "content-type") == 0;
    cp->field_len = 0;
    cp->type_len = 0;
    return 0;
}

static int
client_on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct client_parse *cp = p->data;
    char *type = cp->resp->content_type;
    size_t room = sizeof(cp->resp->content_type) - 1 - cp->type_len;

    if (!cp->field_is_type)
        return 0;
    if (len > room)
        len = room;
    memcpy(type + cp->type_len, at, len);
    cp->type_len += len;
    type[cp->type_len] = '\0';
    return 0;
}

static int
client_on_body(llhttp_t *p, const char *at, size_t len)
{
    struct client_parse *cp = p->data;
    struct http_client_response *resp = cp->resp;

    if (len > HTTP_CLIENT_BODY_MAX - resp->body_len) {
        cp->too_big = true;
        return -1;
    }
    char *body = realloc(resp->body, resp->body_len + len + 1);
    if (body == NULL)
        return -1;
    memcpy(body + resp->body_len, at, len);
    resp->body = body;
    resp->body_len += len;
    body[resp->body_len] = '\0';
    return 0;
}

static int
client_on_message_complete(llhttp_t *p)
{
    struct client_parse *cp = p->data;

    cp->done = true;
    cp->resp->status = p->status_code;
    return HPE_PAUSED;
}

/* Reads and parses the response until it is complete. */
static int
client_read_response(int fd, struct http_client_response *resp)
{
    llhttp_settings_t settings;
    llhttp_t parser;
    struct client_parse cp = { .resp = resp };
    char buf[8192];

    llhttp_settings_init(&settings);
    settings.on_header_field = client_on_header_field;
    settings.on_header_field_complete = client_on_header_field_complete;
    settings.on_header_value = client_on_header_value;
    settings.on_body = client_on_body;
    settings.on_message_complete = client_on_message_complete;
    llhttp_init(&parser, HTTP_RESPONSE, &settings);
    parser.data = &cp;

    while (!cp.done) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        llhttp_errno_t err = n == 0 ? llhttp_finish(&parser)
            : llhttp_execute(&parser, buf, (size_t)n);
        if (cp.done)
            break;
        if (err != HPE_OK || n == 0)
            return cp.too_big ? -EFBIG : -EPROTO;
    }
    if (resp->body == NULL && (resp->body = calloc(1, 1)) == NULL)
        return -ENOMEM;
    return 0;
}

int
http_client_request(const struct http_url *url, const char *method,
    const char *path, const char *token, const char *body, int timeout_ms,
    struct http_client_response *resp)
{
    char head[2048];
    int fd;
    int ret;

    memset(resp, 0, sizeof(resp[0]));
    int n = snprintf(head, sizeof(head),
        "%s %s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n"
        "Connection: close\r\n%s%s%s",
        method, path, url->host, token != NULL ? "Authorization: Bearer " : "",
        token != NULL ? token : "", token != NULL ? "\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof(head))
        return -EINVAL;
    size_t body_len = body != NULL ? strlen(body) : 0;
    int m = snprintf(head + n, sizeof(head) - (size_t)n,
        "%sContent-Length: %zu\r\n\r\n",
        body != NULL ? "Content-Type: application/json\r\n" : "", body_len);
    if (m < 0 || (size_t)m >= sizeof(head) - (size_t)n)
        return -EINVAL;

    if ((fd = client_connect(url, timeout_ms)) < 0)
        return fd;
    if ((ret = client_send_all(fd, head, (size_t)(n + m))) < 0)
        goto out;
    if (body_len > 0 && (ret = client_send_all(fd, body, body_len)) < 0)
        goto out;
    ret = client_read_response(fd, resp);
out:
    close(fd);
    if (ret < 0)
        http_client_free(resp);
    return ret;
}

void
http_client_free(struct http_client_response *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
}
