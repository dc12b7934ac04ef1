/* Payload traffic accounting of the common transport layer: per-channel
 * counters of every peer slot, host totals, one-second rate windows, and the
 * stats getters of transport.h. Link figures and wire counters come from the
 * backend. */
#include <string.h>

#include "transport/transport_host.h"

static void traffic_roll(nci_traffic *t, double elapsed_s)
{
    for (int i = 0; i < 4; i++) {
        t->rates[i] = (float)((double)(t->totals[i] - t->at_window[i]) / elapsed_s);
        t->at_window[i] = t->totals[i];
    }
}

static void traffic_export(const nci_traffic *t, netcore_traffic_stats *out)
{
    out->messages_sent = t->totals[NCI_TRAFFIC_MSG_OUT];
    out->messages_received = t->totals[NCI_TRAFFIC_MSG_IN];
    out->bytes_sent = t->totals[NCI_TRAFFIC_BYTES_OUT];
    out->bytes_received = t->totals[NCI_TRAFFIC_BYTES_IN];
    out->out_messages_per_s = t->rates[NCI_TRAFFIC_MSG_OUT];
    out->in_messages_per_s = t->rates[NCI_TRAFFIC_MSG_IN];
    out->out_bytes_per_s = t->rates[NCI_TRAFFIC_BYTES_OUT];
    out->in_bytes_per_s = t->rates[NCI_TRAFFIC_BYTES_IN];
}

void nci_traffic_clear(netcore_host *host, uint32_t slot)
{
    memset(nci_peer_traffic(host, slot), 0, host->cfg.channel_count * sizeof(nci_traffic));
}

void nci_traffic_roll(netcore_host *host, uint64_t now_us)
{
    if (now_us - host->window_start_us < NCI_STATS_WINDOW_US)
        return;
    double elapsed_s = (double)(now_us - host->window_start_us) / 1e6;
    host->window_start_us = now_us;
    traffic_roll(&host->total, elapsed_s);
    for (uint32_t slot = 0; slot < host->cfg.max_peers; slot++) {
        if (host->peers[slot].state == NCI_PEER_FREE)
            continue;
        nci_traffic *channel = nci_peer_traffic(host, slot);
        for (uint32_t c = 0; c < host->cfg.channel_count; c++)
            traffic_roll(&channel[c], elapsed_s);
    }
}

netcore_result netcore_host_get_peer_stats(const netcore_host *host, netcore_peer_id peer_id,
                                           netcore_peer_stats *out_stats)
{
    if (!host || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    uint32_t slot = 0;
    const nci_peer *p = nci_peer_lookup(host, peer_id, &slot);
    if (!p)
        return NETCORE_ERR_NOT_CONNECTED;
    memset(out_stats, 0, sizeof *out_stats);
    out_stats->address = p->address;
    out_stats->admitted = p->state == NCI_PEER_CONNECTED || p->state == NCI_PEER_DISCONNECTING;
    out_stats->sealed = p->sealed;
    if (p->backend_up) {
        nci_peer_link link;
        memset(&link, 0, sizeof link);
        host->ops->peer_link(host->backend, slot, &link);
        out_stats->address = link.address;
        out_stats->rtt_ms = link.rtt_ms;
        out_stats->rtt_variance_ms = link.rtt_variance_ms;
        out_stats->loss_pct = link.loss_pct;
    }
    /* The peer's total is the sum of its channels (rates included: every
     * channel's window is the same one). */
    const nci_traffic *channel = nci_peer_traffic(host, slot);
    nci_traffic sum;
    memset(&sum, 0, sizeof sum);
    double rates[4] = {0.0, 0.0, 0.0, 0.0};
    for (uint32_t c = 0; c < host->cfg.channel_count; c++) {
        traffic_export(&channel[c], &out_stats->channel[c]);
        for (int i = 0; i < 4; i++) {
            sum.totals[i] += channel[c].totals[i];
            rates[i] += channel[c].rates[i];
        }
    }
    for (int i = 0; i < 4; i++)
        sum.rates[i] = (float)rates[i];
    traffic_export(&sum, &out_stats->traffic);
    return NETCORE_OK;
}

netcore_result netcore_host_get_stats(const netcore_host *host, netcore_host_stats *out_stats)
{
    if (!host || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_stats = host->counters;
    for (uint32_t slot = 0; slot < host->cfg.max_peers; slot++) {
        nci_peer_state s = host->peers[slot].state;
        if (s == NCI_PEER_CONNECTED || s == NCI_PEER_DISCONNECTING) {
            out_stats->peers_connected++;
            out_stats->peers_sealed += host->peers[slot].sealed;
        } else if (s == NCI_PEER_PENDING)
            out_stats->peers_pending++;
    }
    traffic_export(&host->total, &out_stats->traffic);
    host->ops->host_stats(host->backend, out_stats);
    return NETCORE_OK;
}
