/*
 * The session layer's control messages: HELLO and WELCOME survive a round
 * trip, and every wrong size, type or version is refused without touching
 * the output.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "netcode/session_internal.h"

Test(session_proto, hello_round_trips)
{
    nci_session_hello h = {0x0123456789abcdefull, 60, 2, 20};
    uint8_t bytes[NCI_SESSION_HELLO_BYTES];
    nci_session_write_hello(&h, bytes);
    nci_session_hello back;
    cr_assert_eq(nci_session_read_hello(bytes, sizeof bytes, &back), NETCORE_OK);
    cr_assert_eq(back.schema_hash, h.schema_hash);
    cr_assert_eq(back.tick_rate_hz, 60);
    cr_assert_eq(back.snapshot_every_ticks, 2);
    cr_assert_eq(back.input_size_bytes, 20);
}

Test(session_proto, welcome_round_trips)
{
    nci_session_welcome w = {7, 0x00020005u, 30, 3};
    uint8_t bytes[NCI_SESSION_WELCOME_BYTES];
    nci_session_write_welcome(&w, bytes);
    nci_session_welcome back;
    cr_assert_eq(nci_session_read_welcome(bytes, sizeof bytes, &back), NETCORE_OK);
    cr_assert_eq(back.client_index, 7);
    cr_assert_eq(back.entity, 0x00020005u);
    cr_assert_eq(back.tick_rate_hz, 30);
    cr_assert_eq(back.snapshot_every_ticks, 3);
}

Test(session_proto, truncated_extended_or_foreign_messages_are_refused)
{
    nci_session_hello h = {1, 60, 2, 8};
    uint8_t bytes[NCI_SESSION_HELLO_BYTES + 1];
    nci_session_write_hello(&h, bytes);
    nci_session_hello out;
    memset(&out, 0xAB, sizeof out);
    nci_session_hello untouched = out;
    cr_assert_eq(nci_session_read_hello(bytes, NCI_SESSION_HELLO_BYTES - 1, &out),
                 NETCORE_ERR_MALFORMED);
    cr_assert_eq(nci_session_read_hello(bytes, NCI_SESSION_HELLO_BYTES + 1, &out),
                 NETCORE_ERR_MALFORMED);
    bytes[1] = NETCORE_SESSION_VERSION + 1;
    cr_assert_eq(nci_session_read_hello(bytes, NCI_SESSION_HELLO_BYTES, &out),
                 NETCORE_ERR_MALFORMED);
    bytes[1] = NETCORE_SESSION_VERSION;
    bytes[0] = NCI_SESSION_MSG_WELCOME;
    cr_assert_eq(nci_session_read_hello(bytes, NCI_SESSION_HELLO_BYTES, &out),
                 NETCORE_ERR_MALFORMED);
    cr_assert_eq(nci_session_read_hello(NULL, 0, &out), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(memcmp(&out, &untouched, sizeof out), 0);
}

Test(session_proto, a_welcome_without_an_entity_is_refused)
{
    nci_session_welcome w = {0, NETCORE_ENTITY_NONE, 60, 2};
    uint8_t bytes[NCI_SESSION_WELCOME_BYTES];
    nci_session_write_welcome(&w, bytes);
    nci_session_welcome out;
    cr_assert_eq(nci_session_read_welcome(bytes, sizeof bytes, &out), NETCORE_ERR_MALFORMED);
}

Test(session_proto, game_channels_follow_the_session_channels)
{
    netcore_host_config hc;
    netcore_host_config_default(&hc);
    netcore_delivery game[2] = {NETCORE_DELIVERY_RELIABLE_UNORDERED,
                                NETCORE_DELIVERY_UNRELIABLE_SEQUENCED};
    cr_assert_eq(nci_session_channels(&hc, game, 2), NETCORE_OK);
    cr_assert_eq(hc.channel_count, 4);
    cr_assert_eq(hc.channels[0].delivery, NETCORE_DELIVERY_RELIABLE_ORDERED);
    cr_assert_eq(hc.channels[1].delivery, NETCORE_DELIVERY_UNRELIABLE_UNORDERED);
    cr_assert_eq(hc.channels[2].delivery, NETCORE_DELIVERY_RELIABLE_UNORDERED);
    cr_assert_eq(hc.channels[3].delivery, NETCORE_DELIVERY_UNRELIABLE_SEQUENCED);
    cr_assert_eq(nci_session_channels(&hc, game, NETCORE_SESSION_MAX_GAME_CHANNELS + 1),
                 NETCORE_ERR_INVALID_ARGUMENT);
}
