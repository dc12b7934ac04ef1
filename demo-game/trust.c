/* demo-game lobby trust: see trust.h. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust.h"

/* Long enough for a LAN host kept for years; a new one is made when it expires. */
#define HOST_CERT_DAYS 3650

static bool config_dir(char *out, size_t size)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n = -1;
    if (xdg && xdg[0] == '/')
        n = snprintf(out, size, "%s/netcore-demo", xdg);
    else if (home && home[0])
        n = snprintf(out, size, "%s/.config/netcore-demo", home);
    return n > 0 && (size_t)n < size;
}

/* mkdir -p for the last two components (…/.config/netcore-demo). */
static bool make_dirs(const char *dir)
{
    char parent[DEMO_PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (mkdir(parent, 0700) != 0 && errno != EEXIST)
            return false;
    }
    return mkdir(dir, 0700) == 0 || errno == EEXIST;
}

bool demo_config_file(const char *name, char *out, size_t out_size)
{
    char dir[DEMO_PATH_MAX - 32];
    if (!config_dir(dir, sizeof dir) || !make_dirs(dir))
        return false;
    int n = snprintf(out, out_size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < out_size;
}

bool demo_host_identity_from_files(const char *cert_file, const char *key_file,
                                   demo_host_identity *out)
{
    memset(out, 0, sizeof *out);
    int a = snprintf(out->cert_file, sizeof out->cert_file, "%s", cert_file);
    int b = snprintf(out->key_file, sizeof out->key_file, "%s", key_file);
    if (a < 0 || (size_t)a >= sizeof out->cert_file || b < 0 || (size_t)b >= sizeof out->key_file ||
        netcore_lobby_tls_cert_pin(cert_file, out->pin) != NETCORE_OK) {
        fprintf(stderr, "demo: cannot read a certificate from %s\n", cert_file);
        return false;
    }
    return true;
}

bool demo_host_identity_load(demo_host_identity *out)
{
    memset(out, 0, sizeof *out);
    char dir[DEMO_PATH_MAX - 32];
    if (!config_dir(dir, sizeof dir) || !make_dirs(dir)) {
        fprintf(stderr, "demo: no configuration directory for the host certificate "
                        "(set HOME or XDG_CONFIG_HOME)\n");
        return false;
    }
    snprintf(out->cert_file, sizeof out->cert_file, "%s/lobby-cert.pem", dir);
    snprintf(out->key_file, sizeof out->key_file, "%s/lobby-key.pem", dir);
    if (access(out->cert_file, R_OK) == 0 && access(out->key_file, R_OK) == 0 &&
        netcore_lobby_tls_cert_pin(out->cert_file, out->pin) == NETCORE_OK)
        return true;
    if (netcore_lobby_tls_make_self_signed(out->cert_file, out->key_file, "netcore-demo-host",
                                           HOST_CERT_DAYS) != NETCORE_OK ||
        netcore_lobby_tls_cert_pin(out->cert_file, out->pin) != NETCORE_OK) {
        fprintf(stderr, "demo: cannot write a host certificate in %s\n", dir);
        return false;
    }
    fprintf(stderr, "demo: made a new host certificate in %s\n", dir);
    return true;
}

bool demo_trust_make(const demo_trust_options *options, const char *host_text, demo_trust *out)
{
    memset(out, 0, sizeof *out);
    if (options->insecure)
        return true;
    if (options->pin_text) {
        if (netcore_lobby_tls_pin_parse(options->pin_text, out->pin) != NETCORE_OK) {
            fprintf(stderr, "demo: a pin is 64 hex digits (pairs may be joined by ':')\n");
            return false;
        }
        out->pin_set = true;
    }
    if (host_text) {
        /* HOST[:PORT]: the name is what comes before the last ':' (IPv4 and names). */
        snprintf(out->server_name, sizeof out->server_name, "%s", host_text);
        char *colon = strrchr(out->server_name, ':');
        if (colon && !strchr(out->server_name, '['))
            *colon = '\0';
    }
    netcore_lobby_tls_config tc;
    netcore_lobby_tls_config_default(&tc);
    tc.ca_file = options->ca_file;
    if (netcore_lobby_tls_create(&tc, &out->tls) != NETCORE_OK) {
        fprintf(stderr, "demo: cannot load the trusted certificates%s%s\n",
                options->ca_file ? " from " : "", options->ca_file ? options->ca_file : "");
        return false;
    }
    return true;
}

void demo_trust_release(demo_trust *trust)
{
    if (!trust)
        return;
    netcore_lobby_tls_destroy(trust->tls);
    memset(trust, 0, sizeof *trust);
}

void demo_trust_apply(const demo_trust *trust, const uint8_t *pin,
                      netcore_lobby_client_config *config)
{
    if (!trust || !trust->tls)
        return;
    config->tls = trust->tls;
    snprintf(config->tls_server_name, sizeof config->tls_server_name, "%s", trust->server_name);
    const uint8_t *use = pin ? pin : trust->pin_set ? trust->pin : NULL;
    config->tls_pin_set = use != NULL;
    if (use)
        memcpy(config->tls_pin_sha256, use, NETCORE_LOBBY_TLS_PIN_BYTES);
}

void demo_trust_short_pin(const uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES], char *out,
                          size_t out_size)
{
    char full[NETCORE_LOBBY_TLS_PIN_STRLEN];
    netcore_lobby_tls_pin_format(pin, full, sizeof full);
    /* Four pairs: enough to compare by eye with what the host prints. */
    snprintf(out, out_size, "%.11s", full);
}
