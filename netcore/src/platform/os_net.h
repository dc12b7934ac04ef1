/* The operating system's socket headers (internal to platform/): Winsock 2 on
 * Windows, BSD sockets elsewhere. Nothing outside platform/ includes them. */
#ifndef NETCORE_PLATFORM_OS_NET_H
#define NETCORE_PLATFORM_OS_NET_H

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#endif /* NETCORE_PLATFORM_OS_NET_H */
