/*
 * Tests for the line logger, the value escaper and the rate limiter.
 * Output goes to a temporary file (or a pipe) and is compared byte for
 * byte; a fixed clock makes the time stamp known.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rt/log.h"

/* 2026-03-01T10:22:31.412Z */
#define TEST_CLOCK_SEC  1772360551
#define TEST_CLOCK_NSEC 412999999
#define TEST_STAMP      "2026-03-01T10:22:31.412Z"

static int log_fd = -1;
static char log_out[8192];

static void
test_clock(struct timespec *now)
{
    now->tv_sec = TEST_CLOCK_SEC;
    now->tv_nsec = TEST_CLOCK_NSEC;
}

static void
setup(void)
{
    char name[] = "/tmp/test_log.XXXXXX";

    log_fd = mkstemp(name);
    cr_assert_geq(log_fd, 0, "mkstemp: %s", strerror(errno));
    unlink(name);
    log_init("ikeshift-agent", log_fd, LOG_LEVEL_INFO);
    log_set_clock(test_clock);
}

static void
teardown(void)
{
    log_set_clock(NULL);
    if (log_fd >= 0)
        close(log_fd);
}

/* Returns everything written so far, NUL-terminated. */
static const char *
read_output(void)
{
    ssize_t n = pread(log_fd, log_out, sizeof(log_out) - 1, 0);

    cr_assert_geq(n, 0, "pread: %s", strerror(errno));
    log_out[n] = '\0';
    return log_out;
}

/* Writes "<stamp> ikeshift-agent[<pid>] " into buf. */
static const char *
expected_prefix(char *buf, size_t size)
{
    snprintf(buf, size, TEST_STAMP " ikeshift-agent[%ld] ", (long)getpid());
    return buf;
}

TestSuite(log, .init = setup, .fini = teardown);

Test(log, writes_documented_line_format)
{
    char want[256], prefix[64];

    log_info("ike", "redirecting peer; ispi=%s peer=%s gw=%s",
        "8c1f02aa4d3e9b10", "198.51.100.7:500", "gw2.example.net");
    snprintf(want, sizeof(want), "%sinfo ike: redirecting peer; "
        "ispi=8c1f02aa4d3e9b10 peer=198.51.100.7:500 gw=gw2.example.net\n",
        expected_prefix(prefix, sizeof(prefix)));
    cr_assert_str_eq(read_output(), want);
}

Test(log, names_each_level_in_line)
{
    char want[1024], prefix[64];

    log_set_level(LOG_LEVEL_DEBUG);
    log_error("redis", "connect failed; errno=111");
    log_warn("ike", "malformed message; peer=198.51.100.7:500");
    log_notice("agent", "started");
    log_info("sa", "up; ispi=01");
    log_debug("ike", "received; len=28");
    expected_prefix(prefix, sizeof(prefix));
    snprintf(want, sizeof(want),
        "%serror redis: connect failed; errno=111\n"
        "%swarn ike: malformed message; peer=198.51.100.7:500\n"
        "%snotice agent: started\n"
        "%sinfo sa: up; ispi=01\n"
        "%sdebug ike: received; len=28\n",
        prefix, prefix, prefix, prefix, prefix);
    cr_assert_str_eq(read_output(), want);
}

Test(log, drops_lines_below_min_level)
{
    log_set_level(LOG_LEVEL_WARN);
    log_info("ike", "not written");
    log_debug("ike", "not written");
    cr_assert_str_eq(read_output(), "");
    cr_assert(!log_enabled(LOG_LEVEL_NOTICE));
    cr_assert(log_enabled(LOG_LEVEL_WARN));
    log_warn("ike", "written");
    cr_assert_neq(strstr(read_output(), "warn ike: written\n"), NULL);
}

Test(log, keeps_level_set_at_init)
{
    log_init("ikeshift-controller", log_fd, LOG_LEVEL_ERROR);
    cr_assert_eq(log_get_level(), LOG_LEVEL_ERROR);
    log_warn("x", "dropped");
    cr_assert_str_eq(read_output(), "");
}

Test(log, cuts_long_daemon_name)
{
    char name[LOG_IDENT_MAX + 20];
    char want[LOG_IDENT_MAX + 2];

    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    log_init(name, log_fd, LOG_LEVEL_INFO);
    log_info("x", "y");
    memset(want, 'n', LOG_IDENT_MAX);
    want[LOG_IDENT_MAX] = '[';
    want[LOG_IDENT_MAX + 1] = '\0';
    cr_assert_neq(strstr(read_output(), want), NULL, "got %s", log_out);
}

Test(log, escapes_control_characters_in_message)
{
    char want[256], prefix[64];

    log_info("cfg", "reloaded; note=%s", "two\nlines\tand\x7f");
    snprintf(want, sizeof(want),
        "%sinfo cfg: reloaded; note=two\\x0alines\\x09and\\x7f\n",
        expected_prefix(prefix, sizeof(prefix)));
    cr_assert_str_eq(read_output(), want);
}

Test(log, cuts_long_line_with_marker)
{
    char big[3000];
    const char *out;
    size_t len;

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_info("ike", "long; value=%s", big);
    out = read_output();
    len = strlen(out);
    cr_assert_eq(len, LOG_LINE_MAX);
    cr_assert_eq(out[len - 1], '\n');
    cr_assert_eq(strchr(out, '\n'), out + len - 1, "one line only");
    cr_assert_eq(strncmp(out + len - 1 - strlen(LOG_TRUNCATED_MARKER),
        LOG_TRUNCATED_MARKER, strlen(LOG_TRUNCATED_MARKER)), 0);
}

Test(log, keeps_line_that_fits_exactly)
{
    char prefix[64], msg[LOG_LINE_MAX];
    size_t room;
    const char *out;

    /* The prefix, "info x: " and the message fill LOG_LINE_MAX - 1. */
    expected_prefix(prefix, sizeof(prefix));
    room = LOG_LINE_MAX - 1 - strlen(prefix) - strlen("info x: ");
    memset(msg, 'b', room);
    msg[room] = '\0';
    log_info("x", "%s", msg);
    out = read_output();
    cr_assert_eq(strlen(out), LOG_LINE_MAX);
    cr_assert_eq(strstr(out, LOG_TRUNCATED_MARKER), NULL);
    cr_assert_eq(out[LOG_LINE_MAX - 2], 'b');
}

Test(log, cut_never_splits_escape)
{
    char ctl[LOG_LINE_MAX];
    const char *out, *marker;

    memset(ctl, '\x01', sizeof(ctl) - 1);
    ctl[sizeof(ctl) - 1] = '\0';
    log_info("x", "c; v=%s", ctl);
    out = read_output();
    marker = strstr(out, LOG_TRUNCATED_MARKER);
    cr_assert_not_null(marker);
    /* Everything between "v=" and the marker is whole \x01 groups. */
    const char *v = strstr(out, "v=") + 2;
    cr_assert_eq((size_t)(marker - v) % 4, 0);
    cr_assert_eq(strncmp(marker - 4, "\\x01", 4), 0);
}

/* Writes `lines` lines of about 1000 bytes each to fd, then exits. */
static void
write_lines_and_exit(int fd, char tag, int lines)
{
    char body[900];

    memset(body, tag, sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    log_init("ikeshift-agent", fd, LOG_LEVEL_INFO);
    for (int i = 0; i < lines; i++)
        log_info("x", "burst; body=%s", body);
    _exit(0);
}

Test(log, concurrent_writers_do_not_interleave)
{
    enum { WRITERS = 4, LINES = 200 };
    int fds[2];
    pid_t pids[WRITERS];

    cr_assert_eq(pipe(fds), 0);
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        cr_assert_geq(pids[w], 0);
        if (pids[w] == 0) {
            close(fds[0]);
            write_lines_and_exit(fds[1], (char)('A' + w), LINES);
        }
    }
    close(fds[1]);

    FILE *in = fdopen(fds[0], "r");
    char line[2 * LOG_LINE_MAX];
    int count = 0;
    cr_assert_not_null(in);
    while (fgets(line, sizeof(line), in) != NULL) {
        char *body = strstr(line, "body=");

        cr_assert_not_null(body, "line %d: %s", count, line);
        body += 5;
        /* Every byte of the body is the writer's own tag. */
        size_t n = strspn(body, (char[]){ body[0], '\0' });
        cr_assert_eq(n, 899, "line %d mixes writers", count);
        cr_assert_str_eq(body + n, "\n");
        count++;
    }
    fclose(in);
    for (int w = 0; w < WRITERS; w++)
        waitpid(pids[w], NULL, 0);
    cr_assert_eq(count, WRITERS * LINES);
}

/*
 * Criterion runs each parameterized case in a new process image, so the
 * case structs hold arrays, not pointers into this one.
 */
struct level_case {
    char name[16];
    int rc;
    enum log_level level;
};

ParameterizedTestParameters(log, parses_level_names)
{
    static struct level_case cases[] = {
        { "error", 0, LOG_LEVEL_ERROR },
        { "warn", 0, LOG_LEVEL_WARN },
        { "notice", 0, LOG_LEVEL_NOTICE },
        { "info", 0, LOG_LEVEL_INFO },
        { "debug", 0, LOG_LEVEL_DEBUG },
        { "warning", -EINVAL, LOG_LEVEL_NOTICE },
        { "INFO", -EINVAL, LOG_LEVEL_NOTICE },
        { "", -EINVAL, LOG_LEVEL_NOTICE },
        { "info ", -EINVAL, LOG_LEVEL_NOTICE },
    };

    return cr_make_param_array(struct level_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct level_case *c, log, parses_level_names)
{
    /* NOTICE is the "unchanged" marker for names that are rejected. */
    enum log_level got = LOG_LEVEL_NOTICE;

    cr_assert_eq(log_parse_level(c->name, &got), c->rc, "name \"%s\"",
        c->name);
    cr_assert_eq(got, c->level, "name \"%s\"", c->name);
}

Test(log, level_name_round_trips)
{
    for (int l = LOG_LEVEL_ERROR; l <= LOG_LEVEL_DEBUG; l++) {
        enum log_level got;

        cr_assert_eq(log_parse_level(log_level_name(l), &got), 0);
        cr_assert_eq(got, (enum log_level)l);
        cr_assert_str_eq(log_level_names[l], log_level_name(l));
    }
    cr_assert_null(log_level_names[LOG_LEVEL_DEBUG + 1]);
    cr_assert_str_eq(log_level_name((enum log_level)99), "unknown");
}

Test(log, rejects_null_level_name)
{
    enum log_level got = LOG_LEVEL_INFO;

    cr_assert_eq(log_parse_level(NULL, &got), -EINVAL);
    cr_assert_eq(got, LOG_LEVEL_INFO);
}

struct escape_case {
    char in[32];
    size_t len;
    char out[64];
};

#define ESC(s, o) { s, sizeof(s) - 1, o }

ParameterizedTestParameters(log, escapes_values)
{
    static struct escape_case cases[] = {
        ESC("gw2.example.net", "gw2.example.net"),
        ESC("198.51.100.7:500", "198.51.100.7:500"),
        ESC("[2001:db8::1]:500", "\"[2001:db8::1]:500\""),
        ESC("user@example.net", "user@example.net"),
        ESC("", "\"\""),
        ESC("two words", "\"two words\""),
        ESC("say \"hi\"", "\"say \\\"hi\\\"\""),
        ESC("back\\slash", "\"back\\\\slash\""),
        ESC("key=value", "\"key=value\""),
        ESC("semi;colon", "\"semi;colon\""),
        ESC("line\nbreak", "\"line\\x0abreak\""),
        ESC("caf\xc3\xa9", "\"caf\\xc3\\xa9\""),
        ESC("nul\0byte", "\"nul\\x00byte\""),
        ESC("\x7f", "\"\\x7f\""),
    };

    return cr_make_param_array(struct escape_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct escape_case *c, log, escapes_values)
{
    char buf[LOG_ESCAPE_SIZE(32)];

    cr_assert_str_eq(log_escape(buf, sizeof(buf), c->in, c->len), c->out);
}

Test(log, escape_fits_worst_case_size)
{
    char in[16], buf[LOG_ESCAPE_SIZE(16)];

    memset(in, '\xff', sizeof(in));
    log_escape(buf, sizeof(buf), in, sizeof(in));
    cr_assert_eq(strlen(buf), sizeof(buf) - 1);
    cr_assert_eq(strstr(buf, "..."), NULL);
    cr_assert_eq(buf[sizeof(buf) - 2], '"');
}

Test(log, escape_cuts_value_to_buffer)
{
    char buf[16];
    const char *in = "a value much longer than the buffer";

    cr_assert_str_eq(log_escape_str(buf, sizeof(buf), in),
        "\"a value mu...\"");
    cr_assert_lt(strlen(buf), sizeof(buf));
}

Test(log, escape_cuts_bare_value_with_quotes)
{
    char buf[10];

    cr_assert_str_eq(log_escape_str(buf, sizeof(buf), "abcdefghijkl"),
        "\"abcd...\"");
}

Test(log, escape_cut_never_splits_escape)
{
    char buf[12];

    /* Room for one \xNN only, then ..." and the terminator. */
    cr_assert_str_eq(log_escape(buf, sizeof(buf), "\x01\x02\x03", 3),
        "\"\\x01...\"");
}

Test(log, escape_writes_null_string_as_text)
{
    char buf[16];

    cr_assert_str_eq(log_escape_str(buf, sizeof(buf), NULL), "(null)");
}

Test(log, escaped_value_stays_one_field)
{
    char buf[LOG_ESCAPE_SIZE(64)], want[256], prefix[64];
    const char *id = "evil\n2026-03-01 fake line peer=x";

    log_warn("ike", "bad identity; peer_id=%s",
        log_escape_str(buf, sizeof(buf), id));
    snprintf(want, sizeof(want), "%swarn ike: bad identity; "
        "peer_id=\"evil\\x0a2026-03-01 fake line peer=x\"\n",
        expected_prefix(prefix, sizeof(prefix)));
    cr_assert_str_eq(read_output(), want);
}

Test(log, ratelimit_rejects_zero_arguments)
{
    cr_assert_null(log_ratelimit_new(0, 1000, 16));
    cr_assert_null(log_ratelimit_new(1, 0, 16));
    cr_assert_null(log_ratelimit_new(1, 1000, 0));
    log_ratelimit_free(NULL);
}

Test(log, ratelimit_allows_burst_then_suppresses)
{
    struct log_ratelimit *rl = log_ratelimit_new(3, 1000, 16);
    uint64_t suppressed = 99;

    cr_assert_not_null(rl);
    for (int i = 0; i < 3; i++) {
        cr_assert(log_ratelimit_check(rl, "peer", 4, 100 + i, &suppressed));
        cr_assert_eq(suppressed, 0);
    }
    for (int i = 0; i < 17; i++)
        cr_assert(!log_ratelimit_check(rl, "peer", 4, 200 + i, &suppressed));
    /* Still in the same interval. */
    cr_assert(!log_ratelimit_check(rl, "peer", 4, 1099, &suppressed));
    /* The next interval reports what the previous one refused. */
    cr_assert(log_ratelimit_check(rl, "peer", 4, 1100, &suppressed));
    cr_assert_eq(suppressed, 18);
    cr_assert(log_ratelimit_check(rl, "peer", 4, 1101, &suppressed));
    cr_assert_eq(suppressed, 0);
    log_ratelimit_free(rl);
}

Test(log, ratelimit_keeps_keys_apart)
{
    struct log_ratelimit *rl = log_ratelimit_new(1, 1000, 16);
    uint64_t suppressed;

    cr_assert(log_ratelimit_check(rl, "198.51.100.7", 12, 0, &suppressed));
    cr_assert(!log_ratelimit_check(rl, "198.51.100.7", 12, 1, &suppressed));
    cr_assert(log_ratelimit_check(rl, "198.51.100.8", 12, 2, &suppressed));
    cr_assert_eq(suppressed, 0);
    log_ratelimit_free(rl);
}

Test(log, ratelimit_restarts_when_clock_goes_back)
{
    struct log_ratelimit *rl = log_ratelimit_new(1, 1000, 16);
    uint64_t suppressed;

    cr_assert(log_ratelimit_check(rl, "k", 1, 5000, &suppressed));
    cr_assert(!log_ratelimit_check(rl, "k", 1, 5001, &suppressed));
    cr_assert(log_ratelimit_check(rl, "k", 1, 10, &suppressed));
    cr_assert_eq(suppressed, 1);
    log_ratelimit_free(rl);
}

Test(log, ratelimit_counts_lost_when_table_full)
{
    /* 8 slots, one bucket: a ninth key evicts the oldest. */
    struct log_ratelimit *rl = log_ratelimit_new(1, 1000, 8);
    uint64_t suppressed;

    for (uint32_t k = 0; k < 8; k++) {
        cr_assert(log_ratelimit_check(rl, &k, sizeof(k), k, &suppressed));
        cr_assert(!log_ratelimit_check(rl, &k, sizeof(k), k, &suppressed));
    }
    cr_assert_eq(log_ratelimit_lost(rl), 0);
    uint32_t extra = 100;
    cr_assert(log_ratelimit_check(rl, &extra, sizeof(extra), 20,
        &suppressed));
    cr_assert_eq(log_ratelimit_lost(rl), 1);
    /* Key 0 was the oldest; it starts afresh with nothing to report. */
    uint32_t first = 0;
    cr_assert(log_ratelimit_check(rl, &first, sizeof(first), 21,
        &suppressed));
    cr_assert_eq(suppressed, 0);
    log_ratelimit_free(rl);
}

Test(log, limited_line_reports_suppressed_count)
{
    struct log_ratelimit *rl = log_ratelimit_new(1, 1000, 16);
    char want[512], prefix[64];

    cr_assert(log_write_limited(rl, "p", 1, 0, LOG_LEVEL_WARN, "ike",
        "malformed message; peer=%s", "198.51.100.7:500"));
    for (int i = 0; i < 17; i++)
        cr_assert(!log_write_limited(rl, "p", 1, 10, LOG_LEVEL_WARN, "ike",
            "malformed message; peer=%s", "198.51.100.7:500"));
    cr_assert(log_write_limited(rl, "p", 1, 1000, LOG_LEVEL_WARN, "ike",
        "malformed message; peer=%s", "198.51.100.7:500"));
    cr_assert(log_write_limited(rl, "q", 1, 1000, LOG_LEVEL_WARN, "ike",
        "no fields"));
    expected_prefix(prefix, sizeof(prefix));
    snprintf(want, sizeof(want),
        "%swarn ike: malformed message; peer=198.51.100.7:500\n"
        "%swarn ike: malformed message; peer=198.51.100.7:500 "
        "suppressed=17\n"
        "%swarn ike: no fields\n",
        prefix, prefix, prefix);
    cr_assert_str_eq(read_output(), want);
    log_ratelimit_free(rl);
}

Test(log, limited_line_without_fields_gets_separator)
{
    struct log_ratelimit *rl = log_ratelimit_new(1, 1000, 16);

    log_write_limited(rl, "p", 1, 0, LOG_LEVEL_WARN, "ike", "flood");
    log_write_limited(rl, "p", 1, 1, LOG_LEVEL_WARN, "ike", "flood");
    log_write_limited(rl, "p", 1, 2000, LOG_LEVEL_WARN, "ike", "flood");
    cr_assert_neq(strstr(read_output(), "ike: flood; suppressed=1\n"), NULL,
        "got %s", log_out);
    log_ratelimit_free(rl);
}

Test(log, limited_line_keeps_count_when_cut)
{
    struct log_ratelimit *rl = log_ratelimit_new(1, 1000, 16);
    char big[2000];
    const char *out;

    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_write_limited(rl, "p", 1, 0, LOG_LEVEL_WARN, "ike", "x; v=%s", big);
    log_write_limited(rl, "p", 1, 1, LOG_LEVEL_WARN, "ike", "x; v=%s", big);
    log_write_limited(rl, "p", 1, 5000, LOG_LEVEL_WARN, "ike", "x; v=%s",
        big);
    out = read_output();
    cr_assert_neq(strstr(out, LOG_TRUNCATED_MARKER " suppressed=1\n"), NULL);
    log_ratelimit_free(rl);
}

Test(log, line_below_level_uses_no_budget)
{
    struct log_ratelimit *rl = log_ratelimit_new(1, 1000, 16);

    cr_assert(!log_write_limited(rl, "p", 1, 0, LOG_LEVEL_DEBUG, "ike", "d"));
    cr_assert(log_write_limited(rl, "p", 1, 0, LOG_LEVEL_WARN, "ike", "w"));
    log_ratelimit_free(rl);
}

Test(log_default, writes_to_stderr_before_init, .init = cr_redirect_stderr)
{
    char want[128];

    log_set_clock(test_clock);
    log_info("x", "y; k=v");
    log_debug("x", "below the default level");
    snprintf(want, sizeof(want), TEST_STAMP " ikeshift[%ld] info x: y; k=v\n",
        (long)getpid());
    cr_assert_stderr_eq_str(want);
}
