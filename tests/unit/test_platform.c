/* platform/: sockets and the readiness poller on loopback. Built twice: with
 * the library's poller (epoll on Linux) and, as test_platform_poll, with the
 * portable poll() poller that Windows and the BSDs use. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "core/core_internal.h"
#include "platform/poller.h"
#include "platform/signals.h"
#include "platform/socket.h"

static netcore_address loopback(uint16_t port)
{
    return netcore_address_ipv4(127, 0, 0, 1, port);
}

static nci_socket udp_socket(netcore_address *out_bound)
{
    netcore_address bind = loopback(0);
    nci_socket s;
    cr_assert_eq(nci_socket_open_udp(&bind, false, &s), NETCORE_OK);
    cr_assert_eq(nci_socket_local_address(s, out_bound), NETCORE_OK);
    cr_assert_neq(out_bound->port, 0);
    return s;
}

/* Waits (bounded) until the poller reports something; returns the count. */
static int wait_some(nci_poller *p, nci_poll_event *events, uint32_t max)
{
    for (int i = 0; i < 200; i++) {
        int n = nci_poller_wait(p, events, max, 10);
        cr_assert_geq(n, 0);
        if (n > 0)
            return n;
    }
    return 0;
}

Test(platform_socket, udp_datagrams_travel_between_two_sockets_with_their_source)
{
    netcore_address a_addr, b_addr, from;
    nci_socket a = udp_socket(&a_addr), b = udp_socket(&b_addr);
    uint8_t buffer[64];
    size_t got = 0;
    cr_expect_eq(nci_socket_recv_from(b, buffer, sizeof buffer, &got, &from), NCI_IO_WOULD_BLOCK);
    cr_assert_eq(nci_socket_send_to(a, "hello", 5, &b_addr), NCI_IO_DONE);
    nci_poller *p;
    netcore_allocator alloc = {0};
    cr_assert_eq(nci_poller_create(&alloc, 4, &p), NETCORE_OK);
    cr_assert_eq(nci_poller_set(p, b, NCI_POLL_IN, 42), NETCORE_OK);
    nci_poll_event ev[4];
    cr_assert_eq(wait_some(p, ev, 4), 1);
    cr_expect_eq(ev[0].data, 42);
    cr_expect(ev[0].events & NCI_POLL_IN);
    cr_assert_eq(nci_socket_recv_from(b, buffer, sizeof buffer, &got, &from), NCI_IO_DONE);
    cr_expect_eq(got, 5);
    cr_expect_eq(memcmp(buffer, "hello", 5), 0);
    cr_expect(netcore_address_equal(&from, &a_addr));
    cr_expect_eq(nci_poller_remove(p, b), NETCORE_OK);
    cr_expect_eq(nci_poller_remove(p, b), NETCORE_ERR_NOT_FOUND);
    nci_poller_destroy(p);
    nci_socket_close(a);
    nci_socket_close(b);
}

Test(platform_socket, a_connected_udp_socket_reports_a_refused_destination)
{
    netcore_address gone;
    nci_socket closed = udp_socket(&gone);
    nci_socket_close(closed); /* nothing listens there any more */
    nci_socket s;
    cr_assert_eq(nci_socket_open_connected(&gone, false, &s, NULL), NETCORE_OK);
    size_t n;
    cr_assert_eq(nci_socket_send(s, "x", 1, &n), NCI_IO_DONE);
    uint8_t buffer[8];
    nci_io io = NCI_IO_WOULD_BLOCK;
    for (int i = 0; i < 200 && io == NCI_IO_WOULD_BLOCK; i++) {
        io = nci_socket_recv(s, buffer, sizeof buffer, &n);
        if (io == NCI_IO_WOULD_BLOCK) {
            nci_poller *p;
            netcore_allocator alloc = {0};
            cr_assert_eq(nci_poller_create(&alloc, 1, &p), NETCORE_OK);
            nci_poller_set(p, s, NCI_POLL_IN, 0);
            nci_poll_event ev;
            (void)nci_poller_wait(p, &ev, 1, 10);
            nci_poller_destroy(p);
        }
    }
    cr_expect_eq(io, NCI_IO_REFUSED);
    nci_socket_close(s);
}

Test(platform_socket, tcp_connects_accepts_carries_bytes_and_reports_the_close)
{
    netcore_address any = loopback(0), at, from;
    nci_socket listener, client, server;
    cr_assert_eq(nci_socket_open_tcp_listener(&any, 16, &listener), NETCORE_OK);
    cr_assert_eq(nci_socket_local_address(listener, &at), NETCORE_OK);
    bool in_progress = true;
    cr_assert_eq(nci_socket_open_connected(&at, true, &client, &in_progress), NETCORE_OK);

    nci_poller *p;
    netcore_allocator alloc = {0};
    cr_assert_eq(nci_poller_create(&alloc, 8, &p), NETCORE_OK);
    cr_assert_eq(nci_poller_set(p, listener, NCI_POLL_IN, 1), NETCORE_OK);
    cr_assert_eq(nci_poller_set(p, client, NCI_POLL_OUT, 2), NETCORE_OK);
    bool accepted = false, connected = !in_progress;
    nci_poll_event ev[8];
    for (int round = 0; round < 100 && !(accepted && connected); round++) {
        int n = nci_poller_wait(p, ev, 8, 10);
        for (int i = 0; i < n; i++) {
            if (ev[i].data == 1 && !accepted) {
                cr_assert_eq(nci_socket_accept(listener, &server, &from), NCI_ACCEPT_OK);
                accepted = true;
            } else if (ev[i].data == 2) {
                cr_assert_eq(nci_socket_connect_result(client), NETCORE_OK);
                connected = true;
                cr_assert_eq(nci_poller_set(p, client, 0, 2), NETCORE_OK);
            }
        }
    }
    cr_assert(accepted && connected);
    nci_socket none;
    cr_expect_eq(nci_socket_accept(listener, &none, NULL), NCI_ACCEPT_NONE);
    cr_expect_eq(from.bytes[0], 127);
    cr_assert_eq(nci_socket_set_option(server, NCI_SOCKOPT_NODELAY, 1), NETCORE_OK);

    size_t n;
    cr_assert_eq(nci_socket_send(client, "ping", 4, &n), NCI_IO_DONE);
    cr_expect_eq(n, 4);
    cr_assert_eq(nci_poller_set(p, server, NCI_POLL_IN, 3), NETCORE_OK);
    cr_assert_geq(wait_some(p, ev, 8), 1);
    char buffer[16];
    cr_assert_eq(nci_socket_recv(server, buffer, sizeof buffer, &n), NCI_IO_DONE);
    cr_expect_eq(n, 4);
    cr_expect_eq(memcmp(buffer, "ping", 4), 0);

    nci_poller_remove(p, client);
    nci_socket_close(client);
    nci_io io = NCI_IO_WOULD_BLOCK;
    for (int i = 0; i < 100 && io == NCI_IO_WOULD_BLOCK; i++) {
        (void)nci_poller_wait(p, ev, 8, 10);
        io = nci_socket_recv(server, buffer, sizeof buffer, &n);
    }
    cr_expect_eq(io, NCI_IO_CLOSED);
    /* Writing to a closed connection is an error return, never SIGPIPE. */
    nci_io w = NCI_IO_DONE;
    for (int i = 0; i < 50 && w == NCI_IO_DONE; i++)
        w = nci_socket_send(server, buffer, sizeof buffer, &n);
    cr_expect(w == NCI_IO_CLOSED || w == NCI_IO_FAILED);
    nci_poller_destroy(p);
    nci_socket_close(server);
    nci_socket_close(listener);
}

/* Waits (bounded) until socket is readable. */
static void wait_readable(nci_socket socket)
{
    nci_poller *p;
    netcore_allocator alloc = {0};
    cr_assert_eq(nci_poller_create(&alloc, 1, &p), NETCORE_OK);
    cr_assert_eq(nci_poller_set(p, socket, NCI_POLL_IN, 7), NETCORE_OK);
    nci_poll_event ev;
    cr_assert_eq(wait_some(p, &ev, 1), 1);
    nci_poller_destroy(p);
}

/* A connected pair on loopback: *out_client and *out_server. */
static void tcp_pair(nci_socket *out_listener, nci_socket *out_client, nci_socket *out_server)
{
    netcore_address any = loopback(0), at;
    cr_assert_eq(nci_socket_open_tcp_listener(&any, 4, out_listener), NETCORE_OK);
    cr_assert_eq(nci_socket_local_address(*out_listener, &at), NETCORE_OK);
    cr_assert_eq(nci_socket_open_connected(&at, true, out_client, NULL), NETCORE_OK);
    wait_readable(*out_listener);
    cr_assert_eq(nci_socket_accept(*out_listener, out_server, NULL), NCI_ACCEPT_OK);
}

Test(platform_socket, peek_shows_waiting_stream_bytes_without_taking_them)
{
    nci_socket listener, client, server;
    tcp_pair(&listener, &client, &server);
    uint8_t head[2];
    size_t n = 0;
    cr_expect_eq(nci_socket_peek(server, head, sizeof head, &n), NCI_IO_WOULD_BLOCK);
    size_t sent = 0;
    nci_io io = NCI_IO_WOULD_BLOCK;
    for (int i = 0; i < 100 && io == NCI_IO_WOULD_BLOCK; i++)
        io = nci_socket_send(client, "abc", 3, &sent);
    cr_assert_eq(io, NCI_IO_DONE);
    cr_assert_eq(sent, 3);
    wait_readable(server);
    cr_assert_eq(nci_socket_peek(server, head, sizeof head, &n), NCI_IO_DONE);
    cr_assert_geq(n, 1);
    cr_expect_eq(head[0], 'a');
    cr_assert_eq(nci_socket_peek(server, head, sizeof head, &n), NCI_IO_DONE);
    cr_expect_eq(head[0], 'a'); /* still there */
    char all[8];
    size_t got = 0;
    while (got < 3) {
        wait_readable(server);
        cr_assert_eq(nci_socket_recv(server, all + got, sizeof all - got, &n), NCI_IO_DONE);
        got += n;
    }
    cr_expect_eq(memcmp(all, "abc", 3), 0);
    nci_socket_close(client);
    wait_readable(server);
    cr_expect_eq(nci_socket_peek(server, head, sizeof head, &n), NCI_IO_CLOSED);
    nci_socket_close(server);
    nci_socket_close(listener);
}

/* A wildcard UDP socket learns which of this host's addresses each datagram
 * was sent to, and on which interface (what LAN discovery needs). */
Test(platform_socket, a_datagram_reports_the_address_it_was_sent_to)
{
    netcore_address wildcard = netcore_address_ipv4(0, 0, 0, 0, 0), bound, from;
    nci_socket receiver, sender_socket;
    cr_assert_eq(nci_socket_open_udp(&wildcard, false, &receiver), NETCORE_OK);
    cr_assert_eq(nci_socket_local_address(receiver, &bound), NETCORE_OK);
    netcore_address sender_address;
    sender_socket = udp_socket(&sender_address);
    uint8_t buffer[16];
    size_t n = 0;
    nci_datagram_destination dst;

    netcore_address to = loopback(bound.port);
    cr_assert_eq(nci_socket_send_to(sender_socket, "x", 1, &to), NCI_IO_DONE);
    wait_readable(receiver);
    cr_assert_eq(nci_socket_recv_from_destination(receiver, buffer, sizeof buffer, &n, &from, &dst),
                 NCI_IO_DONE);
    cr_expect_not(dst.known, "not asked for: the system says nothing");
    cr_expect(netcore_address_equal(&from, &sender_address));

    cr_assert_eq(nci_socket_enable_destination(receiver), NETCORE_OK);
    uint32_t lo_index = 0;
    uint8_t lo_broadcast[4] = {1, 1, 1, 1};
    const uint8_t lo_ip[4] = {127, 0, 0, 1};
    cr_assert_eq(nci_interface_of_ipv4(lo_ip, &lo_index, lo_broadcast), NETCORE_OK);
    for (uint8_t last = 1; last <= 2; last++) { /* all of 127/8 is loopback on Linux */
        to = netcore_address_ipv4(127, 0, 0, last, bound.port);
        cr_assert_eq(nci_socket_send_to(sender_socket, "y", 1, &to), NCI_IO_DONE);
        wait_readable(receiver);
        cr_assert_eq(
            nci_socket_recv_from_destination(receiver, buffer, sizeof buffer, &n, &from, &dst),
            NCI_IO_DONE);
        cr_expect_eq(n, 1);
        cr_expect(dst.known);
        const uint8_t expected[4] = {127, 0, 0, last};
        cr_expect_eq(memcmp(dst.to_ipv4, expected, 4), 0, "sent to 127.0.0.%u", last);
        cr_expect_eq(dst.interface_index, lo_index);
    }
    nci_socket_close(receiver);
    nci_socket_close(sender_socket);
}

Test(platform_socket, send_to_from_sends_from_the_chosen_local_address)
{
    netcore_address wildcard = netcore_address_ipv4(0, 0, 0, 0, 0), receiver_address, from;
    nci_socket sender, receiver = udp_socket(&receiver_address);
    cr_assert_eq(nci_socket_open_udp(&wildcard, false, &sender), NETCORE_OK);
    uint8_t buffer[16];
    size_t n = 0;
    const uint8_t second[4] = {127, 0, 0, 2}, system_choice[4] = {0, 0, 0, 0};
    cr_assert_eq(nci_socket_send_to_from(sender, "a", 1, &receiver_address, second), NCI_IO_DONE);
    wait_readable(receiver);
    cr_assert_eq(nci_socket_recv_from(receiver, buffer, sizeof buffer, &n, &from), NCI_IO_DONE);
    cr_expect_eq(memcmp(from.bytes, second, 4), 0);
    cr_assert_eq(nci_socket_send_to_from(sender, "b", 1, &receiver_address, system_choice),
                 NCI_IO_DONE);
    wait_readable(receiver);
    cr_assert_eq(nci_socket_recv_from(receiver, buffer, sizeof buffer, &n, &from), NCI_IO_DONE);
    const uint8_t first[4] = {127, 0, 0, 1};
    cr_expect_eq(memcmp(from.bytes, first, 4), 0, "the system picks the loopback address");
    nci_socket_close(sender);
    nci_socket_close(receiver);
}

Test(platform_socket, the_interface_of_an_address_is_found_and_a_foreign_one_is_not)
{
    uint32_t index = 0;
    uint8_t broadcast[4] = {9, 9, 9, 9};
    const uint8_t lo[4] = {127, 0, 0, 1}, zero[4] = {0, 0, 0, 0};
    cr_assert_eq(nci_interface_of_ipv4(lo, &index, broadcast), NETCORE_OK);
    cr_expect_gt(index, 0);
    cr_expect_eq(memcmp(broadcast, zero, 4), 0, "loopback has no broadcast address");
    const uint8_t documentation[4] = {192, 0, 2, 77}; /* TEST-NET-1: never configured here */
    cr_expect_eq(nci_interface_of_ipv4(documentation, &index, broadcast), NETCORE_ERR_NOT_FOUND);
}

Test(platform_address, numeric_text_parses_without_a_resolver_and_names_are_refused)
{
    uint8_t bytes[16];
    const uint8_t v4[4] = {10, 1, 2, 254};
    cr_assert(nci_address_numeric(NETCORE_ADDRESS_IPV4, "10.1.2.254", bytes));
    cr_expect_eq(memcmp(bytes, v4, 4), 0);
    cr_assert(nci_address_numeric(NETCORE_ADDRESS_IPV6, "::1", bytes));
    cr_expect_eq(bytes[15], 1);
    cr_expect_eq(bytes[0], 0);
    cr_expect_not(nci_address_numeric(NETCORE_ADDRESS_IPV4, "localhost", bytes));
    cr_expect_not(nci_address_numeric(NETCORE_ADDRESS_IPV4, "::1", bytes));
    cr_expect_not(nci_address_numeric(NETCORE_ADDRESS_IPV6, "1.2.3.4", bytes));
    cr_expect_not(nci_address_numeric(NETCORE_ADDRESS_IPV4, "1.2.3.256", bytes));
    cr_expect_not(nci_address_numeric(NETCORE_ADDRESS_NONE, "1.2.3.4", bytes));
}

Test(platform_socket, binding_a_port_in_use_is_an_address_error)
{
    netcore_address any = loopback(0), at;
    nci_socket a, b;
    cr_assert_eq(nci_socket_open_tcp_listener(&any, 4, &a), NETCORE_OK);
    cr_assert_eq(nci_socket_local_address(a, &at), NETCORE_OK);
    cr_expect_eq(nci_socket_open_tcp_listener(&at, 4, &b), NETCORE_ERR_ADDRESS);
    char text[128];
    cr_expect_gt(strlen(nci_socket_error_str(nci_socket_last_error(), text, sizeof text)), 0);
    nci_socket_close(a);
}

/* Many sockets registered and removed in a scattered order: each ready one is
 * reported once with its own data, and removed ones never. */
Test(platform_poller, reports_each_ready_socket_with_its_data_through_churn)
{
    enum { COUNT = 96 };
    netcore_allocator alloc = {0};
    nci_poller *p;
    cr_assert_eq(nci_poller_create(&alloc, COUNT, &p), NETCORE_OK);
    nci_socket sockets[COUNT];
    netcore_address addresses[COUNT];
    for (uint32_t i = 0; i < COUNT; i++) {
        sockets[i] = udp_socket(&addresses[i]);
        cr_assert_eq(nci_poller_set(p, sockets[i], NCI_POLL_IN, 1000 + i), NETCORE_OK);
    }
    netcore_address extra_address;
    nci_socket extra = udp_socket(&extra_address);
    cr_expect_eq(nci_poller_set(p, extra, NCI_POLL_IN, 0), NETCORE_ERR_FULL);
    bool removed[COUNT] = {false};
    for (uint32_t i = 0; i < COUNT; i += 3) { /* every third, scattered over the table */
        uint32_t k = (i * 37) % COUNT;
        if (!removed[k]) {
            cr_assert_eq(nci_poller_remove(p, sockets[k]), NETCORE_OK);
            removed[k] = true;
        }
    }
    for (uint32_t i = 0; i < COUNT; i++)
        cr_assert_eq(nci_socket_send_to(extra, &i, sizeof i, &addresses[i]), NCI_IO_DONE);
    uint32_t seen[COUNT] = {0}, expected = 0;
    for (uint32_t i = 0; i < COUNT; i++)
        expected += !removed[i];
    uint32_t reported = 0;
    nci_poll_event ev[COUNT];
    for (int round = 0; round < 200 && reported < expected; round++) {
        int n = nci_poller_wait(p, ev, COUNT, 10);
        cr_assert_geq(n, 0);
        for (int e = 0; e < n; e++) {
            uint32_t i = (uint32_t)(ev[e].data - 1000);
            cr_assert_lt(i, COUNT);
            cr_assert(!removed[i], "socket %u reported after its removal", i);
            uint32_t value;
            size_t got;
            cr_assert_eq(nci_socket_recv_from(sockets[i], &value, sizeof value, &got, NULL),
                         NCI_IO_DONE);
            cr_expect_eq(value, i);
            seen[i]++;
            reported++;
        }
    }
    for (uint32_t i = 0; i < COUNT; i++)
        cr_expect_eq(seen[i], removed[i] ? 0u : 1u, "socket %u reported %u times", i, seen[i]);
    for (uint32_t i = 0; i < COUNT; i++) {
        if (!removed[i])
            cr_expect_eq(nci_poller_remove(p, sockets[i]), NETCORE_OK);
        nci_socket_close(sockets[i]);
    }
    nci_socket_close(extra);
    nci_poller_destroy(p);
}

Test(platform_poller, a_socket_held_with_no_events_does_not_wake_the_wait)
{
    netcore_allocator alloc = {0};
    nci_poller *p;
    cr_assert_eq(nci_poller_create(&alloc, 2, &p), NETCORE_OK);
    netcore_address a_addr, b_addr;
    nci_socket a = udp_socket(&a_addr), b = udp_socket(&b_addr);
    cr_assert_eq(nci_poller_set(p, b, 0, 7), NETCORE_OK);
    cr_assert_eq(nci_socket_send_to(a, "x", 1, &b_addr), NCI_IO_DONE);
    nci_poll_event ev[2];
    cr_expect_eq(nci_poller_wait(p, ev, 2, 20), 0);
    cr_assert_eq(nci_poller_set(p, b, NCI_POLL_IN, 8), NETCORE_OK);
    cr_assert_eq(wait_some(p, ev, 2), 1);
    cr_expect_eq(ev[0].data, 8);
    nci_poller_destroy(p);
    nci_socket_close(a);
    nci_socket_close(b);
}

Test(platform_clock, the_monotonic_clock_never_goes_back)
{
    uint64_t previous = netcore_time_now_us();
    for (int i = 0; i < 10000; i++) {
        uint64_t now = netcore_time_now_us();
        cr_assert_geq(now, previous);
        previous = now;
    }
}

Test(platform_signals, a_stop_signal_sets_the_flag_instead_of_ending_the_process)
{
    nci_stop_signals_install();
    cr_expect(!nci_stop_requested());
    cr_assert_eq(raise(SIGTERM), 0);
    cr_expect(nci_stop_requested());
}
