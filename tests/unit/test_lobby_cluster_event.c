/* The messages lobby nodes exchange through Redis (docs/lobby-cluster.md):
 * what the decoder accepts, field by field, and what it refuses. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lobby/lobby_cluster.h"
#include "lobby/lobby_internal.h"

static bool decode(const char *text, nci_cluster_event *ev)
{
    return nci_lobby_cluster_decode(text, strlen(text), ev);
}

static const char room_text[] = "S\t7\t2\t22\t41\n"
                                "P\tarena\t4\t1\t1\n"
                                "O\t11\t98765\t5\t127.0.0.1:7778\t0\n"
                                "K\tmap\tdocks\n"
                                "K\tmode\t\n"
                                "M\t11\talice\t1\t1\n"
                                "M\t22\tbob\t0\t0\n";

Test(lobby_cluster_event, a_room_state_decodes_field_by_field)
{
    nci_cluster_event ev;
    cr_assert(decode(room_text, &ev));
    cr_assert_eq(ev.kind, NCI_CLUSTER_EV_ROOM);
    cr_assert_eq(ev.room_id, 7);
    cr_assert_eq(ev.cause, NCI_CLUSTER_CAUSE_KICKED);
    cr_assert_eq(ev.subject, 22);
    cr_assert_eq(ev.seq, 41);
    cr_assert_str_eq(ev.params.name, "arena");
    cr_assert_eq(ev.params.max_players, 4);
    cr_assert(ev.params.is_private);
    cr_assert_str_eq(ev.params.password, "*", "the mirror knows only that there is one");
    cr_assert_eq(ev.owner_id, 11);
    cr_assert_eq(ev.match_id, 98765);
    cr_assert_eq(ev.game_server_id, 5);
    cr_assert_eq(ev.game_address.family, NETCORE_ADDRESS_IPV4);
    cr_assert_eq(ev.game_address.port, 7778);
    cr_assert_eq(ev.params.meta_count, 2);
    cr_assert_str_eq(ev.params.meta[1].key, "mode");
    cr_assert_str_eq(ev.params.meta[1].value, "");
    cr_assert_eq(ev.member_count, 2);
    cr_assert_str_eq(ev.members[1].nickname, "bob");
    cr_assert(ev.members[0].ready && ev.members[0].connected);
    cr_assert(!ev.members[1].ready && !ev.members[1].connected);
}

Test(lobby_cluster_event, chat_deletion_and_takeover_decode)
{
    nci_cluster_event ev;
    cr_assert(decode("C\t7\t0\t11\talice\thello there\n", &ev));
    cr_assert_eq(ev.kind, NCI_CLUSTER_EV_CHAT);
    cr_assert_str_eq(ev.text, "hello there");
    cr_assert(decode("C\t0\t1\t22\tbob\tto all\n", &ev));
    cr_assert_eq(ev.scope, NETCORE_LOBBY_CHAT_LOBBY);
    cr_assert(decode("D\t7\t1\t22\t42\n", &ev));
    cr_assert_eq(ev.kind, NCI_CLUSTER_EV_ROOM_GONE);
    cr_assert_eq(ev.seq, 42);
    cr_assert(decode("T\t22\tnode-b\n", &ev));
    cr_assert_eq(ev.kind, NCI_CLUSTER_EV_TAKEOVER);
    cr_assert_str_eq(ev.node, "node-b");
    cr_assert(
        decode("S\t3\t0\t0\t1\nP\tx\t1\t0\t0\nO\t5\t1\t2\t[::1]:9000\t0\nM\t5\tz\t0\t1\n", &ev));
    cr_assert_eq(ev.game_address.family, NETCORE_ADDRESS_IPV6);
}

/* Each line replaces one record of room_text (or is appended) and must
 * make the whole message refused. */
Test(lobby_cluster_event, malformed_messages_are_refused)
{
    static const char *const bad[] = {
        "",
        "S\t7\t2\t22\t41",                                                         /* no line end */
        "S\t0\t0\t11\t1\nP\tarena\t4\t0\t0\nO\t11\t0\t0\t-\t0\nM\t11\ta\t0\t1\n",  /* room 0 */
        "S\t7\t9\t11\t1\nP\tarena\t4\t0\t0\nO\t11\t0\t0\t-\t0\nM\t11\ta\t0\t1\n",  /* cause */
        "S\t7\t0\t11\t1\nP\t\t4\t0\t0\nO\t11\t0\t0\t-\t0\nM\t11\ta\t0\t1\n",       /* empty name */
        "S\t7\t0\t11\t1\nP\tarena\t33\t0\t0\nO\t11\t0\t0\t-\t0\nM\t11\ta\t0\t1\n", /* 33 seats */
        "S\t7\t0\t11\t1\nP\tarena\t4\t2\t0\nO\t11\t0\t0\t-\t0\nM\t11\ta\t0\t1\n",  /* flag 2 */
        "S\t7\t0\t11\t1\nP\tarena\t4\t0\t0\nO\t12\t0\t0\t-\t0\nM\t11\ta\t0\t1\n", /* owner absent */
        "S\t7\t0\t11\t1\nP\tarena\t4\t0\t0\nO\t11\t0\t0\t-\t0\n",                 /* no member */
        "S\t7\t0\t11\t1\nP\tarena\t1\t0\t0\nO\t11\t0\t0\t-\t0\nM\t11\ta\t0\t1\nM\t12\tb\t0\t1\n",
        "S\t7\t0\t11\t1\nP\tarena\t4\t0\t0\nO\t11\t0\t0\t-\t0\nM\t11\ta\t0\t1\nM\t11\tb\t0\t1\n",
        "S\t7\t0\t11\t1\nP\tarena\t4\t0\t0\nO\t11\t5\t0\t-\t0\nM\t11\ta\t0\t1\n", /* match, no address */
        "S\t7\t0\t11\t1\nP\tarena\t4\t0\t0\nO\t11\t0\t0\t1.2.3.4:5\t0\nM\t11\ta\t0\t1\n",
        "S\t7\t0\t11\t1\nP\tarena\t4\t0\t0\nO\t11\t5\t0\tlocalhost:7778\t0\nM\t11\ta\t0\t1\n",
        "S\t7\t0\t11\t1\nP\tarena\t4\t0\t0\nO\t11\t0\t0\t-\t0\nM\t11\ta\t0\t1\nK\tk\tv\n", /* late meta */
        "S\t7\t0\t11\t1\nP\tarena\t4\t0\t0\nO\t11\t0\t0\t-\t0\nM\t11\ta\x01\t0\t1\n", /* control */
        "S\t7\t0\t11\t1\nP\tarena\t4\t0\t0\nO\t11\t0\t0\t-\t0\nM\t18446744073709551616\ta\t0\t1\n",
        "S\t7\t0\t11\t1\nP\tarena\t4\t0\t0\nO\t11\t0\t0\t-\t0\nM\t-11\ta\t0\t1\n",
        "S\t7\t0\t11\t1\nP\tarena\t4\t0\t0\nO\t11\t0\t0\t-\t0\nM\t11\ta\t0\t1\t9\n", /* extra field */
        "C\t7\t1\t11\talice\thi\n",                         /* lobby scope naming a room */
        "C\t0\t0\t11\talice\thi\n",                         /* room scope naming none */
        "C\t7\t0\t11\talice\t\n",                           /* empty chat */
        "C\t7\t0\t11\talice\thi\nC\t7\t0\t11\talice\thi\n", /* trailing record */
        "T\t22\tnode b\n",
        "T\t22\t\n",
        "X\t1\n",
    };
    /* The valid message most cases differ from in one field. */
    nci_cluster_event base;
    cr_assert(
        decode("S\t7\t0\t11\t1\nP\tarena\t4\t0\t0\nO\t11\t0\t0\t-\t0\nM\t11\ta\t0\t1\n", &base));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nci_cluster_event ev;
        cr_assert(!decode(bad[i], &ev), "case %zu decoded: %s", i, bad[i]);
    }
    char meta[2048];
    int n = snprintf(meta, sizeof meta, "S\t7\t0\t11\t1\nP\tarena\t4\t0\t0\nO\t11\t0\t0\t-\t0\n");
    for (int i = 0; i < NETCORE_LOBBY_META_MAX + 1; i++)
        n += snprintf(meta + n, sizeof meta - (size_t)n, "K\tk%d\tv\n", i);
    snprintf(meta + n, sizeof meta - (size_t)n, "M\t11\ta\t0\t1\n");
    nci_cluster_event ev;
    cr_assert(!decode(meta, &ev), "more metadata pairs than a room holds");
}

Test(lobby_cluster_event, node_ids_are_short_plain_names)
{
    cr_assert(nci_lobby_cluster_node_id_valid("lobby-a.eu_1"));
    cr_assert(!nci_lobby_cluster_node_id_valid(""));
    cr_assert(!nci_lobby_cluster_node_id_valid("a b"));
    cr_assert(!nci_lobby_cluster_node_id_valid("a:b"));
    cr_assert(!nci_lobby_cluster_node_id_valid("123456789012345678901234567890123"));
    cr_assert(nci_lobby_cluster_node_id_valid("12345678901234567890123456789012"));
}

Test(lobby_cluster_event, every_script_builds_with_the_shared_helpers)
{
    for (uint32_t i = 0; i < NCI_CLUSTER_SCRIPT_COUNT; i++) {
        size_t n = nci_lobby_cluster_script_text(i, NULL, 0);
        cr_assert_gt(n, 0);
        char *text = malloc(n + 1);
        cr_assert_eq(nci_lobby_cluster_script_text(i, text, n + 1), n);
        cr_assert_eq(strlen(text), n);
        cr_assert_not_null(strstr(text, "local function room_event"));
        cr_assert_not_null(strstr(text, "return"));
        free(text);
    }
    cr_assert_eq(nci_lobby_cluster_script_text(NCI_CLUSTER_SCRIPT_COUNT, NULL, 0), 0);
}
