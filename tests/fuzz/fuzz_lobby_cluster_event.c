/* Fuzz target: the decoder of the messages lobby nodes exchange through the
 * Redis channel (docs/lobby-cluster.md). Whatever decodes must respect the
 * limits the node relies on when it applies the event to its mirror: member
 * and metadata counts, valid texts, a listed owner, a game address exactly
 * when a match runs, a valid node id. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lobby/lobby_cluster.h"
#include "lobby/lobby_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_room(const nci_cluster_event *ev)
{
    bool owner_listed = false;
    if (ev->room_id == 0 || ev->member_count < 1 || ev->member_count > ev->params.max_players ||
        ev->params.max_players > NETCORE_LOBBY_MAX_PLAYERS ||
        ev->params.meta_count > NETCORE_LOBBY_META_MAX ||
        !nci_lobby_text_valid(ev->params.name, NETCORE_LOBBY_NAME_MAX, true) ||
        (ev->match_id != 0) != (ev->game_address.family != NETCORE_ADDRESS_NONE))
        __builtin_trap();
    for (uint8_t i = 0; i < ev->member_count; i++) {
        if (ev->members[i].client_id == 0 ||
            !nci_lobby_text_valid(ev->members[i].nickname, NETCORE_LOBBY_NAME_MAX, true))
            __builtin_trap();
        owner_listed = owner_listed || ev->members[i].client_id == ev->owner_id;
    }
    for (uint8_t i = 0; i < ev->params.meta_count; i++)
        if (!nci_lobby_text_valid(ev->params.meta[i].key, NETCORE_LOBBY_META_KEY_MAX, true) ||
            !nci_lobby_text_valid(ev->params.meta[i].value, NETCORE_LOBBY_META_VALUE_MAX, false))
            __builtin_trap();
    if (!owner_listed)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nci_cluster_event ev;
    if (!nci_lobby_cluster_decode((const char *)data, size, &ev))
        return 0;
    switch (ev.kind) {
    case NCI_CLUSTER_EV_ROOM:
        check_room(&ev);
        break;
    case NCI_CLUSTER_EV_ROOM_GONE:
        if (ev.room_id == 0 || ev.cause > NCI_CLUSTER_CAUSE_MATCH_END)
            __builtin_trap();
        break;
    case NCI_CLUSTER_EV_CHAT:
        if (ev.scope > NETCORE_LOBBY_CHAT_LOBBY ||
            !nci_lobby_text_valid(ev.text, NETCORE_LOBBY_CHAT_MAX, true) ||
            !nci_lobby_text_valid(ev.nickname, NETCORE_LOBBY_NAME_MAX, true))
            __builtin_trap();
        break;
    case NCI_CLUSTER_EV_TAKEOVER:
        if (!nci_lobby_cluster_node_id_valid(ev.node))
            __builtin_trap();
        break;
    default:
        __builtin_trap();
    }
    return 0;
}
