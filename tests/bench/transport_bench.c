/*
 * transport_bench: netcore's ENet-backed transport against raw ENet, measured
 * in the same run on 127.0.0.1 with 32-byte messages.
 *
 *   - round-trip time (p50, p99) of a ping-pong with one message in flight,
 *     reliable and unreliable;
 *   - echoed messages per second with windows of 1 and 10 messages in flight;
 *   - server heap per connected idle peer;
 *   - netcore/raw ratios of each figure.
 *
 * One process, one thread: the client and the server host of each pair are
 * both busy-polled with timeout 0, as a game loop does, so a round trip is two
 * loopback datagrams plus the work of both ends done back to back on one core.
 * That keeps the second core free for the rest of the machine and makes the
 * netcore/raw comparison insensitive to scheduling between two spinning
 * processes. Within each figure, chunks of netcore and raw ENet alternate;
 * medians over --runs runs are reported, and each ratio is the median of the
 * per-run ratios. docs/benchmarks.md explains every figure.
 */
#define _POSIX_C_SOURCE 200809L
#include <enet/enet.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "netcore/transport.h"
#include "transport_bench.h"

enum { CLIENT_ERROR = -1, CLIENT_NONE = 0, CLIENT_MESSAGE = 1, CLIENT_OTHER = 2 };

static const uint32_t windows[] = {1, 10};
_Static_assert(sizeof windows / sizeof windows[0] == WINDOW_COUNT, "window count");
static const char *const backend_names[BACKEND_COUNT] = {"netcore", "raw_enet", "netcore_unsealed"};

/* ------------------------------------------------------------------ */
/* Memory accounting and errors                                        */
/* ------------------------------------------------------------------ */

/* ENet's allocator callbacks are process-wide and carry no user pointer, so
 * the benchmark records which host it is driving in enet_owner and charges
 * ENet's allocations to that host's counter. Frees are charged back to the
 * counter named in the block's header, whoever drives ENet at that moment. */
typedef enum owner { OWNER_CLIENT = 0, OWNER_SERVER = 1, OWNER_COUNT = 2 } owner;
static owner enet_owner;
static bench_alloc_counter enet_counters[OWNER_COUNT];

static void *enet_counting_malloc(size_t size_bytes)
{
    return bench_counting_alloc(&enet_counters[enet_owner], size_bytes);
}

static void enet_counting_free(void *ptr)
{
    bench_counting_free(NULL, ptr);
}

static unsigned error_count;
static char first_error[256];

static void bench_fail(const char *format, ...)
{
    char message[256];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    fprintf(stderr, "transport_bench: %s\n", message);
    if (error_count++ == 0)
        snprintf(first_error, sizeof first_error, "%s", message);
}

static uint64_t ms_to_ns(uint64_t ms)
{
    return ms * 1000000u;
}

/* ------------------------------------------------------------------ */
/* A server and a client host, through netcore or raw ENet              */
/* ------------------------------------------------------------------ */

typedef struct pair pair;

typedef struct pair_ops {
    /* Server host bound to 127.0.0.1 on an ephemeral port, room for max_peers. */
    bool (*server_create)(pair *p, uint32_t max_peers);
    /* Client host with connection_count connections started to the server. */
    bool (*client_connect)(pair *p, uint32_t connection_count);
    /* Polls the server until it has no event, echoing each message on its channel. */
    bool (*server_service)(pair *p);
    /* Polls the client once: CLIENT_MESSAGE with *out_seq, CLIENT_OTHER
     * (a connect), CLIENT_NONE or CLIENT_ERROR. */
    int (*client_poll)(pair *p, uint64_t *out_seq);
    /* Sends one MESSAGE_BYTES message on the client's first connection. */
    bool (*client_send)(pair *p, bool reliable, const uint8_t *message);
    void (*destroy)(pair *p);
} pair_ops;

struct pair {
    const pair_ops *ops;
    const char *name;
    bool sealed;
    uint32_t server_connects;
    uint32_t client_connects;
    uint64_t next_seq;
    bench_alloc_counter netcore_server_counter; /* netcore's own memory in the server host */
    netcore_host *nc_server;
    netcore_host *nc_client;
    netcore_peer_id nc_first_peer;
    ENetHost *enet_server;
    ENetHost *enet_client;
    ENetPeer *enet_first_peer;
};

static bool message_seq(const uint8_t *data, size_t size_bytes, uint64_t *out_seq)
{
    if (size_bytes != MESSAGE_BYTES)
        return false;
    memcpy(out_seq, data, sizeof *out_seq);
    return true;
}

/* netcore ---------------------------------------------------------- */

/* The keys a lobby would hand out; fixed here, both ends know them. */
static netcore_session_keys bench_keys(void)
{
    netcore_session_keys keys;
    memset(keys.client_to_server, 0x3c, sizeof keys.client_to_server);
    memset(keys.server_to_client, 0xc3, sizeof keys.server_to_client);
    return keys;
}

static netcore_result bench_admit(void *user, netcore_peer_id peer, const netcore_address *from,
                                  const void *token, size_t token_size_bytes,
                                  netcore_admission_grant *grant)
{
    (void)user;
    (void)peer;
    (void)from;
    (void)token;
    (void)token_size_bytes;
    grant->has_session_keys = true;
    grant->session_keys = bench_keys();
    return NETCORE_OK;
}

static netcore_host_config nc_config(bool is_server, uint32_t max_peers)
{
    netcore_host_config config;
    netcore_host_config_default(&config);
    config.is_server = is_server;
    config.max_peers = max_peers;
    config.channel_count = CHANNEL_COUNT;
    config.channels[CHANNEL_RELIABLE].delivery = NETCORE_DELIVERY_RELIABLE_ORDERED;
    config.channels[CHANNEL_UNRELIABLE].delivery = NETCORE_DELIVERY_UNRELIABLE_SEQUENCED;
    if (is_server)
        config.bind_address = netcore_address_ipv4(127, 0, 0, 1, 0);
    return config;
}

static bool nc_check(netcore_result result, const char *what)
{
    if (result == NETCORE_OK)
        return true;
    bench_fail("netcore: %s: %s", what, netcore_result_str(result));
    return false;
}

static bool nc_server_create(pair *p, uint32_t max_peers)
{
    netcore_host_config config = nc_config(true, max_peers);
    config.allocator = bench_counting_allocator(&p->netcore_server_counter);
    config.admission = p->sealed ? bench_admit : NULL;
    return nc_check(netcore_host_create(&config, &p->nc_server), "create server host");
}

static bool nc_client_connect(pair *p, uint32_t connection_count)
{
    netcore_host_config config = nc_config(false, connection_count);
    netcore_address server_address;
    if (!nc_check(netcore_host_create(&config, &p->nc_client), "create client host") ||
        !nc_check(netcore_host_address(p->nc_server, &server_address), "server address"))
        return false;
    netcore_session_keys keys = bench_keys();
    netcore_connect_options options;
    memset(&options, 0, sizeof options);
    options.token = "bench";
    options.token_size_bytes = 5;
    options.session_keys = &keys;
    for (uint32_t i = 0; i < connection_count; i++) {
        netcore_peer_id peer;
        if (!nc_check(netcore_host_connect(p->nc_client, &server_address,
                                           p->sealed ? &options : NULL, &peer),
                      "connect"))
            return false;
        if (i == 0)
            p->nc_first_peer = peer;
    }
    return true;
}

static bool nc_server_service(pair *p)
{
    for (int i = 0; i < MAX_EVENTS_PER_SERVICE; i++) {
        netcore_event event;
        if (!nc_check(netcore_host_poll(p->nc_server, 0, &event), "server poll"))
            return false;
        if (event.type == NETCORE_EVENT_NONE)
            return true;
        if (event.type == NETCORE_EVENT_CONNECT)
            p->server_connects++;
        else if (event.type == NETCORE_EVENT_RECEIVE &&
                 !nc_check(netcore_host_send(p->nc_server, event.peer, event.channel, event.data,
                                             event.size_bytes),
                           "server echo"))
            return false;
    }
    return true;
}

static int nc_client_poll(pair *p, uint64_t *out_seq)
{
    netcore_event event;
    if (!nc_check(netcore_host_poll(p->nc_client, 0, &event), "client poll"))
        return CLIENT_ERROR;
    switch (event.type) {
    case NETCORE_EVENT_NONE:
        return CLIENT_NONE;
    case NETCORE_EVENT_CONNECT:
        p->client_connects++;
        return CLIENT_OTHER;
    case NETCORE_EVENT_RECEIVE:
        if (message_seq(event.data, event.size_bytes, out_seq))
            return CLIENT_MESSAGE;
        bench_fail("netcore: echo of %zu bytes, expected %d", event.size_bytes, MESSAGE_BYTES);
        return CLIENT_ERROR;
    case NETCORE_EVENT_DISCONNECT:
        bench_fail("netcore: client disconnected: %s (code %u)",
                   netcore_disconnect_reason_str(event.reason), (unsigned)event.code);
        return CLIENT_ERROR;
    }
    return CLIENT_ERROR;
}

static bool nc_client_send(pair *p, bool reliable, const uint8_t *message)
{
    uint8_t channel = reliable ? CHANNEL_RELIABLE : CHANNEL_UNRELIABLE;
    return nc_check(
        netcore_host_send(p->nc_client, p->nc_first_peer, channel, message, MESSAGE_BYTES),
        "client send");
}

static void nc_destroy(pair *p)
{
    netcore_host_destroy(p->nc_client);
    netcore_host_destroy(p->nc_server);
}

static const pair_ops netcore_ops = {nc_server_create, nc_client_connect, nc_server_service,
                                     nc_client_poll,   nc_client_send,    nc_destroy};

/* raw ENet --------------------------------------------------------- */

static bool enet_server_create(pair *p, uint32_t max_peers)
{
    ENetAddress address = {0, 0};
    enet_address_set_host_ip(&address, "127.0.0.1");
    p->enet_server = enet_host_create(&address, max_peers, CHANNEL_COUNT, 0, 0);
    if (!p->enet_server)
        bench_fail("raw ENet: create server host failed");
    return p->enet_server != NULL;
}

static bool enet_client_connect(pair *p, uint32_t connection_count)
{
    ENetAddress server_address;
    p->enet_client = enet_host_create(NULL, connection_count, CHANNEL_COUNT, 0, 0);
    if (!p->enet_client || enet_socket_get_address(p->enet_server->socket, &server_address) != 0) {
        bench_fail("raw ENet: create client host or read server address failed");
        return false;
    }
    for (uint32_t i = 0; i < connection_count; i++) {
        ENetPeer *peer = enet_host_connect(p->enet_client, &server_address, CHANNEL_COUNT, 0);
        if (!peer) {
            bench_fail("raw ENet: connect failed");
            return false;
        }
        if (i == 0)
            p->enet_first_peer = peer;
    }
    return true;
}

/* Copies data into a new packet and queues it, as an application would. */
static bool enet_send_copy(ENetPeer *peer, uint8_t channel, const void *data, size_t size_bytes)
{
    enet_uint32 flags = channel == CHANNEL_RELIABLE ? ENET_PACKET_FLAG_RELIABLE : 0;
    ENetPacket *packet = enet_packet_create(data, size_bytes, flags);
    if (packet && enet_peer_send(peer, channel, packet) == 0)
        return true;
    if (packet)
        enet_packet_destroy(packet);
    bench_fail("raw ENet: send failed");
    return false;
}

static bool enet_server_service(pair *p)
{
    for (int i = 0; i < MAX_EVENTS_PER_SERVICE; i++) {
        ENetEvent event;
        int status = enet_host_service(p->enet_server, &event, 0);
        if (status < 0) {
            bench_fail("raw ENet: server service failed");
            return false;
        }
        if (status == 0)
            return true;
        if (event.type == ENET_EVENT_TYPE_CONNECT) {
            p->server_connects++;
        } else if (event.type == ENET_EVENT_TYPE_RECEIVE) {
            bool sent = enet_send_copy(event.peer, event.channelID, event.packet->data,
                                       event.packet->dataLength);
            enet_packet_destroy(event.packet);
            if (!sent)
                return false;
        }
    }
    return true;
}

static int enet_client_poll(pair *p, uint64_t *out_seq)
{
    ENetEvent event;
    int status = enet_host_service(p->enet_client, &event, 0);
    if (status < 0) {
        bench_fail("raw ENet: client service failed");
        return CLIENT_ERROR;
    }
    if (status == 0)
        return CLIENT_NONE;
    switch (event.type) {
    case ENET_EVENT_TYPE_CONNECT:
        p->client_connects++;
        return CLIENT_OTHER;
    case ENET_EVENT_TYPE_RECEIVE: {
        bool ok = message_seq(event.packet->data, event.packet->dataLength, out_seq);
        if (!ok)
            bench_fail("raw ENet: echo of %zu bytes, expected %d", event.packet->dataLength,
                       MESSAGE_BYTES);
        enet_packet_destroy(event.packet);
        return ok ? CLIENT_MESSAGE : CLIENT_ERROR;
    }
    case ENET_EVENT_TYPE_DISCONNECT:
        bench_fail("raw ENet: client disconnected");
        return CLIENT_ERROR;
    case ENET_EVENT_TYPE_NONE:
        return CLIENT_NONE;
    }
    return CLIENT_ERROR;
}

static bool enet_client_send(pair *p, bool reliable, const uint8_t *message)
{
    return enet_send_copy(p->enet_first_peer, reliable ? CHANNEL_RELIABLE : CHANNEL_UNRELIABLE,
                          message, MESSAGE_BYTES);
}

static void enet_destroy(pair *p)
{
    if (p->enet_client)
        enet_host_destroy(p->enet_client);
    if (p->enet_server)
        enet_host_destroy(p->enet_server);
}

static const pair_ops raw_enet_ops = {enet_server_create, enet_client_connect, enet_server_service,
                                      enet_client_poll,   enet_client_send,    enet_destroy};

/* common ----------------------------------------------------------- */

/* Every call into the server host goes through here so ENet's allocations are
 * charged to the server. */
static bool serve(pair *p)
{
    enet_owner = OWNER_SERVER;
    bool ok = p->ops->server_service(p);
    enet_owner = OWNER_CLIENT;
    return ok;
}

static size_t server_heap_bytes(const pair *p)
{
    return enet_counters[OWNER_SERVER].live_bytes + p->netcore_server_counter.live_bytes;
}

static void pair_close(pair *p)
{
    p->ops->destroy(p);
    memset(p, 0, sizeof *p);
}

/* Polls the client until it has nothing, then the server once; false on failure. */
static bool pump(pair *p)
{
    uint64_t seq;
    int status;
    while ((status = p->ops->client_poll(p, &seq)) != CLIENT_NONE)
        if (status == CLIENT_ERROR)
            return false;
    return serve(p);
}

/*
 * Creates the server (max_peers slots) and the client, and waits until
 * connection_count connections are up on both sides. *out_empty_host_bytes
 * (may be NULL) receives the server's heap just after its creation, relative
 * to before it.
 */
static bool pair_open(pair *p, const pair_ops *ops, int backend, uint32_t max_peers,
                      uint32_t connection_count, size_t *out_empty_host_bytes)
{
    memset(p, 0, sizeof *p);
    p->ops = ops;
    p->name = backend_names[backend];
    p->sealed = backend == BACKEND_NETCORE;
    size_t base_bytes = server_heap_bytes(p);
    enet_owner = OWNER_SERVER;
    bool created = ops->server_create(p, max_peers);
    enet_owner = OWNER_CLIENT;
    if (out_empty_host_bytes)
        *out_empty_host_bytes = server_heap_bytes(p) - base_bytes;
    if (!created || !ops->client_connect(p, connection_count)) {
        pair_close(p);
        return false;
    }
    uint64_t deadline_ns = bench_now_ns() + ms_to_ns(CONNECT_TIMEOUT_MS);
    while (p->server_connects < connection_count || p->client_connects < connection_count) {
        if (!pump(p) || bench_now_ns() > deadline_ns) {
            bench_fail("%s: %u of %u connections up after %d ms", p->name,
                       (unsigned)p->client_connects, (unsigned)connection_count,
                       CONNECT_TIMEOUT_MS);
            pair_close(p);
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Measurements                                                        */
/* ------------------------------------------------------------------ */

static void fill_message(uint8_t *message, uint64_t seq)
{
    memset(message, 0xa5, MESSAGE_BYTES);
    memcpy(message, &seq, sizeof seq);
}

/*
 * Ping-pong with one message in flight, count round trips; their times go to
 * samples_us[0..count) unless samples_us is NULL (warmup). A ping unanswered
 * for STALL_TIMEOUT_MS is counted in *lost and replaced by a new one.
 */
static bool ping_pong(pair *p, bool reliable, uint32_t count, double *samples_us, uint64_t *lost)
{
    uint8_t message[MESSAGE_BYTES];
    uint32_t done = 0, lost_here = 0;
    while (done < count) {
        uint64_t seq = ++p->next_seq;
        fill_message(message, seq);
        uint64_t start_ns = bench_now_ns();
        if (!p->ops->client_send(p, reliable, message))
            return false;
        for (;;) {
            uint64_t echoed;
            int status = p->ops->client_poll(p, &echoed);
            if (status == CLIENT_ERROR)
                return false;
            if (status == CLIENT_MESSAGE && echoed == seq) {
                if (samples_us)
                    samples_us[done] = (double)(bench_now_ns() - start_ns) / 1000.0;
                done++;
                break;
            }
            if (status != CLIENT_NONE)
                continue;
            if (!serve(p))
                return false;
            if (bench_now_ns() - start_ns > ms_to_ns(STALL_TIMEOUT_MS)) {
                if (++lost_here > count) {
                    bench_fail("%s: more pings lost than sent", p->name);
                    return false;
                }
                break;
            }
        }
    }
    *lost += lost_here;
    return true;
}

/*
 * Keeps window messages in flight until count echoes came back; each echo
 * sends the next message. Messages unanswered for STALL_TIMEOUT_MS are counted
 * in *lost and replaced. *out_elapsed_ns is the time until the last echo.
 */
static bool run_window(pair *p, bool reliable, uint32_t window, uint32_t count, uint64_t *lost,
                       uint64_t *out_elapsed_ns)
{
    uint8_t message[MESSAGE_BYTES];
    uint64_t sent = 0, done = 0, lost_here = 0;
    uint32_t in_flight = 0;
    uint64_t start_ns = bench_now_ns(), progress_ns = start_ns;
    while (done < count) {
        while (in_flight < window && sent < count + lost_here) {
            fill_message(message, ++p->next_seq);
            if (!p->ops->client_send(p, reliable, message))
                return false;
            sent++;
            in_flight++;
        }
        uint64_t echoed;
        int status = p->ops->client_poll(p, &echoed);
        if (status == CLIENT_ERROR)
            return false;
        if (status == CLIENT_MESSAGE && in_flight > 0) {
            done++;
            in_flight--;
            progress_ns = bench_now_ns();
        } else if (status == CLIENT_NONE) {
            if (!serve(p))
                return false;
            uint64_t now_ns = bench_now_ns();
            if (now_ns - progress_ns > ms_to_ns(STALL_TIMEOUT_MS)) {
                lost_here += in_flight;
                in_flight = 0;
                progress_ns = now_ns;
                if (lost_here > count) {
                    bench_fail("%s: more messages lost than measured", p->name);
                    return false;
                }
            }
        }
    }
    *out_elapsed_ns = bench_now_ns() - start_ns;
    *lost += lost_here;
    return true;
}

/*
 * Server with max_peers = peers, one client host opening peers connections,
 * idle for idle_ms; then the server's live heap (ENet's allocations made while
 * driving the server host, plus netcore's allocator of the server host).
 */
static bool measure_memory(const pair_ops *ops, int backend, uint32_t peers, uint32_t idle_ms,
                           double out[MEMORY_FIELD_COUNT])
{
    pair p;
    size_t empty_bytes;
    size_t base_enet = enet_counters[OWNER_SERVER].live_bytes;
    if (!pair_open(&p, ops, backend, peers, peers, &empty_bytes))
        return false;
    uint64_t idle_end_ns = bench_now_ns() + ms_to_ns(idle_ms);
    bool ok = true;
    while (ok && bench_now_ns() < idle_end_ns)
        ok = pump(&p);
    ok = ok && pump(&p);
    if (ok) {
        double enet_bytes = (double)(enet_counters[OWNER_SERVER].live_bytes - base_enet);
        double own_bytes = (double)p.netcore_server_counter.live_bytes;
        double total = enet_bytes + own_bytes;
        out[MEMORY_BYTES_PER_PEER] = total / peers;
        out[MEMORY_GROWTH_PER_PEER] = (total - (double)empty_bytes) / peers;
        out[MEMORY_EMPTY_HOST] = (double)empty_bytes;
        out[MEMORY_CONNECTED_HOST] = total;
        out[MEMORY_NETCORE_ALLOCATOR] = own_bytes;
        out[MEMORY_ENET] = enet_bytes;
    }
    pair_close(&p);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Runs                                                                */
/* ------------------------------------------------------------------ */

static const pair_ops *const backend_ops[BACKEND_COUNT] = {&netcore_ops, &raw_enet_ops,
                                                           &netcore_ops};

/* Measured, not assumed: what the sealed pair's hosts added to what they sent. */
static void count_overhead(results *res, int delivery, const pair *p)
{
    netcore_host *hosts[2] = {p->nc_client, p->nc_server};
    for (int h = 0; h < 2; h++) {
        netcore_host_stats st;
        if (netcore_host_get_stats(hosts[h], &st) != NETCORE_OK)
            continue;
        res->seal_overhead_bytes[delivery] += st.seal_overhead_bytes_sent;
        res->sealed_messages[delivery] += st.traffic.messages_sent;
    }
}

static void series_clear(series *s, size_t count)
{
    for (size_t i = 0; i < count; i++)
        for (int b = 0; b < BACKEND_COUNT; b++)
            for (int r = 0; r < MAX_RUNS; r++)
                s[i].run[b][r] = NAN;
}

/*
 * One figure (the RTT when window_index is WINDOW_COUNT, else that window's
 * throughput) for both backends on fresh pairs, so no state is carried over
 * from an earlier figure. After a warmup on each, the count is split into
 * MEASURE_CHUNKS chunks that alternate between the backends (netcore first on
 * even chunks of even runs), so both see the same machine: a burst of load
 * from elsewhere hits one or two chunks of each, not all of one backend.
 * RTT percentiles come from every sample; throughput is the median chunk rate,
 * which ignores a minority of chunks slowed by preemption.
 */
static void measure_figure(results *res, const params *prm, uint32_t run, int delivery,
                           size_t window_index, double *samples_us[BACKEND_COUNT])
{
    bool rtt = window_index == WINDOW_COUNT, reliable = delivery == DELIVERY_RELIABLE;
    uint32_t window = rtt ? 1 : windows[window_index];
    uint64_t *lost[BACKEND_COUNT];
    pair pairs[BACKEND_COUNT];
    bool ok[BACKEND_COUNT];
    for (int b = 0; b < BACKEND_COUNT; b++) {
        uint64_t elapsed_ns, warmup_lost = 0;
        lost[b] =
            rtt ? &res->rtt_lost[delivery][b] : &res->throughput_lost[delivery][window_index][b];
        ok[b] = pair_open(&pairs[b], backend_ops[b], b, 1, 1, NULL);
        if (ok[b])
            ok[b] = rtt ? ping_pong(&pairs[b], reliable, prm->warmup, NULL, &warmup_lost)
                        : run_window(&pairs[b], reliable, window, prm->warmup, &warmup_lost,
                                     &elapsed_ns);
    }
    uint32_t chunks = prm->messages < MEASURE_CHUNKS ? prm->messages : MEASURE_CHUNKS;
    uint32_t done = 0;
    double rates[BACKEND_COUNT][MEASURE_CHUNKS];
    for (uint32_t c = 0; c < chunks; c++) {
        uint32_t chunk_count = prm->messages / chunks + (c < prm->messages % chunks ? 1 : 0);
        for (uint32_t k = 0; k < BACKEND_COUNT; k++) {
            int b = (int)((run + c + k) % BACKEND_COUNT);
            uint64_t elapsed_ns = 0;
            if (ok[b])
                ok[b] =
                    rtt ? ping_pong(&pairs[b], reliable, chunk_count, samples_us[b] + done, lost[b])
                        : run_window(&pairs[b], reliable, window, chunk_count, lost[b],
                                     &elapsed_ns);
            rates[b][c] = elapsed_ns ? (double)chunk_count * 1e9 / (double)elapsed_ns : NAN;
        }
        done += chunk_count;
    }
    for (int b = 0; b < BACKEND_COUNT; b++) {
        if (!ok[b]) {
            if (pairs[b].ops)
                pair_close(&pairs[b]);
            continue;
        }
        if (rtt) {
            bench_sort_doubles(samples_us[b], prm->messages);
            res->rtt_p50_us[delivery].run[b][run] =
                bench_percentile_sorted(samples_us[b], prm->messages, 50.0);
            res->rtt_p99_us[delivery].run[b][run] =
                bench_percentile_sorted(samples_us[b], prm->messages, 99.0);
        } else {
            res->msgs_per_s[delivery][window_index].run[b][run] = bench_median(rates[b], chunks);
        }
        if (pairs[b].sealed)
            count_overhead(res, delivery, &pairs[b]);
        pair_close(&pairs[b]);
    }
}

/* One run: every figure for both backends, then the memory of each (netcore
 * first on even runs, raw ENet first on odd ones). */
static void run_once(results *res, const params *prm, uint32_t run,
                     double *samples_us[BACKEND_COUNT])
{
    for (int d = 0; d < DELIVERY_COUNT; d++)
        for (size_t w = 0; w <= WINDOW_COUNT; w++)
            measure_figure(res, prm, run, d, (w + WINDOW_COUNT) % (WINDOW_COUNT + 1), samples_us);
    for (int k = 0; k < BACKEND_COUNT; k++) {
        int b = (int)(run + k) % BACKEND_COUNT;
        double memory[MEMORY_FIELD_COUNT];
        if (measure_memory(backend_ops[b], b, prm->memory_peers, prm->memory_idle_ms, memory))
            for (int f = 0; f < MEMORY_FIELD_COUNT; f++)
                res->memory[f].run[b][run] = memory[f];
    }
}

static const char usage[] =
    "usage: transport_bench [--quick] [--runs N] [--messages N]\n"
    "  Compares netcore's ENet transport (sealed, and unsealed) with raw ENet on\n"
    "  127.0.0.1 and prints\n"
    "  one JSON object on stdout (see docs/benchmarks.md).\n"
    "  --quick       one short run with tiny counts (smoke test)\n"
    "  --runs N      runs whose medians are reported (default 5, at most 64)\n"
    "  --messages N  timed round trips per figure and library (default 20000)\n";

int main(int argc, char **argv)
{
    bench_options options = {false, DEFAULT_RUNS, DEFAULT_MESSAGES};
    bench_args_result args = bench_options_parse(argc, argv, usage, QUICK_RUNS, QUICK_MESSAGES,
                                                 MAX_RUNS, MAX_MESSAGES, &options);
    if (args != BENCH_ARGS_OK)
        return args == BENCH_ARGS_HELP ? 0 : 2;

    params prm = {options.runs, options.messages, options.messages / 10 + 10,
                  options.quick ? QUICK_MEMORY_PEERS : MEMORY_PEERS,
                  options.quick ? QUICK_MEMORY_IDLE_MS : MEMORY_IDLE_MS};
    double *samples_us[BACKEND_COUNT];
    bool allocated = true;
    for (int b = 0; b < BACKEND_COUNT; b++) {
        samples_us[b] = malloc(prm.messages * sizeof(double));
        allocated = allocated && samples_us[b];
    }
    static results res;
    series_clear(&res.rtt_p50_us[0], DELIVERY_COUNT);
    series_clear(&res.rtt_p99_us[0], DELIVERY_COUNT);
    series_clear(&res.msgs_per_s[0][0], DELIVERY_COUNT * WINDOW_COUNT);
    series_clear(&res.memory[0], MEMORY_FIELD_COUNT);

    /* The counting callbacks must be in place before netcore_init() so every
     * ENet allocation, netcore's included, goes through them. */
    ENetCallbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.malloc = enet_counting_malloc;
    callbacks.free = enet_counting_free;
    if (!allocated || enet_initialize_with_callbacks(ENET_VERSION, &callbacks) != 0) {
        fprintf(stderr, "transport_bench: out of memory or ENet failed to initialise\n");
        for (int b = 0; b < BACKEND_COUNT; b++)
            free(samples_us[b]);
        return 1;
    }
    netcore_result init = netcore_init();
    double load_at_start = bench_load_avg_1min();
    uint64_t start_ns = bench_now_ns(), start_cpu_ns = bench_cpu_time_ns();
    if (init == NETCORE_OK) {
        for (uint32_t run = 0; run < prm.runs; run++)
            run_once(&res, &prm, run, samples_us);
        netcore_shutdown();
    } else {
        bench_fail("netcore_init: %s", netcore_result_str(init));
    }
    double elapsed_s = (double)(bench_now_ns() - start_ns) / 1e9;
    double cpu_s = (double)(bench_cpu_time_ns() - start_cpu_ns) / 1e9;
    tb_print_report(&res, &prm, elapsed_s, cpu_s / elapsed_s, load_at_start, error_count,
                    first_error);
    enet_deinitialize();
    for (int b = 0; b < BACKEND_COUNT; b++)
        free(samples_us[b]);
    return error_count == 0 ? 0 : 1;
}
