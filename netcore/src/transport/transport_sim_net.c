/* Simulated transport backend, level 0: the simulated network. Hosts'
 * virtual addresses, the routing of datagrams between their conditioner
 * links, the simulation's clock, datagram output and the event ring (the
 * levels above are listed in transport_sim_net.h).
 *
 * Each host has a virtual address 127.100.x.y (x.y = its table index + 1)
 * that never reaches a socket, and two conditioner links. A datagram enters
 * the sender's outbound link at the current simulated time; when it leaves
 * (at its deliver time) it enters the receiver's inbound link at that time,
 * so its arrival is send time + outbound delay + inbound delay. Any service
 * call first moves every due datagram of every host onto its destination,
 * so datagrams keep travelling while their sender is not polled. Unknown
 * destinations swallow datagrams, as UDP does. */
#include <string.h>

#include "transport/transport_sim_net.h"

#define EPHEMERAL_PORT_FIRST 49152u
#define EPHEMERAL_PORT_COUNT 16384u
#define MAX_SIM_HOSTS 65534u

struct netcore_sim {
    netcore_allocator allocator;
    uint64_t seed;
    uint64_t now_us;
    uint32_t max_hosts;
    uint32_t host_count;
    uint32_t next_serial;
    nci_sim_host **hosts;
};

/* ------------------------------------------------------------------ */
/* Addresses and helpers                                                */
/* ------------------------------------------------------------------ */

uint64_t nci_sim_address_key(const netcore_address *a)
{
    if (a->family != NETCORE_ADDRESS_IPV4)
        return 0;
    uint64_t ip = ((uint64_t)a->bytes[0] << 24) | ((uint64_t)a->bytes[1] << 16) |
                  ((uint64_t)a->bytes[2] << 8) | a->bytes[3];
    return (ip << 16) | a->port;
}

netcore_address nci_sim_key_address(uint64_t key)
{
    return netcore_address_ipv4((uint8_t)(key >> 40), (uint8_t)(key >> 32), (uint8_t)(key >> 24),
                                (uint8_t)(key >> 16), (uint16_t)key);
}

static nci_sim_host *host_for_key(const netcore_sim *sim, uint64_t key)
{
    if ((key >> 32) != ((127u << 8) | 100u))
        return NULL;
    uint32_t index = (uint32_t)((key >> 16) & 0xffffu);
    if (index == 0 || index > sim->max_hosts)
        return NULL;
    nci_sim_host *h = sim->hosts[index - 1];
    return h && h->address_key == key ? h : NULL;
}

void nci_sim_write_header(uint8_t *out, uint8_t type, uint16_t dest_slot, uint16_t src_slot,
                          uint32_t session)
{
    out[0] = NCI_SIM_PROTOCOL_ID;
    out[1] = type;
    nci_sim_put_u16(out + 2, dest_slot);
    nci_sim_put_u16(out + 4, src_slot);
    nci_sim_put_u32(out + 6, session);
}

uint64_t nci_sim_host_now_us(const nci_sim_host *host)
{
    return host->sim->now_us;
}

/* ------------------------------------------------------------------ */
/* Routing                                                              */
/* ------------------------------------------------------------------ */

static void route(netcore_sim *sim, const nci_sim_host *from, const nci_link_datagram *dg)
{
    nci_sim_host *to = host_for_key(sim, dg->tag);
    if (to)
        nci_link_submit(to->inbound, dg->deliver_at_us, from->address_key, dg->data,
                        dg->size_bytes);
}

void nci_sim_pump(netcore_sim *sim)
{
    for (uint32_t i = 0; i < sim->max_hosts; i++) {
        nci_sim_host *h = sim->hosts[i];
        nci_link_datagram dg;
        while (h && nci_link_pop_due(h->outbound, sim->now_us, &dg))
            route(sim, h, &dg);
    }
}

netcore_result nci_sim_net_reserve(netcore_sim *sim, uint16_t bind_port, uint32_t *out_index,
                                   netcore_address *out_address, uint64_t *out_seed)
{
    uint32_t index = 0;
    while (index < sim->max_hosts && sim->hosts[index])
        index++;
    if (index >= sim->max_hosts)
        return NETCORE_ERR_FULL;
    uint16_t port = bind_port;
    if (port == 0)
        port = (uint16_t)(EPHEMERAL_PORT_FIRST + sim->next_serial % EPHEMERAL_PORT_COUNT);
    sim->next_serial++;
    *out_index = index;
    *out_address =
        netcore_address_ipv4(127, 100, (uint8_t)((index + 1) >> 8), (uint8_t)(index + 1), port);
    *out_seed = sim->seed;
    return NETCORE_OK;
}

void nci_sim_net_attach(netcore_sim *sim, nci_sim_host *host)
{
    sim->hosts[host->index] = host;
    sim->host_count++;
}

void nci_sim_net_detach(nci_sim_host *host)
{
    netcore_sim *sim = host->sim;
    nci_link_datagram dg;
    while (nci_link_pop_due(host->outbound, UINT64_MAX, &dg))
        route(sim, host, &dg);
    sim->hosts[host->index] = NULL;
    sim->host_count--;
}

void nci_sim_send_datagram(nci_sim_host *host, uint64_t to_key, const uint8_t *data,
                           size_t size_bytes)
{
    host->wire_bytes_sent += size_bytes;
    host->datagrams_sent++;
    nci_link_submit(host->outbound, host->sim->now_us, to_key, data, size_bytes);
}

/* ------------------------------------------------------------------ */
/* Events                                                               */
/* ------------------------------------------------------------------ */

bool nci_sim_push_event(nci_sim_host *host, nci_backend_event_type type, uint32_t slot,
                        uint32_t data32, uint8_t lane, const uint8_t *data, size_t size_bytes,
                        void *owned)
{
    if (host->event_count >= host->event_capacity) {
        nci_free(&host->allocator, owned);
        return false;
    }
    nci_sim_event *e = &host->events[(host->event_head + host->event_count) % host->event_capacity];
    host->event_count++;
    memset(e, 0, sizeof *e);
    e->event.type = type;
    e->event.slot = slot;
    e->event.data32 = data32;
    e->event.lane = lane;
    e->event.data = data;
    e->event.size_bytes = size_bytes;
    e->owned = owned;
    return true;
}

/* ------------------------------------------------------------------ */
/* The simulation                                                       */
/* ------------------------------------------------------------------ */

void netcore_sim_config_default(netcore_sim_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->max_hosts = 256;
}

netcore_result netcore_sim_create(const netcore_sim_config *config, netcore_sim **out_sim)
{
    if (!config || !out_sim || config->max_hosts == 0 || config->max_hosts > MAX_SIM_HOSTS)
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_sim *sim = nci_calloc(&config->allocator, 1, sizeof *sim);
    if (!sim)
        return NETCORE_ERR_OUT_OF_MEMORY;
    sim->hosts = nci_calloc(&config->allocator, config->max_hosts, sizeof *sim->hosts);
    if (!sim->hosts) {
        nci_free(&config->allocator, sim);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    sim->allocator = config->allocator;
    sim->seed = config->seed;
    sim->now_us = config->start_time_us;
    sim->max_hosts = config->max_hosts;
    *out_sim = sim;
    return NETCORE_OK;
}

void netcore_sim_destroy(netcore_sim *sim)
{
    if (!sim)
        return;
    netcore_allocator allocator = sim->allocator;
    nci_free(&allocator, sim->hosts);
    nci_free(&allocator, sim);
}

void netcore_sim_advance(netcore_sim *sim, uint64_t delta_us)
{
    if (sim)
        sim->now_us = delta_us > UINT64_MAX - sim->now_us ? UINT64_MAX : sim->now_us + delta_us;
}

uint64_t netcore_sim_now_us(const netcore_sim *sim)
{
    return sim ? sim->now_us : 0;
}
