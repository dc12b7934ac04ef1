/*
 * Session layer internals shared by session_proto.c, session_server.c and
 * session_client.c: the control messages and the checks of a game
 * description. Byte layout in docs/session.md.
 */
#ifndef NCI_SESSION_INTERNAL_H
#define NCI_SESSION_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/session.h"

#define NCI_SESSION_CHANNEL_CONTROL 0u
#define NCI_SESSION_CHANNEL_GAME 1u
#define NCI_SESSION_MSG_HELLO 1u
#define NCI_SESSION_MSG_WELCOME 2u
#define NCI_SESSION_HELLO_BYTES 15u
#define NCI_SESSION_WELCOME_BYTES 11u
#define NCI_SESSION_MAX_TICKS_PER_UPDATE 8u

/* What a client says first: the parts of its game description that must match. */
typedef struct nci_session_hello {
    uint64_t schema_hash;
    uint16_t tick_rate_hz;
    uint8_t snapshot_every_ticks;
    uint16_t input_size_bytes;
} nci_session_hello;

/* The server's answer: the client's index and player entity, and its rates. */
typedef struct nci_session_welcome {
    uint16_t client_index;
    netcore_entity_id entity;
    uint16_t tick_rate_hz;
    uint8_t snapshot_every_ticks;
} nci_session_welcome;

/* Writers fill exactly NCI_SESSION_*_BYTES bytes. */
void nci_session_write_hello(const nci_session_hello *hello, uint8_t out[NCI_SESSION_HELLO_BYTES]);
void nci_session_write_welcome(const nci_session_welcome *welcome,
                               uint8_t out[NCI_SESSION_WELCOME_BYTES]);

/* Readers take untrusted bytes: NETCORE_ERR_MALFORMED for a wrong type, size
 * or version, NETCORE_ERR_INVALID_ARGUMENT for NULL; *out is untouched on error. */
netcore_result nci_session_read_hello(const uint8_t *data, size_t size_bytes,
                                      nci_session_hello *out);
netcore_result nci_session_read_welcome(const uint8_t *data, size_t size_bytes,
                                        nci_session_welcome *out);

/* The hello this description sends (and the server expects). */
nci_session_hello nci_session_hello_of(const netcore_game_desc *desc);

/* Checks a game description: sizes, rates, callbacks (write_state on the
 * server, read_state on the client) and the player tick field.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result nci_session_check_desc(const netcore_game_desc *desc, bool server);

/* Fills a host's channel table: the session's two channels, then the game's. */
netcore_result nci_session_channels(netcore_host_config *host,
                                    const netcore_delivery *game_channels,
                                    uint32_t game_channel_count);

#endif /* NCI_SESSION_INTERNAL_H */
