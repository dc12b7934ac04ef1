/*
 * demo-server's connection to a remote lobby (see server_registry.h).
 */
#include "server_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netcore/lobby.h"
#include "sim.h"

#define LOAD_REPORT_MS 2000  /* heartbeat: the lobby's idle timeout is 60 s by default */
#define BACKOFF_FIRST_MS 500 /* first wait before registering again */
#define BACKOFF_MAX_MS 16000

struct demo_registry {
    demo_registry_config config;
    netcore_lobby_client *client;
    bool registered;
    bool closing;         /* in destroy: no retry, no log */
    uint64_t retry_at_ms; /* next attempt while not connected */
    uint64_t backoff_ms;
    uint64_t next_load_ms;
    int64_t last_load; /* -1: none reported since registering */
    demo_rng rng;      /* backoff jitter */
    demo_registry_stats stats;
};

static void say(const demo_registry *r, const char *what, const char *detail)
{
    if (!r->config.quiet) {
        fprintf(stderr, "demo-server: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    }
}

/* The next attempt after the current backoff, +-25 % so that game servers
 * cut off together do not all come back in the same instant; the backoff
 * doubles for the attempt after. */
static void schedule_retry(demo_registry *r, uint64_t now_ms)
{
    uint64_t jitter = r->backoff_ms / 4;
    uint64_t wait = r->backoff_ms - jitter + demo_rng_below(&r->rng, (uint32_t)(2 * jitter + 1));
    r->retry_at_ms = now_ms + wait;
    r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
    if (!r->config.quiet) {
        fprintf(stderr, "demo-server: registering with the lobby again in %.1f s\n",
                (double)wait / 1000.0);
    }
}

static void on_event(void *user, const netcore_lobby_event *e)
{
    demo_registry *r = user;
    const char *text = e->text && e->text[0] ? e->text : netcore_lobby_error_str(e->error_code);
    switch (e->type) {
    case NETCORE_LOBBY_EVENT_REGISTERED:
        r->registered = true;
        r->stats.registrations++;
        r->backoff_ms = BACKOFF_FIRST_MS;
        r->last_load = -1;
        say(r, "registered with the lobby", NULL);
        break;
    case NETCORE_LOBBY_EVENT_MATCH_ASSIGNED:
        r->stats.assigned++;
        r->config.on_match(r->config.user, e->match_id, e->member_ids, e->member_count);
        break;
    case NETCORE_LOBBY_EVENT_ERROR:
        r->stats.errors++;
        if (r->registered) { /* before: the DISCONNECTED that follows says why */
            say(r, "the lobby refused a request", text);
        }
        break;
    case NETCORE_LOBBY_EVENT_DISCONNECTED:
        if (!r->closing) {
            say(r,
                r->registered   ? "lost the lobby connection"
                : e->error_code ? "the lobby refused the registration"
                                : "cannot reach the lobby",
                e->error_code ? text : NULL);
        }
        if (r->registered) {
            r->stats.lost++;
        } else {
            r->stats.failures++;
        }
        r->registered = false;
        if (!r->closing) {
            schedule_retry(r, netcore_time_now_us() / 1000);
        }
        break;
    default:
        break;
    }
}

demo_registry *demo_registry_create(const demo_registry_config *config)
{
    if (!config || !config->on_match || config->capacity == 0) {
        return NULL;
    }
    demo_registry *r = calloc(1, sizeof *r);
    if (!r) {
        return NULL;
    }
    r->config = *config;
    r->backoff_ms = BACKOFF_FIRST_MS;
    r->last_load = -1;
    demo_rng_seed(&r->rng, config->seed);
    netcore_lobby_client_config lc;
    netcore_lobby_client_config_default(&lc);
    lc.on_event = on_event;
    lc.event_user = r;
    /* The registration (key digest, then every match's member list) goes
     * over TLS to a lobby verified like any other. */
    demo_trust_apply(config->trust, NULL, &lc);
    if (netcore_lobby_client_create(&lc, &r->client) != NETCORE_OK) {
        demo_registry_destroy(r);
        return NULL;
    }
    return r;
}

void demo_registry_destroy(demo_registry *r)
{
    if (!r) {
        return;
    }
    r->closing = true;
    if (r->client && netcore_lobby_client_is_connected(r->client)) {
        netcore_lobby_client_disconnect(r->client);
        netcore_lobby_client_update(r->client, netcore_time_now_us());
    }
    netcore_lobby_client_destroy(r->client);
    memset(r->config.key, 0, sizeof r->config.key);
    free(r);
}

void demo_registry_update(demo_registry *r, uint32_t load, uint64_t now_ms)
{
    if (!netcore_lobby_client_is_connected(r->client) && now_ms >= r->retry_at_ms) {
        time_t t = time(NULL);
        netcore_result res = netcore_lobby_client_register_game_server(
            r->client, &r->config.lobby, r->config.key, &r->config.game_address, r->config.capacity,
            t < 0 ? 0 : (uint64_t)t, now_ms * 1000u);
        if (res != NETCORE_OK) {
            r->stats.failures++;
            say(r, "cannot reach the lobby", netcore_result_str(res));
            schedule_retry(r, now_ms);
        }
    }
    netcore_lobby_client_update(r->client, now_ms * 1000u);
    if (!r->registered) {
        return;
    }
    if (load > r->config.capacity) {
        load = r->config.capacity;
    }
    if (((int64_t)load != r->last_load || now_ms >= r->next_load_ms) &&
        netcore_lobby_client_report_load(r->client, (uint16_t)load, r->config.capacity) ==
            NETCORE_OK) {
        r->last_load = load;
        r->next_load_ms = now_ms + LOAD_REPORT_MS;
    }
}

bool demo_registry_end_match(demo_registry *r, uint64_t match_id)
{
    if (!r->registered ||
        netcore_lobby_client_report_match_end(r->client, match_id) != NETCORE_OK) {
        return false;
    }
    r->stats.ended++;
    return true;
}

bool demo_registry_registered(const demo_registry *r)
{
    return r->registered;
}

void demo_registry_get_stats(const demo_registry *r, demo_registry_stats *out)
{
    *out = r->stats;
    out->registered = r->registered;
    out->load_reported = r->last_load < 0 ? 0 : (uint32_t)r->last_load;
}
