/* Codec of the transport's control lane (internal): HELLO and WELCOME, as
 * specified in docs/transport-protocol.md. Pure functions on byte buffers;
 * transport.c decides what the messages mean. */
#ifndef NETCORE_TRANSPORT_CONTROL_H
#define NETCORE_TRANSPORT_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "netcore/transport.h"

#define NCI_CONTROL_VERSION 2u
#define NCI_CONTROL_HEADER_BYTES 7u
/* Largest HELLO: header, channel count, one mode per channel, flags, token size, token. */
#define NCI_CONTROL_HELLO_MAX_BYTES                                                                \
    (NCI_CONTROL_HEADER_BYTES + 1u + NETCORE_MAX_CHANNELS + 1u + 2u + NETCORE_MAX_TOKEN_BYTES)
/* HELLO flags: bit 0, the client seals everything after this HELLO. */
#define NCI_HELLO_FLAG_SEALED 0x01u

typedef enum nci_control_type {
    NCI_CONTROL_HELLO = 1,  /* client -> server: channels and token */
    NCI_CONTROL_WELCOME = 2 /* server -> client: admitted */
} nci_control_type;

typedef struct nci_hello {
    uint32_t channel_count;              /* 1..NETCORE_MAX_CHANNELS */
    uint8_t modes[NETCORE_MAX_CHANNELS]; /* netcore_delivery codes, 0..3 */
    bool sealed;                         /* NCI_HELLO_FLAG_SEALED */
    const uint8_t *token;                /* decoded: points into the message */
    uint32_t token_size_bytes;           /* 0..NETCORE_MAX_TOKEN_BYTES */
} nci_hello;

/* Writes a HELLO into buffer (at least NCI_CONTROL_HELLO_MAX_BYTES) and returns
 * its size; 0 if hello is out of range (nothing written then). */
size_t nci_control_write_hello(const nci_hello *hello, uint8_t *buffer);

/* Writes a WELCOME into buffer (at least NCI_CONTROL_HEADER_BYTES) and returns its size. */
size_t nci_control_write_welcome(uint8_t *buffer);

/*
 * Reads one control message of size bytes. NETCORE_OK: *out_type is set and,
 * for a HELLO, *out_hello (its token points into data, valid as long as data).
 * NETCORE_ERR_MISMATCH: right magic, another protocol version (nothing after
 * the header was read). NETCORE_ERR_MALFORMED: anything else, including an
 * unknown type, a size that is not exact or a field out of range. Never reads
 * outside data[0..size).
 */
netcore_result nci_control_read(const uint8_t *data, size_t size, nci_control_type *out_type,
                                nci_hello *out_hello);

#endif /* NETCORE_TRANSPORT_CONTROL_H */
