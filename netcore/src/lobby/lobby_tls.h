/* Lobby TLS (internal): OpenSSL 3 under the lobby's non-blocking sockets,
 * for the server's connections and the client. OpenSSL types stay behind
 * the opaque nci_lobby_tls handle so that no other file (and no public
 * header) includes OpenSSL. */
#ifndef NETCORE_LOBBY_TLS_H
#define NETCORE_LOBBY_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/lobby.h"
#include "platform/socket.h"

/* One TLS connection over a socket the caller owns (never closed here). */
typedef struct nci_lobby_tls nci_lobby_tls;

typedef enum nci_lobby_tls_status {
    NCI_LOBBY_TLS_DONE = 0,   /* handshake finished, or bytes moved */
    NCI_LOBBY_TLS_WANT_READ,  /* try again when the socket is readable */
    NCI_LOBBY_TLS_WANT_WRITE, /* try again when the socket is writable */
    NCI_LOBBY_TLS_CLOSED,     /* the peer closed (close_notify or EOF) */
    NCI_LOBBY_TLS_FAILED      /* protocol, certificate or socket error */
} nci_lobby_tls_status;

/* The server's context: certificate chain and key from PEM files, TLS 1.3
 * only unless allow_tls12. why (may be NULL) receives a short reason on
 * failure. Errors: NETCORE_ERR_INVALID_ARGUMENT (unreadable or mismatched
 * files), NETCORE_ERR_BACKEND. */
netcore_result nci_lobby_tls_server_context(const char *cert_file, const char *key_file,
                                            bool allow_tls12, netcore_lobby_tls **out_context,
                                            char *why, size_t why_size);

/* Starts a TLS connection on socket (accept side when server, connect side
 * otherwise). server_name (client only, may be empty) is sent as SNI when it
 * is a DNS name; when verify_name is set the certificate chain must verify
 * against the context's trust store and name server_name (a DNS name or an
 * IP literal). Returns NULL when out of memory. */
nci_lobby_tls *nci_lobby_tls_new(const netcore_lobby_tls *context, nci_socket socket, bool server,
                                 const char *server_name, bool verify_name);
/* NULL is ignored. Does not close the socket. */
void nci_lobby_tls_free(nci_lobby_tls *tls);

/* One non-blocking handshake step. */
nci_lobby_tls_status nci_lobby_tls_handshake(nci_lobby_tls *tls);
/* Reads up to size plaintext bytes (*out_bytes set when DONE). */
nci_lobby_tls_status nci_lobby_tls_read(nci_lobby_tls *tls, uint8_t *buffer, size_t size,
                                        size_t *out_bytes);
/* Writes up to size bytes (*out_bytes set when DONE; may be fewer). A
 * retry after WANT_* must offer at least the same bytes again, at any
 * address (moving buffers are allowed). */
nci_lobby_tls_status nci_lobby_tls_write(nci_lobby_tls *tls, const uint8_t *bytes, size_t size,
                                         size_t *out_bytes);
/* Bytes already read from the socket and waiting inside the TLS layer
 * (decrypted, or records read ahead): the socket may not become readable
 * again for them, so a reader drains them before it waits. */
bool nci_lobby_tls_pending(const nci_lobby_tls *tls);
/* Sends close_notify, best effort, without waiting for the peer's. */
void nci_lobby_tls_close_notify(nci_lobby_tls *tls);
/* After the handshake: true when pin is the SHA-256 of the peer
 * certificate's DER or of its SubjectPublicKeyInfo DER. */
bool nci_lobby_tls_peer_pin_matches(const nci_lobby_tls *tls,
                                    const uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES]);
/* Why the last step failed, in a few words (certificate verification
 * result or the OpenSSL reason); static or per-connection storage. */
const char *nci_lobby_tls_failure(const nci_lobby_tls *tls);
/* The first bytes of a connection: false when they cannot start a TLS
 * record carrying a handshake (0x16, then major version 3), i.e. a
 * plaintext client on a TLS port. Fewer than 2 bytes: judged on what is there. */
bool nci_lobby_tls_looks_like_client_hello(const uint8_t *bytes, size_t size);

#endif /* NETCORE_LOBBY_TLS_H */
