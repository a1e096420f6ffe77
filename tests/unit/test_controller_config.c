/*
 * Tests for the controller's configuration file: the shipped example,
 * defaults, and errors that name the key.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_config.h"
#include "leader.h"

#define EXAMPLE_PATH TEST_DATA_DIR "/../../deploy/controller.example.json"

/* Writes `text` to a fresh temporary file and returns its path. */
static char *
cc_write(const char *text)
{
    char *path = strdup("/tmp/ikeshift-ctl-config-XXXXXX");
    int fd = mkstemp(path);

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* Loads `text`; returns the config or NULL, with errors in err. */
static struct ctl_config *
cc_load(const char *text, char *err, size_t size)
{
    char *path = cc_write(text);
    FILE *fp = fmemopen(err, size, "w");
    struct ctl_config *c;

    cr_assert_not_null(fp);
    memset(err, 0, size);
    c = ctl_config_load(path, fp);
    fclose(fp);
    unlink(path);
    free(path);
    return c;
}

TestSuite(controller_config);

/*
 * Returns the text of the shipped example with /etc/ikeshift/ replaced by
 * a fresh directory `dir` with a secret in each file it names,
 * because the loader reads them.
 */
static char *
cc_example_in(char *dir)
{
    static const char *const files[] = {
        "redis-controller.password", "api-rw.token", "api-ro.token",
    };
    static const char etc[] = "/etc/ikeshift/";
    char text[8192], *out, *at, *from;
    FILE *in = fopen(EXAMPLE_PATH, "r");
    size_t len, n = 0;

    cr_assert_not_null(in);
    len = fread(text, 1, sizeof(text) - 1, in);
    fclose(in);
    text[len] = '\0';
    cr_assert_not_null(mkdtemp(dir));
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        cr_assert_not_null(f = fopen(path, "w"));
        fputs("secret-for-the-test\n", f);
        fclose(f);
    }
    out = calloc(1, sizeof(text) * 2);
    cr_assert_not_null(out);
    for (from = text; (at = strstr(from, etc)) != NULL;
        from = at + strlen(etc)) {
        n += (size_t)snprintf(out + n, sizeof(text) * 2 - n, "%.*s%s/",
            (int)(at - from), from, dir);
    }
    snprintf(out + n, sizeof(text) * 2 - n, "%s", from);
    return out;
}

/* Removes what cc_example_in() made. */
static void
cc_example_done(const char *dir)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(controller_config, loads_shipped_example)
{
    char dir[] = "/tmp/ikeshift-ctl-example-XXXXXX";
    char *text = cc_example_in(dir);
    char err[1024];
    struct ctl_config *c = cc_load(text, err, sizeof(err));

    free(text);
    cc_example_done(dir);
    cr_assert_not_null(c, "%s", err);
    cr_expect_str_eq(c->controller_id, "ctl-a");
    cr_expect_eq(c->lease_ttl_ms, 5000);
    cr_expect_eq(c->lease_renew_ms, 1000);
    cr_expect_eq(c->loop_ms, 250);
    cr_expect_eq(c->api_port, 8680);
    cr_expect_str_eq(c->redis_host, "127.0.0.1");
    cr_expect_eq(c->redis_port, 6379);
    ctl_config_free(c);
}

Test(controller_config, rejects_unusable_secret_files)
{
    char dir[] = "/tmp/ikeshift-ctl-example-XXXXXX";
    char *text = cc_example_in(dir);
    char path[300], err[2048];
    struct ctl_config *c;
    FILE *f;

    /* An empty token file, and a directory for the password. */
    snprintf(path, sizeof(path), "%s/api-rw.token", dir);
    cr_assert_not_null(f = fopen(path, "w"));
    fclose(f);
    snprintf(path, sizeof(path), "%s/redis-controller.password", dir);
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/api-ro.token", dir);
    cr_assert_eq(unlink(path), 0);
    c = cc_load(text, err, sizeof(err));
    free(text);
    cc_example_done(dir);
    cr_expect_null(c);
    cr_expect(strstr(err, "redis.password_file: cannot use") != NULL &&
        strstr(err, "it is a directory") != NULL, "%s", err);
    cr_expect(strstr(err, "api.read_write_token_file: cannot use") != NULL &&
        strstr(err, "first line is empty") != NULL, "%s", err);
    cr_expect(strstr(err, "api.read_only_token_file: cannot use") != NULL &&
        strstr(err, "No such file or directory") != NULL, "%s", err);
    ctl_config_free(c);
}

Test(controller_config, fills_defaults_for_minimal_file)
{
    char err[1024];
    struct ctl_config *c = cc_load("{\"controller_id\": \"c1\"}", err,
        sizeof(err));

    cr_assert_not_null(c, "%s", err);
    cr_expect_eq(c->lease_ttl_ms, LEADER_TTL_MS_DEFAULT);
    cr_expect_eq(c->lease_renew_ms, LEADER_TTL_MS_DEFAULT / 3);
    cr_expect_eq(c->loop_ms, CTL_CONFIG_LOOP_MS);
    cr_expect_eq(c->redis_port, CTL_CONFIG_REDIS_PORT);
    cr_expect_str_eq(c->api_address, "127.0.0.1");
    cr_expect_null(c->redis_password_file);
    cr_expect_eq(c->planner.plan_ttl_ms, PLANNER_PLAN_TTL_MS);
    cr_expect_str_eq(c->registry.identity, "");
    ctl_config_free(c);
}

Test(controller_config, reads_cluster_identity)
{
    char err[1024];
    struct ctl_config *c = cc_load("{\"controller_id\": \"c1\", "
        "\"identity\": {\"type\": \"ipv6\", \"value\": \"2001:DB8::9\"}}",
        err, sizeof(err));

    cr_assert_not_null(c, "%s", err);
    cr_expect_str_eq(c->registry.identity, "ipv6:2001:db8::9");
    ctl_config_free(c);
}

struct cc_bad {
    char text[200];
    char expect[64];    /* part of the error line */
};

static struct cc_bad cc_bad_cases[] = {
    { "{}", "controller_id" },
    { "{\"controller_id\": \"bad id\"}", "controller_id: invalid id" },
    { "{\"controller_id\": \"c\", \"lease\": {\"ttl\": \"1s\", "
      "\"renew_interval\": \"2s\"}}", "lease.renew_interval" },
    { "{\"controller_id\": \"c\", \"loop_interval\": \"1\"}",
      "loop_interval" },
    { "{\"controller_id\": \"c\", \"api\": {\"tls_cert_file\": \"/x\"}}",
      "set together" },
    { "{\"controller_id\": \"c\", \"redis\": {\"address\": \"localhost\"}}",
      "redis.address" },
    { "{\"controller_id\": \"c\", \"lease_ttl\": \"5s\"}", "unknown key" },
    { "{\"controller_id\": \"c\", \"planner\": "
      "{\"accept_threshold_permille\": 1001}}", "accept_threshold" },
    { "{\"controller_id\": \"c\", \"identity\": {\"type\": \"ipv4\", "
      "\"value\": \"vpn.example.net\"}}",
      "identity.value: invalid ipv4 identity" },
    { "{\"controller_id\": \"c\", \"identity\": {\"type\": \"dn\", "
      "\"value\": \"CN=x\"}}", "identity.type" },
    { "{\"controller_id\": \"c\", \"identity\": {\"type\": \"fqdn\", "
      "\"value\": \"vpn example\"}}", "identity.value: invalid fqdn" },
    { "{\"controller_id\": \"c\", \"identity\": {\"type\": \"fqdn\"}}",
      "identity.value" },
    { "{\"controller_id\": \"c\", \"identity\": \"vpn.example.net\"}",
      "identity" },
    { "{\"controller_id\": \"c\", \"api\": {\"listen\": \"0.0.0.0:80\"}}",
      "api.listen: 0.0.0.0 is not a loopback" },
};

ParameterizedTestParameters(controller_config, rejects_invalid_file)
{
    return cr_make_param_array(struct cc_bad, cc_bad_cases,
        sizeof(cc_bad_cases) / sizeof(cc_bad_cases[0]));
}

ParameterizedTest(struct cc_bad *bad, controller_config, rejects_invalid_file)
{
    char err[1024];
    struct ctl_config *c = cc_load(bad->text, err, sizeof(err));

    cr_expect_null(c);
    cr_expect(strstr(err, bad->expect) != NULL, "error \"%s\" lacks \"%s\"",
        err, bad->expect);
    ctl_config_free(c);
}

Test(controller_config, reads_secret_first_line)
{
    char *path = cc_write("s3cret-value\nsecond line\n");
    char buf[64];

    cr_assert_eq(ctl_config_read_secret(path, buf, sizeof(buf)), 0);
    cr_expect_str_eq(buf, "s3cret-value");
    unlink(path);
    free(path);
}

/* Writes `len` bytes of `text` to a fresh file and returns its path. */
static char *
cc_write_bytes(const char *text, size_t len)
{
    char *path = strdup("/tmp/ikeshift-ctl-secret-XXXXXX");
    int fd = mkstemp(path);

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

Test(controller_config, secret_limit_is_the_same_for_check_and_start)
{
    char line[CTL_CONFIG_SECRET_MAX + 2], buf[CTL_CONFIG_SECRET_BUF];
    char *path;

    memset(line, 't', sizeof(line));
    line[CTL_CONFIG_SECRET_MAX] = '\n';
    path = cc_write_bytes(line, CTL_CONFIG_SECRET_MAX + 1);
    cr_expect_eq(ctl_config_read_secret(path, buf, sizeof(buf)), 0,
        "a secret of exactly the maximum length");
    cr_expect_eq(strlen(buf), CTL_CONFIG_SECRET_MAX);
    unlink(path);
    free(path);
    line[CTL_CONFIG_SECRET_MAX] = 't';
    line[CTL_CONFIG_SECRET_MAX + 1] = '\n';
    path = cc_write_bytes(line, CTL_CONFIG_SECRET_MAX + 2);
    cr_expect_eq(ctl_config_read_secret(path, buf, sizeof(buf)), -EINVAL,
        "one byte over the maximum");
    unlink(path);
    free(path);
}

Test(controller_config, rejects_secret_with_nul_byte)
{
    char *path = cc_write_bytes("ab\0cd\n", 6);
    char buf[CTL_CONFIG_SECRET_BUF];

    cr_expect_eq(ctl_config_read_secret(path, buf, sizeof(buf)), -EINVAL);
    unlink(path);
    free(path);
}

Test(controller_config, rejects_secret_that_is_no_regular_file)
{
    char dir[] = "/tmp/ikeshift-ctl-fifo-XXXXXX";
    char path[64], buf[CTL_CONFIG_SECRET_BUF];

    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/token", dir);
    cr_assert_eq(mkfifo(path, 0600), 0);
    cr_expect_eq(ctl_config_read_secret(path, buf, sizeof(buf)), -ENOTSUP,
        "a FIFO must be refused, not opened (that would block)");
    unlink(path);
    rmdir(dir);
    cr_expect_eq(ctl_config_read_secret("/tmp", buf, sizeof(buf)), -EISDIR);
}

Test(controller_config, rejects_empty_secret)
{
    char *path = cc_write("\n");
    char buf[64];

    cr_expect_eq(ctl_config_read_secret(path, buf, sizeof(buf)), -EINVAL);
    unlink(path);
    free(path);
}
