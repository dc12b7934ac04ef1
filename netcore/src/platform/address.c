/* Address parsing, formatting and comparison, and conversions to and from socket addresses. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "platform/net_internal.h"
#include "platform/socket.h"

netcore_address netcore_address_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    netcore_address address;
    memset(&address, 0, sizeof address);
    address.family = NETCORE_ADDRESS_IPV4;
    address.bytes[0] = a;
    address.bytes[1] = b;
    address.bytes[2] = c;
    address.bytes[3] = d;
    address.port = port;
    return address;
}

bool netcore_address_equal(const netcore_address *a, const netcore_address *b)
{
    if (!a || !b || a->family != b->family || a->port != b->port)
        return false;
    size_t n = a->family == NETCORE_ADDRESS_IPV6 ? 16 : a->family == NETCORE_ADDRESS_IPV4 ? 4 : 0;
    return memcmp(a->bytes, b->bytes, n) == 0;
}

static bool parse_port(const char *text, uint16_t *out_port)
{
    if (*text == '\0')
        return false;
    unsigned long value = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        value = value * 10 + (unsigned long)(*p - '0');
        if (value > 65535)
            return false;
    }
    *out_port = (uint16_t)value;
    return true;
}

static netcore_result resolve(const char *host, uint16_t port, netcore_address *out)
{
    memset(out, 0, sizeof *out);
    unsigned char buf[16];
    if (inet_pton(AF_INET, host, buf) == 1) {
        out->family = NETCORE_ADDRESS_IPV4;
        memcpy(out->bytes, buf, 4);
        out->port = port;
        return NETCORE_OK;
    }
    if (inet_pton(AF_INET6, host, buf) == 1) {
        out->family = NETCORE_ADDRESS_IPV6;
        memcpy(out->bytes, buf, 16);
        out->port = port;
        return NETCORE_OK;
    }
    struct addrinfo hints, *list = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, NULL, &hints, &list) != 0 || !list)
        return NETCORE_ERR_ADDRESS;
    /* Prefer IPv4: the ENet backend speaks IPv4 only. */
    const struct addrinfo *pick = NULL;
    for (const struct addrinfo *ai = list; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
    if (!pick)
        pick = list;
    netcore_result result = NETCORE_OK;
    if (pick->ai_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)pick->ai_addr;
        out->family = NETCORE_ADDRESS_IPV4;
        memcpy(out->bytes, &sin->sin_addr, 4);
    } else if (pick->ai_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)pick->ai_addr;
        out->family = NETCORE_ADDRESS_IPV6;
        memcpy(out->bytes, &sin6->sin6_addr, 16);
    } else {
        result = NETCORE_ERR_ADDRESS;
    }
    out->port = port;
    freeaddrinfo(list);
    return result;
}

netcore_result netcore_address_parse(const char *text, uint16_t default_port,
                                     netcore_address *out_address)
{
    if (!text || !out_address)
        return NETCORE_ERR_INVALID_ARGUMENT;
    char host[256];
    size_t len = strlen(text);
    if (len == 0 || len >= sizeof host)
        return NETCORE_ERR_ADDRESS;
    uint16_t port = default_port;
    if (text[0] == '[') { /* [v6]:port or [v6] */
        const char *close = strchr(text, ']');
        if (!close || close == text + 1)
            return NETCORE_ERR_ADDRESS;
        size_t host_len = (size_t)(close - text - 1);
        memcpy(host, text + 1, host_len);
        host[host_len] = '\0';
        if (close[1] == ':') {
            if (!parse_port(close + 2, &port))
                return NETCORE_ERR_ADDRESS;
        } else if (close[1] != '\0') {
            return NETCORE_ERR_ADDRESS;
        }
        netcore_result r = resolve(host, port, out_address);
        return r == NETCORE_OK && out_address->family != NETCORE_ADDRESS_IPV6 ? NETCORE_ERR_ADDRESS
                                                                              : r;
    }
    const char *colon = strchr(text, ':');
    if (colon && strchr(colon + 1, ':')) /* bare IPv6, no port */
        return resolve(text, port, out_address);
    if (colon) {
        if (colon == text || !parse_port(colon + 1, &port))
            return NETCORE_ERR_ADDRESS;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
    } else {
        memcpy(host, text, len + 1);
    }
    return resolve(host, port, out_address);
}

netcore_result netcore_address_format(const netcore_address *address, char *buffer,
                                      size_t buffer_size)
{
    if (!address || !buffer || buffer_size == 0)
        return NETCORE_ERR_INVALID_ARGUMENT;
    char ip[INET6_ADDRSTRLEN] = "?";
    int n;
    if (address->family == NETCORE_ADDRESS_IPV6) {
        inet_ntop(AF_INET6, address->bytes, ip, sizeof ip);
        n = snprintf(buffer, buffer_size, "[%s]:%u", ip, (unsigned)address->port);
    } else if (address->family == NETCORE_ADDRESS_IPV4) {
        inet_ntop(AF_INET, address->bytes, ip, sizeof ip);
        n = snprintf(buffer, buffer_size, "%s:%u", ip, (unsigned)address->port);
    } else {
        n = snprintf(buffer, buffer_size, "*:%u", (unsigned)address->port);
    }
    return n < 0 || (size_t)n >= buffer_size ? NETCORE_ERR_TOO_LARGE : NETCORE_OK;
}

bool nci_address_numeric(netcore_address_family family, const char *text, uint8_t *out_bytes)
{
    if (family == NETCORE_ADDRESS_IPV4)
        return inet_pton(AF_INET, text, out_bytes) == 1;
    if (family == NETCORE_ADDRESS_IPV6)
        return inet_pton(AF_INET6, text, out_bytes) == 1;
    return false;
}

socklen_t nci_address_to_sockaddr(const netcore_address *address, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    if (address->family == NETCORE_ADDRESS_IPV6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)out;
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, address->bytes, 16);
        sin6->sin6_port = htons(address->port);
        return sizeof *sin6;
    }
    if (address->family == NETCORE_ADDRESS_IPV4 || address->family == NETCORE_ADDRESS_NONE) {
        struct sockaddr_in *sin = (struct sockaddr_in *)(void *)out;
        sin->sin_family = AF_INET;
        if (address->family == NETCORE_ADDRESS_IPV4)
            memcpy(&sin->sin_addr, address->bytes, 4);
        sin->sin_port = htons(address->port);
        return sizeof *sin;
    }
    return 0;
}

bool nci_address_from_sockaddr(const struct sockaddr *sa, netcore_address *out_address)
{
    memset(out_address, 0, sizeof *out_address);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
        out_address->family = NETCORE_ADDRESS_IPV4;
        memcpy(out_address->bytes, &sin->sin_addr, 4);
        out_address->port = ntohs(sin->sin_port);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
        out_address->family = NETCORE_ADDRESS_IPV6;
        memcpy(out_address->bytes, &sin6->sin6_addr, 16);
        out_address->port = ntohs(sin6->sin6_port);
        return true;
    }
    return false;
}
