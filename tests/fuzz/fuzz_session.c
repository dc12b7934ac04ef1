/* Fuzz target: the session layer's control message readers (HELLO, WELCOME)
 * must never crash or read out of bounds, and every message they accept must
 * be written back byte for byte. */
#include <stdint.h>
#include <string.h>

#include "netcode/session_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nci_session_hello hello;
    if (nci_session_read_hello(data, size, &hello) == NETCORE_OK) {
        uint8_t again[NCI_SESSION_HELLO_BYTES];
        nci_session_write_hello(&hello, again);
        if (size != sizeof again || memcmp(again, data, size) != 0)
            __builtin_trap();
    }
    nci_session_welcome welcome;
    if (nci_session_read_welcome(data, size, &welcome) == NETCORE_OK) {
        uint8_t again[NCI_SESSION_WELCOME_BYTES];
        nci_session_write_welcome(&welcome, again);
        if (size != sizeof again || memcmp(again, data, size) != 0)
            __builtin_trap();
    }
    return 0;
}
