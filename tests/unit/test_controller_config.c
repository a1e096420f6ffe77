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

Test(controller_config, loads_shipped_example)
{
    FILE *fp = tmpfile();
    struct ctl_config *c = ctl_config_load(EXAMPLE_PATH, fp);

    cr_assert_not_null(c);
    cr_expect_str_eq(c->controller_id, "ctl-a");
    cr_expect_eq(c->lease_ttl_ms, 5000);
    cr_expect_eq(c->lease_renew_ms, 1000);
    cr_expect_eq(c->loop_ms, 250);
    cr_expect_eq(c->api_port, 8680);
    cr_expect_str_eq(c->redis_host, "127.0.0.1");
    cr_expect_eq(c->redis_port, 6379);
    ctl_config_free(c);
    fclose(fp);
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

Test(controller_config, rejects_empty_secret)
{
    char *path = cc_write("\n");
    char buf[64];

    cr_expect_eq(ctl_config_read_secret(path, buf, sizeof(buf)), -EINVAL);
    unlink(path);
    free(path);
}
