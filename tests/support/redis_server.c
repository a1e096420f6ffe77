/*
 * Test fixture: one redis-server process per test; see redis_server.h.
 */
#include "redis_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REDIS_SERVER_MAX_ARGS 32

struct redis_server {
    pid_t pid;
    uint16_t port;
    char dir[64];
    const char *argv[REDIS_SERVER_MAX_ARGS];
    char port_text[8];
};

uint16_t
redis_server_free_port(void)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof(sin);
    uint16_t port = 0;
    int fd;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return 0;
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
        port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

static uint64_t
redis_server_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Returns 0 once the server replies to PING, with any reply. */
static int
redis_server_wait_ping(struct redis_server *srv)
{
    uint64_t deadline = redis_server_now_ms() + REDIS_SERVER_START_MS;
    struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };

    while (redis_server_now_ms() < deadline) {
        int status;

        if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
            fprintf(stderr, "redis_server: redis-server exited, status %d\n",
                status);
            srv->pid = 0;
            return -ECHILD;
        }
        redisContext *c = redisConnectWithTimeout("127.0.0.1", srv->port, tv);
        if (c != NULL && c->err == 0) {
            redisSetTimeout(c, tv);
            redisReply *reply = redisCommand(c, "PING");
            if (reply != NULL) {
                freeReplyObject(reply);
                redisFree(c);
                return 0;
            }
        }
        redisFree(c);
        usleep(20000);
    }
    fprintf(stderr, "redis_server: no PING reply on port %u within %d ms\n",
        srv->port, REDIS_SERVER_START_MS);
    return -ETIMEDOUT;
}

static int
redis_server_spawn(struct redis_server *srv)
{
    pid_t parent = getpid();
    pid_t pid = fork();

    if (pid < 0)
        return -errno;
    if (pid == 0) {
        /* Dies with the test process, even when the test crashes. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
        }
        execv(REDIS_SERVER_BIN, (char *const *)(uintptr_t)srv->argv);
        _exit(127);
    }
    srv->pid = pid;
    return redis_server_wait_ping(srv);
}

struct redis_server *
redis_server_start(const char *const *extra)
{
    struct redis_server *srv = calloc(1, sizeof(*srv));
    size_t n = 0;

    if (srv == NULL)
        return NULL;
    snprintf(srv->dir, sizeof(srv->dir), "/tmp/ikeshift-redis-XXXXXX");
    if (mkdtemp(srv->dir) == NULL) {
        fprintf(stderr, "redis_server: mkdtemp: %s\n", strerror(errno));
        free(srv);
        return NULL;
    }
    srv->port = redis_server_free_port();
    snprintf(srv->port_text, sizeof(srv->port_text), "%u", srv->port);
    const char *base[] = {
        REDIS_SERVER_BIN, "--port", srv->port_text, "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "yes", "--dir", srv->dir, NULL,
    };
    for (size_t i = 0; base[i] != NULL; i++)
        srv->argv[n++] = base[i];
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
        if (n + 1 >= REDIS_SERVER_MAX_ARGS)
            break;
        srv->argv[n++] = extra[i];
    }
    srv->argv[n] = NULL;
    if (redis_server_spawn(srv) < 0) {
        redis_server_free(srv);
        return NULL;
    }
    return srv;
}

static void
redis_server_reap(struct redis_server *srv)
{
    uint64_t deadline = redis_server_now_ms() + 2000;

    if (srv->pid <= 0)
        return;
    kill(srv->pid, SIGCONT);
    kill(srv->pid, SIGTERM);
    while (waitpid(srv->pid, NULL, WNOHANG) == 0) {
        if (redis_server_now_ms() > deadline) {
            kill(srv->pid, SIGKILL);
            waitpid(srv->pid, NULL, 0);
            break;
        }
        usleep(10000);
    }
    srv->pid = 0;
}

/* Removes the server's directory, which holds only flat files and the
 * appendonlydir of Redis 7. */
static void
redis_server_remove_dir(const char *dir)
{
    char cmd[128];

    if (strncmp(dir, "/tmp/ikeshift-redis-", 20) != 0)
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "redis_server: could not remove %s\n", dir);
}

void
redis_server_free(struct redis_server *srv)
{
    if (srv == NULL)
        return;
    redis_server_reap(srv);
    redis_server_remove_dir(srv->dir);
    free(srv);
}

int
redis_server_kill(struct redis_server *srv)
{
    if (srv->pid <= 0)
        return -ESRCH;
    kill(srv->pid, SIGKILL);
    waitpid(srv->pid, NULL, 0);
    srv->pid = 0;
    return 0;
}

int
redis_server_restart(struct redis_server *srv)
{
    if (srv->pid > 0)
        return -EBUSY;
    return redis_server_spawn(srv);
}

int
redis_server_pause(struct redis_server *srv)
{
    return srv->pid > 0 && kill(srv->pid, SIGSTOP) == 0 ? 0 : -ESRCH;
}

int
redis_server_resume(struct redis_server *srv)
{
    return srv->pid > 0 && kill(srv->pid, SIGCONT) == 0 ? 0 : -ESRCH;
}

uint16_t
redis_server_port(const struct redis_server *srv)
{
    return srv->port;
}

int
redis_server_command(const struct redis_server *srv, const char *password,
    const char *fmt, ...)
{
    struct timeval tv = { .tv_sec = 2, .tv_usec = 0 };
    redisReply *reply = NULL;
    int ret = -EIO;
    va_list ap;

    redisContext *c = redisConnectWithTimeout("127.0.0.1", srv->port, tv);
    if (c == NULL || c->err != 0)
        goto out;
    redisSetTimeout(c, tv);
    if (password != NULL) {
        reply = redisCommand(c, "AUTH %s", password);
        if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
            goto out;
        freeReplyObject(reply);
    }
    va_start(ap, fmt);
    reply = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (reply == NULL)
        goto out;
    if (reply->type == REDIS_REPLY_ERROR)
        fprintf(stderr, "redis_server: command failed: %s\n", reply->str);
    else
        ret = 0;
out:
    if (reply != NULL)
        freeReplyObject(reply);
    redisFree(c);
    return ret;
}
