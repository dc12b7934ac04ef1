/* Conversions between netcore_address and BSD socket addresses (internal). */
#ifndef NETCORE_NET_INTERNAL_H
#define NETCORE_NET_INTERNAL_H

#include <stdbool.h>
#include "netcore/address.h"
#include "platform/os_net.h"

/* Fills *out (a sockaddr_in or sockaddr_in6; family NONE becomes IPv4 any) and
 * returns its length, 0 if the family is unknown. */
socklen_t nci_address_to_sockaddr(const netcore_address *address, struct sockaddr_storage *out);
/* false if the family is neither IPv4 nor IPv6. */
bool nci_address_from_sockaddr(const struct sockaddr *sa, netcore_address *out_address);

#endif /* NETCORE_NET_INTERNAL_H */
