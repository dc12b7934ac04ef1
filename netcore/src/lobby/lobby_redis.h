/* The lobby's link to Redis (internal): two asynchronous hiredis connections,
 * one for commands and scripts, one subscribed to the cluster's channel,
 * driven by the lobby's own poller. Nothing here blocks: commands are
 * queued and their replies handled when the poller says a socket is readable.
 * Only the lobby_cluster*.c and lobby_redis.c files include hiredis; no
 * public header does. See docs/lobby-cluster.md. */
#ifndef NETCORE_LOBBY_REDIS_H
#define NETCORE_LOBBY_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/lobby.h"
#include "platform/poller.h"

struct redisReply;

/* Poller data of the Redis sockets: plus 0 (commands) or 1 (subscription). */
#define NCI_LOBBY_POLL_REDIS 0x300000000ull

typedef struct nci_lobby_redis nci_lobby_redis;

/* A script's or command's reply; reply is NULL when the link failed before
 * it came (the request may or may not have run). kind and cookie are the
 * caller's, as given to nci_lobby_redis_eval. */
typedef void (*nci_lobby_redis_reply_fn)(void *user, uint8_t kind, uint64_t cookie,
                                         const struct redisReply *reply);
/* One message published on the channel (bytes not NUL-terminated). */
typedef void (*nci_lobby_redis_message_fn)(void *user, const char *bytes, size_t size);
/* The link became usable (connected, authenticated, scripts loaded,
 * subscribed) or stopped being so. */
typedef void (*nci_lobby_redis_state_fn)(void *user, bool up);

typedef struct nci_lobby_redis_config {
    const netcore_allocator *allocator;
    const netcore_log *log;
    nci_poller *poller;         /* the lobby's; the links register their sockets in it */
    const char *address;        /* "HOST:PORT" (IPv4, IPv6 in brackets, or a name) or "unix:PATH" */
    const char *password;       /* empty or NULL: no AUTH */
    const char *channel;        /* subscribed on connect */
    const char *const *scripts; /* Lua sources, loaded on every connect (SCRIPT LOAD) */
    uint32_t script_count;
    uint32_t max_in_flight;    /* replies awaited at most at once; more is refused */
    uint32_t retry_ms;         /* pause between connection attempts */
    uint32_t reply_timeout_ms; /* a reply older than this resets the link */
    nci_lobby_redis_reply_fn on_reply;
    nci_lobby_redis_message_fn on_message;
    nci_lobby_redis_state_fn on_state;
    void *user;
} nci_lobby_redis_config;

/* Copies what it needs of config (strings included) and starts connecting
 * at the first tick. Errors: NETCORE_ERR_INVALID_ARGUMENT (address not
 * understood), NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result nci_lobby_redis_create(const nci_lobby_redis_config *config,
                                      nci_lobby_redis **out_redis);
/* Closes both links; pending replies are dropped without their callbacks.
 * NULL is ignored. */
void nci_lobby_redis_destroy(nci_lobby_redis *redis);
/* The poller reported events (NCI_POLL_*) on link 0 or 1. */
void nci_lobby_redis_io(nci_lobby_redis *redis, uint32_t link, uint32_t events);
/* Reconnects after the retry pause, pings, and resets a link whose replies
 * are overdue. Call at least every retry_ms. */
void nci_lobby_redis_tick(nci_lobby_redis *redis, uint64_t now_ms);
bool nci_lobby_redis_up(const nci_lobby_redis *redis);
/* Runs script index with the given arguments (binary-safe; no keys are
 * declared: every key is under the cluster's prefix). false when the link is
 * down or max_in_flight replies are awaited: nothing was sent and no
 * callback follows. */
bool nci_lobby_redis_eval(nci_lobby_redis *redis, uint32_t script, uint32_t argc,
                          const char *const *argv, const size_t *argv_len, uint8_t kind,
                          uint64_t cookie);
/* PUBLISH on the channel; no reply is reported. false when down or busy. */
bool nci_lobby_redis_publish(nci_lobby_redis *redis, const char *bytes, size_t size);

#endif /* NETCORE_LOBBY_REDIS_H */
