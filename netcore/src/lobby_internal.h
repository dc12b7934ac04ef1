/* Lobby wire protocol (internal): message structs and pure encode/decode over
 * bytes, shared by the lobby server and client. The format is specified in
 * docs/lobby-protocol.md. */
#ifndef NETCORE_LOBBY_INTERNAL_H
#define NETCORE_LOBBY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/lobby.h"

/* Every frame: u32 little-endian body length, then the body (type byte first). */
#define NCI_LOBBY_LENGTH_BYTES 4
#define NCI_LOBBY_MAGIC 0x424c434eu /* bytes 'N' 'C' 'L' 'B' in little-endian order */
#define NCI_LOBBY_FRAME_HARD_MAX 1048576u

typedef enum nci_lobby_type {
    /* client -> server */
    NCI_LOBBY_HELLO = 0x01,
    NCI_LOBBY_RECONNECT = 0x02,
    NCI_LOBBY_LIST_ROOMS = 0x03,
    NCI_LOBBY_CREATE_ROOM = 0x04,
    NCI_LOBBY_JOIN_ROOM = 0x05,
    NCI_LOBBY_LEAVE_ROOM = 0x06,
    NCI_LOBBY_CHAT = 0x07,
    NCI_LOBBY_SET_READY = 0x08,
    NCI_LOBBY_KICK = 0x09,
    NCI_LOBBY_START_MATCH = 0x0a,
    NCI_LOBBY_END_MATCH = 0x0b,
    NCI_LOBBY_PING = 0x0c,
    NCI_LOBBY_GOODBYE = 0x0d,
    /* server -> client */
    NCI_LOBBY_WELCOME = 0x81,
    NCI_LOBBY_ROOM_LIST = 0x82,
    NCI_LOBBY_ROOM_STATE = 0x83,
    NCI_LOBBY_CHAT_MESSAGE = 0x84,
    NCI_LOBBY_MATCH_START = 0x85,
    NCI_LOBBY_MATCH_END = 0x86,
    NCI_LOBBY_ROOM_LEFT = 0x87,
    NCI_LOBBY_PONG = 0x8c,
    NCI_LOBBY_ERROR = 0x8f
} nci_lobby_type;

/* One decoded message. Only the member named by type is meaningful. Strings
 * are NUL-terminated, valid UTF-8 without control characters. */
typedef struct nci_lobby_msg {
    uint8_t type;
    union {
        struct {
            uint16_t version;
            char nickname[NETCORE_LOBBY_NAME_MAX + 1];
        } hello;
        struct {
            uint16_t version;
            uint8_t token[NETCORE_LOBBY_RECONNECT_TOKEN_BYTES];
        } reconnect;
        netcore_lobby_room_filter list_rooms;
        netcore_lobby_room_params create_room;
        struct {
            uint32_t room_id;
            char password[NETCORE_LOBBY_PASSWORD_MAX + 1];
        } join_room;
        struct {
            uint8_t scope;
            char text[NETCORE_LOBBY_CHAT_MAX + 1];
        } chat;
        bool ready;
        uint64_t kick_client_id;
        uint64_t ping_value; /* PING and PONG */
        struct {
            uint16_t version;
            uint64_t client_id;
            uint8_t reconnect_token[NETCORE_LOBBY_RECONNECT_TOKEN_BYTES];
            uint32_t reconnect_grace_s;
            char nickname[NETCORE_LOBBY_NAME_MAX + 1];
            bool resumed;
        } welcome;
        struct {
            uint16_t total;
            uint16_t offset;
            uint8_t count;
            netcore_lobby_room_summary rooms[NETCORE_LOBBY_LIST_MAX];
        } room_list;
        netcore_lobby_room_state room_state;
        struct {
            uint8_t scope;
            uint64_t from_id;
            char from_nickname[NETCORE_LOBBY_NAME_MAX + 1];
            char text[NETCORE_LOBBY_CHAT_MAX + 1];
        } chat_message;
        netcore_lobby_match_start match_start;
        uint64_t match_end_id;
        struct {
            uint32_t room_id;
            uint8_t reason;
        } room_left;
        struct {
            uint16_t code;
            uint8_t request_type;
            char text[NETCORE_LOBBY_ERROR_TEXT_MAX + 1];
        } error;
    } u;
} nci_lobby_msg;

typedef enum nci_lobby_frame_status {
    NCI_LOBBY_FRAME_NEED_MORE = 0, /* fewer bytes than the prefix says */
    NCI_LOBBY_FRAME_READY,         /* *out_body_size bytes of body follow the prefix */
    NCI_LOBBY_FRAME_TOO_LARGE,     /* prefix above max_body_bytes */
    NCI_LOBBY_FRAME_EMPTY          /* prefix 0: no room for the type byte */
} nci_lobby_frame_status;

/* Looks at the start of a receive buffer. Never reads past available_bytes. */
nci_lobby_frame_status nci_lobby_frame_peek(const uint8_t *buffer, size_t available_bytes,
                                            size_t max_body_bytes, size_t *out_body_size);

/*
 * Writes msg as a whole frame (prefix + body) into buffer. Validates every
 * field against the protocol's limits first, so a peer never receives what its
 * decoder would refuse. Errors: NETCORE_ERR_INVALID_ARGUMENT (a field outside
 * its limit, unknown type), NETCORE_ERR_TOO_LARGE (buffer too small).
 */
netcore_result nci_lobby_encode(const nci_lobby_msg *msg, uint8_t *buffer, size_t buffer_size,
                                size_t *out_frame_size);

/*
 * Decodes one frame body (without the prefix). Every length, count, enum,
 * string (UTF-8, no control bytes) and trailing byte is checked.
 * Errors: NETCORE_ERR_MALFORMED. *out_msg is unspecified on error.
 */
netcore_result nci_lobby_decode(const uint8_t *body, size_t body_size, nci_lobby_msg *out_msg);

/* True when text is at most max_bytes of valid UTF-8 without control bytes
 * and, if require_nonempty, not empty. */
bool nci_lobby_text_valid(const char *text, size_t max_bytes, bool require_nonempty);

#endif /* NETCORE_LOBBY_INTERNAL_H */
