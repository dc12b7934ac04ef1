/* Fuzz target: the transport's control-lane reader. The input is one message
 * as it arrives on lane 0. Whatever the reader accepts must re-encode to the
 * same bytes (the codec is canonical), and an accepted HELLO must describe
 * only what the layout allows. */
#include <stdint.h>
#include <string.h>

#include "transport/transport_control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t encoded[NCI_CONTROL_HELLO_MAX_BYTES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nci_control_type type = NCI_CONTROL_HELLO;
    nci_hello hello;
    if (nci_control_read(data, size, &type, &hello) != NETCORE_OK)
        return 0;
    size_t n = type == NCI_CONTROL_HELLO ? nci_control_write_hello(&hello, encoded)
                                         : nci_control_write_welcome(encoded);
    if (type == NCI_CONTROL_HELLO &&
        (hello.channel_count < 1 || hello.channel_count > NETCORE_MAX_CHANNELS ||
         hello.token_size_bytes > NETCORE_MAX_TOKEN_BYTES))
        __builtin_trap();
    if (n != size || memcmp(encoded, data, size) != 0)
        __builtin_trap();
    return 0;
}
