/* UDP impairment relay on loopback: in-process through relay.h, and the real
 * netcore-linkproxy program as a child process, between client sockets and a
 * UDP echo socket. Asserts counts, tolerances and generous delay bounds only. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/net_internal.h"
#include "transport/relay.h"

#define MAX_CLIENTS 8
#define MAX_SOURCES 16
#define MAX_RTTS 8192
#define MS 1000u

/* ------------------------------------------------------------------ */
/* Sockets and the test rig                                             */
/* ------------------------------------------------------------------ */

typedef struct probe {
    uint32_t client;
    uint32_t seq;
    uint64_t sent_us;
} probe;

typedef struct rig {
    nci_relay *relay; /* NULL when the relay is a child process */
    netcore_address proxy;
    int echo_fd;
    netcore_address echo_address;
    uint64_t echoed;
    netcore_address sources[MAX_SOURCES];
    size_t source_count;
    size_t client_count;
    int client_fd[MAX_CLIENTS];
    netcore_address client_address[MAX_CLIENTS];
    uint64_t replies[MAX_CLIENTS];
    uint64_t foreign[MAX_CLIENTS]; /* replies carrying another client's id */
    uint32_t rtt_us[MAX_RTTS];
    size_t rtt_count;
    uint64_t last_activity_us;
} rig;

/* A non-blocking UDP socket on loopback (IPv4 or IPv6), port 0; -1 if the
 * family is unavailable. */
static int loopback_socket(netcore_address_family family, netcore_address *out_address)
{
    netcore_address address;
    memset(&address, 0, sizeof address);
    address.family = (uint8_t)family;
    if (family == NETCORE_ADDRESS_IPV4)
        address = netcore_address_ipv4(127, 0, 0, 1, 0);
    else
        address.bytes[15] = 1; /* ::1 */
    struct sockaddr_storage sa;
    socklen_t len = nci_address_to_sockaddr(&address, &sa);
    int fd = socket(sa.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    int size = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (bind(fd, (struct sockaddr *)&sa, len) != 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    socklen_t sa_len = sizeof sa;
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &sa_len), 0);
    cr_assert(nci_address_from_sockaddr((struct sockaddr *)&sa, out_address));
    return fd;
}

static void rig_init(rig *r, netcore_address_family family, size_t clients)
{
    memset(r, 0, sizeof *r);
    cr_assert_leq(clients, MAX_CLIENTS);
    r->echo_fd = loopback_socket(family, &r->echo_address);
    cr_assert_geq(r->echo_fd, 0);
    r->client_count = clients;
    for (size_t i = 0; i < clients; i++) {
        r->client_fd[i] = loopback_socket(family, &r->client_address[i]);
        cr_assert_geq(r->client_fd[i], 0);
    }
}

static void rig_close(rig *r)
{
    nci_relay_destroy(r->relay);
    close(r->echo_fd);
    for (size_t i = 0; i < r->client_count; i++)
        close(r->client_fd[i]);
}

static void rig_send(rig *r, size_t client, uint32_t seq)
{
    probe p = {(uint32_t)client, seq, netcore_time_now_us()};
    struct sockaddr_storage sa;
    socklen_t len = nci_address_to_sockaddr(&r->proxy, &sa);
    ssize_t n = sendto(r->client_fd[client], &p, sizeof p, 0, (struct sockaddr *)&sa, len);
    cr_assert_eq(n, (ssize_t)sizeof p, "sendto: %s", strerror(errno));
}

static void echo_service(rig *r, uint64_t now_us)
{
    uint8_t buffer[2048];
    for (int budget = 0; budget < 4096; budget++) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof from;
        ssize_t n =
            recvfrom(r->echo_fd, buffer, sizeof buffer, 0, (struct sockaddr *)&from, &from_len);
        if (n < 0)
            return;
        r->echoed++;
        r->last_activity_us = now_us;
        netcore_address source;
        cr_assert(nci_address_from_sockaddr((struct sockaddr *)&from, &source));
        bool known = false;
        for (size_t i = 0; i < r->source_count; i++)
            known = known || netcore_address_equal(&r->sources[i], &source);
        if (!known && r->source_count < MAX_SOURCES)
            r->sources[r->source_count++] = source;
        sendto(r->echo_fd, buffer, (size_t)n, 0, (struct sockaddr *)&from, from_len);
    }
}

static void clients_service(rig *r, uint64_t now_us)
{
    for (size_t c = 0; c < r->client_count; c++) {
        for (int budget = 0; budget < 4096; budget++) {
            probe p;
            ssize_t n = recv(r->client_fd[c], &p, sizeof p, 0);
            if (n < 0)
                break;
            r->last_activity_us = now_us;
            cr_assert_eq(n, (ssize_t)sizeof p);
            if (p.client != c) {
                r->foreign[c]++;
                continue;
            }
            r->replies[c]++;
            if (r->rtt_count < MAX_RTTS)
                r->rtt_us[r->rtt_count++] = (uint32_t)(now_us - p.sent_us);
        }
    }
}

/* Runs relay, echo and clients for duration_ms, or until nothing has moved
 * for quiet_ms (0: never stop early). */
static void rig_pump(rig *r, uint32_t duration_ms, uint32_t quiet_ms)
{
    uint64_t start = netcore_time_now_us();
    uint64_t deadline = start + (uint64_t)duration_ms * MS;
    r->last_activity_us = start;
    for (;;) {
        uint64_t now = netcore_time_now_us();
        if (r->relay)
            nci_relay_update(r->relay, now);
        echo_service(r, now);
        clients_service(r, now);
        if (now >= deadline || (quiet_ms && now - r->last_activity_us >= (uint64_t)quiet_ms * MS))
            return;
        if (r->relay) {
            nci_relay_wait(r->relay, now, 1);
        } else {
            struct pollfd fds[1 + MAX_CLIENTS];
            fds[0].fd = r->echo_fd;
            for (size_t c = 0; c < r->client_count; c++)
                fds[1 + c].fd = r->client_fd[c];
            for (size_t i = 0; i <= r->client_count; i++)
                fds[i].events = POLLIN;
            poll(fds, (nfds_t)(1 + r->client_count), 2);
        }
    }
}

static uint64_t total_replies(const rig *r)
{
    uint64_t total = 0;
    for (size_t c = 0; c < r->client_count; c++)
        total += r->replies[c];
    return total;
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static uint32_t rtt_percentile(rig *r, double fraction)
{
    cr_assert_gt(r->rtt_count, 0);
    qsort(r->rtt_us, r->rtt_count, sizeof r->rtt_us[0], compare_u32);
    size_t index = (size_t)(fraction * (double)(r->rtt_count - 1));
    return r->rtt_us[index];
}

static void start_relay(rig *r, nci_relay_config *cfg)
{
    cfg->forward = r->echo_address;
    if (cfg->listen.family == NETCORE_ADDRESS_NONE)
        cfg->listen = netcore_address_ipv4(127, 0, 0, 1, 0);
    cr_assert_eq(nci_relay_create(cfg, &r->relay), NETCORE_OK);
    cr_assert_eq(nci_relay_listen_address(r->relay, &r->proxy), NETCORE_OK);
    cr_assert_neq(r->proxy.port, 0);
}

/* Sends count probes per client in batches, pumping between batches so no
 * socket buffer overflows, then drains until quiet. */
static void send_paced(rig *r, uint32_t count, uint32_t batch, uint32_t pump_ms, uint32_t quiet_ms)
{
    for (uint32_t seq = 0; seq < count;) {
        for (uint32_t b = 0; b < batch && seq < count; b++, seq++)
            for (size_t c = 0; c < r->client_count; c++)
                rig_send(r, c, seq);
        rig_pump(r, pump_ms, 0);
    }
    rig_pump(r, 3000, quiet_ms);
}

/* ------------------------------------------------------------------ */
/* In-process relay                                                     */
/* ------------------------------------------------------------------ */

Test(relay, loss_matches_profile)
{
    enum { N = 3000 };
    rig r;
    rig_init(&r, NETCORE_ADDRESS_IPV4, 1);
    nci_relay_config cfg;
    nci_relay_config_default(&cfg);
    cfg.seed = 21;
    cfg.upstream.loss_pct = 20.0f;
    start_relay(&r, &cfg);
    send_paced(&r, N, 100, 3, 100);

    nci_relay_stats stats;
    nci_relay_stats_get(r.relay, &stats);
    cr_assert_eq(stats.upstream.forwarded + stats.upstream.dropped_loss, N);
    cr_assert_eq(r.echoed, stats.upstream.forwarded);
    cr_assert_eq(total_replies(&r), r.echoed, "downstream is perfect");
    cr_assert_eq(stats.downstream.forwarded, r.echoed);
    double loss = 100.0 * (double)(N - r.echoed) / N;
    cr_assert(loss > 15.0 && loss < 25.0, "measured loss %.2f%%", loss);
    cr_assert_eq(stats.sessions_opened, 1);
    cr_assert_eq(stats.sessions_active, 1);
    rig_close(&r);
}

Test(relay, round_trip_delay_follows_latency)
{
    enum { PINGS = 30 };
    rig r;
    rig_init(&r, NETCORE_ADDRESS_IPV4, 1);
    nci_relay_config cfg;
    nci_relay_config_default(&cfg);
    cfg.upstream.latency_ms = 25;
    cfg.upstream.jitter_ms = 5;
    cfg.downstream = cfg.upstream;
    start_relay(&r, &cfg);
    for (uint32_t i = 0; i < PINGS; i++) {
        rig_send(&r, 0, i);
        /* Wait for this ping's reply (at most 1 s) before the next one. */
        for (int step = 0; step < 100 && r.replies[0] <= i; step++)
            rig_pump(&r, 10, 0);
    }
    cr_assert_eq(r.replies[0], PINGS);
    /* Lower bound: the relay never delivers early (2 x (25 - 5) ms); upper bound generous. */
    uint32_t min_rtt = rtt_percentile(&r, 0.0);
    uint32_t median = rtt_percentile(&r, 0.5);
    cr_assert_geq(min_rtt, 38 * MS, "min rtt %u us", min_rtt);
    cr_assert_leq(median, 60 * MS + 300 * MS, "median rtt %u us", median);
    rig_close(&r);
}

Test(relay, clients_get_their_own_replies_through_their_own_source)
{
    enum { CLIENTS = 4, N = 50 };
    rig r;
    rig_init(&r, NETCORE_ADDRESS_IPV4, CLIENTS);
    nci_relay_config cfg;
    nci_relay_config_default(&cfg);
    cfg.upstream.latency_ms = 2;
    cfg.downstream.jitter_ms = 2;
    start_relay(&r, &cfg);
    send_paced(&r, N, 10, 3, 50);

    for (size_t c = 0; c < CLIENTS; c++) {
        cr_assert_eq(r.replies[c], N, "client %zu got %llu", c, (unsigned long long)r.replies[c]);
        cr_assert_eq(r.foreign[c], 0);
    }
    cr_assert_eq(r.source_count, CLIENTS, "the target sees one source per client");
    bool mapped[CLIENTS] = {false};
    for (size_t s = 0; s < r.source_count; s++) {
        netcore_address client;
        cr_assert_eq(nci_relay_origin(r.relay, &r.sources[s], &client), NETCORE_OK);
        for (size_t c = 0; c < CLIENTS; c++)
            if (netcore_address_equal(&client, &r.client_address[c]))
                mapped[c] = true;
    }
    for (size_t c = 0; c < CLIENTS; c++)
        cr_assert(mapped[c], "client %zu has an upstream source", c);
    netcore_address unknown = netcore_address_ipv4(127, 0, 0, 1, 1);
    netcore_address ignored;
    cr_assert_eq(nci_relay_origin(r.relay, &unknown, &ignored), NETCORE_ERR_NOT_FOUND);
    nci_relay_stats stats;
    nci_relay_stats_get(r.relay, &stats);
    cr_assert_eq(stats.sessions_opened, CLIENTS);
    cr_assert_eq(stats.sessions_active, CLIENTS);
    rig_close(&r);
}

Test(relay, duplication_is_counted)
{
    enum { N = 1000 };
    rig r;
    rig_init(&r, NETCORE_ADDRESS_IPV4, 1);
    nci_relay_config cfg;
    nci_relay_config_default(&cfg);
    cfg.seed = 5;
    cfg.upstream.duplicate_pct = 30.0f;
    cfg.upstream.latency_ms = 1;
    start_relay(&r, &cfg);
    send_paced(&r, N, 50, 3, 100);
    nci_relay_stats stats;
    nci_relay_stats_get(r.relay, &stats);
    cr_assert_eq(stats.upstream.forwarded, N + stats.upstream.duplicated);
    cr_assert_eq(r.echoed, stats.upstream.forwarded);
    cr_assert_eq(total_replies(&r), r.echoed);
    double rate = 100.0 * (double)stats.upstream.duplicated / N;
    cr_assert(rate > 24.0 && rate < 36.0, "duplicate rate %.2f%%", rate);
    rig_close(&r);
}

Test(relay, max_sessions_refuses_extra_clients)
{
    rig r;
    rig_init(&r, NETCORE_ADDRESS_IPV4, 3);
    nci_relay_config cfg;
    nci_relay_config_default(&cfg);
    cfg.max_sessions = 2;
    start_relay(&r, &cfg);
    send_paced(&r, 10, 10, 5, 50);
    cr_assert_eq(r.replies[0], 10);
    cr_assert_eq(r.replies[1], 10);
    cr_assert_eq(r.replies[2], 0, "the third client has no session");
    nci_relay_stats stats;
    nci_relay_stats_get(r.relay, &stats);
    cr_assert_eq(stats.sessions_opened, 2);
    cr_assert_eq(stats.sessions_refused, 10, "one refusal per datagram without a session");
    rig_close(&r);
}

Test(relay, idle_sessions_expire_and_reopen)
{
    rig r;
    rig_init(&r, NETCORE_ADDRESS_IPV4, 1);
    nci_relay_config cfg;
    nci_relay_config_default(&cfg);
    cfg.session_idle_timeout_ms = 100;
    start_relay(&r, &cfg);
    rig_send(&r, 0, 0);
    rig_pump(&r, 1000, 30);
    cr_assert_eq(r.replies[0], 1);
    rig_pump(&r, 250, 0);
    nci_relay_stats stats;
    nci_relay_stats_get(r.relay, &stats);
    cr_assert_eq(stats.sessions_expired, 1);
    cr_assert_eq(stats.sessions_active, 0);
    netcore_address client;
    cr_assert_eq(nci_relay_origin(r.relay, &r.sources[0], &client), NETCORE_ERR_NOT_FOUND);
    rig_send(&r, 0, 1);
    rig_pump(&r, 1000, 30);
    cr_assert_eq(r.replies[0], 2);
    nci_relay_stats_get(r.relay, &stats);
    cr_assert_eq(stats.sessions_opened, 2);
    cr_assert_eq(stats.sessions_active, 1);
    rig_close(&r);
}

Test(relay, oversize_is_dropped_and_profiles_change_live)
{
    rig r;
    rig_init(&r, NETCORE_ADDRESS_IPV4, 1);
    nci_relay_config cfg;
    nci_relay_config_default(&cfg);
    cfg.max_datagram_bytes = 64;
    start_relay(&r, &cfg);
    uint8_t big[200] = {0};
    struct sockaddr_storage sa;
    socklen_t len = nci_address_to_sockaddr(&r.proxy, &sa);
    cr_assert_eq(sendto(r.client_fd[0], big, sizeof big, 0, (struct sockaddr *)&sa, len),
                 (ssize_t)sizeof big);
    send_paced(&r, 5, 5, 5, 30);
    cr_assert_eq(r.replies[0], 5);
    nci_relay_stats stats;
    nci_relay_stats_get(r.relay, &stats);
    cr_assert_eq(stats.upstream.dropped_overflow, 1);

    netcore_link_profile all_lost;
    memset(&all_lost, 0, sizeof all_lost);
    all_lost.loss_pct = 100.0f;
    nci_relay_set_profiles(r.relay, NULL, &all_lost);
    send_paced(&r, 5, 5, 5, 30);
    cr_assert_eq(r.replies[0], 5, "downstream now drops everything");
    nci_relay_stats_get(r.relay, &stats);
    cr_assert_eq(stats.downstream.dropped_loss, 5);
    cr_assert_eq(stats.upstream.forwarded, 10);
    rig_close(&r);
}

Test(relay, create_rejects_bad_config)
{
    nci_relay_config cfg;
    nci_relay_config_default(&cfg);
    nci_relay *relay = NULL;
    cr_assert_eq(nci_relay_create(&cfg, &relay), NETCORE_ERR_INVALID_ARGUMENT,
                 "no forward address");
    cfg.forward = netcore_address_ipv4(127, 0, 0, 1, 9);
    cfg.upstream.loss_pct = 101.0f;
    cr_assert_eq(nci_relay_create(&cfg, &relay), NETCORE_ERR_INVALID_ARGUMENT);
    cfg.upstream.loss_pct = 0.0f;
    cfg.max_sessions = 0;
    cr_assert_eq(nci_relay_create(&cfg, &relay), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_null(relay);
}

Test(relay, ipv6_loopback)
{
    netcore_address probe_address;
    int fd = loopback_socket(NETCORE_ADDRESS_IPV6, &probe_address);
    if (fd < 0)
        cr_skip_test("no IPv6 loopback on this machine");
    close(fd);
    rig r;
    rig_init(&r, NETCORE_ADDRESS_IPV6, 2);
    nci_relay_config cfg;
    nci_relay_config_default(&cfg);
    cfg.listen = r.echo_address;
    cfg.listen.port = 0;
    cfg.upstream.latency_ms = 2;
    start_relay(&r, &cfg);
    cr_assert_eq(r.proxy.family, NETCORE_ADDRESS_IPV6);
    send_paced(&r, 20, 10, 5, 50);
    cr_assert_eq(r.replies[0], 20);
    cr_assert_eq(r.replies[1], 20);
    cr_assert_eq(r.source_count, 2);
    rig_close(&r);
}

/* ------------------------------------------------------------------ */
/* JSON summary reader: validates the whole text and records every      */
/* scalar under its dotted path ("upstream.forwarded").                 */
/* ------------------------------------------------------------------ */

typedef struct json_entry {
    char path[96];
    double number;
    char text[64];
} json_entry;

typedef struct json_doc {
    json_entry entries[128];
    size_t count;
} json_doc;

static void json_space(const char **p)
{
    while (**p == ' ' || **p == '\n' || **p == '\r' || **p == '\t')
        (*p)++;
}

static bool json_string(const char **p, char *out, size_t out_size)
{
    if (**p != '"')
        return false;
    size_t n = 0;
    for ((*p)++; **p != '"'; (*p)++) {
        if (**p == '\0' || (unsigned char)**p < 0x20)
            return false;
        if (**p == '\\' && *(++*p) == '\0')
            return false;
        if (n + 1 < out_size)
            out[n++] = **p;
    }
    (*p)++;
    out[n] = '\0';
    return true;
}

static bool json_value(const char **p, const char *path, json_doc *doc, int depth)
{
    json_space(p);
    if (depth > 8)
        return false;
    if (**p == '{') {
        (*p)++;
        json_space(p);
        if (**p == '}') {
            (*p)++;
            return true;
        }
        for (;;) {
            char key[64], child[96];
            json_space(p);
            if (!json_string(p, key, sizeof key))
                return false;
            json_space(p);
            if (*(*p)++ != ':')
                return false;
            int n = snprintf(child, sizeof child, "%s%s%s", path, *path ? "." : "", key);
            if (n < 0 || (size_t)n >= sizeof child)
                return false; /* a path deeper than this test's documents */
            if (!json_value(p, child, doc, depth + 1))
                return false;
            json_space(p);
            if (**p == '}') {
                (*p)++;
                return true;
            }
            if (*(*p)++ != ',')
                return false;
        }
    }
    if (doc->count >= sizeof doc->entries / sizeof doc->entries[0])
        return false;
    json_entry *e = &doc->entries[doc->count];
    memset(e, 0, sizeof *e);
    snprintf(e->path, sizeof e->path, "%s", path);
    if (**p == '"') {
        if (!json_string(p, e->text, sizeof e->text))
            return false;
    } else {
        char *end = NULL;
        e->number = strtod(*p, &end);
        if (end == *p)
            return false;
        *p = end;
    }
    doc->count++;
    return true;
}

static bool json_parse(const char *text, json_doc *doc)
{
    memset(doc, 0, sizeof *doc);
    const char *p = text;
    if (!json_value(&p, "", doc, 0))
        return false;
    json_space(&p);
    return *p == '\0';
}

static const json_entry *json_get(const json_doc *doc, const char *path)
{
    for (size_t i = 0; i < doc->count; i++)
        if (strcmp(doc->entries[i].path, path) == 0)
            return &doc->entries[i];
    cr_assert_fail("key %s missing from the summary", path);
    return NULL;
}

static double json_number(const json_doc *doc, const char *path)
{
    return json_get(doc, path)->number;
}

/* ------------------------------------------------------------------ */
/* The netcore-linkproxy program                                        */
/* ------------------------------------------------------------------ */

typedef struct child {
    pid_t pid;
    int out_fd;
    int err_fd;
    char out[8192];
    size_t out_len;
    char err[8192];
    size_t err_len;
} child;

static const char *proxy_path(void)
{
#ifdef NETCORE_LINKPROXY_PATH
    return NETCORE_LINKPROXY_PATH;
#else
    cr_skip_test("netcore-linkproxy is not built (NETCORE_BUILD_TOOLS=OFF)");
    return NULL;
#endif
}

static void child_start(child *c, const char *const *args)
{
    memset(c, 0, sizeof *c);
    int out_pipe[2], err_pipe[2];
    cr_assert_eq(pipe(out_pipe), 0);
    cr_assert_eq(pipe(err_pipe), 0);
    c->pid = fork();
    cr_assert_geq(c->pid, 0);
    if (c->pid == 0) {
        dup2(out_pipe[1], STDOUT_FILENO);
        dup2(err_pipe[1], STDERR_FILENO);
        close(out_pipe[0]);
        close(out_pipe[1]);
        close(err_pipe[0]);
        close(err_pipe[1]);
        execv(args[0], (char *const *)args);
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    c->out_fd = out_pipe[0];
    c->err_fd = err_pipe[0];
}

/* Reads whatever the child wrote, for up to timeout_ms or until stop_text
 * appears in stderr (NULL: until both pipes close). */
static void child_read(child *c, uint32_t timeout_ms, const char *stop_text)
{
    uint64_t deadline = netcore_time_now_us() + (uint64_t)timeout_ms * MS;
    while (netcore_time_now_us() < deadline && (c->out_fd >= 0 || c->err_fd >= 0)) {
        if (stop_text && strstr(c->err, stop_text))
            return;
        struct pollfd fds[2] = {{c->out_fd, POLLIN, 0}, {c->err_fd, POLLIN, 0}};
        if (poll(fds, 2, 20) <= 0)
            continue;
        int *fd_of[2] = {&c->out_fd, &c->err_fd};
        char *buf_of[2] = {c->out, c->err};
        size_t *len_of[2] = {&c->out_len, &c->err_len};
        for (int i = 0; i < 2; i++) {
            if (*fd_of[i] < 0 || fds[i].revents == 0)
                continue;
            size_t room = sizeof c->out - 1 - *len_of[i];
            ssize_t n = room > 0 ? read(*fd_of[i], buf_of[i] + *len_of[i], room) : 0;
            if (n <= 0) {
                close(*fd_of[i]);
                *fd_of[i] = -1;
                continue;
            }
            *len_of[i] += (size_t)n;
            buf_of[i][*len_of[i]] = '\0';
        }
    }
}

/* Waits (bounded) for the child to exit and returns its exit code; a child
 * that hangs is killed and fails the test. */
static int child_finish(child *c)
{
    child_read(c, 5000, NULL);
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 500 && done == 0; i++) {
        done = waitpid(c->pid, &status, WNOHANG);
        if (done == 0)
            poll(NULL, 0, 10);
    }
    if (done == 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, &status, 0);
        cr_assert_fail("netcore-linkproxy did not exit");
    }
    if (c->out_fd >= 0)
        close(c->out_fd);
    if (c->err_fd >= 0)
        close(c->err_fd);
    cr_assert(WIFEXITED(status), "netcore-linkproxy died: %s", c->err);
    return WEXITSTATUS(status);
}

/* Starts the proxy in front of the rig's echo socket and reads its port. */
static void start_proxy(rig *r, child *c, const char *const *flags)
{
    char forward[NETCORE_ADDRESS_STRLEN];
    netcore_address_format(&r->echo_address, forward, sizeof forward);
    const char *args[40] = {proxy_path(), "--listen", "127.0.0.1:0", "--forward", forward};
    size_t n = 5;
    for (size_t i = 0; flags[i] && n + 1 < sizeof args / sizeof args[0]; i++)
        args[n++] = flags[i];
    args[n] = NULL;
    child_start(c, args);
    child_read(c, 5000, "\n");
    const char *at = strstr(c->err, "listening on ");
    cr_assert_not_null(at, "no startup line: %s", c->err);
    char address[NETCORE_ADDRESS_STRLEN];
    cr_assert_eq(sscanf(at, "listening on %63[^,]", address), 1);
    cr_assert_eq(netcore_address_parse(address, 0, &r->proxy), NETCORE_OK);
    cr_assert_neq(r->proxy.port, 0);
}

static void stop_proxy(child *c, json_doc *doc)
{
    cr_assert_eq(kill(c->pid, SIGTERM), 0);
    cr_assert_eq(child_finish(c), 0, "stderr: %s", c->err);
    cr_assert(json_parse(c->out, doc), "summary is not JSON: %s", c->out);
}

Test(linkproxy, loss_latency_and_summary_match)
{
    enum { N = 2000 };
    rig r;
    rig_init(&r, NETCORE_ADDRESS_IPV4, 1);
    child c;
    const char *flags[] = {"--latency", "10", "--loss", "20", "--down-loss=0", "--seed", "5", NULL};
    start_proxy(&r, &c, flags);
    send_paced(&r, N, 50, 8, 150);
    json_doc doc;
    stop_proxy(&c, &doc);

    double loss = 100.0 * (double)(N - r.echoed) / N;
    cr_assert(loss > 15.0 && loss < 25.0, "measured loss %.2f%%", loss);
    cr_assert_eq(total_replies(&r), r.echoed, "downstream loss was overridden to 0");
    cr_assert_eq(json_number(&doc, "upstream.forwarded"), (double)r.echoed);
    cr_assert_eq(
        json_number(&doc, "upstream.forwarded") + json_number(&doc, "upstream.loss_dropped"), N);
    cr_assert_eq(json_number(&doc, "downstream.forwarded"), (double)total_replies(&r));
    cr_assert_eq(json_number(&doc, "downstream.loss_dropped"), 0);
    cr_assert_eq(json_number(&doc, "upstream.duplicated"), 0);
    cr_assert_eq(json_number(&doc, "sessions.opened"), 1);
    cr_assert_eq(json_number(&doc, "settings.seed"), 5);
    cr_assert_eq(json_number(&doc, "settings.upstream.loss_pct"), 20);
    cr_assert_eq(json_number(&doc, "settings.downstream.loss_pct"), 0);
    cr_assert_eq(json_number(&doc, "settings.downstream.latency_ms"), 10);
    char forward[NETCORE_ADDRESS_STRLEN];
    netcore_address_format(&r.echo_address, forward, sizeof forward);
    cr_assert_str_eq(json_get(&doc, "settings.forward")->text, forward);
    /* Round trip crosses 10 ms twice; lower bound with slack for when the
     * proxy read its clock, upper bound generous. */
    cr_assert_geq(rtt_percentile(&r, 0.0), 15 * MS);
    cr_assert_leq(rtt_percentile(&r, 0.5), 20 * MS + 300 * MS);
    rig_close(&r);
}

Test(linkproxy, duplication_and_several_clients)
{
    enum { CLIENTS = 3, N = 200 };
    rig r;
    rig_init(&r, NETCORE_ADDRESS_IPV4, CLIENTS);
    child c;
    const char *flags[] = {"--up-dup", "25", "--jitter", "2", "--latency", "3", NULL};
    start_proxy(&r, &c, flags);
    send_paced(&r, N, 20, 6, 100);
    json_doc doc;
    stop_proxy(&c, &doc);

    for (size_t i = 0; i < CLIENTS; i++) {
        cr_assert_geq(r.replies[i], N, "client %zu: every probe comes back, some twice", i);
        cr_assert_eq(r.foreign[i], 0);
    }
    cr_assert_eq(r.source_count, CLIENTS);
    double duplicated = json_number(&doc, "upstream.duplicated");
    double rate = 100.0 * duplicated / (CLIENTS * N);
    cr_assert(rate > 18.0 && rate < 32.0, "duplicate rate %.2f%%", rate);
    cr_assert_eq(json_number(&doc, "upstream.forwarded"), CLIENTS * N + duplicated);
    cr_assert_eq(json_number(&doc, "upstream.forwarded"), (double)r.echoed);
    cr_assert_eq(json_number(&doc, "downstream.duplicated"), 0);
    cr_assert_eq(json_number(&doc, "downstream.forwarded"), (double)total_replies(&r));
    cr_assert_eq(json_number(&doc, "sessions.opened"), CLIENTS);
    cr_assert_eq(json_number(&doc, "settings.upstream.duplicate_pct"), 25);
    cr_assert_eq(json_number(&doc, "settings.downstream.jitter_ms"), 2);
    rig_close(&r);
}

Test(linkproxy, seconds_limit_exits_by_itself)
{
    rig r;
    rig_init(&r, NETCORE_ADDRESS_IPV4, 0);
    child c;
    const char *flags[] = {"--seconds", "0.3", "--preset", "wifi", NULL};
    start_proxy(&r, &c, flags);
    cr_assert_eq(child_finish(&c), 0, "stderr: %s", c.err);
    json_doc doc;
    cr_assert(json_parse(c.out, &doc), "summary is not JSON: %s", c.out);
    cr_assert_geq(json_number(&doc, "elapsed_s"), 0.29);
    cr_assert_eq(json_number(&doc, "settings.upstream.latency_ms"), 20);
    cr_assert_eq(json_number(&doc, "settings.downstream.loss_pct"), 1);
    cr_assert_eq(json_number(&doc, "sessions.opened"), 0);
    rig_close(&r);
}

Test(linkproxy, bad_flags_exit_2_with_usage)
{
    const char *path = proxy_path();
    const char *const cases[][8] = {
        {"--listen", "127.0.0.1:0", "--forward", "127.0.0.1:9", "--loss", "abc", NULL},
        {"--listen", "127.0.0.1:0", "--forward", "127.0.0.1:9", "--loss", "150", NULL},
        {"--listen", "127.0.0.1:0", "--forward", "127.0.0.1:9", "--latency", "-5", NULL},
        {"--listen", "127.0.0.1:0", "--forward", "127.0.0.1:9", "--bogus", "1", NULL},
        {"--listen", "127.0.0.1:0", "--forward", "127.0.0.1:9", "--seed", NULL},
        {"--listen", "127.0.0.1:0", "--forward", "127.0.0.1", NULL},
        {"--listen", "127.0.0.1:0", NULL},
        {"--listen", "127.0.0.1:0", "--forward", "127.0.0.1:9", "--preset", "moon", NULL},
        {"--listen", "127.0.0.1:0", "--forward", "127.0.0.1:99999", NULL},
        {"stray", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[10] = {path};
        for (size_t j = 0; cases[i][j]; j++)
            args[j + 1] = cases[i][j];
        child c;
        child_start(&c, args);
        cr_assert_eq(child_finish(&c), 2, "case %zu should exit 2", i);
        cr_assert_not_null(strstr(c.err, "usage:"), "case %zu: no usage on stderr", i);
        cr_assert_eq(c.out_len, 0, "case %zu wrote to stdout", i);
    }
    const char *help[] = {path, "--help", NULL};
    child c;
    child_start(&c, help);
    cr_assert_eq(child_finish(&c), 0);
    cr_assert_not_null(strstr(c.out, "--up-"));
}
