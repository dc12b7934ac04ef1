/* The lobby over TLS: certificates made at test time (the library's
 * self-signed maker and, where it is installed, the openssl command),
 * verification by CA and name, pins, refusals and the handshake deadline. */
#define _POSIX_C_SOURCE 200809L
#include "lobby_fixture.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* A TLS lobby on 127.0.0.1 whose certificate names cert_name. */
static void start_tls_server(fixture *f, fixture_tls *cert, const char *cert_name,
                             netcore_lobby_server_config *cfg)
{
    make_test_cert(cert, cert_name);
    cfg->tls_cert_file = cert->cert;
    cfg->tls_key_file = cert->key;
    start_server(f, cfg);
}

static netcore_lobby_tls *trust_of(const char *ca_file)
{
    netcore_lobby_tls_config tc;
    netcore_lobby_tls_config_default(&tc);
    tc.ca_file = ca_file;
    netcore_lobby_tls *t = NULL;
    cr_assert_eq(netcore_lobby_tls_create(&tc, &t), NETCORE_OK);
    return t;
}

/* A client of f that trusts with tls and checks server_name and/or pin. */
static test_client *tls_client(fixture *f, const netcore_lobby_tls *tls, const char *server_name,
                               const uint8_t *pin)
{
    test_client *t = &f->clients[f->client_count++];
    netcore_lobby_client_config cfg;
    netcore_lobby_client_config_default(&cfg);
    cfg.on_event = on_event;
    cfg.event_user = t;
    cfg.tls = tls;
    snprintf(cfg.tls_server_name, sizeof cfg.tls_server_name, "%s", server_name ? server_name : "");
    if (pin) {
        cfg.tls_pin_set = true;
        memcpy(cfg.tls_pin_sha256, pin, NETCORE_LOBBY_TLS_PIN_BYTES);
    }
    cr_assert_eq(netcore_lobby_client_create(&cfg, &t->client), NETCORE_OK);
    return t;
}

static void expect_refused(fixture *f, test_client *t, const char *nickname)
{
    netcore_lobby_server_stats before;
    netcore_lobby_server_get_stats(f->server, &before);
    cr_assert_eq(netcore_lobby_client_connect(t->client, &f->address, nickname, now_us()),
                 NETCORE_OK);
    wait_for(f, &t->disconnects, 1, "disconnect");
    cr_assert_eq(t->welcomes, 0);
    cr_assert_eq(t->disconnect_code, NETCORE_LOBBY_ERR_TLS_FAILED);
    netcore_lobby_server_stats st;
    netcore_lobby_server_get_stats(f->server, &st);
    cr_assert_eq(st.sessions, before.sessions, "nothing of the client reached the lobby");
}

Test(lobby_tls, verified_client_joins_chats_and_gets_match_tokens)
{
    fixture f;
    fixture_tls cert = {0};
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    start_tls_server(&f, &cert, "127.0.0.1", &cfg);
    netcore_lobby_tls *trust = trust_of(cert.cert);
    test_client *a = tls_client(&f, trust, "127.0.0.1", NULL);
    test_client *b = tls_client(&f, trust, "127.0.0.1", NULL);
    cr_assert_eq(netcore_lobby_client_connect(a->client, &f.address, "alice", now_us()),
                 NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_connect(b->client, &f.address, "bob", now_us()), NETCORE_OK);
    wait_for(&f, &a->welcomes, 1, "alice welcome");
    wait_for(&f, &b->welcomes, 1, "bob welcome");
    create_room(&f, a, "tls room", 4, NULL);
    join(&f, b, a->room.room_id, 2);
    cr_assert_eq(netcore_lobby_client_chat(b->client, NETCORE_LOBBY_CHAT_ROOM, "over tls"),
                 NETCORE_OK);
    wait_for(&f, &a->chats, 1, "chat");
    cr_assert_str_eq(a->last_chat, "over tls");
    netcore_lobby_client_set_ready(a->client, true);
    netcore_lobby_client_set_ready(b->client, true);
    pump_for(&f, 100);
    cr_assert_eq(netcore_lobby_client_start_match(a->client), NETCORE_OK);
    wait_for(&f, &a->matches, 1, "match start a");
    wait_for(&f, &b->matches, 1, "match start b");
    cr_assert_eq(a->match.token_size_bytes, NETCORE_TOKEN_BYTES);
    netcore_lobby_server_stats st;
    netcore_lobby_server_get_stats(f.server, &st);
    cr_assert_eq(st.tls_handshakes, 2);
    cr_assert_eq(st.tls_handshakes_failed, 0);
    teardown(&f);
    netcore_lobby_tls_destroy(trust);
    remove_test_cert(&cert);
}

Test(lobby_tls, a_certificate_for_another_name_is_refused)
{
    fixture f;
    fixture_tls cert = {0};
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    start_tls_server(&f, &cert, "lobby.example", &cfg);
    netcore_lobby_tls *trust = trust_of(cert.cert);
    /* Trusted issuer, wrong name. */
    test_client *wrong = tls_client(&f, trust, "other.example", NULL);
    expect_refused(&f, wrong, "mallory");
    cr_assert(strstr(wrong->disconnect_text, "certificate"), "text: %s", wrong->disconnect_text);
    /* The same certificate under its own name is accepted. */
    test_client *ok = tls_client(&f, trust, "lobby.example", NULL);
    cr_assert_eq(netcore_lobby_client_connect(ok->client, &f.address, "carol", now_us()),
                 NETCORE_OK);
    wait_for(&f, &ok->welcomes, 1, "welcome under the right name");
    teardown(&f);
    netcore_lobby_tls_destroy(trust);
    remove_test_cert(&cert);
}

Test(lobby_tls, an_untrusted_self_signed_certificate_without_a_pin_is_refused)
{
    fixture f;
    fixture_tls cert = {0}, other = {0};
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    start_tls_server(&f, &cert, "127.0.0.1", &cfg);
    /* Trusts another self-signed certificate of the same name, not this one. */
    make_test_cert(&other, "127.0.0.1");
    netcore_lobby_tls *trust = trust_of(other.cert);
    expect_refused(&f, tls_client(&f, trust, "127.0.0.1", NULL), "dave");
    /* The system store does not know a self-signed certificate either. */
    netcore_lobby_tls *system = trust_of(NULL);
    expect_refused(&f, tls_client(&f, system, "127.0.0.1", NULL), "erin");
    teardown(&f);
    netcore_lobby_tls_destroy(trust);
    netcore_lobby_tls_destroy(system);
    remove_test_cert(&cert);
    remove_test_cert(&other);
}

Test(lobby_tls, a_pinned_self_signed_certificate_is_accepted_and_a_wrong_pin_refused)
{
    fixture f;
    fixture_tls cert = {0};
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    start_tls_server(&f, &cert, "my-lan-host", &cfg);
    uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES];
    cr_assert_eq(netcore_lobby_tls_cert_pin(cert.cert, pin), NETCORE_OK);
    /* System store only, no name: the pin alone vouches for the host. */
    netcore_lobby_tls *system = trust_of(NULL);
    test_client *pinned = tls_client(&f, system, NULL, pin);
    cr_assert_eq(netcore_lobby_client_connect(pinned->client, &f.address, "frank", now_us()),
                 NETCORE_OK);
    wait_for(&f, &pinned->welcomes, 1, "welcome with the pin");
    uint8_t wrong[NETCORE_LOBBY_TLS_PIN_BYTES];
    memcpy(wrong, pin, sizeof wrong);
    wrong[7] ^= 0x40;
    expect_refused(&f, tls_client(&f, system, NULL, wrong), "grace");
    teardown(&f);
    netcore_lobby_tls_destroy(system);
    remove_test_cert(&cert);
}

Test(lobby_tls, a_plaintext_client_on_a_tls_port_is_refused_cleanly)
{
    fixture f;
    fixture_tls cert = {0};
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    start_tls_server(&f, &cert, "127.0.0.1", &cfg);
    /* The library's own client without TLS reads why. */
    netcore_lobby_client_config pc;
    netcore_lobby_client_config_default(&pc);
    test_client *plain = &f.clients[f.client_count++];
    pc.on_event = on_event;
    pc.event_user = plain;
    cr_assert_eq(netcore_lobby_client_create(&pc, &plain->client), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_connect(plain->client, &f.address, "plain", now_us()),
                 NETCORE_OK);
    wait_for(&f, &plain->disconnects, 1, "disconnect");
    cr_assert_eq(plain->welcomes, 0);
    cr_assert_eq(plain->last_error, NETCORE_LOBBY_ERR_TLS_REQUIRED);
    /* So does a raw socket writing a HELLO-looking frame. */
    int fd = raw_connect(&f.address);
    const uint8_t hello[] = {11, 0, 0, 0, 0x01, 0x4e, 0x43, 0x4c, 0x42, 3, 0, 3, 'b', 'o', 'b', 0};
    cr_assert_eq(send(fd, hello, sizeof hello - 1, 0), (ssize_t)(sizeof hello - 1));
    cr_assert_eq(wait_closed(&f, fd), NETCORE_LOBBY_ERR_TLS_REQUIRED);
    close(fd);
    netcore_lobby_server_stats st;
    netcore_lobby_server_get_stats(f.server, &st);
    cr_assert_eq(st.tls_plaintext_refused, 2);
    cr_assert_eq(st.sessions, 0);
    teardown(&f);
    remove_test_cert(&cert);
}

Test(lobby_tls, a_handshake_slowloris_is_closed_and_counts_against_the_address_limit)
{
    fixture f;
    fixture_tls cert = {0};
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.hello_timeout_ms = 300;
    cfg.max_connections_per_ip = 2;
    start_tls_server(&f, &cert, "127.0.0.1", &cfg);
    /* Two connections that start a TLS record and never finish it. */
    int slow[2];
    const uint8_t record_start[] = {0x16, 0x03, 0x01};
    for (int i = 0; i < 2; i++) {
        slow[i] = raw_connect(&f.address);
        cr_assert_eq(send(slow[i], record_start, sizeof record_start, 0), 3);
    }
    pump_for(&f, 50);
    /* A third from the same address is refused while they hold their slots. */
    int third = raw_connect(&f.address);
    cr_assert_eq(wait_closed(&f, third), NETCORE_LOBBY_ERR_SERVER_FULL);
    close(third);
    /* The hello deadline covers the handshake: both are closed, without a frame. */
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(wait_closed(&f, slow[i]), 0);
        close(slow[i]);
    }
    netcore_lobby_server_stats st;
    netcore_lobby_server_get_stats(f.server, &st);
    cr_assert_eq(st.timeout_dropped, 2);
    cr_assert_eq(st.connections_rejected_per_ip, 1);
    cr_assert_eq(st.connections, 0);
    teardown(&f);
    remove_test_cert(&cert);
}

Test(lobby_tls, game_servers_register_over_tls)
{
    fixture f;
    fixture_tls cert = {0};
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    start_tls_server(&f, &cert, "127.0.0.1", &cfg);
    netcore_lobby_tls *trust = trust_of(cert.cert);
    test_client *g = tls_client(&f, trust, "127.0.0.1", NULL);
    netcore_address game = netcore_address_ipv4(127, 0, 0, 1, 40000);
    cr_assert_eq(netcore_lobby_client_register_game_server(g->client, &f.address, lobby_key, &game,
                                                           8, token_clock_s, now_us()),
                 NETCORE_OK);
    wait_for(&f, &g->registered, 1, "registered");
    teardown(&f);
    netcore_lobby_tls_destroy(trust);
    remove_test_cert(&cert);
}

/* The openssl command's certificates work as well as the library's own. */
Test(lobby_tls, a_certificate_made_by_the_openssl_command_is_served)
{
    if (system("openssl version >/dev/null 2>&1") != 0)
        cr_skip_test("the openssl command is not installed");
    fixture f;
    fixture_tls cert = {0};
    make_test_cert(&cert, "127.0.0.1"); /* for the directory and paths */
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "-subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout %s -out %s "
             ">/dev/null 2>&1",
             cert.key, cert.cert);
    cr_assert_eq(system(cmd), 0);
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.tls_cert_file = cert.cert;
    cfg.tls_key_file = cert.key;
    start_server(&f, &cfg);
    netcore_lobby_tls *trust = trust_of(cert.cert);
    test_client *t = tls_client(&f, trust, "localhost", NULL);
    cr_assert_eq(netcore_lobby_client_connect(t->client, &f.address, "henry", now_us()),
                 NETCORE_OK);
    wait_for(&f, &t->welcomes, 1, "welcome");
    teardown(&f);
    netcore_lobby_tls_destroy(trust);
    remove_test_cert(&cert);
}

Test(lobby_tls, server_refuses_a_missing_or_mismatched_key)
{
    fixture_tls a = {0}, b = {0};
    make_test_cert(&a, "127.0.0.1");
    make_test_cert(&b, "127.0.0.1");
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    netcore_lobby_server *s = NULL;
    cfg.tls_cert_file = a.cert;
    cfg.tls_key_file = b.key;
    cr_assert_eq(netcore_lobby_server_create(&cfg, &s), NETCORE_ERR_INVALID_ARGUMENT);
    cfg.tls_key_file = NULL;
    cr_assert_eq(netcore_lobby_server_create(&cfg, &s), NETCORE_ERR_INVALID_ARGUMENT);
    struct stat st;
    cr_assert_eq(stat(a.key, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "the private key is readable by its owner only");
    remove_test_cert(&a);
    remove_test_cert(&b);
    fixture_tls_release();
}

Test(lobby_tls, pins_parse_and_format_round_trip)
{
    uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES], back[NETCORE_LOBBY_TLS_PIN_BYTES];
    for (size_t i = 0; i < sizeof pin; i++)
        pin[i] = (uint8_t)(i * 37 + 5);
    char text[NETCORE_LOBBY_TLS_PIN_STRLEN];
    netcore_lobby_tls_pin_format(pin, text, sizeof text);
    cr_assert_eq(strlen(text), 95);
    cr_assert_eq(netcore_lobby_tls_pin_parse(text, back), NETCORE_OK);
    cr_assert_eq(memcmp(pin, back, sizeof pin), 0);
    char bare[65];
    size_t w = 0;
    for (size_t i = 0; text[i]; i++)
        if (text[i] != ':')
            bare[w++] = (char)(text[i] | 0x20); /* lower case */
    bare[w] = '\0';
    cr_assert_eq(netcore_lobby_tls_pin_parse(bare, back), NETCORE_OK);
    cr_assert_eq(memcmp(pin, back, sizeof pin), 0);
    bare[63] = '\0';
    cr_assert_eq(netcore_lobby_tls_pin_parse(bare, back), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_lobby_tls_pin_parse("zz", back), NETCORE_ERR_INVALID_ARGUMENT);
}

/* Probes discovery at to until an answer arrives (or the wait runs out). */
static size_t discover(fixture *f, netcore_lobby_discovery *d, const netcore_address *to,
                       const netcore_lobby_found **found, uint64_t wait_ms)
{
    cr_assert_eq(netcore_lobby_discovery_probe(d, to), NETCORE_OK);
    size_t count = 0;
    uint64_t deadline = now_ms() + wait_ms;
    for (int i = 0; i < WAIT_ITERATIONS && count == 0 && now_ms() < deadline; i++) {
        pump_once(f);
        netcore_lobby_discovery_update(d, now_us());
        netcore_lobby_discovery_results(d, found, &count);
    }
    return count;
}

Test(lobby_tls, discovery_answers_carry_the_pin_and_a_pinned_join_works)
{
    fixture f;
    fixture_tls cert = {0};
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.discovery_enabled = true;
    cfg.discovery_port = 0;
    make_test_cert(&cert, "lan-host");
    cr_assert_eq(netcore_lobby_tls_cert_pin(cert.cert, cfg.discovery_tls_pin), NETCORE_OK);
    cfg.tls_cert_file = cert.cert;
    cfg.tls_key_file = cert.key;
    start_server(&f, &cfg);
    netcore_address probe_to;
    cr_assert_eq(netcore_lobby_server_discovery_address(f.server, &probe_to), NETCORE_OK);
    netcore_lobby_discovery *d = NULL;
    netcore_lobby_discovery_config discovery_config;
    netcore_lobby_discovery_config_default(&discovery_config);
    cr_assert_eq(netcore_lobby_discovery_create(&discovery_config, &d), NETCORE_OK);
    const netcore_lobby_found *found = NULL;
    cr_assert_eq(discover(&f, d, &probe_to, &found, WAIT_MS), 1);
    cr_assert(found[0].tls);
    cr_assert_eq(memcmp(found[0].tls_pin, cfg.discovery_tls_pin, NETCORE_LOBBY_TLS_PIN_BYTES), 0);
    /* Trust on first use: the pin heard on the LAN lets the player in. */
    netcore_lobby_tls *system = trust_of(NULL);
    test_client *t = tls_client(&f, system, NULL, found[0].tls_pin);
    cr_assert_eq(netcore_lobby_client_connect(t->client, &found[0].lobby_address, "lan", now_us()),
                 NETCORE_OK);
    wait_for(&f, &t->welcomes, 1, "welcome");
    netcore_lobby_discovery_destroy(d);
    teardown(&f);
    netcore_lobby_tls_destroy(system);
    remove_test_cert(&cert);
}

/* The discovery socket is bound to the wildcard (for broadcasts) but a
 * lobby listening on 127.0.0.1 does not answer probes sent to 127.0.0.2. */
Test(lobby_tls, discovery_of_a_bound_lobby_answers_only_for_its_address)
{
    fixture f;
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.discovery_enabled = true;
    cfg.discovery_port = 0;
    start_server(&f, &cfg);
    netcore_address probe_to;
    cr_assert_eq(netcore_lobby_server_discovery_address(f.server, &probe_to), NETCORE_OK);
    cr_assert_eq(probe_to.bytes[0], 127);
    cr_assert_eq(probe_to.bytes[3], 1);
    netcore_lobby_discovery *d = NULL;
    netcore_lobby_discovery_config discovery_config;
    netcore_lobby_discovery_config_default(&discovery_config);
    cr_assert_eq(netcore_lobby_discovery_create(&discovery_config, &d), NETCORE_OK);
    const netcore_lobby_found *found = NULL;
    netcore_address other = probe_to;
    other.bytes[3] = 2;
    cr_assert_eq(discover(&f, d, &other, &found, 300), 0);
    netcore_lobby_server_stats st;
    netcore_lobby_server_get_stats(f.server, &st);
    cr_assert_eq(st.discovery_dropped, 1, "the probe for 127.0.0.2 arrived and was not answered");
    cr_assert_eq(discover(&f, d, &probe_to, &found, WAIT_MS), 1);
    cr_assert(netcore_address_equal(&found[0].lobby_address, &f.address));
    cr_assert_eq(found[0].tls, test_tls.made);
    netcore_lobby_discovery_destroy(d);
    teardown(&f);
}

Test(lobby_tls, a_client_changes_whom_it_trusts_between_connections)
{
    fixture f;
    fixture_tls cert = {0};
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    start_tls_server(&f, &cert, "host-b", &cfg);
    uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES], other[NETCORE_LOBBY_TLS_PIN_BYTES];
    cr_assert_eq(netcore_lobby_tls_cert_pin(cert.cert, pin), NETCORE_OK);
    memcpy(other, pin, sizeof other);
    other[0] ^= 1;
    netcore_lobby_tls *system = trust_of(NULL);
    test_client *t = tls_client(&f, system, NULL, other);
    expect_refused(&f, t, "iris");
    /* Told the right pin, the same client gets in. */
    cr_assert_eq(netcore_lobby_client_set_tls_peer(t->client, NULL, pin), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_connect(t->client, &f.address, "iris", now_us()), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_set_tls_peer(t->client, NULL, other), NETCORE_ERR_STATE);
    wait_for(&f, &t->welcomes, 1, "welcome with the right pin");
    cr_assert_eq(netcore_lobby_client_set_tls_peer(t->client, NULL, NULL),
                 NETCORE_ERR_INVALID_ARGUMENT);
    /* A plaintext client has no TLS peer to change. */
    netcore_lobby_client_config pc;
    netcore_lobby_client_config_default(&pc);
    pc.on_event = on_event;
    pc.event_user = &f.clients[3];
    netcore_lobby_client *plain = NULL;
    cr_assert_eq(netcore_lobby_client_create(&pc, &plain), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_set_tls_peer(plain, "x", NULL), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_lobby_client_destroy(plain);
    /* A TLS client needs a name or a pin from the start. */
    pc.tls = system;
    cr_assert_eq(netcore_lobby_client_create(&pc, &plain), NETCORE_ERR_INVALID_ARGUMENT);
    teardown(&f);
    netcore_lobby_tls_destroy(system);
    remove_test_cert(&cert);
}

/* Runs `openssl s_client` forcing TLS 1.2 against the lobby while pumping
 * it; true when the handshake succeeded. */
static bool tls12_handshake_works(fixture *f)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "openssl s_client -connect 127.0.0.1:%u -tls1_2 -brief </dev/null >/dev/null 2>&1",
             (unsigned)f->address.port);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(system(cmd) == 0 ? 0 : 1);
    int status = 0;
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && now_ms() < deadline; i++) {
        pump_once(f);
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    cr_assert_fail("openssl s_client did not finish");
    return false;
}

Test(lobby_tls, tls_1_2_is_refused_by_default_and_allowed_by_config)
{
    if (system("openssl version >/dev/null 2>&1") != 0)
        cr_skip_test("the openssl command is not installed");
    for (int allow = 0; allow < 2; allow++) {
        fixture f;
        fixture_tls cert = {0};
        netcore_lobby_server_config cfg;
        server_config(&cfg);
        cfg.tls_allow_tls12 = allow == 1;
        start_tls_server(&f, &cert, "127.0.0.1", &cfg);
        cr_assert_eq(tls12_handshake_works(&f), allow == 1, "TLS 1.2 %s",
                     allow ? "allowed" : "refused");
        netcore_lobby_server_stats st;
        netcore_lobby_server_get_stats(f.server, &st);
        cr_assert_eq(st.tls_handshakes, (uint64_t)allow);
        teardown(&f);
        remove_test_cert(&cert);
    }
}

Test(lobby_tls, a_tls_client_of_a_plaintext_lobby_is_told_so)
{
    SKIP_UNDER_TLS("needs a plaintext lobby");
    fixture f;
    fixture_tls cert = {0};
    make_test_cert(&cert, "127.0.0.1");
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    start_server(&f, &cfg);
    netcore_lobby_tls *trust = trust_of(cert.cert);
    test_client *t = tls_client(&f, trust, "127.0.0.1", NULL);
    expect_refused(&f, t, "jane");
    cr_assert(strstr(t->disconnect_text, "does not speak TLS"), "text: %s", t->disconnect_text);
    teardown(&f);
    netcore_lobby_tls_destroy(trust);
    remove_test_cert(&cert);
}
