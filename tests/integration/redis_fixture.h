/* A real redis-server for a test: Debian's, listening only on a unix
 * socket in a temporary directory (Redis cannot listen on "port 0"), no
 * RDB snapshots, append-only file only when asked. It dies with the test
 * process (PR_SET_PDEATHSIG) even when the test crashes. Header-only. */
#ifndef NETCORE_TEST_REDIS_FIXTURE_H
#define NETCORE_TEST_REDIS_FIXTURE_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct test_redis {
    pid_t pid;
    char dir[64];
    char socket_path[108];
    char address[128];    /* "unix:<socket_path>", for cluster_redis */
    bool persistent;      /* append-only file, fsync always: survives a restart */
    const char *password; /* NULL: none */
} test_redis;

static inline bool redis_server_installed(void)
{
    const char *path = getenv("PATH");
    char buf[512];
    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        snprintf(buf, sizeof buf, "%.*s/redis-server", (int)n, path);
        if (access(buf, X_OK) == 0)
            return true;
        path = colon ? colon + 1 : NULL;
    }
    return false;
}

static inline void redis_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline uint64_t redis_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* True once the socket accepts a connection and answers PING. */
static inline bool redis_answers(const test_redis *r)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", r->socket_path);
    bool ok = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
    char reply[64] = "";
    if (ok) {
        char cmd[160];
        int n = r->password ? snprintf(cmd, sizeof cmd, "AUTH %s\r\nPING\r\n", r->password)
                            : snprintf(cmd, sizeof cmd, "PING\r\n");
        struct timeval tv = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ok = write(fd, cmd, (size_t)n) == n;
        size_t got = 0;
        while (ok && got < sizeof reply - 1 && !strstr(reply, "PONG")) {
            ssize_t k = read(fd, reply + got, sizeof reply - 1 - got);
            if (k <= 0)
                break;
            got += (size_t)k;
            reply[got] = '\0';
        }
        ok = ok && strstr(reply, "PONG") != NULL;
    }
    close(fd);
    return ok;
}

/* Starts redis-server (again, in the same directory, after redis_stop). */
static inline void redis_start(test_redis *r)
{
    if (!redis_server_installed())
        cr_skip_test("redis-server is not installed (tests/install-deps.sh installs it)");
    if (r->dir[0] == '\0') {
        snprintf(r->dir, sizeof r->dir, "/tmp/netcore-redis-XXXXXX");
        cr_assert_not_null(mkdtemp(r->dir));
        snprintf(r->socket_path, sizeof r->socket_path, "%s/redis.sock", r->dir);
        snprintf(r->address, sizeof r->address, "unix:%s", r->socket_path);
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1);
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        const char *argv[20];
        int n = 0;
        argv[n++] = "redis-server";
        argv[n++] = "--port";
        argv[n++] = "0";
        argv[n++] = "--unixsocket";
        argv[n++] = r->socket_path;
        argv[n++] = "--unixsocketperm";
        argv[n++] = "700";
        argv[n++] = "--dir";
        argv[n++] = r->dir;
        argv[n++] = "--save";
        argv[n++] = "";
        argv[n++] = "--appendonly";
        argv[n++] = r->persistent ? "yes" : "no";
        argv[n++] = "--appendfsync";
        argv[n++] = "always";
        if (r->password) {
            argv[n++] = "--requirepass";
            argv[n++] = r->password;
        }
        argv[n] = NULL;
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    r->pid = pid;
    uint64_t deadline = redis_now_ms() + 10000;
    while (!redis_answers(r)) {
        int status = 0;
        cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "redis-server exited at start");
        cr_assert_lt(redis_now_ms(), deadline, "redis-server did not answer within 10 s");
        redis_sleep_ms(5);
    }
}

/* Stops it (SIGTERM, then SIGKILL after 5 s) and reaps it. */
static inline void redis_stop(test_redis *r)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, SIGCONT);
    kill(r->pid, SIGTERM);
    uint64_t deadline = redis_now_ms() + 5000;
    int status = 0;
    while (waitpid(r->pid, &status, WNOHANG) == 0) {
        if (redis_now_ms() > deadline) {
            kill(r->pid, SIGKILL);
            waitpid(r->pid, &status, 0);
            break;
        }
        redis_sleep_ms(5);
    }
    r->pid = 0;
}

/* Removes what is in dir (files, and one level of directories: Redis 7
 * keeps its append-only files in appendonlydir/), then dir. */
static inline void redis_remove_tree(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[256];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        if (remove(path) != 0 && depth > 0)
            redis_remove_tree(path, depth - 1);
    }
    closedir(d);
    rmdir(dir);
}

/* Stops it and removes its directory. */
static inline void redis_cleanup(test_redis *r)
{
    redis_stop(r);
    if (r->dir[0])
        redis_remove_tree(r->dir, 1);
    r->dir[0] = '\0';
}

#endif /* NETCORE_TEST_REDIS_FIXTURE_H */
