/*
 * Line logger and per-key rate limiter; see log.h for the line format.
 */
#include "rt/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const log_level_names[] = {
    [LOG_LEVEL_ERROR] = "error",
    [LOG_LEVEL_WARN] = "warn",
    [LOG_LEVEL_NOTICE] = "notice",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
    NULL,
};

/* Caps on the line prefix (time, name, pid, level, component) and suffix. */
#define LOG_PREFIX_MAX 160
#define LOG_SUFFIX_MAX 64

/* Process-wide logger settings; see log_init(). */
static struct {
    char ident[LOG_IDENT_MAX + 1];
    int fd;
    enum log_level min_level;
    long pid;
    log_clock_fn *clock;
} log_cfg = {
    .ident = "ikeshift",
    .fd = STDERR_FILENO,
    .min_level = LOG_LEVEL_INFO,
    .pid = 0,
    .clock = NULL,
};

/* Characters that a field value may contain without quotes. */
static bool
log_char_is_bare(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("-._:/@+,", c) != NULL;
}

void
log_init(const char *ident, int fd, enum log_level min_level)
{
    if (ident == NULL)
        ident = "ikeshift";
    snprintf(log_cfg.ident, sizeof(log_cfg.ident), "%s", ident);
    log_cfg.fd = fd;
    log_set_level(min_level);
    log_cfg.pid = (long)getpid();
}

void
log_set_level(enum log_level min_level)
{
    if (min_level > LOG_LEVEL_DEBUG)
        min_level = LOG_LEVEL_DEBUG;
    log_cfg.min_level = min_level;
}

enum log_level
log_get_level(void)
{
    return log_cfg.min_level;
}

void
log_set_clock(log_clock_fn *clock)
{
    log_cfg.clock = clock;
}

bool
log_enabled(enum log_level level)
{
    return level <= log_cfg.min_level;
}

int
log_parse_level(const char *name, enum log_level *out)
{
    if (name == NULL)
        return -EINVAL;
    for (size_t i = 0; log_level_names[i] != NULL; i++) {
        if (strcmp(name, log_level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *
log_level_name(enum log_level level)
{
    if (level > LOG_LEVEL_DEBUG)
        return "unknown";
    return log_level_names[level];
}

/* Appends "\xNN" for byte c at out[*len], if it fits below `limit`. */
static bool
log_put_hex(char *out, size_t *len, size_t limit, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";

    if (*len + 4 > limit)
        return false;
    out[(*len)++] = '\\';
    out[(*len)++] = 'x';
    out[(*len)++] = hex[c >> 4];
    out[(*len)++] = hex[c & 0xf];
    return true;
}

/* Writes the whole buffer, retrying after EINTR and short writes. */
static void
log_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* Formats "2026-03-01T10:22:31.412Z ident[pid] level component: ". */
static size_t
log_format_prefix(char *line, size_t size, enum log_level level,
    const char *component)
{
    struct timespec now;
    struct tm tm;
    char stamp[32];
    long pid = log_cfg.pid != 0 ? log_cfg.pid : (long)getpid();

    if (log_cfg.clock != NULL)
        log_cfg.clock(&now);
    else
        clock_gettime(CLOCK_REALTIME, &now);
    if (gmtime_r(&now.tv_sec, &tm) == NULL ||
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(stamp, sizeof(stamp), "0000-00-00T00:00:00");

    int n = snprintf(line, size, "%s.%03ldZ %s[%ld] %s %s: ", stamp,
        (long)(now.tv_nsec / 1000000) % 1000, log_cfg.ident, pid,
        log_level_name(level), component != NULL ? component : "-");
    if (n < 0)
        return 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}

/*
 * Formats and writes one line: prefix, message and `suffix`, then a
 * newline.  A message that does not fit is cut at a character or escape
 * boundary and followed by LOG_TRUNCATED_MARKER; the suffix is kept.
 */
static void
log_vwrite_suffix(enum log_level level, const char *component,
    const char *suffix, const char *fmt, va_list ap)
{
    char msg[LOG_LINE_MAX];
    char line[LOG_LINE_MAX];
    size_t suffix_len = suffix != NULL ? strlen(suffix) : 0;
    size_t marker_len = strlen(LOG_TRUNCATED_MARKER);

    if (!log_enabled(level))
        return;

    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n < 0)
        n = snprintf(msg, sizeof(msg), "(invalid log format)");
    bool cut = (size_t)n >= sizeof(msg);
    size_t msg_len = cut ? sizeof(msg) - 1 : (size_t)n;

    /* The prefix and suffix are capped so that the message always has room. */
    if (suffix_len > LOG_SUFFIX_MAX)
        suffix_len = LOG_SUFFIX_MAX;
    size_t len = log_format_prefix(line, LOG_PREFIX_MAX, level, component);
    size_t full = sizeof(line) - 1 - suffix_len;
    size_t part = full - marker_len;
    size_t keep = len;

    for (size_t i = 0; i < msg_len; i++) {
        unsigned char c = (unsigned char)msg[i];
        size_t need = (c < 0x20 || c == 0x7f) ? 4 : 1;

        if (len + need > full) {
            cut = true;
            break;
        }
        if (need == 4)
            log_put_hex(line, &len, full, c);
        else
            line[len++] = (char)c;
        if (len <= part)
            keep = len;
    }
    if (cut) {
        len = keep;
        memcpy(line + len, LOG_TRUNCATED_MARKER, marker_len);
        len += marker_len;
    }
    if (suffix_len > 0)
        memcpy(line + len, suffix, suffix_len);
    len += suffix_len;
    line[len++] = '\n';
    log_write_all(log_cfg.fd, line, len);
}

void
log_write(enum log_level level, const char *component, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite_suffix(level, component, NULL, fmt, ap);
    va_end(ap);
}

#define LOG_DEFINE_LEVEL_FN(name, level)                                   \
    void                                                                   \
    name(const char *component, const char *fmt, ...)                      \
    {                                                                      \
        va_list ap;                                                        \
                                                                           \
        va_start(ap, fmt);                                                 \
        log_vwrite_suffix(level, component, NULL, fmt, ap);                \
        va_end(ap);                                                        \
    }

LOG_DEFINE_LEVEL_FN(log_error, LOG_LEVEL_ERROR)
LOG_DEFINE_LEVEL_FN(log_warn, LOG_LEVEL_WARN)
LOG_DEFINE_LEVEL_FN(log_notice, LOG_LEVEL_NOTICE)
LOG_DEFINE_LEVEL_FN(log_info, LOG_LEVEL_INFO)
LOG_DEFINE_LEVEL_FN(log_debug, LOG_LEVEL_DEBUG)

const char *
log_escape(char *buf, size_t size, const void *value, size_t len)
{
    const unsigned char *p = value;
    bool bare = len > 0;
    size_t out = 0;

    if (buf == NULL || size < 8)
        return "";
    if (p == NULL)
        len = 0;
    for (size_t i = 0; i < len && bare; i++)
        bare = log_char_is_bare(p[i]);
    if (bare && len < size) {
        memcpy(buf, p, len);
        buf[len] = '\0';
        return buf;
    }

    /* Room for the closing quote and NUL, or for ..." and NUL if cut. */
    size_t limit = size - 2;
    size_t cut_limit = size - 5;
    size_t i;

    buf[out++] = '"';
    for (i = 0; i < len; i++) {
        unsigned char c = p[i];
        size_t need = (c == '"' || c == '\\') ? 2
                      : (c < 0x20 || c > 0x7e) ? 4 : 1;
        /* Unless this is the last byte, keep room for a cut. */
        size_t room = i + 1 == len ? limit : cut_limit;

        if (out + need > room)
            break;
        if (need == 4) {
            log_put_hex(buf, &out, room, c);
        } else {
            if (need == 2)
                buf[out++] = '\\';
            buf[out++] = (char)c;
        }
    }
    if (i < len) {
        memcpy(buf + out, "...", 3);
        out += 3;
    }
    buf[out++] = '"';
    buf[out] = '\0';
    return buf;
}

const char *
log_escape_str(char *buf, size_t size, const char *value)
{
    if (value == NULL) {
        if (buf != NULL && size >= 8)
            snprintf(buf, size, "(null)");
        return buf != NULL && size >= 8 ? buf : "";
    }
    return log_escape(buf, size, value, strlen(value));
}

/*
 * The limiter table is set-associative: a key hashes to a bucket of
 * LOG_RATELIMIT_WAYS consecutive slots and lives in one of them, so a
 * lookup costs at most that many comparisons however full the table is.
 */
#define LOG_RATELIMIT_WAYS 8

struct log_ratelimit_slot {
    bool used;
    uint8_t key_len;
    uint8_t key[LOG_RATELIMIT_KEY_MAX];
    uint64_t window_start_ms;   /* start of the current interval */
    unsigned count;             /* lines allowed in the current interval */
    uint64_t suppressed;        /* lines refused since the last allowed */
};

struct log_ratelimit {
    unsigned burst;
    uint64_t interval_ms;
    size_t mask;                /* slot count minus one */
    uint64_t lost;              /* suppressed counts of dropped keys */
    struct log_ratelimit_slot *slots;
};

struct log_ratelimit *
log_ratelimit_new(unsigned burst, uint64_t interval_ms, size_t max_keys)
{
    struct log_ratelimit *rl;
    size_t n = LOG_RATELIMIT_WAYS;

    if (burst == 0 || interval_ms == 0 || max_keys == 0)
        return NULL;
    while (n < max_keys) {
        if (n > SIZE_MAX / 2 / sizeof(struct log_ratelimit_slot))
            return NULL;
        n *= 2;
    }
    if ((rl = calloc(1, sizeof(*rl))) == NULL)
        return NULL;
    if ((rl->slots = calloc(n, sizeof(*rl->slots))) == NULL) {
        free(rl);
        return NULL;
    }
    rl->burst = burst;
    rl->interval_ms = interval_ms;
    rl->mask = n - 1;
    return rl;
}

void
log_ratelimit_free(struct log_ratelimit *rl)
{
    if (rl == NULL)
        return;
    free(rl->slots);
    free(rl);
}

/* FNV-1a, 64 bits. */
static uint64_t
log_hash_key(const uint8_t *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < len; i++) {
        h ^= key[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/*
 * Finds the slot of `key`, or claims one for it: a free slot in its
 * bucket, else the slot whose interval started first.  An evicted key's
 * suppressed count is added to rl->lost.
 */
static struct log_ratelimit_slot *
log_ratelimit_find(struct log_ratelimit *rl, const uint8_t *key, size_t len,
    uint64_t now_ms)
{
    size_t base = (size_t)log_hash_key(key, len) & rl->mask &
                  ~(size_t)(LOG_RATELIMIT_WAYS - 1);
    struct log_ratelimit_slot *victim = NULL;

    for (size_t i = 0; i < LOG_RATELIMIT_WAYS; i++) {
        struct log_ratelimit_slot *s = &rl->slots[base + i];

        if (!s->used) {
            if (victim == NULL || victim->used)
                victim = s;
        } else if (s->key_len == len && memcmp(s->key, key, len) == 0) {
            return s;
        } else if (victim == NULL || (victim->used &&
                       s->window_start_ms < victim->window_start_ms)) {
            victim = s;
        }
    }
    if (victim->used)
        rl->lost += victim->suppressed;
    memset(victim, 0, sizeof(*victim));
    victim->used = true;
    victim->key_len = (uint8_t)len;
    memcpy(victim->key, key, len);
    victim->window_start_ms = now_ms;
    return victim;
}

bool
log_ratelimit_check(struct log_ratelimit *rl, const void *key, size_t key_len,
    uint64_t now_ms, uint64_t *suppressed)
{
    struct log_ratelimit_slot *s;

    if (suppressed != NULL)
        *suppressed = 0;
    if (rl == NULL)
        return true;
    if (key == NULL)
        key_len = 0;
    if (key_len > LOG_RATELIMIT_KEY_MAX)
        key_len = LOG_RATELIMIT_KEY_MAX;

    s = log_ratelimit_find(rl, key != NULL ? key : "", key_len, now_ms);
    /* Unsigned difference: a clock that went back also starts a window. */
    if (now_ms - s->window_start_ms >= rl->interval_ms) {
        s->window_start_ms = now_ms;
        s->count = 0;
    }
    if (s->count >= rl->burst) {
        s->suppressed++;
        return false;
    }
    s->count++;
    if (suppressed != NULL)
        *suppressed = s->suppressed;
    s->suppressed = 0;
    return true;
}

uint64_t
log_ratelimit_lost(const struct log_ratelimit *rl)
{
    return rl != NULL ? rl->lost : 0;
}

bool
log_write_limited(struct log_ratelimit *rl, const void *key, size_t key_len,
    uint64_t now_ms, enum log_level level, const char *component,
    const char *fmt, ...)
{
    uint64_t suppressed;
    char suffix[48] = "";
    va_list ap;

    if (!log_enabled(level))
        return false;
    if (!log_ratelimit_check(rl, key, key_len, now_ms, &suppressed))
        return false;
    if (suppressed > 0)
        snprintf(suffix, sizeof(suffix), "%ssuppressed=%llu",
            strchr(fmt, ';') != NULL ? " " : "; ",
            (unsigned long long)suppressed);

    va_start(ap, fmt);
    log_vwrite_suffix(level, component, suffix, fmt, ap);
    va_end(ap);
    return true;
}
