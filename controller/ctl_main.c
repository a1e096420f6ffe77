/*
 * ikeshiftctl: the operator's command-line client for the controller's
 * HTTP API.  Exit status: 0 success, 1 the API returned an error,
 * 2 usage error, 3 the controller could not be reached.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "http_client.h"

#define EXIT_API_ERROR      1
#define EXIT_USAGE          2
#define EXIT_UNREACHABLE    3

#define CTL_TIMEOUT_MS      5000
#define CTL_TOKEN_MAX       1024
#define CTL_INTERVAL_MS     1000

struct ctl {
    struct http_url url;
    const char *url_text;
    char token[CTL_TOKEN_MAX + 1];
    bool has_token;
    bool json;
};

static void
ctl_usage(FILE *out)
{
    fprintf(out,
        "usage: ikeshiftctl [--url URL] [--token TOKEN | --token-file FILE] "
        "[--json] COMMAND\n"
        "\n"
        "commands:\n"
        "  status                       cluster summary\n"
        "  gateways                     table of gateways\n"
        "  gateway ID                   one gateway with its drain\n"
        "  plan                         the current plan\n"
        "  drain ID [--deadline D] [--pace N] [--policy force|hold]\n"
        "           [--wait [--interval MS]]\n"
        "                               drain a gateway; D is seconds or "
        "90s, 30m, 2h;\n"
        "                               N is redirects per second; --wait "
        "polls every\n"
        "                               MS milliseconds (default %d) until "
        "the drain ends\n"
        "  resume ID                    end a drain, back to active\n"
        "  move (--peer IP | --identity ID | --spi HEX) --to GATEWAY\n"
        "                               redirect matching sessions\n"
        "\n"
        "options:\n"
        "  --url URL         controller API (default %s)\n"
        "  --token TOKEN     bearer token; visible to other users in ps\n"
        "  --token-file F    read the bearer token from the first line of F\n"
        "                    (IKESHIFT_TOKEN is used when neither is given)\n"
        "  --json            print the API's JSON answer as is\n"
        "\n"
        "exit status: 0 success, 1 API error, 2 usage error, 3 controller "
        "unreachable\n",
        CTL_INTERVAL_MS, API_DEFAULT_URL);
}

static int
ctl_usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "ikeshiftctl: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nrun 'ikeshiftctl --help' for the commands\n");
    return EXIT_USAGE;
}

static int
ctl_read_token_file(struct ctl *ctl, const char *path)
{
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        fprintf(stderr, "ikeshiftctl: cannot open token file %s: %s\n", path,
            strerror(errno));
        return EXIT_USAGE;
    }
    if (fgets(ctl->token, sizeof(ctl->token), f) == NULL)
        ctl->token[0] = '\0';
    fclose(f);
    ctl->token[strcspn(ctl->token, "\r\n")] = '\0';
    if (ctl->token[0] == '\0') {
        fprintf(stderr, "ikeshiftctl: token file %s is empty\n", path);
        return EXIT_USAGE;
    }
    ctl->has_token = true;
    return 0;
}

/*
 * Copies text from the API into buf with control characters (and DEL)
 * replaced by '?', so that a response cannot drive the terminal.
 */
static const char *
ctl_safe(const char *s, char *buf, size_t size)
{
    size_t i = 0;

    if (s == NULL)
        return NULL;
    for (; s[i] != '\0' && i + 1 < size; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

/*
 * Sends one request and parses the JSON response into *out.  Returns 0, or
 * the exit status after printing the error.
 */
static int
ctl_call(struct ctl *ctl, const char *method, const char *path,
    const char *body, json_t **out)
{
    struct http_client_response resp;
    int rc = http_client_request(&ctl->url, method, path,
        ctl->has_token ? ctl->token : NULL, body, CTL_TIMEOUT_MS, &resp);

    *out = NULL;
    if (rc == -EPROTO || rc == -EFBIG) {
        fprintf(stderr, "ikeshiftctl: the server at %s responded, but not "
            "with a readable HTTP response: %s\n", ctl->url_text,
            strerror(-rc));
        return EXIT_API_ERROR;
    }
    if (rc < 0) {
        fprintf(stderr, "ikeshiftctl: cannot reach the controller at %s: "
            "%s\n", ctl->url_text, strerror(-rc));
        return EXIT_UNREACHABLE;
    }

    json_t *j = json_loadb(resp.body, resp.body_len, 0, NULL);
    if (resp.status < 200 || resp.status > 299) {
        char msg_buf[512], code_buf[64];
        const char *msg = ctl_safe(json_string_value(json_object_get(j,
            "message")), msg_buf, sizeof(msg_buf));
        const char *code = ctl_safe(json_string_value(json_object_get(j,
            "error")), code_buf, sizeof(code_buf));
        if (ctl->json && j != NULL)
            printf("%s\n", resp.body);
        fprintf(stderr, "ikeshiftctl: %s %s failed with HTTP %d %s: %s\n",
            method, path, resp.status, code != NULL ? code : "",
            msg != NULL ? msg : "(no message)");
        json_decref(j);
        http_client_free(&resp);
        return EXIT_API_ERROR;
    }
    if (j == NULL) {
        fprintf(stderr, "ikeshiftctl: %s %s: the response is not JSON\n",
            method, path);
        http_client_free(&resp);
        return EXIT_API_ERROR;
    }
    if (ctl->json)
        printf("%s\n", resp.body);
    http_client_free(&resp);
    *out = j;
    return 0;
}

/* Prints a scalar JSON value as text. */
static void
ctl_print_value(const json_t *v)
{
    char buf[1024];

    if (json_is_string(v))
        fputs(ctl_safe(json_string_value(v), buf, sizeof(buf)), stdout);
    else if (json_is_integer(v))
        printf("%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        printf("%.3g", json_real_value(v));
    else if (json_is_true(v))
        fputs("yes", stdout);
    else if (json_is_false(v))
        fputs("no", stdout);
    else if (json_is_null(v))
        fputs("-", stdout);
    else if (json_is_array(v))
        printf("[%zu items]", json_array_size(v));
}

/* Prints an object as "key: value" lines, nested objects as a.b. */
static void
ctl_print_object(const char *prefix, const json_t *obj)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)(uintptr_t)obj, key, v) {
        if (json_is_object(v)) {
            char nested[128];
            snprintf(nested, sizeof(nested), "%s%s.", prefix, key);
            ctl_print_object(nested, v);
            continue;
        }
        printf("%s%s: ", prefix, key);
        ctl_print_value(v);
        putchar('\n');
    }
}

static void
ctl_print_cell(const json_t *obj, const char *key, int width)
{
    const json_t *v = json_object_get(obj, key);
    char text[64] = "-";

    if (json_is_string(v))
        ctl_safe(json_string_value(v), text, sizeof(text));
    else if (json_is_integer(v))
        snprintf(text, sizeof(text), "%lld",
            (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(text, sizeof(text), "%.2f", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(text, sizeof(text), "%s", json_is_true(v) ? "yes" : "no");
    printf("%-*s ", width, text);
}

/* Prints the {"gateways": [...]} response of GET /v1/gateways as a table. */
static void
ctl_print_gateways(const json_t *answer)
{
    const json_t *list = json_object_get(answer, "gateways");
    size_t i;
    json_t *gw;

    printf("%-24s %-12s %-5s %-8s %-8s %-6s %-8s %s\n", "GATEWAY", "ADMIN",
        "LIVE", "IKE_SAS", "CAPACITY", "LOAD", "IDENTITY", "DRAIN");
    json_array_foreach(list, i, gw) {
        const json_t *id_ok = json_object_get(gw, "identity_ok");

        ctl_print_cell(gw, "gateway_id", 24);
        ctl_print_cell(gw, "admin", 12);
        ctl_print_cell(gw, "live", 5);
        ctl_print_cell(gw, "ike_sas", 8);
        ctl_print_cell(gw, "capacity", 8);
        ctl_print_cell(gw, "load", 6);
        /* A gateway with another identity gets no clients, so the table
         * shows it. */
        printf("%-8s ", !json_is_boolean(id_ok) ? "-" :
            json_is_true(id_ok) ? "ok" : "WRONG");
        ctl_print_cell(json_object_get(gw, "drain"), "state", 0);
        putchar('\n');
    }
}

static void
ctl_print_plan(const json_t *plan)
{
    size_t i;
    json_t *gw;

    printf("epoch: ");
    ctl_print_value(json_object_get(plan, "epoch"));
    printf("\n%-24s %-12s %-7s %-7s %s\n", "GATEWAY", "ADMIN", "ACCEPT",
        "WEIGHT", "TARGETS");
    json_array_foreach(json_object_get(plan, "gateways"), i, gw) {
        ctl_print_cell(gw, "gateway_id", 24);
        ctl_print_cell(gw, "admin", 12);
        ctl_print_cell(gw, "accept_new", 7);
        ctl_print_cell(gw, "weight", 7);
        size_t j;
        json_t *t;
        json_array_foreach(json_object_get(gw, "targets"), j, t) {
            ctl_print_value(json_object_get(t, "gateway_id"));
            printf(j + 1 < json_array_size(json_object_get(gw, "targets"))
                ? "," : "");
        }
        putchar('\n');
    }
}

/* Runs a GET command and prints it with `print` unless --json is set. */
static int
ctl_get(struct ctl *ctl, const char *path, void (*print)(const json_t *))
{
    json_t *j;
    int rc = ctl_call(ctl, "GET", path, NULL, &j);

    if (rc == 0 && !ctl->json)
        print(j);
    json_decref(j);
    return rc;
}

static void
ctl_print_plain_object(const json_t *obj)
{
    ctl_print_object("", obj);
}

static bool
ctl_id_is_valid(const char *id)
{
    return cluster_id_is_valid(id, strlen(id), false);
}

static void
ctl_sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
        .tv_nsec = (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/*
 * Polls the gateway until its drain reaches a final state, printing one
 * progress line per poll.  Drained and forced succeed; the rest fail.
 */
static int
ctl_wait_drain(struct ctl *ctl, const char *path, unsigned interval_ms)
{
    for (;;) {
        json_t *gw;
        bool saved_json = ctl->json;

        ctl->json = false;
        int rc = ctl_call(ctl, "GET", path, NULL, &gw);
        ctl->json = saved_json;
        if (rc != 0)
            return rc;

        const json_t *drain = json_object_get(gw, "drain");
        const char *state = json_string_value(json_object_get(drain,
            "state"));
        const char *reason = json_string_value(json_object_get(drain,
            "reason"));
        printf("drain %s: state=%s remaining=", path + strlen("/v1/gateways/"),
            state != NULL ? state : "-");
        ctl_print_value(json_object_get(drain, "remaining"));
        printf(" rate_per_s=");
        ctl_print_value(json_object_get(drain, "rate_per_s"));
        putchar('\n');
        fflush(stdout);

        int result = -1;
        if (state == NULL || strcmp(state, "drained") == 0
            || strcmp(state, "forced") == 0)
            result = state == NULL ? EXIT_API_ERROR : 0;
        else if (strcmp(state, "refused") == 0 || strcmp(state, "held") == 0
            || strcmp(state, "resumed") == 0)
            result = EXIT_API_ERROR;
        if (result == EXIT_API_ERROR)
            fprintf(stderr, "ikeshiftctl: drain ended as %s%s%s\n",
                state != NULL ? state : "(no drain state in the answer)",
                reason != NULL ? ": " : "", reason != NULL ? reason : "");
        json_decref(gw);
        if (result >= 0)
            return result;
        ctl_sleep_ms(interval_ms);
    }
}

static int
ctl_cmd_drain(struct ctl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        { "deadline", required_argument, NULL, 'd' },
        { "pace", required_argument, NULL, 'p' },
        { "policy", required_argument, NULL, 'P' },
        { "wait", no_argument, NULL, 'w' },
        { "interval", required_argument, NULL, 'i' },
        { NULL, 0, NULL, 0 },
    };
    json_t *body = json_object();
    unsigned interval_ms = CTL_INTERVAL_MS;
    bool wait = false;
    int c;
    int rc = EXIT_USAGE;
    char *end;

    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long v;
        switch (c) {
        case 'd':
            json_object_set_new(body, "deadline", json_string(optarg));
            break;
        case 'p':
            v = strtol(optarg, &end, 10);
            if (*end != '\0' || v < 1 || v > API_PACE_MAX) {
                rc = ctl_usage_error("--pace: expected redirects per second "
                    "from 1 to 10000, got '%s'", optarg);
                goto out;
            }
            json_object_set_new(body, "pace", json_integer(v));
            break;
        case 'P':
            if (strcmp(optarg, "force") != 0 && strcmp(optarg, "hold") != 0) {
                rc = ctl_usage_error("--policy: expected force or hold, "
                    "got '%s'", optarg);
                goto out;
            }
            json_object_set_new(body, "policy", json_string(optarg));
            break;
        case 'w':
            wait = true;
            break;
        case 'i':
            v = strtol(optarg, &end, 10);
            if (*end != '\0' || v < 10 || v > 60000) {
                rc = ctl_usage_error("--interval: expected milliseconds from "
                    "10 to 60000, got '%s'", optarg);
                goto out;
            }
            interval_ms = (unsigned)v;
            break;
        default:
            goto out;
        }
    }
    if (optind != argc - 1 || !ctl_id_is_valid(argv[optind])) {
        rc = ctl_usage_error("drain: expected one gateway id%s",
            optind < argc ? ", [A-Za-z0-9._-]" : "");
        goto out;
    }

    char path[128];
    snprintf(path, sizeof(path), "/v1/gateways/%s/drain", argv[optind]);
    char *text = json_dumps(body, JSON_COMPACT);
    json_t *answer = NULL;
    rc = text != NULL ? ctl_call(ctl, "POST", path, text, &answer) : 1;
    free(text);
    if (rc == 0 && !ctl->json && !wait)
        ctl_print_object("", answer);
    json_decref(answer);
    if (rc == 0 && wait) {
        snprintf(path, sizeof(path), "/v1/gateways/%s", argv[optind]);
        rc = ctl_wait_drain(ctl, path, interval_ms);
    }
out:
    json_decref(body);
    return rc;
}

/* Returns the JSON key of a `move` option character, or NULL. */
static const char *
move_option_key(int c)
{
    switch (c) {
    case 'p':   return "peer";
    case 'i':   return "identity";
    case 's':   return "spi";
    case 't':   return "target";
    default:    return NULL;
    }
}

static int
ctl_cmd_move(struct ctl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        { "peer", required_argument, NULL, 'p' },
        { "identity", required_argument, NULL, 'i' },
        { "spi", required_argument, NULL, 's' },
        { "to", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    json_t *body = json_object();
    int selectors = 0;
    bool has_target = false;
    int c;
    int rc = EXIT_USAGE;

    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *key = move_option_key(c);

        if (key == NULL)
            goto out;
        if (c == 't')
            has_target = true;
        else
            selectors++;
        json_object_set_new(body, key, json_string(optarg));
    }
    if (selectors != 1 || !has_target || optind != argc) {
        rc = ctl_usage_error("move: expected one of --peer, --identity or "
            "--spi, and --to GATEWAY%s", "");
        goto out;
    }

    char *text = json_dumps(body, JSON_COMPACT);
    json_t *answer = NULL;
    rc = text != NULL ? ctl_call(ctl, "POST", "/v1/sessions/redirect", text,
        &answer) : 1;
    free(text);
    if (rc == 0 && !ctl->json)
        ctl_print_object("", answer);
    json_decref(answer);
out:
    json_decref(body);
    return rc;
}

static int
ctl_cmd_resume(struct ctl *ctl, int argc, char **argv)
{
    char path[128];
    json_t *answer;

    if (argc != 2 || !ctl_id_is_valid(argv[1]))
        return ctl_usage_error("resume: expected one gateway id%s", "");
    snprintf(path, sizeof(path), "/v1/gateways/%s/resume", argv[1]);
    int rc = ctl_call(ctl, "POST", path, NULL, &answer);
    if (rc == 0 && !ctl->json)
        ctl_print_object("", answer);
    json_decref(answer);
    return rc;
}

static int
ctl_run(struct ctl *ctl, int argc, char **argv)
{
    const char *cmd = argv[0];
    char path[128];

    if (strcmp(cmd, "status") == 0 && argc == 1)
        return ctl_get(ctl, "/v1/cluster", ctl_print_plain_object);
    if (strcmp(cmd, "gateways") == 0 && argc == 1)
        return ctl_get(ctl, "/v1/gateways", ctl_print_gateways);
    if (strcmp(cmd, "plan") == 0 && argc == 1)
        return ctl_get(ctl, "/v1/plan", ctl_print_plan);
    if (strcmp(cmd, "gateway") == 0) {
        if (argc != 2 || !ctl_id_is_valid(argv[1]))
            return ctl_usage_error("gateway: expected one gateway id%s", "");
        snprintf(path, sizeof(path), "/v1/gateways/%s", argv[1]);
        return ctl_get(ctl, path, ctl_print_plain_object);
    }
    if (strcmp(cmd, "drain") == 0)
        return ctl_cmd_drain(ctl, argc, argv);
    if (strcmp(cmd, "resume") == 0)
        return ctl_cmd_resume(ctl, argc, argv);
    if (strcmp(cmd, "move") == 0)
        return ctl_cmd_move(ctl, argc, argv);
    return ctl_usage_error("unknown command or wrong arguments: '%s'", cmd);
}

static bool
ctl_host_is_ip(const char *host)
{
    struct in6_addr a;

    return inet_pton(AF_INET, host, &a) == 1 ||
        inet_pton(AF_INET6, host, &a) == 1;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "url", required_argument, NULL, 'u' },
        { "token", required_argument, NULL, 't' },
        { "token-file", required_argument, NULL, 'f' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct ctl ctl = { .url_text = API_DEFAULT_URL };
    const char *token_file = NULL;
    const char *token = NULL;
    int c;
    int rc;

    /* "+" stops at the command, whose own options follow it. */
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            ctl.url_text = optarg;
            break;
        case 't':
            token = optarg;
            break;
        case 'f':
            token_file = optarg;
            break;
        case 'j':
            ctl.json = true;
            break;
        case 'h':
            ctl_usage(stdout);
            return 0;
        default:
            ctl_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return ctl_usage_error("a command is required%s", "");
    if (token != NULL && token_file != NULL)
        return ctl_usage_error("give --token or --token-file, not both%s", "");
    if (token == NULL && token_file == NULL)
        token = getenv("IKESHIFT_TOKEN");
    if (token_file != NULL && (rc = ctl_read_token_file(&ctl, token_file)))
        return rc;
    if (token != NULL && token[0] != '\0') {
        if (strlen(token) > CTL_TOKEN_MAX)
            return ctl_usage_error("--token: longer than 1024 bytes%s", "");
        strcpy(ctl.token, token);
        ctl.has_token = true;
    }

    rc = http_url_parse(ctl.url_text, &ctl.url);
    if (rc == -ENOTSUP)
        /* TODO: ikeshiftctl has no TLS client yet, so a controller that
         * serves only TLS cannot be managed with it. */
        return ctl_usage_error("--url: only http:// is supported, got '%s'",
            ctl.url_text);
    if (rc < 0)
        return ctl_usage_error("--url: expected http://ADDRESS[:PORT] with "
            "an IP address, got '%s'", ctl.url_text);
    if (!ctl_host_is_ip(ctl.url.host))
        return ctl_usage_error("--url: '%s' is not an IP address; host names"
            " are not resolved, so give an address such as 127.0.0.1",
            ctl.url.host);
    return ctl_run(&ctl, argc - optind, argv + optind);
}
