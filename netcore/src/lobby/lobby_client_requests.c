/* Lobby client requests: each fills the client's outgoing message and queues
 * it (lobby_client.c owns the connection); and what a player does with a
 * MATCH_START. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "lobby/lobby_internal.h"

/* ------------------------------------------------------------------ */
/* Player requests                                                     */
/* ------------------------------------------------------------------ */

netcore_result netcore_lobby_client_list_rooms(netcore_lobby_client *client,
                                               const netcore_lobby_room_filter *filter)
{
    if (!client || !filter)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_lobby_client_out_msg(client)->u.list_rooms = *filter;
    return nci_lobby_client_request(client, NCI_LOBBY_LIST_ROOMS);
}

netcore_result netcore_lobby_client_create_room(netcore_lobby_client *client,
                                                const netcore_lobby_room_params *params)
{
    if (!client || !params)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_lobby_client_out_msg(client)->u.create_room = *params;
    return nci_lobby_client_request(client, NCI_LOBBY_CREATE_ROOM);
}

netcore_result netcore_lobby_client_join_room(netcore_lobby_client *client, uint32_t room_id,
                                              const char *password)
{
    if (!client || (password && strlen(password) > NETCORE_LOBBY_PASSWORD_MAX))
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_lobby_msg *m = nci_lobby_client_out_msg(client);
    m->u.join_room.room_id = room_id;
    snprintf(m->u.join_room.password, sizeof m->u.join_room.password, "%s",
             password ? password : "");
    return nci_lobby_client_request(client, NCI_LOBBY_JOIN_ROOM);
}

netcore_result netcore_lobby_client_leave_room(netcore_lobby_client *client)
{
    return nci_lobby_client_request(client, NCI_LOBBY_LEAVE_ROOM);
}

netcore_result netcore_lobby_client_chat(netcore_lobby_client *client,
                                         netcore_lobby_chat_scope scope, const char *text)
{
    if (!client || !text || strlen(text) > NETCORE_LOBBY_CHAT_MAX)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_lobby_msg *m = nci_lobby_client_out_msg(client);
    m->u.chat.scope = (uint8_t)scope;
    memcpy(m->u.chat.text, text, strlen(text) + 1);
    return nci_lobby_client_request(client, NCI_LOBBY_CHAT);
}

netcore_result netcore_lobby_client_set_ready(netcore_lobby_client *client, bool ready)
{
    if (!client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_lobby_client_out_msg(client)->u.ready = ready;
    return nci_lobby_client_request(client, NCI_LOBBY_SET_READY);
}

netcore_result netcore_lobby_client_kick(netcore_lobby_client *client, uint64_t client_id)
{
    if (!client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_lobby_client_out_msg(client)->u.kick_client_id = client_id;
    return nci_lobby_client_request(client, NCI_LOBBY_KICK);
}

netcore_result netcore_lobby_client_start_match(netcore_lobby_client *client)
{
    return nci_lobby_client_request(client, NCI_LOBBY_START_MATCH);
}

netcore_result netcore_lobby_client_end_match(netcore_lobby_client *client)
{
    return nci_lobby_client_request(client, NCI_LOBBY_END_MATCH);
}

netcore_result netcore_lobby_client_ping(netcore_lobby_client *client, uint64_t value)
{
    if (!client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_lobby_client_out_msg(client)->u.ping_value = value;
    return nci_lobby_client_request(client, NCI_LOBBY_PING);
}

/* ------------------------------------------------------------------ */
/* Game server reports                                                 */
/* ------------------------------------------------------------------ */

netcore_result netcore_lobby_client_report_load(netcore_lobby_client *client, uint16_t players,
                                                uint16_t capacity)
{
    if (!client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_lobby_msg *m = nci_lobby_client_out_msg(client);
    m->u.server_load.players = players;
    m->u.server_load.capacity = capacity;
    return nci_lobby_client_request(client, NCI_LOBBY_SERVER_LOAD);
}

netcore_result netcore_lobby_client_report_match_end(netcore_lobby_client *client,
                                                     uint64_t match_id)
{
    if (!client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_lobby_client_out_msg(client)->u.server_match_end_id = match_id;
    return nci_lobby_client_request(client, NCI_LOBBY_SERVER_MATCH_END);
}

/* ------------------------------------------------------------------ */
/* Joining a match                                                     */
/* ------------------------------------------------------------------ */

static bool address_unspecified(const netcore_address *a)
{
    static const uint8_t zero[sizeof a->bytes];
    return (a->family == NETCORE_ADDRESS_IPV4 || a->family == NETCORE_ADDRESS_IPV6) &&
           memcmp(a->bytes, zero, sizeof zero) == 0;
}

netcore_result netcore_lobby_match_connect_options(const netcore_lobby_match_start *match,
                                                   const netcore_address *lobby_address,
                                                   netcore_address *out_server,
                                                   netcore_connect_options *out_options)
{
    if (!match || !out_server || !out_options || match->token_size_bytes == 0 ||
        match->token_size_bytes > NETCORE_LOBBY_TOKEN_MAX)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_server = match->server_address;
    if (lobby_address && address_unspecified(out_server) &&
        (lobby_address->family == NETCORE_ADDRESS_IPV4 ||
         lobby_address->family == NETCORE_ADDRESS_IPV6)) {
        out_server->family = lobby_address->family;
        memcpy(out_server->bytes, lobby_address->bytes, sizeof out_server->bytes);
    }
    memset(out_options, 0, sizeof *out_options);
    out_options->token = match->token;
    out_options->token_size_bytes = match->token_size_bytes;
    out_options->connect_data = match->connect_proof;
    out_options->session_keys = match->has_session_keys ? &match->session_keys : NULL;
    return NETCORE_OK;
}
