/*
 * A tiny game-shaped program built against an installed netcore, the way a
 * user's game would be: a server and a client host in one process connect over
 * loopback, the client says hello, the server answers, both shut down.
 * Exit status 0 means the whole exchange happened.
 */
#include <stdio.h>
#include <string.h>

#include <netcore/netcore.h>
#include <netcore/transport.h>

#define HELLO "hello from the client"
#define WELCOME "welcome from the server"
#define DEADLINE_US 10000000u /* 10 s: generous for a loaded machine */
#define MAX_ROUNDS 20000      /* bounds the loop even if the clock misbehaves */

typedef struct game {
    netcore_host *server;
    netcore_host *client;
    netcore_peer_id server_side_peer; /* the client, as the server sees it */
    netcore_peer_id client_side_peer; /* the server, as the client sees it */
    int server_got_hello;
    int client_got_welcome;
    int server_saw_disconnect;
    int client_saw_disconnect;
} game;

static int failed(const char *what, netcore_result result)
{
    fprintf(stderr, "consumer: %s: %s\n", what, netcore_result_str(result));
    return 0;
}

static int is_message(const netcore_event *event, const char *text)
{
    return event->size_bytes == strlen(text) && memcmp(event->data, text, event->size_bytes) == 0;
}

/* Handles every event the server has right now; 0 on an unexpected failure. */
static int pump_server(game *g)
{
    netcore_event event;
    for (;;) {
        netcore_result r = netcore_host_poll(g->server, 1, &event);
        if (r != NETCORE_OK)
            return failed("server poll", r);
        if (event.type == NETCORE_EVENT_NONE)
            return 1;
        if (event.type == NETCORE_EVENT_CONNECT) {
            g->server_side_peer = event.peer;
        } else if (event.type == NETCORE_EVENT_RECEIVE && event.peer == g->server_side_peer &&
                   is_message(&event, HELLO)) {
            g->server_got_hello = 1;
            r = netcore_host_send(g->server, event.peer, 0, WELCOME, strlen(WELCOME));
            if (r != NETCORE_OK)
                return failed("server send", r);
        } else if (event.type == NETCORE_EVENT_DISCONNECT) {
            g->server_saw_disconnect = 1;
        }
    }
}

/* Handles every event the client has right now; 0 on failure. */
static int pump_client(game *g)
{
    netcore_event event;
    for (;;) {
        netcore_result r = netcore_host_poll(g->client, 1, &event);
        if (r != NETCORE_OK)
            return failed("client poll", r);
        if (event.type == NETCORE_EVENT_NONE)
            return 1;
        if (event.type == NETCORE_EVENT_CONNECT) {
            printf("consumer: connected\n");
            r = netcore_host_send(g->client, event.peer, 0, HELLO, strlen(HELLO));
            if (r != NETCORE_OK)
                return failed("client send", r);
        } else if (event.type == NETCORE_EVENT_RECEIVE && is_message(&event, WELCOME)) {
            g->client_got_welcome = 1;
        } else if (event.type == NETCORE_EVENT_DISCONNECT) {
            g->client_saw_disconnect = 1;
            if (!g->client_got_welcome) {
                fprintf(stderr, "consumer: disconnected early: %s\n",
                        netcore_disconnect_reason_str(event.reason));
                return 0;
            }
        }
    }
}

/* Pumps both hosts until *flag is set; 0 on failure or after the deadline. */
static int run_until(game *g, const int *flag, const char *what)
{
    uint64_t start_us = netcore_time_now_us();
    for (int round = 0; round < MAX_ROUNDS && !*flag; round++) {
        if (!pump_server(g) || !pump_client(g))
            return 0;
        if (netcore_time_now_us() - start_us > DEADLINE_US)
            break;
    }
    if (!*flag)
        fprintf(stderr, "consumer: gave up waiting for %s\n", what);
    return *flag;
}

static int play(game *g)
{
    netcore_host_config config;
    netcore_host_config_default(&config);
    config.is_server = true;
    config.max_peers = 4;
    config.bind_address = netcore_address_ipv4(127, 0, 0, 1, 0); /* ephemeral port */
    netcore_result r = netcore_host_create(&config, &g->server);
    if (r != NETCORE_OK)
        return failed("server create", r);

    netcore_address server_address;
    char text[NETCORE_ADDRESS_STRLEN];
    r = netcore_host_address(g->server, &server_address);
    if (r != NETCORE_OK)
        return failed("server address", r);
    netcore_address_format(&server_address, text, sizeof text);
    printf("consumer: server listening on %s\n", text);

    netcore_host_config_default(&config);
    r = netcore_host_create(&config, &g->client);
    if (r != NETCORE_OK)
        return failed("client create", r);
    r = netcore_host_connect(g->client, &server_address, NULL, &g->client_side_peer);
    if (r != NETCORE_OK)
        return failed("client connect", r);

    if (!run_until(g, &g->client_got_welcome, "the server's answer"))
        return 0;
    printf("consumer: message exchanged\n");

    r = netcore_host_disconnect(g->client, g->client_side_peer, 0);
    if (r != NETCORE_OK)
        return failed("client disconnect", r);
    if (!run_until(g, &g->server_saw_disconnect, "the server to see the disconnect"))
        return 0;
    return run_until(g, &g->client_saw_disconnect, "the client's disconnect to complete");
}

int main(void)
{
    netcore_result r = netcore_init();
    if (r != NETCORE_OK) {
        failed("init", r);
        return 1;
    }
    printf("consumer: netcore %s\n", netcore_version_string());

    game g;
    memset(&g, 0, sizeof g);
    int ok = play(&g) && g.server_got_hello;
    netcore_host_destroy(g.client);
    netcore_host_destroy(g.server);
    netcore_shutdown();
    printf("consumer: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
