/** @file
 * netcore addresses: an IPv4 or IPv6 address and a port, as a plain value.
 * Used by the transport, tokens and the lobby alike.
 */
#ifndef NETCORE_ADDRESS_H
#define NETCORE_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/netcore.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The family of a netcore_address, stored in netcore_address.family. */
typedef enum netcore_address_family {
    NETCORE_ADDRESS_NONE = 0, /**< unset; as a bind address: any IPv4 interface */
    NETCORE_ADDRESS_IPV4 = 4, /**< IPv4: the first 4 of netcore_address.bytes */
    NETCORE_ADDRESS_IPV6 = 6  /**< IPv6: all 16 bytes (not supported by the ENet backend) */
} netcore_address_family;

/** A plain value: copy it freely. bytes are in network order (IPv4 uses the
 * first 4); port is in host order. The ENet backend supports IPv4 only. */
typedef struct netcore_address {
    uint8_t family;    /**< netcore_address_family */
    uint8_t bytes[16]; /**< the address in network order; IPv4 uses bytes[0..3], the rest are 0 */
    uint16_t port;     /**< UDP or TCP port in host order; 0 as a bind port: any free port */
} netcore_address;

/** Longest text netcore_address_format() writes, including the NUL. */
#define NETCORE_ADDRESS_STRLEN 64

/**
 * Parse "1.2.3.4", "1.2.3.4:7777", "::1", "[::1]:7777", "localhost:7777" or
 * any host name (resolved with the system resolver, which may block; numeric
 * forms never block). Without a port, default_port is used.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL), NETCORE_ERR_ADDRESS (unparsable,
 * bad port, unresolvable name).
 */
netcore_result netcore_address_parse(const char *text, uint16_t default_port,
                                     netcore_address *out_address);

/** Writes "1.2.3.4:7777" or "[::1]:7777" into buffer (at most buffer_size bytes
 * including the NUL; NETCORE_ADDRESS_STRLEN always suffices).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_TOO_LARGE (buffer too small;
 * the buffer then holds a truncated, NUL-terminated text). */
netcore_result netcore_address_format(const netcore_address *address, char *buffer,
                                      size_t buffer_size);

/** An IPv4 address from four octets (a.b.c.d) and a port. */
netcore_address netcore_address_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);

/** True if family, bytes and port are all equal. */
bool netcore_address_equal(const netcore_address *a, const netcore_address *b);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_ADDRESS_H */
