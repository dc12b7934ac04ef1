/* Datagram guard: the strict ENet parser on crafted datagrams, and every
 * verdict of the guard (unknown peers, address proofs, per-IP caps, rates,
 * handshake expiry, client hosts). No sockets. */
#include <criterion/criterion.h>
#include <string.h>

#include "transport/enet_guard.h"
#include "netcore/token.h"

static const uint8_t test_key[32] = {7,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                     11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                     22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

static uint64_t fake_now_s = 1800000000u;

static uint64_t fake_clock(void *user)
{
    (void)user;
    return fake_now_s;
}

static nci_guard *make_guard(const netcore_guard_config *config, uint32_t max_peers, bool server)
{
    netcore_allocator allocator;
    memset(&allocator, 0, sizeof allocator);
    nci_guard *g = NULL;
    cr_assert_eq(nci_guard_create(&allocator, config, max_peers, server, 42, &g), NETCORE_OK);
    return g;
}

static size_t connect_datagram(uint8_t *out, uint32_t data)
{
    return nci_enet_datagram_write_connect(out, 0x12345678u, data, 5);
}

/* Header with sent time naming peer_id, then one command of the given bytes. */
static size_t with_header(uint8_t *out, uint16_t peer_id, const uint8_t *command, size_t size)
{
    out[0] = (uint8_t)((0x8000u | peer_id) >> 8);
    out[1] = (uint8_t)(peer_id & 0xFF);
    out[2] = 0;
    out[3] = 0;
    memcpy(out + 4, command, size);
    return 4 + size;
}

/* --- Parser --- */

Test(enet_parse, connect_datagram_is_read)
{
    uint8_t d[64];
    size_t n = connect_datagram(d, 0xA1B2C3D4u);
    nci_enet_datagram out;
    cr_assert(nci_enet_datagram_parse(d, n, &out));
    cr_assert(out.is_connect);
    cr_assert_eq(out.peer_id, NCI_ENET_PEER_ID_NONE);
    cr_assert_eq(out.connect_data, 0xA1B2C3D4u);
    cr_assert_eq(out.connect_id, 0x12345678u);
    cr_assert_eq(out.connect_channel_count, 5);
    cr_assert_eq(out.command_count, 1);
}

Test(enet_parse, truncated_or_padded_connect_is_malformed)
{
    uint8_t d[80];
    size_t n = connect_datagram(d, 1);
    nci_enet_datagram out;
    for (size_t cut = 0; cut < n; cut++)
        cr_assert_not(nci_enet_datagram_parse(d, cut, &out), "cut at %zu", cut);
    d[n] = 0;
    cr_assert_not(nci_enet_datagram_parse(d, n + 1, &out));
    cr_assert_not(nci_enet_datagram_parse(NULL, 10, &out));
}

Test(enet_parse, connect_rules)
{
    uint8_t d[128];
    nci_enet_datagram out;
    size_t n = connect_datagram(d, 1);
    d[1] = 0x05; /* names peer 0x805 instead of 0xFFF */
    d[0] = 0x88;
    cr_assert_not(nci_enet_datagram_parse(d, n, &out));
    n = connect_datagram(d, 1);
    d[0] &= 0x7F; /* no sent time flag: the header shrinks, commands misalign */
    cr_assert_not(nci_enet_datagram_parse(d, n, &out));
    const uint32_t bad_channels[] = {0, 256, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof bad_channels / sizeof bad_channels[0]; i++) {
        n = nci_enet_datagram_write_connect(d, 1, 1, bad_channels[i]);
        cr_assert_not(nci_enet_datagram_parse(d, n, &out), "channels %u", bad_channels[i]);
    }
    n = nci_enet_datagram_write_connect(d, 1, 1, 255);
    cr_assert(nci_enet_datagram_parse(d, n, &out));
    /* A CONNECT followed by a ping is not what ENet sends. */
    n = connect_datagram(d, 1);
    d[n++] = 5;
    d[n++] = 0xFF;
    d[n++] = 0;
    d[n++] = 2;
    cr_assert_not(nci_enet_datagram_parse(d, n, &out));
    /* Compression is never enabled. */
    n = connect_datagram(d, 1);
    d[0] |= 0x40;
    cr_assert_not(nci_enet_datagram_parse(d, n, &out));
}

Test(enet_parse, commands_and_lying_lengths)
{
    uint8_t d[256], cmd[64];
    nci_enet_datagram out;
    /* Send reliable: 6-byte command, dataLength 10, 10 payload bytes. */
    memset(cmd, 0, sizeof cmd);
    cmd[0] = 6 | 0x80;
    cmd[1] = 1;
    cmd[5] = 10;
    size_t n = with_header(d, 3, cmd, 16);
    cr_assert(nci_enet_datagram_parse(d, n, &out));
    cr_assert_eq(out.peer_id, 3);
    cr_assert_not(out.is_connect);
    cr_assert_not(nci_enet_datagram_parse(d, n - 1, &out)); /* payload short by one */
    cmd[4] = 0xFF;                                          /* dataLength 65290: lies */
    n = with_header(d, 3, cmd, 16);
    cr_assert_not(nci_enet_datagram_parse(d, n, &out));
    /* Unreliable fragment: dataLength at offset 6 of a 24-byte command. */
    memset(cmd, 0, sizeof cmd);
    cmd[0] = 12;
    cmd[7] = 4;
    n = with_header(d, 0, cmd, 28);
    cr_assert(nci_enet_datagram_parse(d, n, &out));
    cmd[6] = 1;
    n = with_header(d, 0, cmd, 28);
    cr_assert_not(nci_enet_datagram_parse(d, n, &out));
    /* Unknown command numbers and the empty command. */
    memset(cmd, 0, sizeof cmd);
    for (uint8_t c = 0; c < 16; c += 13) {
        cmd[0] = c;
        n = with_header(d, 0, cmd, 8);
        cr_assert_not(nci_enet_datagram_parse(d, n, &out), "command %u", c);
    }
    /* Header alone, one byte, trailing bytes after a ping. */
    cr_assert_not(nci_enet_datagram_parse(d, 4, &out));
    cr_assert_not(nci_enet_datagram_parse(d, 1, &out));
    cmd[0] = 5;
    n = with_header(d, 0, cmd, 6);
    cr_assert_not(nci_enet_datagram_parse(d, n, &out));
    cr_assert(nci_enet_datagram_parse(d, n - 2, &out));
}

Test(enet_parse, command_count_is_bounded)
{
    uint8_t d[4 + 4 * 40];
    uint8_t ping[4] = {5, 0xFF, 0, 1};
    d[0] = 0x80;
    d[1] = 0;
    d[2] = d[3] = 0;
    for (size_t i = 0; i < 40; i++)
        memcpy(d + 4 + 4 * i, ping, 4);
    nci_enet_datagram out;
    cr_assert(nci_enet_datagram_parse(d, 4 + 4 * NCI_ENET_MAX_COMMANDS, &out));
    cr_assert_eq(out.command_count, NCI_ENET_MAX_COMMANDS);
    cr_assert_not(nci_enet_datagram_parse(d, 4 + 4 * (NCI_ENET_MAX_COMMANDS + 1), &out));
}

/* --- Guard --- */

Test(enet_guard, unknown_peers_and_known_slots)
{
    netcore_guard_config c;
    memset(&c, 0, sizeof c);
    nci_guard *g = make_guard(&c, 8, true);
    netcore_address a = netcore_address_ipv4(10, 0, 0, 1, 5000);
    netcore_address other_port = netcore_address_ipv4(10, 0, 0, 1, 5001);
    uint8_t d[16], cmd[4] = {5, 0xFF, 0, 1};
    size_t n = with_header(d, 3, cmd, 4);
    cr_assert_eq(nci_guard_check(g, d, n, &a, &a, 0), NCI_GUARD_UNKNOWN);
    nci_guard_set_slot(g, 3, NCI_GUARD_SLOT_CONNECTED, &a, &a, 0);
    cr_assert(nci_guard_slot_matches(g, 3, NCI_GUARD_SLOT_CONNECTED, &a));
    cr_assert_not(nci_guard_slot_matches(g, 3, NCI_GUARD_SLOT_CONNECTED, &other_port));
    cr_assert_eq(nci_guard_check(g, d, n, &a, &a, 0), NCI_GUARD_PASS);
    cr_assert_eq(nci_guard_check(g, d, n, &other_port, &other_port, 0), NCI_GUARD_UNKNOWN);
    n = with_header(d, NCI_ENET_PEER_ID_NONE, cmd, 4);
    cr_assert_eq(nci_guard_check(g, d, n, &a, &a, 0), NCI_GUARD_UNKNOWN);
    n = with_header(d, 4000, cmd, 4);
    cr_assert_eq(nci_guard_check(g, d, n, &a, &a, 0), NCI_GUARD_UNKNOWN);
    nci_guard_set_slot(g, 3, NCI_GUARD_SLOT_FREE, NULL, NULL, 0);
    n = with_header(d, 3, cmd, 4);
    cr_assert_eq(nci_guard_check(g, d, n, &a, &a, 0), NCI_GUARD_UNKNOWN);
    cr_assert_eq(nci_guard_check(g, d, 3, &a, &a, 0), NCI_GUARD_MALFORMED);
    netcore_host_stats s;
    memset(&s, 0, sizeof s);
    nci_guard_stats(g, &s);
    cr_assert_eq(s.guard_passed, 1);
    cr_assert_eq(s.guard_unknown_dropped, 5);
    cr_assert_eq(s.guard_malformed_dropped, 1);
    cr_assert_eq(s.slots_in_use, 0);
    nci_guard_destroy(g);
}

Test(enet_guard, connect_needs_a_fresh_proof_for_its_ip)
{
    netcore_guard_config c;
    memset(&c, 0, sizeof c);
    c.require_connect_proof = true;
    memcpy(c.proof_key, test_key, sizeof test_key);
    c.proof_clock_s = fake_clock;
    nci_guard *g = make_guard(&c, 8, true);
    netcore_address client = netcore_address_ipv4(192, 0, 2, 7, 40000);
    netcore_address other = netcore_address_ipv4(192, 0, 2, 8, 40000);
    uint32_t proof = netcore_token_address_proof(test_key, &client, fake_now_s + 30);
    uint8_t d[64];
    size_t n = connect_datagram(d, 0);
    cr_assert_eq(nci_guard_check(g, d, n, &client, &client, 0), NCI_GUARD_PROOF);
    n = connect_datagram(d, proof ^ 0x10);
    cr_assert_eq(nci_guard_check(g, d, n, &client, &client, 0), NCI_GUARD_PROOF);
    n = connect_datagram(d, proof);
    cr_assert_eq(nci_guard_check(g, d, n, &other, &other, 0), NCI_GUARD_PROOF);
    cr_assert_eq(nci_guard_check(g, d, n, &client, &client, 0), NCI_GUARD_PASS);
    /* Behind a relay: the wire address is the relay's, the real one counts. */
    netcore_address relay = netcore_address_ipv4(127, 0, 0, 1, 9999);
    cr_assert_eq(nci_guard_check(g, d, n, &relay, &client, 0), NCI_GUARD_PASS);
    cr_assert_eq(nci_guard_check(g, d, n, &client, &relay, 0), NCI_GUARD_PROOF);
    /* Stale: past the epoch end plus the skew. */
    uint64_t saved = fake_now_s;
    fake_now_s += NETCORE_TOKEN_PROOF_EPOCH_S + 30 + 6;
    cr_assert_eq(nci_guard_check(g, d, n, &client, &client, 0), NCI_GUARD_PROOF);
    fake_now_s = saved;
    netcore_host_stats s;
    memset(&s, 0, sizeof s);
    nci_guard_stats(g, &s);
    cr_assert_eq(s.guard_proof_dropped, 5);
    cr_assert_eq(s.guard_passed, 2);
    nci_guard_destroy(g);
}

Test(enet_guard, proof_without_key_is_refused)
{
    netcore_guard_config c;
    memset(&c, 0, sizeof c);
    c.require_connect_proof = true;
    netcore_allocator allocator;
    memset(&allocator, 0, sizeof allocator);
    nci_guard *g = NULL;
    cr_assert_eq(nci_guard_create(&allocator, &c, 8, true, 1, &g), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_null(g);
    c.require_connect_proof = false;
    c.ip_table_entries = 1u << 20;
    cr_assert_eq(nci_guard_create(&allocator, &c, 8, true, 1, &g), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(nci_guard_create(&allocator, &c, 0, true, 1, &g), NETCORE_ERR_INVALID_ARGUMENT);
}

Test(enet_guard, defaults_allow_many_peers_per_ip)
{
    netcore_guard_config c;
    memset(&c, 0, sizeof c);
    nci_guard *g = make_guard(&c, 64, true);
    const netcore_guard_config *r = nci_guard_config_resolved(g);
    cr_assert_eq(r->max_peers_per_ip, 64);
    cr_assert_eq(r->max_handshakes_per_ip, 64);
    cr_assert_geq(r->ip_connect_burst, 64);
    cr_assert_geq(r->connect_burst, 64);
    cr_assert_gt(r->handshake_timeout_ms, 0);
    /* 64 CONNECTs from one IP at one instant all pass. */
    netcore_address ip = netcore_address_ipv4(127, 0, 0, 1, 0);
    uint8_t d[64];
    size_t n = connect_datagram(d, 0);
    for (uint16_t port = 1; port <= 64; port++) {
        ip.port = port;
        cr_assert_eq(nci_guard_check(g, d, n, &ip, &ip, 1000), NCI_GUARD_PASS, "port %u", port);
        nci_guard_set_slot(g, port - 1u, NCI_GUARD_SLOT_HANDSHAKE, &ip, &ip, 1000);
    }
    ip.port = 65;
    cr_assert_eq(nci_guard_check(g, d, n, &ip, &ip, 1000), NCI_GUARD_IP_PEERS);
    nci_guard_destroy(g);
}

Test(enet_guard, per_ip_caps_and_full_host)
{
    netcore_guard_config c;
    memset(&c, 0, sizeof c);
    c.max_peers_per_ip = 2;
    c.max_handshakes_per_ip = 1;
    nci_guard *g = make_guard(&c, 4, true);
    netcore_address a1 = netcore_address_ipv4(10, 0, 0, 1, 1);
    netcore_address a2 = netcore_address_ipv4(10, 0, 0, 1, 2);
    netcore_address a3 = netcore_address_ipv4(10, 0, 0, 1, 3);
    netcore_address b1 = netcore_address_ipv4(10, 0, 0, 2, 1);
    netcore_address b2 = netcore_address_ipv4(10, 0, 0, 3, 1);
    uint8_t d[64];
    size_t n = connect_datagram(d, 0);
    nci_guard_set_slot(g, 0, NCI_GUARD_SLOT_HANDSHAKE, &a1, &a1, 0);
    cr_assert_eq(nci_guard_check(g, d, n, &a2, &a2, 0), NCI_GUARD_IP_HANDSHAKES);
    cr_assert_eq(nci_guard_check(g, d, n, &b1, &b1, 0), NCI_GUARD_PASS);
    nci_guard_set_slot(g, 0, NCI_GUARD_SLOT_CONNECTED, &a1, &a1, 0);
    cr_assert_eq(nci_guard_check(g, d, n, &a2, &a2, 0), NCI_GUARD_PASS);
    nci_guard_set_slot(g, 1, NCI_GUARD_SLOT_CONNECTED, &a2, &a2, 0);
    cr_assert_eq(nci_guard_check(g, d, n, &a3, &a3, 0), NCI_GUARD_IP_PEERS);
    nci_guard_set_slot(g, 2, NCI_GUARD_SLOT_CONNECTED, &b1, &b1, 0);
    nci_guard_set_slot(g, 3, NCI_GUARD_SLOT_HANDSHAKE, &b2, &b2, 0);
    netcore_address c1 = netcore_address_ipv4(10, 0, 0, 4, 1);
    cr_assert_eq(nci_guard_check(g, d, n, &c1, &c1, 0), NCI_GUARD_FULL);
    netcore_host_stats s;
    memset(&s, 0, sizeof s);
    nci_guard_stats(g, &s);
    cr_assert_eq(s.slots_in_use, 4);
    cr_assert_eq(s.slots_handshaking, 1);
    /* Freeing slots (in any order) releases the IP's share. */
    nci_guard_set_slot(g, 0, NCI_GUARD_SLOT_FREE, NULL, NULL, 0);
    nci_guard_set_slot(g, 3, NCI_GUARD_SLOT_FREE, NULL, NULL, 0);
    cr_assert_eq(nci_guard_check(g, d, n, &a3, &a3, 0), NCI_GUARD_PASS);
    memset(&s, 0, sizeof s);
    nci_guard_stats(g, &s);
    cr_assert_eq(s.slots_in_use, 2);
    cr_assert_eq(s.slots_handshaking, 0);
    cr_assert_eq(s.guard_ip_handshakes_dropped, 1);
    cr_assert_eq(s.guard_ip_peers_dropped, 1);
    cr_assert_eq(s.guard_full_dropped, 1);
    nci_guard_destroy(g);
}

Test(enet_guard, many_ips_churning_keep_counts_exact)
{
    netcore_guard_config c;
    memset(&c, 0, sizeof c);
    c.max_peers_per_ip = 3;
    nci_guard *g = make_guard(&c, 32, true);
    /* Fill, free every other slot, refill with other IPs, several rounds:
     * the per-IP table must neither leak entries nor lose them. */
    for (uint32_t round = 0; round < 20; round++) {
        for (uint32_t slot = 0; slot < 32; slot++) {
            if ((slot + round) % 2)
                continue;
            netcore_address a = netcore_address_ipv4(10, 1, (uint8_t)round, (uint8_t)(slot % 5), 1);
            nci_guard_set_slot(g, slot, NCI_GUARD_SLOT_CONNECTED, &a, &a, 0);
        }
        for (uint32_t slot = round % 3; slot < 32; slot += 3)
            nci_guard_set_slot(g, slot, NCI_GUARD_SLOT_FREE, NULL, NULL, 0);
    }
    for (uint32_t slot = 0; slot < 32; slot++)
        nci_guard_set_slot(g, slot, NCI_GUARD_SLOT_FREE, NULL, NULL, 0);
    netcore_host_stats s;
    memset(&s, 0, sizeof s);
    nci_guard_stats(g, &s);
    cr_assert_eq(s.slots_in_use, 0);
    /* Every IP may take its full share again. */
    uint8_t d[64];
    size_t n = connect_datagram(d, 0);
    netcore_address a = netcore_address_ipv4(10, 1, 3, 1, 1);
    for (uint32_t slot = 0; slot < 3; slot++) {
        cr_assert_eq(nci_guard_check(g, d, n, &a, &a, 0), NCI_GUARD_PASS);
        nci_guard_set_slot(g, slot, NCI_GUARD_SLOT_CONNECTED, &a, &a, 0);
    }
    cr_assert_eq(nci_guard_check(g, d, n, &a, &a, 0), NCI_GUARD_IP_PEERS);
    nci_guard_destroy(g);
}

Test(enet_guard, global_and_per_ip_rates)
{
    netcore_guard_config c;
    memset(&c, 0, sizeof c);
    c.connect_rate_per_s = 10;
    c.connect_burst = 5;
    c.ip_connect_rate_per_s = 2;
    c.ip_connect_burst = 3;
    nci_guard *g = make_guard(&c, 64, true);
    uint8_t d[64];
    size_t n = connect_datagram(d, 0);
    netcore_address a = netcore_address_ipv4(10, 0, 0, 1, 1);
    netcore_address b = netcore_address_ipv4(10, 0, 0, 2, 1);
    uint64_t t = 5000000;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(nci_guard_check(g, d, n, &a, &a, t), NCI_GUARD_PASS);
    cr_assert_eq(nci_guard_check(g, d, n, &a, &a, t), NCI_GUARD_IP_RATE);
    cr_assert_eq(nci_guard_check(g, d, n, &b, &b, t), NCI_GUARD_PASS);
    cr_assert_eq(nci_guard_check(g, d, n, &b, &b, t), NCI_GUARD_PASS);
    cr_assert_eq(nci_guard_check(g, d, n, &b, &b, t), NCI_GUARD_RATE);
    /* Half a second later: 5 global tokens back, 1 for a. */
    t += 500000;
    cr_assert_eq(nci_guard_check(g, d, n, &a, &a, t), NCI_GUARD_PASS);
    cr_assert_eq(nci_guard_check(g, d, n, &a, &a, t), NCI_GUARD_IP_RATE);
    /* A long pause refills to the burst only. */
    t += 3600u * 1000000u;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(nci_guard_check(g, d, n, &a, &a, t), NCI_GUARD_PASS);
    cr_assert_eq(nci_guard_check(g, d, n, &a, &a, t), NCI_GUARD_IP_RATE);
    netcore_host_stats s;
    memset(&s, 0, sizeof s);
    nci_guard_stats(g, &s);
    cr_assert_eq(s.guard_rate_dropped, 1);
    cr_assert_eq(s.guard_ip_rate_dropped, 3);
    nci_guard_destroy(g);
}

Test(enet_guard, rate_table_survives_many_ips)
{
    netcore_guard_config c;
    memset(&c, 0, sizeof c);
    c.connect_rate_per_s = 1000000;
    c.connect_burst = 1000000;
    c.ip_connect_burst = 1;
    c.ip_connect_rate_per_s = 1;
    c.ip_table_entries = 16;
    nci_guard *g = make_guard(&c, 8, true);
    uint8_t d[64];
    size_t n = connect_datagram(d, 0);
    /* More IPs than entries: each new one still gets its own (fresh) bucket. */
    for (uint32_t i = 0; i < 1000; i++) {
        netcore_address a = netcore_address_ipv4(10, (uint8_t)(i >> 8), (uint8_t)i, 1, 1);
        cr_assert_eq(nci_guard_check(g, d, n, &a, &a, 1), NCI_GUARD_PASS, "ip %u", i);
    }
    nci_guard_destroy(g);
}

Test(enet_guard, handshake_expiry)
{
    netcore_guard_config c;
    memset(&c, 0, sizeof c);
    c.handshake_timeout_ms = 250;
    nci_guard *g = make_guard(&c, 4, true);
    netcore_address a = netcore_address_ipv4(10, 0, 0, 1, 1);
    nci_guard_set_slot(g, 1, NCI_GUARD_SLOT_HANDSHAKE, &a, &a, 1000000);
    cr_assert_not(nci_guard_handshake_expired(g, 1, 1000000 + 249999));
    cr_assert(nci_guard_handshake_expired(g, 1, 1000000 + 250000));
    cr_assert_not(nci_guard_handshake_expired(g, 0, 9000000));
    cr_assert_not(nci_guard_handshake_expired(g, 99, 9000000));
    nci_guard_set_slot(g, 1, NCI_GUARD_SLOT_CONNECTED, &a, &a, 1000000);
    cr_assert_not(nci_guard_handshake_expired(g, 1, 9000000));
    nci_guard_count_handshake_timeout(g);
    netcore_host_stats s;
    memset(&s, 0, sizeof s);
    nci_guard_stats(g, &s);
    cr_assert_eq(s.guard_handshake_timeouts, 1);
    nci_guard_destroy(g);
}

Test(enet_guard, client_host_takes_no_connect)
{
    netcore_guard_config c;
    memset(&c, 0, sizeof c);
    nci_guard *g = make_guard(&c, 4, false);
    netcore_address a = netcore_address_ipv4(10, 0, 0, 1, 1);
    uint8_t d[64];
    size_t n = connect_datagram(d, 0);
    cr_assert_eq(nci_guard_check(g, d, n, &a, &a, 0), NCI_GUARD_UNEXPECTED_CONNECT);
    nci_guard_destroy(g);
}

/* --- Address proofs carried by tokens --- */

Test(address_proof, client_bound_token_carries_a_checkable_proof)
{
    netcore_token_params p;
    memset(&p, 0, sizeof p);
    cr_assert_eq(netcore_session_keys_generate(&p.session_keys), NETCORE_OK);
    p.client_id = 5;
    p.match_id = 9;
    p.server_address = netcore_address_ipv4(127, 0, 0, 1, 7778);
    p.create_time_s = fake_now_s;
    p.lifetime_s = 30;
    netcore_address client = netcore_address_ipv4(203, 0, 113, 9, 1234);
    uint8_t token[NETCORE_TOKEN_BYTES];
    cr_assert_eq(netcore_token_create_for_client(test_key, &p, &client, token), NETCORE_OK);
    cr_assert_eq(netcore_token_open(test_key, token, sizeof token, NULL), NETCORE_OK);
    uint32_t proof = netcore_token_embedded_proof(token, sizeof token);
    cr_assert_neq(proof, 0);
    client.port = 999; /* NAT may change the port */
    cr_assert_eq(netcore_token_check_address_proof(test_key, &client, fake_now_s, 5, proof),
                 NETCORE_OK);
    netcore_address other = netcore_address_ipv4(203, 0, 113, 10, 1234);
    cr_assert_eq(netcore_token_check_address_proof(test_key, &other, fake_now_s, 5, proof),
                 NETCORE_ERR_AUTH);
    /* Valid until the end of the expiry's epoch plus skew, then stale. */
    uint64_t epoch_end = (fake_now_s + 30 + NETCORE_TOKEN_PROOF_EPOCH_S - 1) /
                         NETCORE_TOKEN_PROOF_EPOCH_S * NETCORE_TOKEN_PROOF_EPOCH_S;
    cr_assert_eq(netcore_token_check_address_proof(test_key, &client, epoch_end + 4, 5, proof),
                 NETCORE_OK);
    cr_assert_eq(netcore_token_check_address_proof(test_key, &client, epoch_end + 5, 5, proof),
                 NETCORE_ERR_AUTH);
    cr_assert_eq(netcore_token_check_address_proof(test_key, &client, fake_now_s, 5, 0),
                 NETCORE_ERR_AUTH);
    cr_assert_eq(netcore_token_embedded_proof(token, sizeof token - 1), 0);
    cr_assert_eq(netcore_token_create_for_client(test_key, &p, NULL, token),
                 NETCORE_ERR_INVALID_ARGUMENT);
}

Test(address_proof, long_lived_tokens_cap_the_proof)
{
    netcore_address client = netcore_address_ipv4(198, 51, 100, 1, 1);
    netcore_token_params p;
    memset(&p, 0, sizeof p);
    cr_assert_eq(netcore_session_keys_generate(&p.session_keys), NETCORE_OK);
    p.server_address = netcore_address_ipv4(127, 0, 0, 1, 7778);
    p.create_time_s = fake_now_s;
    p.lifetime_s = 86400;
    uint8_t token[NETCORE_TOKEN_BYTES];
    cr_assert_eq(netcore_token_create_for_client(test_key, &p, &client, token), NETCORE_OK);
    uint32_t proof = netcore_token_embedded_proof(token, sizeof token);
    cr_assert_eq(netcore_token_check_address_proof(test_key, &client, fake_now_s + 1000, 5, proof),
                 NETCORE_OK);
    cr_assert_eq(netcore_token_check_address_proof(test_key, &client,
                                                   fake_now_s + NETCORE_TOKEN_PROOF_MAX_LIFETIME_S +
                                                       2 * NETCORE_TOKEN_PROOF_EPOCH_S,
                                                   5, proof),
                 NETCORE_ERR_AUTH);
}
