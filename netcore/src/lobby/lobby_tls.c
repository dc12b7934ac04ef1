/* Lobby TLS: OpenSSL 3 contexts and connections over the lobby's
 * non-blocking sockets, certificate pins and self-signed certificates.
 *
 * Both ends use one SSL object per socket (SSL_set_fd) and drive it step by
 * step from their own poll loops; nothing here blocks or waits. */
#define _POSIX_C_SOURCE 200809L
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "lobby/lobby_tls.h"

/* netcore_lobby_tls is the SSL_CTX behind both ends: a client's trust store
 * or a server's certificate and key. */
struct netcore_lobby_tls {
    SSL_CTX *ctx;
};

struct nci_lobby_tls {
    SSL *ssl;
    char failure[96];
};

/* ------------------------------------------------------------------ */
/* Contexts                                                            */
/* ------------------------------------------------------------------ */

static SSL_CTX *new_ctx(bool server, bool allow_tls12)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, allow_tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
    /* Writes resume with the lobby's own buffer, which moves (memmove) and
     * grows between tries, and may be taken a record at a time. */
    long mode = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
    /* A server releases the record buffers of idle connections: 5,000 lobby
     * clients would otherwise pin about 170 MB of them. The price is an
     * allocation (and, for reads, a wipe) per record; a client, one
     * connection, keeps its buffers and reads faster. */
    if (server)
        mode |= SSL_MODE_RELEASE_BUFFERS;
    SSL_CTX_set_mode(ctx, mode);
    /* Read whatever the socket holds in one call instead of a record header
     * and then its body: half the read calls. Data buffered this way does
     * not wake the poller again, so readers drain nci_lobby_tls_pending(). */
    SSL_CTX_set_read_ahead(ctx, 1);
    /* Lobby links are long-lived and never resumed: no session tickets to
     * make and send on every handshake, no cache to grow. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (server)
        SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    return ctx;
}

void netcore_lobby_tls_config_default(netcore_lobby_tls_config *config)
{
    if (config)
        memset(config, 0, sizeof *config);
}

netcore_result netcore_lobby_tls_create(const netcore_lobby_tls_config *config,
                                        netcore_lobby_tls **out_tls)
{
    if (!config || !out_tls)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_tls = NULL;
    netcore_lobby_tls *t = calloc(1, sizeof *t);
    if (!t)
        return NETCORE_ERR_OUT_OF_MEMORY;
    t->ctx = new_ctx(false, config->allow_tls12);
    if (!t->ctx) {
        free(t);
        return NETCORE_ERR_BACKEND;
    }
    int ok = config->ca_file || config->ca_dir
                 ? SSL_CTX_load_verify_locations(t->ctx, config->ca_file, config->ca_dir)
                 : SSL_CTX_set_default_verify_paths(t->ctx);
    ERR_clear_error();
    if (ok != 1) {
        netcore_lobby_tls_destroy(t);
        return NETCORE_ERR_INVALID_ARGUMENT;
    }
    *out_tls = t;
    return NETCORE_OK;
}

void netcore_lobby_tls_destroy(netcore_lobby_tls *tls)
{
    if (!tls)
        return;
    SSL_CTX_free(tls->ctx);
    free(tls);
}

netcore_result nci_lobby_tls_server_context(const char *cert_file, const char *key_file,
                                            bool allow_tls12, netcore_lobby_tls **out_context,
                                            char *why, size_t why_size)
{
    if (!cert_file || !key_file || !out_context)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_context = NULL;
    netcore_lobby_tls *t = calloc(1, sizeof *t);
    if (!t)
        return NETCORE_ERR_OUT_OF_MEMORY;
    t->ctx = new_ctx(true, allow_tls12);
    netcore_result r = NETCORE_OK;
    const char *what = NULL;
    if (!t->ctx) {
        r = NETCORE_ERR_BACKEND;
        what = "cannot create a TLS context";
    } else if (SSL_CTX_use_certificate_chain_file(t->ctx, cert_file) != 1) {
        r = NETCORE_ERR_INVALID_ARGUMENT;
        what = "cannot read the certificate file";
    } else if (SSL_CTX_use_PrivateKey_file(t->ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        r = NETCORE_ERR_INVALID_ARGUMENT;
        what = "cannot read the key file";
    } else if (SSL_CTX_check_private_key(t->ctx) != 1) {
        r = NETCORE_ERR_INVALID_ARGUMENT;
        what = "the key does not match the certificate";
    }
    if (r != NETCORE_OK) {
        if (why && why_size > 0) {
            unsigned long e = ERR_peek_error();
            snprintf(why, why_size, "%s%s%s", what, e ? ": " : "",
                     e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "" : "");
        }
        ERR_clear_error();
        netcore_lobby_tls_destroy(t);
        return r;
    }
    *out_context = t;
    return NETCORE_OK;
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

/* An IPv4 or IPv6 address in text (OpenSSL's parser: no socket headers). */
static bool is_ip_literal(const char *name)
{
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
    ASN1_OCTET_STRING_free(ip);
    ERR_clear_error();
    return ip != NULL;
}

nci_lobby_tls *nci_lobby_tls_new(const netcore_lobby_tls *context, nci_socket socket, bool server,
                                 const char *server_name, bool verify_name)
{
    if (!context)
        return NULL;
    nci_lobby_tls *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ssl = SSL_new(context->ctx);
    /* OpenSSL takes a Winsock SOCKET as an int: its socket BIO casts back. */
    if (!t->ssl || SSL_set_fd(t->ssl, (int)socket) != 1) {
        nci_lobby_tls_free(t);
        return NULL;
    }
    if (server) {
        SSL_set_accept_state(t->ssl);
        return t;
    }
    SSL_set_connect_state(t->ssl);
    bool named = server_name && server_name[0] != '\0';
    bool ip = named && is_ip_literal(server_name);
    /* SNI carries DNS names only (RFC 6066). */
    if (named && !ip)
        SSL_set_tlsext_host_name(t->ssl, server_name);
    if (!verify_name) {
        /* Pinned: the pin is checked once the handshake is done. */
        SSL_set_verify(t->ssl, SSL_VERIFY_NONE, NULL);
        return t;
    }
    X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, server_name)
                : X509_VERIFY_PARAM_set1_host(param, named ? server_name : "", 0);
    if (ok != 1) {
        nci_lobby_tls_free(t);
        return NULL;
    }
    SSL_set_verify(t->ssl, SSL_VERIFY_PEER, NULL);
    return t;
}

void nci_lobby_tls_free(nci_lobby_tls *tls)
{
    if (!tls)
        return;
    SSL_free(tls->ssl);
    free(tls);
}

/* Maps the result of an SSL call; the error queue is left empty either way
 * (OpenSSL's queue is per thread and would colour the next call). */
static nci_lobby_tls_status status_of(nci_lobby_tls *t, int ret)
{
    int err = SSL_get_error(t->ssl, ret);
    nci_lobby_tls_status st = NCI_LOBBY_TLS_FAILED;
    if (err == SSL_ERROR_WANT_READ)
        st = NCI_LOBBY_TLS_WANT_READ;
    else if (err == SSL_ERROR_WANT_WRITE)
        st = NCI_LOBBY_TLS_WANT_WRITE;
    else if (err == SSL_ERROR_ZERO_RETURN)
        st = NCI_LOBBY_TLS_CLOSED;
    else if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
        st = NCI_LOBBY_TLS_CLOSED; /* EOF or reset without close_notify */
    if (st == NCI_LOBBY_TLS_FAILED) {
        long verify = SSL_get_verify_result(t->ssl);
        unsigned long e = ERR_peek_error();
        int reason = ERR_GET_REASON(e);
        if (verify != X509_V_OK)
            snprintf(t->failure, sizeof t->failure, "certificate refused: %s",
                     X509_verify_cert_error_string(verify));
        else if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
                 (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
                  reason == SSL_R_RECORD_LENGTH_MISMATCH))
            /* What a TLS client reads from a plaintext lobby (its ERROR frame). */
            snprintf(t->failure, sizeof t->failure, "the peer does not speak TLS (plaintext?)");
        else if (e != 0 && ERR_reason_error_string(e))
            snprintf(t->failure, sizeof t->failure, "TLS: %s", ERR_reason_error_string(e));
        else
            snprintf(t->failure, sizeof t->failure, "TLS failed");
    }
    ERR_clear_error();
    return st;
}

nci_lobby_tls_status nci_lobby_tls_handshake(nci_lobby_tls *tls)
{
    ERR_clear_error();
    int ret = SSL_do_handshake(tls->ssl);
    return ret == 1 ? NCI_LOBBY_TLS_DONE : status_of(tls, ret);
}

nci_lobby_tls_status nci_lobby_tls_read(nci_lobby_tls *tls, uint8_t *buffer, size_t size,
                                        size_t *out_bytes)
{
    ERR_clear_error();
    size_t got = 0;
    int ret = SSL_read_ex(tls->ssl, buffer, size, &got);
    if (ret == 1) {
        *out_bytes = got;
        return NCI_LOBBY_TLS_DONE;
    }
    return status_of(tls, ret);
}

nci_lobby_tls_status nci_lobby_tls_write(nci_lobby_tls *tls, const uint8_t *bytes, size_t size,
                                         size_t *out_bytes)
{
    ERR_clear_error();
    size_t put = 0;
    int ret = SSL_write_ex(tls->ssl, bytes, size, &put);
    if (ret == 1) {
        *out_bytes = put;
        return NCI_LOBBY_TLS_DONE;
    }
    return status_of(tls, ret);
}

bool nci_lobby_tls_pending(const nci_lobby_tls *tls)
{
    /* Decrypted bytes, and records read ahead but not yet processed. */
    return SSL_has_pending(tls->ssl) == 1;
}

void nci_lobby_tls_close_notify(nci_lobby_tls *tls)
{
    ERR_clear_error();
    if (SSL_is_init_finished(tls->ssl))
        (void)SSL_shutdown(tls->ssl);
    ERR_clear_error();
}

static bool digest_der(int size, unsigned char *der, uint8_t out[NETCORE_LOBBY_TLS_PIN_BYTES])
{
    unsigned int n = 0;
    bool ok = size > 0 && EVP_Digest(der, (size_t)size, out, &n, EVP_sha256(), NULL) == 1 &&
              n == NETCORE_LOBBY_TLS_PIN_BYTES;
    OPENSSL_free(der);
    return ok;
}

static bool cert_digest(X509 *cert, uint8_t out[NETCORE_LOBBY_TLS_PIN_BYTES])
{
    unsigned char *der = NULL;
    int size = i2d_X509(cert, &der);
    return digest_der(size, der, out);
}

static bool spki_digest(X509 *cert, uint8_t out[NETCORE_LOBBY_TLS_PIN_BYTES])
{
    unsigned char *der = NULL;
    int size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    return digest_der(size, der, out);
}

bool nci_lobby_tls_peer_pin_matches(const nci_lobby_tls *tls,
                                    const uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES])
{
    X509 *cert = SSL_get0_peer_certificate(tls->ssl);
    if (!cert)
        return false;
    uint8_t d[NETCORE_LOBBY_TLS_PIN_BYTES];
    bool match = (cert_digest(cert, d) && CRYPTO_memcmp(d, pin, sizeof d) == 0) ||
                 (spki_digest(cert, d) && CRYPTO_memcmp(d, pin, sizeof d) == 0);
    ERR_clear_error();
    return match;
}

const char *nci_lobby_tls_failure(const nci_lobby_tls *tls)
{
    return tls->failure[0] ? tls->failure : "TLS failed";
}

bool nci_lobby_tls_looks_like_client_hello(const uint8_t *bytes, size_t size)
{
    /* A TLS record header: content type 22 (handshake), then the record
     * version's major byte, 3 for every TLS version. */
    return (size < 1 || bytes[0] == 0x16) && (size < 2 || bytes[1] == 0x03);
}

/* ------------------------------------------------------------------ */
/* Pins and self-signed certificates                                   */
/* ------------------------------------------------------------------ */

netcore_result netcore_lobby_tls_cert_pin(const char *cert_file,
                                          uint8_t out_pin[NETCORE_LOBBY_TLS_PIN_BYTES])
{
    if (!cert_file || !out_pin)
        return NETCORE_ERR_INVALID_ARGUMENT;
    FILE *f = fopen(cert_file, "r");
    if (!f)
        return NETCORE_ERR_NOT_FOUND;
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    bool ok = cert && cert_digest(cert, out_pin);
    X509_free(cert);
    ERR_clear_error();
    return ok ? NETCORE_OK : NETCORE_ERR_NOT_FOUND;
}

void netcore_lobby_tls_pin_format(const uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES], char *out,
                                  size_t out_size)
{
    if (!out || out_size == 0)
        return;
    out[0] = '\0';
    if (!pin || out_size < NETCORE_LOBBY_TLS_PIN_STRLEN)
        return;
    static const char hex[] = "0123456789ABCDEF";
    size_t w = 0;
    for (size_t i = 0; i < NETCORE_LOBBY_TLS_PIN_BYTES; i++) {
        if (i > 0)
            out[w++] = ':';
        out[w++] = hex[pin[i] >> 4];
        out[w++] = hex[pin[i] & 15];
    }
    out[w] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

netcore_result netcore_lobby_tls_pin_parse(const char *text,
                                           uint8_t out_pin[NETCORE_LOBBY_TLS_PIN_BYTES])
{
    if (!text || !out_pin)
        return NETCORE_ERR_INVALID_ARGUMENT;
    uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES];
    size_t pos = 0;
    for (size_t i = 0; i < NETCORE_LOBBY_TLS_PIN_BYTES; i++) {
        if (i > 0 && text[pos] == ':')
            pos++;
        int hi = hex_value(text[pos]);
        int lo = hi < 0 ? -1 : hex_value(text[pos + 1]);
        if (lo < 0)
            return NETCORE_ERR_INVALID_ARGUMENT;
        pin[i] = (uint8_t)(hi << 4 | lo);
        pos += 2;
    }
    if (text[pos] != '\0')
        return NETCORE_ERR_INVALID_ARGUMENT;
    memcpy(out_pin, pin, sizeof pin);
    return NETCORE_OK;
}

static bool add_name(X509 *cert, const char *name)
{
    X509_NAME *subject = X509_get_subject_name(cert);
    if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *)name, -1,
                                   -1, 0) != 1 ||
        X509_set_issuer_name(cert, subject) != 1)
        return false;
    char san[NETCORE_LOBBY_TLS_SERVER_NAME_MAX + 8];
    snprintf(san, sizeof san, "%s:%s", is_ip_literal(name) ? "IP" : "DNS", name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
    bool ok = ext && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* Opens path for writing; a private key is made readable by its owner only
 * before a byte is written (an existing file keeps its old mode through
 * O_CREAT, hence the fchmod). Windows: the ACLs of the directory apply. */
static FILE *create_file(const char *path, bool private_key)
{
#ifdef _WIN32
    (void)private_key;
    return fopen(path, "wb");
#else
    mode_t mode = private_key ? 0600 : 0644;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return NULL;
    FILE *f = fchmod(fd, mode) == 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        close(fd);
    return f;
#endif
}

static bool write_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
    FILE *f = create_file(path, key != NULL);
    if (!f)
        return false;
    bool ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1
                  : PEM_write_X509(f, cert) == 1;
    return fclose(f) == 0 && ok;
}

netcore_result netcore_lobby_tls_make_self_signed(const char *cert_file, const char *key_file,
                                                  const char *common_name, uint32_t valid_days)
{
    if (!cert_file || !key_file || !common_name || common_name[0] == '\0' ||
        strlen(common_name) > NETCORE_LOBBY_TLS_SERVER_NAME_MAX || valid_days == 0)
        return NETCORE_ERR_INVALID_ARGUMENT;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    uint8_t serial[16];
    bool ok = key && cert && RAND_bytes(serial, sizeof serial) == 1;
    if (ok) {
        serial[0] &= 0x7f; /* a positive serial number */
        BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
        ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
        BN_free(bn);
    }
    ok = ok && X509_set_version(cert, 2) == 1 &&
         X509_gmtime_adj(X509_getm_notBefore(cert), -3600) &&
         X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * (long)valid_days) &&
         X509_set_pubkey(cert, key) == 1 && add_name(cert, common_name) &&
         X509_sign(cert, key, EVP_sha256()) > 0;
    ok = ok && write_pem(key_file, key, NULL) && write_pem(cert_file, NULL, cert);
    X509_free(cert);
    EVP_PKEY_free(key);
    ERR_clear_error();
    return ok ? NETCORE_OK : NETCORE_ERR_BACKEND;
}
