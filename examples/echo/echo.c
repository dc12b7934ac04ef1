/*
 * echo: the transport alone. A server host echoes every message back on the
 * channel it came on; a client host sends numbered messages on a
 * reliable-ordered channel and checks that each comes back, in order.
 *
 *   echo [--count N]                 server and client in one process on 127.0.0.1
 *   echo --server PORT               a server only (Ctrl-C to stop)
 *   echo --connect HOST:PORT [--count N]   a client only
 *
 * Exits 0 once N echoes came back (within 10 s), 1 otherwise.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netcore/transport.h"

#define CHANNEL 0 /* netcore_host_config_default: channel 0 is reliable-ordered */
#define DEADLINE_US 10000000u

static netcore_host *make_host(bool is_server, uint16_t port)
{
    netcore_host_config cfg;
    netcore_host_config_default(&cfg);
    cfg.is_server = is_server;
    if (is_server)
        cfg.bind_address = netcore_address_ipv4(127, 0, 0, 1, port);
    netcore_host *host = NULL;
    netcore_result r = netcore_host_create(&cfg, &host);
    if (r != NETCORE_OK)
        fprintf(stderr, "echo: cannot create the %s: %s\n", is_server ? "server" : "client",
                netcore_result_str(r));
    return host;
}

/* Server side: every message goes back where it came from. */
static void serve(netcore_host *server)
{
    netcore_event ev;
    while (netcore_host_poll(server, 0, &ev) == NETCORE_OK && ev.type != NETCORE_EVENT_NONE) {
        if (ev.type == NETCORE_EVENT_RECEIVE)
            netcore_host_send(server, ev.peer, ev.channel, ev.data, ev.size_bytes);
    }
}

typedef struct echo_client {
    netcore_host *host;
    netcore_peer_id server;
    int sent, received, count;
    bool failed;
} echo_client;

static void send_next(echo_client *c)
{
    char text[32];
    int n = snprintf(text, sizeof text, "echo %d", c->sent);
    if (netcore_host_send(c->host, c->server, CHANNEL, text, (size_t)n) == NETCORE_OK)
        c->sent++;
}

/* Client side: one message in flight at a time, each checked on return. */
static void play(echo_client *c, uint32_t wait_ms)
{
    netcore_event ev;
    for (uint32_t wait = wait_ms;
         netcore_host_poll(c->host, wait, &ev) == NETCORE_OK && ev.type != NETCORE_EVENT_NONE;
         wait = 0) {
        if (ev.type == NETCORE_EVENT_CONNECT) {
            printf("connected\n");
            send_next(c);
        } else if (ev.type == NETCORE_EVENT_DISCONNECT) {
            fprintf(stderr, "echo: disconnected: %s\n", netcore_disconnect_reason_str(ev.reason));
            c->failed = true;
        } else if (ev.type == NETCORE_EVENT_RECEIVE) {
            char expected[32];
            int n = snprintf(expected, sizeof expected, "echo %d", c->received);
            if ((size_t)n != ev.size_bytes || memcmp(expected, ev.data, ev.size_bytes) != 0) {
                fprintf(stderr, "echo: wrong echo (expected \"%s\")\n", expected);
                c->failed = true;
                return;
            }
            c->received++;
            if (c->sent < c->count)
                send_next(c);
        }
    }
}

static int run_client(netcore_host *server, const netcore_address *to, int count)
{
    echo_client c = {make_host(false, 0), NETCORE_PEER_NONE, 0, 0, count, false};
    if (!c.host || netcore_host_connect(c.host, to, NULL, &c.server) != NETCORE_OK) {
        netcore_host_destroy(c.host);
        return 1;
    }
    uint64_t start = netcore_time_now_us();
    while (!c.failed && c.received < c.count && netcore_time_now_us() - start < DEADLINE_US) {
        if (server)
            serve(server);
        play(&c, server ? 1 : 5); /* waits up to that many ms for traffic */
    }
    netcore_peer_stats st;
    if (netcore_host_get_peer_stats(c.host, c.server, &st) == NETCORE_OK)
        printf("%d of %d echoes, rtt %.2f ms\n", c.received, c.count, (double)st.rtt_ms);
    netcore_host_destroy(c.host);
    return c.received == c.count && !c.failed ? 0 : 1;
}

int main(int argc, char **argv)
{
    int count = 10;
    int server_port = -1;
    const char *connect_to = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--count") == 0)
            count = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--server") == 0)
            server_port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--connect") == 0)
            connect_to = argv[i + 1];
    }
    if (argc % 2 == 0 || count < 1 || server_port > 65535) {
        fprintf(stderr,
                "usage: echo [--count N] | --server PORT | --connect HOST:PORT [--count N]\n");
        return 2;
    }
    if (netcore_init() != NETCORE_OK)
        return 1;
    int status = 1;
    netcore_address to;
    if (connect_to) {
        if (netcore_address_parse(connect_to, 7000, &to) == NETCORE_OK)
            status = run_client(NULL, &to, count);
    } else {
        netcore_host *server = make_host(true, server_port > 0 ? (uint16_t)server_port : 0);
        if (server && netcore_host_address(server, &to) == NETCORE_OK) {
            char text[NETCORE_ADDRESS_STRLEN];
            netcore_address_format(&to, text, sizeof text);
            printf("echo server on %s\n", text);
            fflush(stdout);
            if (server_port > 0) {
                for (;;) {
                    netcore_event ev;
                    /* Wait for traffic, then answer everything pending. */
                    if (netcore_host_poll(server, 10, &ev) == NETCORE_OK &&
                        ev.type == NETCORE_EVENT_RECEIVE)
                        netcore_host_send(server, ev.peer, ev.channel, ev.data, ev.size_bytes);
                    serve(server);
                }
            }
            status = run_client(server, &to, count);
        }
        netcore_host_destroy(server);
    }
    netcore_shutdown();
    return status;
}
