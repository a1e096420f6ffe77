/*
 * Agent configuration file: every error names file:line:col and the key.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_config.h"

#define BASE_HEAD \
    "{\n" \
    "  \"listen\": { \"unicast\": [\"198.51.100.3\"] },\n" \
    "  \"identity\": { \"value\": \"vpn.example.net\" },\n" \
    "  \"clients\": [ { \"id\": \"c@example.net\", \"psk\": \"k\" } ]"

/* Writes text to a temporary file; the caller unlinks path. */
static void
write_file(char *path, const char *text)
{
    int fd = mkstemp(path);
    size_t len = strlen(text);

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* Loads text; returns the configuration and the error output in errs. */
static struct agent_config *
load(const char *text, char *errs, size_t cap, char *path)
{
    FILE *fp = fmemopen(errs, cap, "w");
    struct agent_config *c;

    cr_assert_not_null(fp);
    memset(errs, 0, cap);
    write_file(path, text);
    c = agent_config_load(path, fp);
    fclose(fp);
    unlink(path);
    return c;
}

Test(agent_config, loads_minimal_file_with_defaults)
{
    char errs[1024], path[] = "/tmp/test_agent_config.XXXXXX";
    struct agent_config *c = load(BASE_HEAD "\n}\n", errs, sizeof(errs),
        path);

    cr_assert_not_null(c, "errors: %s", errs);
    cr_assert_eq(c->ike_port, 500);
    cr_assert_eq(c->engine.cookie_threshold, 30);
    cr_assert_eq(c->engine.reply_rate_per_peer, 100);
    cr_assert_null(c->debug_keys_file);
    agent_config_free(c);
}

Test(agent_config, reads_debug_keys_file)
{
    char errs[1024], path[] = "/tmp/test_agent_config.XXXXXX";
    struct agent_config *c = load(BASE_HEAD ",\n"
        "  \"debug_keys_file\": \"/tmp/keys.txt\"\n}\n", errs, sizeof(errs),
        path);

    cr_assert_not_null(c, "errors: %s", errs);
    cr_assert_str_eq(c->debug_keys_file, "/tmp/keys.txt");
    agent_config_free(c);
}

/* Arrays, not pointers: criterion copies the parameters into each test
 * process, where the addresses of string literals differ. */
struct bad_case {
    char tail[160];         /* appended after BASE_HEAD, closing brace added */
    char where[16];         /* expected ":line:" after the path */
    char reason[64];        /* expected text in the message */
};

static struct bad_case bad_cases[] = {
    { ",\n  \"limits\": { \"cookie_threshold\": 600, \"max_half_open\": 500 }",
        ":5:", "limits.cookie_threshold: must be below max_half_open" },
    { ",\n  \"limits\": { \"reply_rate_per_peer\": 0 }",
        ":5:", "limits.reply_rate_per_peer" },
    { ",\n  \"debug_keys_file\": \"\"", ":5:", "debug_keys_file" },
    { ",\n  \"ike_proposals\": [\"aes256-sha256-modp1024\"]", ":5:",
        "invalid IKE proposal" },
    { ",\n  \"unknown_key\": 1", ":5:", "unknown_key" },
    { ",\n  \"timers\": { \"half_open_timeout\": \"1ms\" }", ":5:",
        "timers.half_open_timeout" },
    { ",\n  \"policy\": { \"drain_target\": \"not a host!\" }", ":5:",
        "invalid gateway" },
    { ",\n  \"cluster\": { \"redis\": \"127.0.0.1\", \"gateway_id\": \"gw1\",\n"
        "    \"password_file\": \"/nonexistent/ikeshift-password\" }", ":6:",
        "/nonexistent/ikeshift-password" },
    { ",\n  \"pool\": \"10.8.0.0/16\",\n"
        "  \"protected_subnets\": [\"10.0.0.0/8\"]", ":6:",
        "overlaps pool 10.8.0.0/16" },
    { ",\n  \"pool\": \"10.8.0.0/16\",\n"
        "  \"protected_subnets\": [\"192.0.2.0/24\", \"10.8.4.0/24\"]", ":6:",
        "overlaps pool 10.8.0.0/16" },
};

ParameterizedTestParameters(agent_config, reports_file_line_col)
{
    return cr_make_param_array(struct bad_case, bad_cases,
        sizeof(bad_cases) / sizeof(bad_cases[0]));
}

ParameterizedTest(struct bad_case *bc, agent_config, reports_file_line_col)
{
    char text[1024], errs[2048], path[] = "/tmp/test_agent_config.XXXXXX";
    char prefix[64];
    struct agent_config *c;

    snprintf(text, sizeof(text), "%s%s\n}\n", BASE_HEAD, bc->tail);
    c = load(text, errs, sizeof(errs), path);
    cr_assert_null(c, "accepted: %s", bc->tail);
    snprintf(prefix, sizeof(prefix), "%s%s", path, bc->where);
    cr_assert_not_null(strstr(errs, prefix), "no \"%s\" in: %s", prefix,
        errs);
    cr_assert_not_null(strstr(errs, bc->reason), "no \"%s\" in: %s",
        bc->reason, errs);
}

/*
 * Loads deploy/agent.example.json with its password_file pointed at a
 * temporary file, because the loader rejects a path that does not exist.
 */
Test(agent_config, example_file_is_valid)
{
    static const char key[] = "/etc/ikeshift/redis-agent.password";
    char errs[2048], path[] = "/tmp/test_agent_config.XXXXXX";
    char pw[] = "/tmp/test_agent_config_pw.XXXXXX";
    char text[8192], edited[8192];
    FILE *in = fopen(TEST_DATA_DIR "/../../deploy/agent.example.json", "r");
    size_t len;
    char *at;
    struct agent_config *c;

    cr_assert_not_null(in);
    len = fread(text, 1, sizeof(text) - 1, in);
    fclose(in);
    cr_assert_lt(len, sizeof(text) - 1);
    text[len] = '\0';
    at = strstr(text, key);
    cr_assert_not_null(at, "example no longer names %s", key);
    write_file(pw, "secret\n");
    snprintf(edited, sizeof(edited), "%.*s%s%s", (int)(at - text), text, pw,
        at + strlen(key));
    c = load(edited, errs, sizeof(errs), path);
    unlink(pw);
    cr_assert_not_null(c, "errors: %s", errs);
    agent_config_free(c);
}

/* Whole files, for sections that BASE_HEAD already contains. */
struct bad_file {
    char text[512];
    char where[16];         /* expected ":line:" after the path */
    char reason[80];        /* expected text in the message */
};

static struct bad_file bad_files[] = {
    { "{\n"
        "  \"listen\": { \"unicast\": [\"198.51.100.3\",\n"
        "    \"198.51.100.3\"] },\n"
        "  \"identity\": { \"value\": \"vpn.example.net\" },\n"
        "  \"clients\": [ { \"id\": \"c@example.net\", \"psk\": \"k\" } ]\n"
        "}\n", ":3:", "duplicate address 198.51.100.3 in listen.unicast" },
    { "{\n"
        "  \"listen\": { \"unicast\": [\"198.51.100.3\"],\n"
        "    \"anycast\": [\"198.51.100.3\"] },\n"
        "  \"identity\": { \"value\": \"vpn.example.net\" },\n"
        "  \"clients\": [ { \"id\": \"c@example.net\", \"psk\": \"k\" } ]\n"
        "}\n", ":3:", "address 198.51.100.3 is also in listen.unicast" },
    { "{\n"
        "  \"listen\": { \"unicast\": [\"2001:db8::3\"],\n"
        "    \"anycast\": [\"2001:db8::9\", \"2001:db8::9\"] },\n"
        "  \"identity\": { \"value\": \"vpn.example.net\" },\n"
        "  \"clients\": [ { \"id\": \"c@example.net\", \"psk\": \"k\" } ]\n"
        "}\n", ":3:", "duplicate address 2001:db8::9 in listen.anycast" },
    { "{\n"
        "  \"listen\": { \"unicast\": [\"198.51.100.3\"] },\n"
        "  \"identity\": { \"value\": \"vpn.example.net\" },\n"
        "  \"clients\": [ { \"id\": \"c@example.net\", \"psk\": \"k\" },\n"
        "    { \"id\": \"c@example.net\", \"psk\": \"other\" } ]\n"
        "}\n", ":5:", "duplicate client id \"c@example.net\"" },
    { "{\n"
        "  \"listen\": { \"unicast\": [\"198.51.100.3\"] },\n"
        "  \"identity\": { \"value\": \"vpn example.net\" },\n"
        "  \"clients\": [ { \"id\": \"c@example.net\", \"psk\": \"k\" } ]\n"
        "}\n", ":3:", "invalid fqdn identity: expected printable ASCII" },
};

ParameterizedTestParameters(agent_config, rejects_duplicates)
{
    return cr_make_param_array(struct bad_file, bad_files,
        sizeof(bad_files) / sizeof(bad_files[0]));
}

ParameterizedTest(struct bad_file *bf, agent_config, rejects_duplicates)
{
    char errs[2048], path[] = "/tmp/test_agent_config.XXXXXX";
    char prefix[64];
    struct agent_config *c;

    c = load(bf->text, errs, sizeof(errs), path);
    cr_assert_null(c, "accepted: %s", bf->text);
    snprintf(prefix, sizeof(prefix), "%s%s", path, bf->where);
    cr_assert_not_null(strstr(errs, prefix), "no \"%s\" in: %s", prefix,
        errs);
    cr_assert_not_null(strstr(errs, bf->reason), "no \"%s\" in: %s",
        bf->reason, errs);
}

Test(agent_config, accepts_existing_password_file)
{
    char errs[1024], path[] = "/tmp/test_agent_config.XXXXXX";
    char pw[] = "/tmp/test_agent_config_pw.XXXXXX";
    char text[1024];
    struct agent_config *c;

    write_file(pw, "secret\n");
    snprintf(text, sizeof(text), "%s,\n  \"cluster\": { \"redis\":"
        " \"127.0.0.1\", \"gateway_id\": \"gw1\",\n"
        "    \"password_file\": \"%s\" }\n}\n", BASE_HEAD, pw);
    c = load(text, errs, sizeof(errs), path);
    unlink(pw);
    cr_assert_not_null(c, "errors: %s", errs);
    cr_assert_str_eq(c->cluster.password_file, pw);
    agent_config_free(c);
}
