/*
 * Logging for the ikeshift daemons: one line per event, written to stderr
 * (where the systemd journal collects it) or to a file descriptor given at
 * initialization.  A line reads
 *
 *   2026-03-01T10:22:31.412Z ikeshift-agent[812] info ike: redirecting peer;
 *   peer=198.51.100.7:500 gw=gw2.example.net
 *
 * (on one line): UTC time with milliseconds, daemon name, pid, level,
 * component, then the message.  A message is fixed text, "; ", then
 * lower_snake key=value fields.  Values that come from peers or users go
 * through log_escape() so that they cannot break the line format.
 *
 * The logger state is global to the process.  log_init() and the setters
 * are meant to be called at startup, before other threads exist; the
 * logging functions themselves keep no shared mutable state.
 */
#ifndef IKESHIFT_RT_LOG_H
#define IKESHIFT_RT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Levels in order of severity.  The names avoid syslog.h's LOG_INFO etc. */
enum log_level {
    LOG_LEVEL_ERROR,    /* we failed */
    LOG_LEVEL_WARN,     /* a peer or the environment misbehaved */
    LOG_LEVEL_NOTICE,   /* start, stop, configuration reload */
    LOG_LEVEL_INFO,     /* state changes of an SA or gateway */
    LOG_LEVEL_DEBUG,    /* per-message detail */
};

/* The level names that log_parse_level() accepts, as an error text uses. */
#define LOG_LEVEL_EXPECTED "one of: error, warn, notice, info, debug"

/*
 * Maximum length of a line in bytes, newline included.  It is below
 * PIPE_BUF (4096 on Linux), so a line written to a pipe is never
 * interleaved with another process's output.
 */
#define LOG_LINE_MAX 1024

/* Text that replaces the end of a line cut at LOG_LINE_MAX. */
#define LOG_TRUNCATED_MARKER "...[truncated]"

/* Maximum length of the daemon name in a line; longer names are cut. */
#define LOG_IDENT_MAX 32

/* Buffer size that log_escape() needs to escape n bytes without cutting. */
#define LOG_ESCAPE_SIZE(n) (4 * (size_t)(n) + 3)

/* Source of the wall-clock time for the line prefix; see log_set_clock(). */
typedef void log_clock_fn(struct timespec *now);

/* NULL-terminated level names, indexed by enum log_level. */
extern const char *const log_level_names[];

/*
 * Sets the daemon name (copied, cut at LOG_IDENT_MAX bytes), the output
 * file descriptor (borrowed, never closed; STDERR_FILENO for the journal)
 * and the minimum level, and records the pid for the line prefix.  Call it
 * again in a child after fork().  Before the first call, lines go to
 * stderr under the name "ikeshift" at level info.
 */
void
log_init(const char *ident, int fd, enum log_level min_level);

/* Sets the minimum level; lines below it are dropped without formatting. */
void
log_set_level(enum log_level min_level);

/* Returns the minimum level in force. */
enum log_level
log_get_level(void);

/*
 * Replaces the clock that stamps each line; NULL restores
 * clock_gettime(CLOCK_REALTIME).  Tests use it to assert on whole lines.
 */
void
log_set_clock(log_clock_fn *clock);

/* Returns true when a line at `level` would be written. */
bool
log_enabled(enum log_level level);

/*
 * Parses a level name ("error", "warn", "notice", "info", "debug"; exact
 * lower case) into *out.  Returns 0, or -EINVAL for any other name, in
 * which case *out is unchanged.
 */
int
log_parse_level(const char *name, enum log_level *out);

/* Returns the name of `level`, or "unknown" for a value outside the enum. */
const char *
log_level_name(enum log_level level);

/*
 * Formats one line and writes it with a single write(2).  `component` is a
 * short lower-case word ("ike", "redis", "config").  Control characters
 * that the format produces are written as \xNN so that one event stays one
 * line.  A line longer than LOG_LINE_MAX is cut and ends in
 * LOG_TRUNCATED_MARKER.  Errors from write(2) are ignored.
 */
void
log_write(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* log_write() at a fixed level, e.g. log_info("ike", "sa up; ispi=%s", s). */
void
log_error(const char *component, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void
log_warn(const char *component, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void
log_notice(const char *component, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void
log_info(const char *component, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void
log_debug(const char *component, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Writes `value` (`len` bytes, may contain NUL) into `buf` as a field value
 * and returns `buf`.  A value made only of letters, digits and "-._:/@+,"
 * is written as is.  Any other value, including the empty one, is written
 * in double quotes.  Inside them '"' and '\' get a backslash, and bytes
 * below 0x20 or above 0x7e become \xNN.  When `size` is below
 * LOG_ESCAPE_SIZE(len) the value may be cut, and a cut value is quoted and
 * ends in ...".  `size` must be at least 8.
 */
const char *
log_escape(char *buf, size_t size, const void *value, size_t len);

/* log_escape() for a NUL-terminated string; NULL is written as "(null)". */
const char *
log_escape_str(char *buf, size_t size, const char *value);

/*
 * Rate limiter for repeated lines, with one budget per key such as a peer's
 * address.  Each key may write `burst` lines per interval.  Lines beyond
 * that are counted, and the count is reported in the key's next allowed
 * line.  Keys are compared as bytes, on their first LOG_RATELIMIT_KEY_MAX
 * bytes.  The table has room for a bounded number of keys.  When a key's
 * bucket is full, the key whose interval started first is dropped with
 * its count.
 *
 * NOTE: there is no budget across keys, so a flood from many addresses
 * still writes `burst` lines per address per interval.  A key that goes
 * quiet never reports its last count.
 */
#define LOG_RATELIMIT_KEY_MAX 64

struct log_ratelimit;

/*
 * Creates a limiter that allows `burst` lines per key in every
 * `interval_ms` and tracks about `max_keys` keys (rounded up to a power of
 * two, at least 8).  Returns NULL if an argument is 0 or out of memory.
 * The caller owns the limiter and frees it with log_ratelimit_free().
 */
struct log_ratelimit *
log_ratelimit_new(unsigned burst, uint64_t interval_ms, size_t max_keys);

/* Frees `rl`; NULL is ignored. */
void
log_ratelimit_free(struct log_ratelimit *rl);

/*
 * Counts one event for `key` at monotonic time `now_ms`.  Returns true if
 * the caller may write its line, and then stores in *suppressed (may be
 * NULL) the number of events refused for this key since its last allowed
 * one.  Returns false when the key is over its budget, and counts the
 * event as suppressed.
 */
bool
log_ratelimit_check(struct log_ratelimit *rl, const void *key, size_t key_len,
    uint64_t now_ms, uint64_t *suppressed);

/*
 * Returns the number of suppressed events whose count was lost because
 * their key was dropped from the full table.
 */
uint64_t
log_ratelimit_lost(const struct log_ratelimit *rl);

/*
 * log_write() through `rl`: writes the line only if log_ratelimit_check()
 * allows it, and then appends " suppressed=N" (or "; suppressed=N" when
 * the message has no fields) if N events were refused before it.  Returns
 * true if the line was allowed.
 */
bool
log_write_limited(struct log_ratelimit *rl, const void *key, size_t key_len,
    uint64_t now_ms, enum log_level level, const char *component,
    const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

#endif /* IKESHIFT_RT_LOG_H */
