/* Fuzz target: the lobby's new text parsers. Each input is tried as
 * - a certificate pin as a player types it (--pin, hex with or without ':'):
 *   whatever parses must format and parse back to the same 32 bytes;
 * - a nickname under the name rules: a valid name is valid text, and stays
 *   valid inside a HELLO that the decoder takes back unchanged;
 * - the first bytes of a connection on a TLS port (plaintext sniffing). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lobby/lobby_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_pin(const uint8_t *data, size_t size)
{
    char text[256];
    if (size >= sizeof text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES];
    if (netcore_lobby_tls_pin_parse(text, pin) != NETCORE_OK)
        return;
    char formatted[NETCORE_LOBBY_TLS_PIN_STRLEN];
    netcore_lobby_tls_pin_format(pin, formatted, sizeof formatted);
    uint8_t again[NETCORE_LOBBY_TLS_PIN_BYTES];
    if (netcore_lobby_tls_pin_parse(formatted, again) != NETCORE_OK ||
        memcmp(pin, again, sizeof pin) != 0)
        __builtin_trap();
}

static void check_name(const uint8_t *data, size_t size)
{
    char name[NETCORE_LOBBY_NAME_MAX + 1];
    if (size > NETCORE_LOBBY_NAME_MAX || memchr(data, 0, size))
        return;
    memcpy(name, data, size);
    name[size] = '\0';
    if (!nci_lobby_name_valid(name, NETCORE_LOBBY_NAME_MAX))
        return;
    if (!nci_lobby_text_valid(name, NETCORE_LOBBY_NAME_MAX, true))
        __builtin_trap();
    nci_lobby_msg m, back;
    memset(&m, 0, sizeof m);
    m.type = NCI_LOBBY_HELLO;
    m.u.hello.version = NETCORE_LOBBY_PROTOCOL_VERSION;
    memcpy(m.u.hello.nickname, name, size + 1);
    uint8_t frame[64];
    size_t frame_size = 0;
    if (nci_lobby_encode(&m, frame, sizeof frame, &frame_size) != NETCORE_OK ||
        nci_lobby_decode(frame + NCI_LOBBY_LENGTH_BYTES, frame_size - NCI_LOBBY_LENGTH_BYTES,
                         &back) != NETCORE_OK ||
        strcmp(back.u.hello.nickname, name) != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_pin(data, size);
    check_name(data, size);
    (void)nci_lobby_tls_looks_like_client_hello(data, size);
    return 0;
}
