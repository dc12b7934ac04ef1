/* The lobby's link to Redis: hiredis's asynchronous API on the lobby's own
 * poller (a small event adapter: hiredis asks for read/write interest,
 * this file turns it into nci_poller_set calls, and the lobby's loop hands the
 * ready events back through nci_lobby_redis_io).
 *
 * Two connections: "cmd" carries SCRIPT LOAD, EVALSHA, PUBLISH and PING;
 * "sub" is subscribed to the cluster channel (a subscribed connection may
 * send nothing else). Either failing resets both, so that "up" always means
 * that requests run and that this node hears every event published after
 * them. Replies on one connection come in request order, so the records of
 * the requests awaiting a reply form a ring allocated at create. */
#define _POSIX_C_SOURCE 200809L
#include "lobby/lobby_redis.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

#define LINK_CMD 0u
#define LINK_SUB 1u
#define SHA_HEX 40
#define MAX_SCRIPTS 32

typedef struct redis_link {
    nci_lobby_redis *owner;
    uint32_t index;
    redisAsyncContext *ac;
    nci_socket socket;
    uint32_t events; /* interest hiredis asked for (NCI_POLL_*) */
    bool watched;    /* socket is in the poller */
    bool ready;      /* authenticated (and, for sub, subscribed) */
} redis_link;

/* What a reply on the command link belongs to. */
typedef enum req_kind {
    REQ_USER = 0, /* a caller's EVALSHA: reported through on_reply */
    REQ_AUTH,
    REQ_LOAD, /* SCRIPT LOAD of script `script` */
    REQ_PING,
    REQ_PUBLISH
} req_kind;

typedef struct redis_req {
    uint8_t kind;      /* req_kind */
    uint8_t user_kind; /* REQ_USER: the caller's kind */
    uint32_t script;
    uint64_t cookie;
    uint64_t sent_ms;
} redis_req;

struct nci_lobby_redis {
    nci_lobby_redis_config config;
    netcore_allocator allocator;
    netcore_log log;
    char host[256];
    int port; /* 0: host is a unix socket path */
    char password[256];
    char channel[64];
    const char *const *scripts;
    char shas[MAX_SCRIPTS][SHA_HEX + 1];
    uint32_t shas_loaded;
    redis_link links[2];
    redis_req *ring;
    uint32_t ring_head, ring_count;
    uint64_t now_ms;
    uint64_t next_attempt_ms;
    uint64_t last_ping_ms;
    bool up;
    bool reset_wanted; /* a link failed: tear both down at the next tick */
    bool destroying;
    nci_log_limiter limiter;
};

/* ------------------------------------------------------------------ */
/* The event adapter                                                   */
/* ------------------------------------------------------------------ */

static void link_watch(redis_link *l)
{
    bool ok = nci_poller_set(l->owner->config.poller, l->socket, l->events,
                             NCI_LOBBY_POLL_REDIS + l->index) == NETCORE_OK;
    if (ok)
        l->watched = true;
    else if (l->watched)
        l->owner->reset_wanted = true;
}

static void ev_add_read(void *data)
{
    redis_link *l = data;
    l->events |= NCI_POLL_IN;
    link_watch(l);
}

static void ev_del_read(void *data)
{
    redis_link *l = data;
    l->events &= ~(uint32_t)NCI_POLL_IN;
    link_watch(l);
}

static void ev_add_write(void *data)
{
    redis_link *l = data;
    l->events |= NCI_POLL_OUT;
    link_watch(l);
}

static void ev_del_write(void *data)
{
    redis_link *l = data;
    l->events &= ~(uint32_t)NCI_POLL_OUT;
    link_watch(l);
}

static void ev_cleanup(void *data)
{
    redis_link *l = data;
    /* hiredis closes the socket after this: it must leave the poller first. */
    if (l->watched)
        (void)nci_poller_remove(l->owner->config.poller, l->socket);
    l->watched = false;
    l->events = 0;
}

/* ------------------------------------------------------------------ */
/* Requests and replies                                                */
/* ------------------------------------------------------------------ */

static void warn(nci_lobby_redis *r, const char *what, const char *detail)
{
    if (nci_log_limit_allow(&r->limiter, r->now_ms * 1000, 1000000))
        nci_logf(&r->log, NETCORE_LOG_WARN, "lobby: redis %s%s%s", what, detail ? ": " : "",
                 detail ? detail : "");
}

static void set_up(nci_lobby_redis *r, bool up)
{
    if (r->up == up)
        return;
    r->up = up;
    if (up)
        nci_logf(&r->log, NETCORE_LOG_INFO, "lobby: redis link up");
    if (r->config.on_state && !r->destroying)
        r->config.on_state(r->config.user, up);
}

static void check_up(nci_lobby_redis *r)
{
    set_up(r, r->links[LINK_CMD].ready && r->links[LINK_SUB].ready &&
                  r->shas_loaded == r->config.script_count);
}

static void on_cmd_reply(redisAsyncContext *ac, void *reply_ptr, void *privdata)
{
    (void)ac;
    (void)privdata;
    redis_link *l = ac->ev.data;
    nci_lobby_redis *r = l->owner;
    const redisReply *reply = reply_ptr;
    if (r->ring_count == 0)
        return;
    redis_req req = r->ring[r->ring_head];
    r->ring_head = (r->ring_head + 1) % r->config.max_in_flight;
    r->ring_count--;
    if (r->destroying)
        return;
    bool error = !reply || reply->type == REDIS_REPLY_ERROR;
    switch ((req_kind)req.kind) {
    case REQ_USER:
        if (reply && reply->type == REDIS_REPLY_ERROR)
            warn(r, "script failed", reply->str);
        r->config.on_reply(r->config.user, req.user_kind, req.cookie, reply);
        return;
    case REQ_AUTH:
        if (error) {
            if (reply)
                warn(r, "authentication refused", reply->str);
            r->reset_wanted = true;
            return;
        }
        l->ready = true;
        check_up(r);
        return;
    case REQ_LOAD:
        if (error || reply->type != REDIS_REPLY_STRING || reply->len != SHA_HEX ||
            req.script >= r->config.script_count) {
            warn(r, "cannot load a script", reply && reply->str ? reply->str : NULL);
            r->reset_wanted = true;
            return;
        }
        memcpy(r->shas[req.script], reply->str, SHA_HEX);
        r->shas[req.script][SHA_HEX] = '\0';
        r->shas_loaded++;
        check_up(r);
        return;
    case REQ_PING:
    case REQ_PUBLISH:
        return;
    }
}

/* Queues a command on the command link with a ring record. */
static bool cmd_argv(nci_lobby_redis *r, const redis_req *req, int argc, const char **argv,
                     const size_t *argv_len)
{
    redis_link *l = &r->links[LINK_CMD];
    if (!l->ac || r->ring_count >= r->config.max_in_flight)
        return false;
    if (redisAsyncCommandArgv(l->ac, on_cmd_reply, NULL, argc, argv, argv_len) != REDIS_OK)
        return false;
    uint32_t slot = (r->ring_head + r->ring_count) % r->config.max_in_flight;
    r->ring[slot] = *req;
    r->ring[slot].sent_ms = r->now_ms;
    r->ring_count++;
    return true;
}

static void on_sub_reply(redisAsyncContext *ac, void *reply_ptr, void *privdata)
{
    (void)privdata;
    redis_link *l = ac->ev.data;
    nci_lobby_redis *r = l->owner;
    const redisReply *reply = reply_ptr;
    if (r->destroying || !reply)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        warn(r, "subscription refused", reply->str);
        r->reset_wanted = true;
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING)
        return;
    const redisReply *kind = reply->element[0];
    if (kind->len == 9 && memcmp(kind->str, "subscribe", 9) == 0) {
        l->ready = true;
        check_up(r);
    } else if (kind->len == 7 && memcmp(kind->str, "message", 7) == 0 &&
               reply->element[2]->type == REDIS_REPLY_STRING) {
        r->config.on_message(r->config.user, reply->element[2]->str, reply->element[2]->len);
    }
}

static void on_auth_sub(redisAsyncContext *ac, void *reply_ptr, void *privdata)
{
    (void)privdata;
    redis_link *l = ac->ev.data;
    const redisReply *reply = reply_ptr;
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
        if (!l->owner->destroying)
            warn(l->owner, "authentication refused", reply ? reply->str : NULL);
        l->owner->reset_wanted = true;
    }
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

static void on_connect(const redisAsyncContext *ac, int status)
{
    redis_link *l = ac->ev.data;
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback. */
        if (!l->owner->destroying)
            warn(l->owner, "cannot connect", ac->errstr);
        l->ac = NULL;
        l->ready = false;
        l->owner->reset_wanted = true;
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    redis_link *l = ac->ev.data;
    if (status != REDIS_OK && !l->owner->destroying)
        warn(l->owner, "connection lost", ac->errstr);
    l->ac = NULL;
    l->ready = false;
    l->owner->reset_wanted = true;
    set_up(l->owner, false);
}

static bool link_open(nci_lobby_redis *r, uint32_t index)
{
    redis_link *l = &r->links[index];
    memset(l, 0, sizeof *l);
    l->owner = r;
    l->index = index;
    l->socket = NCI_SOCKET_INVALID;
    redisAsyncContext *ac =
        r->port == 0 ? redisAsyncConnectUnix(r->host) : redisAsyncConnect(r->host, r->port);
    if (!ac)
        return false;
    if (ac->err) {
        warn(r, "cannot connect", ac->errstr);
        redisAsyncFree(ac);
        return false;
    }
    l->ac = ac;
    /* hiredis's redisFD: an int, or a Winsock SOCKET on Windows, as nci_socket. */
    l->socket = (nci_socket)ac->c.fd;
    ac->ev.data = l;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return true;
}

/* Frees both contexts (their pending callbacks run with no reply first) and
 * forgets every request. */
static void links_close(nci_lobby_redis *r)
{
    for (uint32_t i = 0; i < 2; i++) {
        redis_link *l = &r->links[i];
        if (l->ac) {
            redisAsyncContext *ac = l->ac;
            l->ac = NULL;
            redisAsyncFree(ac);
        }
        l->ready = false;
    }
    r->ring_count = 0;
    r->ring_head = 0;
    r->shas_loaded = 0;
    set_up(r, false);
}

static void links_start(nci_lobby_redis *r)
{
    if (!link_open(r, LINK_CMD) || !link_open(r, LINK_SUB)) {
        links_close(r);
        return;
    }
    const char *auth[2] = {"AUTH", r->password};
    bool ok = true;
    if (r->password[0]) {
        redis_req req = {.kind = REQ_AUTH};
        ok = cmd_argv(r, &req, 2, auth, NULL) &&
             redisAsyncCommandArgv(r->links[LINK_SUB].ac, on_auth_sub, NULL, 2, auth, NULL) ==
                 REDIS_OK;
    } else {
        r->links[LINK_CMD].ready = true;
    }
    for (uint32_t i = 0; ok && i < r->config.script_count; i++) {
        const char *load[3] = {"SCRIPT", "LOAD", r->scripts[i]};
        redis_req req = {.kind = REQ_LOAD, .script = i};
        ok = cmd_argv(r, &req, 3, load, NULL);
    }
    const char *sub[2] = {"SUBSCRIBE", r->channel};
    ok = ok &&
         redisAsyncCommandArgv(r->links[LINK_SUB].ac, on_sub_reply, NULL, 2, sub, NULL) == REDIS_OK;
    if (!ok)
        links_close(r);
}

/* "unix:PATH", "[v6]:PORT" or "HOST:PORT". */
static bool parse_address(nci_lobby_redis *r, const char *address)
{
    if (strncmp(address, "unix:", 5) == 0) {
        r->port = 0;
        return snprintf(r->host, sizeof r->host, "%s", address + 5) < (int)sizeof r->host &&
               r->host[0] != '\0';
    }
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address)
        return false;
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!end || *end != '\0' || port < 1 || port > 65535)
        return false;
    const char *host = address;
    size_t host_len = (size_t)(colon - address);
    if (host[0] == '[' && host_len >= 2 && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    if (host_len == 0 || host_len >= sizeof r->host)
        return false;
    memcpy(r->host, host, host_len);
    r->host[host_len] = '\0';
    r->port = (int)port;
    return true;
}

netcore_result nci_lobby_redis_create(const nci_lobby_redis_config *config,
                                      nci_lobby_redis **out_redis)
{
    if (!config || !out_redis || !config->address || !config->channel ||
        config->script_count > MAX_SCRIPTS || config->max_in_flight == 0 || !config->on_reply ||
        !config->on_message || strlen(config->channel) >= 64 ||
        (config->password && strlen(config->password) >= 256))
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_allocator allocator;
    memset(&allocator, 0, sizeof allocator);
    if (config->allocator)
        allocator = *config->allocator;
    nci_lobby_redis *r = nci_calloc(&allocator, 1, sizeof *r);
    if (!r)
        return NETCORE_ERR_OUT_OF_MEMORY;
    r->allocator = allocator;
    if (config->log)
        r->log = *config->log;
    r->config = *config;
    r->scripts = config->scripts;
    if (!parse_address(r, config->address)) {
        nci_free(&allocator, r);
        return NETCORE_ERR_INVALID_ARGUMENT;
    }
    snprintf(r->password, sizeof r->password, "%s", config->password ? config->password : "");
    snprintf(r->channel, sizeof r->channel, "%s", config->channel);
    r->ring = nci_calloc(&allocator, config->max_in_flight, sizeof *r->ring);
    if (!r->ring) {
        nci_free(&allocator, r);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    for (uint32_t i = 0; i < 2; i++) {
        r->links[i].owner = r;
        r->links[i].index = i;
        r->links[i].socket = NCI_SOCKET_INVALID;
    }
    *out_redis = r;
    return NETCORE_OK;
}

void nci_lobby_redis_destroy(nci_lobby_redis *r)
{
    if (!r)
        return;
    r->destroying = true;
    links_close(r);
    sodium_memzero(r->password, sizeof r->password);
    netcore_allocator allocator = r->allocator;
    nci_free(&allocator, r->ring);
    nci_free(&allocator, r);
}

void nci_lobby_redis_io(nci_lobby_redis *r, uint32_t link, uint32_t events)
{
    if (!r || link > 1)
        return;
    redis_link *l = &r->links[link];
    if (l->ac && (events & (NCI_POLL_IN | NCI_POLL_ERR)))
        redisAsyncHandleRead(l->ac);
    /* The read may have freed the context (a disconnect). */
    if (l->ac && (events & NCI_POLL_OUT))
        redisAsyncHandleWrite(l->ac);
}

void nci_lobby_redis_tick(nci_lobby_redis *r, uint64_t now_ms)
{
    if (!r)
        return;
    if (now_ms > r->now_ms)
        r->now_ms = now_ms;
    /* A reply overdue means Redis (or the path to it) hangs: treat it as lost. */
    if (r->ring_count > 0 &&
        r->now_ms - r->ring[r->ring_head].sent_ms > r->config.reply_timeout_ms) {
        warn(r, "reply overdue, reconnecting", NULL);
        r->reset_wanted = true;
    }
    bool any = r->links[0].ac || r->links[1].ac;
    bool both = r->links[0].ac && r->links[1].ac;
    if (r->reset_wanted || (any && !both)) {
        r->reset_wanted = false;
        links_close(r);
        r->next_attempt_ms = r->now_ms + r->config.retry_ms;
        return;
    }
    if (!any) {
        if (r->now_ms < r->next_attempt_ms)
            return;
        r->next_attempt_ms = r->now_ms + r->config.retry_ms;
        links_start(r);
        return;
    }
    if (r->up && r->now_ms - r->last_ping_ms >= r->config.retry_ms) {
        r->last_ping_ms = r->now_ms;
        const char *ping[1] = {"PING"};
        redis_req req = {.kind = REQ_PING};
        (void)cmd_argv(r, &req, 1, ping, NULL);
    }
}

bool nci_lobby_redis_up(const nci_lobby_redis *r)
{
    return r && r->up;
}

bool nci_lobby_redis_eval(nci_lobby_redis *r, uint32_t script, uint32_t argc,
                          const char *const *argv, const size_t *argv_len, uint8_t kind,
                          uint64_t cookie)
{
    enum { MAX_ARGS = 16 };
    if (!r || !r->up || script >= r->config.script_count || argc > MAX_ARGS - 3)
        return false;
    const char *args[MAX_ARGS];
    size_t lens[MAX_ARGS];
    args[0] = "EVALSHA";
    lens[0] = 7;
    args[1] = r->shas[script];
    lens[1] = SHA_HEX;
    args[2] = "0";
    lens[2] = 1;
    for (uint32_t i = 0; i < argc; i++) {
        args[3 + i] = argv[i];
        lens[3 + i] = argv_len ? argv_len[i] : strlen(argv[i]);
    }
    redis_req req = {.kind = REQ_USER, .user_kind = kind, .cookie = cookie};
    return cmd_argv(r, &req, (int)argc + 3, args, lens);
}

bool nci_lobby_redis_publish(nci_lobby_redis *r, const char *bytes, size_t size)
{
    if (!r || !r->up)
        return false;
    const char *args[3] = {"PUBLISH", r->channel, bytes};
    size_t lens[3] = {7, strlen(r->channel), size};
    redis_req req = {.kind = REQ_PUBLISH};
    return cmd_argv(r, &req, 3, args, lens);
}
