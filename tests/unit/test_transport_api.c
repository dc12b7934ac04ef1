/* Transport API surface: config validation, result and reason names, address
 * round trips, what every entry point does with bad arguments, and the codec
 * of the control lane. Hosts here are ENet hosts on 127.0.0.1 that never talk
 * to anyone. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "netcore/transport.h"
#include "transport/transport_control.h"

static void init_netcore(void)
{
    cr_assert_eq(netcore_init(), NETCORE_OK);
}
static void fini_netcore(void)
{
    netcore_shutdown();
}
TestSuite(transport_api, .timeout = 30);
TestSuite(transport_api_host, .init = init_netcore, .fini = fini_netcore, .timeout = 30);

static void loopback_server(netcore_host_config *cfg)
{
    netcore_host_config_default(cfg);
    cfg->is_server = true;
    cfg->bind_address = netcore_address_ipv4(127, 0, 0, 1, 0);
}

static void expect_create(const netcore_host_config *cfg, netcore_result expected)
{
    netcore_host *host = (netcore_host *)cfg; /* any non-NULL value: must be reset */
    netcore_result r = netcore_host_create(cfg, &host);
    cr_assert_eq(r, expected, "create gave %s, expected %s", netcore_result_str(r),
                 netcore_result_str(expected));
    if (expected != NETCORE_OK)
        cr_assert_null(host);
    netcore_host_destroy(r == NETCORE_OK ? host : NULL);
}

static void never_free(void *user, void *ptr)
{
    (void)user;
    (void)ptr;
    cr_assert_fail("an allocator without alloc must be refused before use");
}

Test(transport_api, defaults_match_the_header)
{
    netcore_host_config cfg;
    memset(&cfg, 0xab, sizeof cfg);
    netcore_host_config_default(&cfg);
    cr_assert_not(cfg.is_server);
    cr_assert_eq(cfg.max_peers, 64);
    cr_assert_eq(cfg.channel_count, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cfg.channels[i].delivery, (netcore_delivery)i);
    cr_assert_eq(cfg.mtu_bytes, 1392);
    cr_assert_eq(cfg.max_message_bytes, 262144);
    cr_assert_eq(cfg.ping_interval_ms, 500);
    cr_assert_eq(cfg.timeout_ms, 10000);
    cr_assert_eq(cfg.connect_timeout_ms, 5000);
    cr_assert_eq(cfg.admission_timeout_ms, 2000);
    cr_assert_null(cfg.admission);
    cr_assert_null(cfg.sim);
    cr_assert_not(cfg.conditioner.enabled);
    cr_assert_eq(cfg.bind_address.family, NETCORE_ADDRESS_NONE);
    netcore_host_config_default(NULL); /* ignored */
}

Test(transport_api, enet_host_needs_init)
{
    netcore_host_config cfg;
    loopback_server(&cfg);
    expect_create(&cfg, NETCORE_ERR_NOT_INITIALIZED);
}

Test(transport_api_host, create_validates_every_field)
{
    netcore_host_config cfg;
    netcore_host *host = NULL;
    loopback_server(&cfg);
    cr_assert_eq(netcore_host_create(NULL, &host), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_host_create(&cfg, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    expect_create(&cfg, NETCORE_OK);

#define EXPECT_BAD(field, value)                                                                   \
    do {                                                                                           \
        loopback_server(&cfg);                                                                     \
        cfg.field = value;                                                                         \
        expect_create(&cfg, NETCORE_ERR_INVALID_ARGUMENT);                                         \
    } while (0)
    EXPECT_BAD(max_peers, 0);
    EXPECT_BAD(max_peers, 4096);
    EXPECT_BAD(channel_count, 0);
    EXPECT_BAD(channel_count, NETCORE_MAX_CHANNELS + 1);
    EXPECT_BAD(channels[2].delivery, (netcore_delivery)4);
    EXPECT_BAD(mtu_bytes, 575);
    EXPECT_BAD(mtu_bytes, 4097);
    EXPECT_BAD(max_message_bytes, 0);
    EXPECT_BAD(ping_interval_ms, 0);
    EXPECT_BAD(timeout_ms, 0);
    EXPECT_BAD(connect_timeout_ms, 0);
    EXPECT_BAD(admission_timeout_ms, 0);
    EXPECT_BAD(bind_address.family, 5);
    EXPECT_BAD(bind_address.family, NETCORE_ADDRESS_IPV6); /* ENet is IPv4 only */
    EXPECT_BAD(conditioner.inbound.loss_pct, 101.0f);
    EXPECT_BAD(conditioner.outbound.duplicate_pct, -1.0f);
    EXPECT_BAD(conditioner.inbound.reorder_pct, NAN);
#undef EXPECT_BAD

    /* An allocator needs both functions. */
    loopback_server(&cfg);
    cfg.allocator.free = never_free;
    expect_create(&cfg, NETCORE_ERR_INVALID_ARGUMENT);

    /* A channel beyond channel_count is not looked at. */
    loopback_server(&cfg);
    cfg.channel_count = 2;
    cfg.channels[3].delivery = (netcore_delivery)99;
    expect_create(&cfg, NETCORE_OK);
    /* Limits themselves are accepted. */
    loopback_server(&cfg);
    cfg.max_peers = 1;
    cfg.channel_count = NETCORE_MAX_CHANNELS;
    cfg.mtu_bytes = 576;
    expect_create(&cfg, NETCORE_OK);
}

Test(transport_api, result_and_reason_names)
{
    for (int r = 0; r < NETCORE_RESULT_COUNT; r++) {
        const char *name = netcore_result_str((netcore_result)r);
        cr_assert_not_null(name);
        cr_assert_str_neq(name, "unknown result");
    }
    cr_assert_str_eq(netcore_result_str(NETCORE_RESULT_COUNT), "unknown result");
    const char *expected[] = {"requested",         "timeout",        "connect failed", "rejected",
                              "admission timeout", "protocol error", "shutdown"};
    for (int i = 0; i < 7; i++)
        cr_assert_str_eq(netcore_disconnect_reason_str((netcore_disconnect_reason)(i + 1)),
                         expected[i]);
    cr_assert_str_eq(netcore_disconnect_reason_str((netcore_disconnect_reason)0), "unknown");
    cr_assert_str_eq(netcore_disconnect_reason_str((netcore_disconnect_reason)99), "unknown");
}

static void round_trip(const char *text, const char *expected_text)
{
    netcore_address a, b;
    char buf[NETCORE_ADDRESS_STRLEN];
    cr_assert_eq(netcore_address_parse(text, 7777, &a), NETCORE_OK, "parse %s", text);
    cr_assert_eq(netcore_address_format(&a, buf, sizeof buf), NETCORE_OK);
    cr_assert_str_eq(buf, expected_text);
    cr_assert_eq(netcore_address_parse(buf, 1, &b), NETCORE_OK);
    cr_assert(netcore_address_equal(&a, &b), "%s did not survive a round trip", text);
}

Test(transport_api, address_parse_and_format_round_trip)
{
    round_trip("1.2.3.4", "1.2.3.4:7777");
    round_trip("127.0.0.1:9", "127.0.0.1:9");
    round_trip("255.255.255.255:65535", "255.255.255.255:65535");
    round_trip("::1", "[::1]:7777");
    round_trip("[::1]:80", "[::1]:80");
    round_trip("[fe80::1:2]:0", "[fe80::1:2]:0");

    netcore_address a;
    cr_assert_eq(netcore_address_parse("10.0.0.1:70000", 1, &a), NETCORE_ERR_ADDRESS);
    cr_assert_eq(netcore_address_parse("10.0.0.1:", 1, &a), NETCORE_ERR_ADDRESS);
    cr_assert_eq(netcore_address_parse(":80", 1, &a), NETCORE_ERR_ADDRESS);
    cr_assert_eq(netcore_address_parse("[::1", 1, &a), NETCORE_ERR_ADDRESS);
    cr_assert_eq(netcore_address_parse("", 1, &a), NETCORE_ERR_ADDRESS);
    cr_assert_eq(netcore_address_parse(NULL, 1, &a), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_address_parse("1.2.3.4", 1, NULL), NETCORE_ERR_INVALID_ARGUMENT);

    netcore_address v4 = netcore_address_ipv4(192, 168, 1, 20, 7778);
    char small[8];
    cr_assert_eq(netcore_address_format(&v4, small, sizeof small), NETCORE_ERR_TOO_LARGE);
    cr_assert_eq(small[sizeof small - 1], '\0');
    cr_assert_eq(netcore_address_format(NULL, small, sizeof small), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_address other = v4;
    other.port++;
    cr_assert_not(netcore_address_equal(&v4, &other));
    cr_assert_not(netcore_address_equal(&v4, NULL));
}

Test(transport_api_host, bad_arguments_are_refused_without_side_effects)
{
    netcore_host_config cfg;
    netcore_host *server = NULL, *client = NULL;
    loopback_server(&cfg);
    cr_assert_eq(netcore_host_create(&cfg, &server), NETCORE_OK);
    netcore_host_config_default(&cfg);
    cfg.max_peers = 1;
    cr_assert_eq(netcore_host_create(&cfg, &client), NETCORE_OK);

    netcore_event ev;
    memset(&ev, 0x5a, sizeof ev);
    cr_assert_eq(netcore_host_poll(NULL, 0, &ev), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(ev.type, NETCORE_EVENT_NONE, "the event is cleared even on error");
    cr_assert_eq(netcore_host_poll(client, 0, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_host_poll(client, 0, &ev), NETCORE_OK);
    cr_assert_eq(ev.type, NETCORE_EVENT_NONE);

    netcore_address to;
    cr_assert_eq(netcore_host_address(server, &to), NETCORE_OK);
    cr_assert_eq(netcore_host_address(NULL, &to), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_host_address(server, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_peer_id id = 123;
    cr_assert_eq(netcore_host_connect(server, &to, NULL, &id), NETCORE_ERR_STATE);
    cr_assert_eq(id, NETCORE_PEER_NONE);
    cr_assert_eq(netcore_host_connect(client, NULL, NULL, &id), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_host_connect(client, &to, NULL, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    static uint8_t token[NETCORE_MAX_TOKEN_BYTES + 1];
    netcore_connect_options options = {token, sizeof token, 0, NULL};
    cr_assert_eq(netcore_host_connect(client, &to, &options, &id), NETCORE_ERR_TOO_LARGE);
    /* A token without session keys would put the game in clear: refused. */
    options.token_size_bytes = 8;
    cr_assert_eq(netcore_host_connect(client, &to, &options, &id), NETCORE_ERR_AUTH);
    cr_assert_eq(id, NETCORE_PEER_NONE);
    options.token = NULL;
    options.token_size_bytes = 4;
    cr_assert_eq(netcore_host_connect(client, &to, &options, &id), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_address v6;
    cr_assert_eq(netcore_address_parse("[::1]:9", 0, &v6), NETCORE_OK);
    cr_assert_eq(netcore_host_connect(client, &v6, NULL, &id), NETCORE_ERR_UNSUPPORTED);
    netcore_address none;
    memset(&none, 0, sizeof none);
    cr_assert_eq(netcore_host_connect(client, &none, NULL, &id), NETCORE_ERR_UNSUPPORTED);

    /* No peer: every id is unknown. */
    const netcore_peer_id bogus[] = {NETCORE_PEER_NONE, 1, 0x10001, 0xffffffffu, 2};
    for (size_t i = 0; i < sizeof bogus / sizeof bogus[0]; i++) {
        cr_assert_eq(netcore_host_send(client, bogus[i], 0, "x", 1), NETCORE_ERR_NOT_CONNECTED);
        cr_assert_eq(netcore_host_disconnect(client, bogus[i], 0), NETCORE_ERR_NOT_CONNECTED);
        netcore_peer_stats ps;
        cr_assert_eq(netcore_host_get_peer_stats(client, bogus[i], &ps), NETCORE_ERR_NOT_CONNECTED);
    }
    /* Argument errors come before the peer lookup. */
    cr_assert_eq(netcore_host_send(client, 1, 4, "x", 1), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_host_send(client, 1, 0, NULL, 1), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_host_send(client, 1, 0, "x", 262145), NETCORE_ERR_TOO_LARGE);
    cr_assert_eq(netcore_host_send(NULL, 1, 0, "x", 1), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_host_broadcast(server, 9, "x", 1), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_host_broadcast(server, 0, "x", 1), NETCORE_OK, "nobody to send to");
    cr_assert_eq(netcore_host_broadcast(server, 0, NULL, 0), NETCORE_OK);

    netcore_link_profile perfect;
    memset(&perfect, 0, sizeof perfect);
    cr_assert_eq(netcore_host_set_conditioner(client, &perfect, &perfect), NETCORE_ERR_STATE);
    cr_assert_eq(netcore_host_set_conditioner(client, NULL, &perfect),
                 NETCORE_ERR_INVALID_ARGUMENT);
    netcore_link_profile bad = perfect;
    bad.loss_pct = 200.0f;
    cr_assert_eq(netcore_host_set_conditioner(client, &bad, &perfect),
                 NETCORE_ERR_INVALID_ARGUMENT);

    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(NULL, &hs), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_host_get_stats(server, &hs), NETCORE_OK);
    cr_assert_eq(hs.peers_connected, 0);
    cr_assert_eq(hs.traffic.messages_sent, 0);
    cr_assert_eq(netcore_host_flush(NULL), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_host_flush(server), NETCORE_OK);
    cr_assert_gt(netcore_host_now_us(server), 0);
    cr_assert_eq(netcore_host_now_us(NULL), 0);

    /* Still quiet after all that. */
    cr_assert_eq(netcore_host_poll(server, 0, &ev), NETCORE_OK);
    cr_assert_eq(ev.type, NETCORE_EVENT_NONE);
    netcore_host_destroy(client);
    netcore_host_destroy(server);
    netcore_host_destroy(NULL);
}

Test(transport_api_host, connect_attempt_gets_exactly_one_result)
{
    netcore_host_config cfg;
    netcore_host *client = NULL;
    netcore_host_config_default(&cfg);
    cfg.max_peers = 1;
    cr_assert_eq(netcore_host_create(&cfg, &client), NETCORE_OK);
    /* Nobody listens on the discard port of loopback; give up at once. */
    netcore_address to = netcore_address_ipv4(127, 0, 0, 1, 9);
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client, &to, NULL, &id), NETCORE_OK);
    cr_assert_neq(id, NETCORE_PEER_NONE);
    netcore_peer_id second = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client, &to, NULL, &second), NETCORE_ERR_FULL);
    cr_assert_eq(netcore_host_send(client, id, 0, "x", 1), NETCORE_ERR_NOT_CONNECTED,
                 "not admitted yet");
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(client, id, &ps), NETCORE_OK);
    cr_assert_not(ps.admitted);
    cr_assert(netcore_address_equal(&ps.address, &to));
    cr_assert_eq(netcore_host_disconnect(client, id, 5), NETCORE_OK);
    int disconnects = 0;
    for (int i = 0; i < 20; i++) {
        netcore_event ev;
        cr_assert_eq(netcore_host_poll(client, 1, &ev), NETCORE_OK);
        cr_assert_neq(ev.type, NETCORE_EVENT_CONNECT);
        if (ev.type == NETCORE_EVENT_DISCONNECT) {
            disconnects++;
            cr_assert_eq(ev.peer, id);
            cr_assert_eq(ev.reason, NETCORE_DISCONNECT_REQUESTED);
            cr_assert_eq(ev.code, 5);
        }
    }
    cr_assert_eq(disconnects, 1);
    cr_assert_eq(netcore_host_disconnect(client, id, 5), NETCORE_ERR_NOT_CONNECTED);
    /* The slot is free again, under a new id. */
    cr_assert_eq(netcore_host_connect(client, &to, NULL, &second), NETCORE_OK);
    cr_assert_neq(second, id);
    netcore_host_destroy(client);
}

/* --- Control-lane codec (docs/transport-protocol.md) --- */

Test(transport_api, control_messages_round_trip_byte_for_byte)
{
    nci_hello hello;
    memset(&hello, 0, sizeof hello);
    hello.channel_count = 3;
    hello.modes[0] = 0;
    hello.modes[1] = 3;
    hello.modes[2] = 1;
    hello.token = (const uint8_t *)"tok";
    hello.token_size_bytes = 3;
    uint8_t buf[NCI_CONTROL_HELLO_MAX_BYTES];
    size_t n = nci_control_write_hello(&hello, buf);
    const uint8_t expected[] = {'N', 'C', 'T', 'P', 2, 0, 1, 3, 0, 3, 1, 0, 3, 0, 't', 'o', 'k'};
    cr_assert_eq(n, sizeof expected);
    cr_assert_arr_eq(buf, expected, n);

    nci_control_type type = NCI_CONTROL_WELCOME;
    nci_hello back;
    cr_assert_eq(nci_control_read(buf, n, &type, &back), NETCORE_OK);
    cr_assert_eq(type, NCI_CONTROL_HELLO);
    cr_assert_eq(back.channel_count, 3);
    cr_assert_arr_eq(back.modes, hello.modes, 3);
    cr_assert_eq(back.token_size_bytes, 3);
    cr_assert_eq(back.token, buf + 14, "the token points into the message");
    cr_assert_not(back.sealed);

    hello.token = NULL;
    hello.token_size_bytes = 0;
    hello.sealed = true;
    n = nci_control_write_hello(&hello, buf);
    cr_assert_eq(n, 14);
    cr_assert_eq(buf[11], 1, "the sealed flag");
    cr_assert_eq(nci_control_read(buf, n, &type, &back), NETCORE_OK);
    cr_assert_null(back.token);
    cr_assert(back.sealed);

    uint8_t welcome[NCI_CONTROL_HEADER_BYTES];
    cr_assert_eq(nci_control_write_welcome(welcome), 7);
    cr_assert_eq(nci_control_read(welcome, 7, &type, &back), NETCORE_OK);
    cr_assert_eq(type, NCI_CONTROL_WELCOME);

    /* Out-of-range input to the writer writes nothing. */
    hello.channel_count = 0;
    cr_assert_eq(nci_control_write_hello(&hello, buf), 0);
    hello.channel_count = NETCORE_MAX_CHANNELS + 1;
    cr_assert_eq(nci_control_write_hello(&hello, buf), 0);
    hello.channel_count = 1;
    hello.token_size_bytes = NETCORE_MAX_TOKEN_BYTES + 1;
    cr_assert_eq(nci_control_write_hello(&hello, buf), 0);
}

Test(transport_api, control_reader_rejects_every_malformation)
{
    nci_control_type type;
    nci_hello hello;
    const uint8_t good[] = {'N', 'C', 'T', 'P', 2, 0, 1, 2, 0, 2, 1, 1, 0, 'x'};
    cr_assert_eq(nci_control_read(good, sizeof good, &type, &hello), NETCORE_OK);
    /* Every strict prefix is malformed: sizes are exact. */
    for (size_t n = 0; n < sizeof good; n++)
        cr_assert_eq(nci_control_read(good, n, &type, &hello), NETCORE_ERR_MALFORMED, "prefix %zu",
                     n);
    uint8_t bad[sizeof good + 1];
    memcpy(bad, good, sizeof good);
    bad[sizeof good] = 0;
    cr_assert_eq(nci_control_read(bad, sizeof bad, &type, &hello), NETCORE_ERR_MALFORMED,
                 "trailing byte");
#define EXPECT_BYTE(index, value, result)                                                          \
    do {                                                                                           \
        memcpy(bad, good, sizeof good);                                                            \
        bad[index] = value;                                                                        \
        cr_assert_eq(nci_control_read(bad, sizeof good, &type, &hello), result, "byte %d = %d",    \
                     index, value);                                                                \
    } while (0)
    EXPECT_BYTE(0, 'n', NETCORE_ERR_MALFORMED); /* magic */
    EXPECT_BYTE(3, 'Q', NETCORE_ERR_MALFORMED);
    EXPECT_BYTE(4, 1, NETCORE_ERR_MISMATCH);  /* version 1 */
    EXPECT_BYTE(5, 1, NETCORE_ERR_MISMATCH);  /* version 258 */
    EXPECT_BYTE(6, 0, NETCORE_ERR_MALFORMED); /* unknown type */
    EXPECT_BYTE(6, 3, NETCORE_ERR_MALFORMED);
    EXPECT_BYTE(6, 2, NETCORE_ERR_MALFORMED); /* a WELCOME has no body */
    EXPECT_BYTE(7, 0, NETCORE_ERR_MALFORMED); /* no channels */
    EXPECT_BYTE(7, 3, NETCORE_ERR_MALFORMED); /* count disagrees with size */
    EXPECT_BYTE(7, NETCORE_MAX_CHANNELS + 1, NETCORE_ERR_MALFORMED);
    EXPECT_BYTE(8, 4, NETCORE_ERR_MALFORMED);  /* unknown delivery mode */
    EXPECT_BYTE(10, 2, NETCORE_ERR_MALFORMED); /* unknown flag bit */
    EXPECT_BYTE(10, 0x80, NETCORE_ERR_MALFORMED);
    EXPECT_BYTE(11, 2, NETCORE_ERR_MALFORMED); /* token longer than the message */
    EXPECT_BYTE(12, 4, NETCORE_ERR_MALFORMED); /* token size 1025 */
#undef EXPECT_BYTE
    /* A huge declared token is refused without reading past the message. */
    const uint8_t huge[] = {'N', 'C', 'T', 'P', 2, 0, 1, 1, 0, 0, 0xff, 0xff};
    cr_assert_eq(nci_control_read(huge, sizeof huge, &type, &hello), NETCORE_ERR_MALFORMED);
    cr_assert_eq(nci_control_read(NULL, 0, &type, &hello), NETCORE_ERR_MALFORMED);
    /* Another version is recognised from the header alone. */
    const uint8_t future[] = {'N', 'C', 'T', 'P', 9, 0, 1};
    cr_assert_eq(nci_control_read(future, sizeof future, &type, &hello), NETCORE_ERR_MISMATCH);
}
