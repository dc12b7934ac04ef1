/** @file
 * netcore input: fixed-tick input commands from clients to the server.
 *
 * An input is opaque to netcore: input_size_bytes bytes the game fills each
 * tick (buttons, stick axes, aim, the render tick for lag compensation...).
 * The client sends one packet every tick, unreliably, holding every input the
 * server has not yet acknowledged (up to max_redundancy of them and one MTU),
 * so a lost packet costs nothing as long as a later one arrives in time. The
 * packet also carries a small opaque acknowledgement blob (normally the
 * snapshot ack from netcore_snapshot_client_write_ack()), so one datagram a
 * tick flows each way.
 *
 * The server keeps a short buffer per client and asks for the input of each
 * tick as it simulates it (netcore_input_server_take). A tick whose input has
 * not arrived repeats the client's previous input (counted); late, duplicated
 * and repeated copies are counted and ignored.
 *
 * Acknowledgement path (how the client learns what the server processed):
 * netcore_input_server_last_tick() gives the newest input tick applied for a
 * client. The game writes it into a 32-bit unsigned INT field of that
 * client's controlled entity, in the same tick it writes the entity's state,
 * so every snapshot pairs "state after input tick T" with T. The client reads
 * it back, passes T to netcore_input_client_ack() (stop resending) and to
 * netcore_predict_reconcile() (compare its prediction at T).
 *
 * Packet layout (little-endian, byte aligned): version (1 byte, 1), ack size
 * (1 byte, 0..NETCORE_INPUT_MAX_ACK_BYTES), ack bytes, newest tick (4 bytes),
 * input count n (1 byte, 1..NETCORE_INPUT_MAX_REDUNDANCY), a bit mask of
 * ceil(n / 8) bytes (bit i set: input i equals input i - 1 and is not sent;
 * bit 0 is always clear), then the inputs not repeated, oldest first.
 * Input i (0 = oldest) is for tick newest - (n - 1) + i. Nothing may follow.
 *
 * Memory is allocated at create only. Single-threaded.
 */
#ifndef NETCORE_INPUT_H
#define NETCORE_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/netcore.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NETCORE_INPUT_MAX_SIZE 256      /**< bytes of one input */
#define NETCORE_INPUT_MAX_ACK_BYTES 16  /**< bytes of the carried ack blob */
#define NETCORE_INPUT_MAX_REDUNDANCY 64 /**< inputs in one packet */
/** Version byte of the input packet format; a packet of another version is malformed. */
#define NETCORE_INPUT_VERSION 1

/* ------------------------------------------------------------------ */
/* Packet codec                                                        */
/* ------------------------------------------------------------------ */

/** What netcore_input_decode() found in a packet; the inputs themselves go to
 * the caller's buffer. A plain value. */
typedef struct netcore_input_packet {
    uint32_t newest_tick;  /**< tick of the newest (last) input */
    uint32_t count;        /**< inputs decoded, oldest first */
    const uint8_t *ack;    /**< points into the decoded bytes; NULL when ack_size_bytes is 0 */
    size_t ack_size_bytes; /**< bytes of the ack blob, 0..NETCORE_INPUT_MAX_ACK_BYTES */
} netcore_input_packet;

/** Bytes of a packet holding `count` inputs of input_size_bytes, none repeated,
 * with an ack blob of ack_size_bytes. */
size_t netcore_input_packet_size(uint32_t input_size_bytes, uint32_t count, size_t ack_size_bytes);

/**
 * Decodes a packet (untrusted bytes) of inputs of input_size_bytes each.
 * The inputs, oldest first, go to out_inputs (count * input_size_bytes bytes;
 * out_capacity_bytes must hold NETCORE_INPUT_MAX_REDUNDANCY inputs or more to
 * accept every valid packet: a packet that does not fit is rejected). Nothing
 * is allocated and nothing beyond size_bytes is read.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, input_size_bytes outside
 * 1..NETCORE_INPUT_MAX_SIZE), NETCORE_ERR_MALFORMED (bad version, sizes,
 * counts, mask, truncated or trailing bytes), NETCORE_ERR_TOO_LARGE (more
 * inputs than out_capacity_bytes holds).
 */
netcore_result netcore_input_decode(const void *bytes, size_t size_bytes, uint32_t input_size_bytes,
                                    uint8_t *out_inputs, size_t out_capacity_bytes,
                                    netcore_input_packet *out_packet);

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

/** Opaque handle: made by netcore_input_client_create(), freed by netcore_input_client_destroy(). */
typedef struct netcore_input_client netcore_input_client;

/** Settings of a netcore_input_client: fill with netcore_input_client_config_default(), change
 * what you need, pass to netcore_input_client_create() (which copies it). */
typedef struct netcore_input_client_config {
    netcore_allocator allocator; /**< memory for this object; zeroed: malloc and free */
    uint32_t input_size_bytes;   /**< default 8; 1..NETCORE_INPUT_MAX_SIZE */
    uint32_t
        max_redundancy; /**< inputs per packet at most, default 32; 1..NETCORE_INPUT_MAX_REDUNDANCY */
    /** Packet size limit in bytes, default 1200; at least one packet of 1
     *  input. Over a netcore_host, pass netcore_host_max_unfragmented_bytes()
     *  so that a packet is never fragmented (the session layer does). */
    uint32_t mtu_bytes;
} netcore_input_client_config;

/** Counters of a netcore_input_client since it was created (read with
 * netcore_input_client_get_stats()). A plain value. */
typedef struct netcore_input_client_stats {
    uint64_t inputs_added;    /**< netcore_input_client_add calls accepted */
    uint64_t ticks_filled;    /**< ticks skipped by the caller, filled with the previous input */
    uint64_t packets_written; /**< packets netcore_input_client_write wrote */
    uint64_t inputs_written;  /**< copies sent, redundant ones included */
    uint32_t acked_tick;      /**< newest tick the server reported */
} netcore_input_client_stats;

/** Fills *config with the defaults given on each field. NULL is ignored. */
void netcore_input_client_config_default(netcore_input_client_config *config);
/** Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result netcore_input_client_create(const netcore_input_client_config *config,
                                           netcore_input_client **out_client);
/** NULL is ignored. */
void netcore_input_client_destroy(netcore_input_client *client);
/** Forgets every input and the ack (e.g. on reconnect). NULL is ignored. */
void netcore_input_client_reset(netcore_input_client *client);

/** Records the input (input_size_bytes, copied) for `tick`. Ticks must rise;
 * skipped ticks are filled with the previous input (what the server repeats
 * for them anyway). Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL),
 * NETCORE_ERR_STATE (tick not newer than the newest). */
netcore_result netcore_input_client_add(netcore_input_client *client, uint32_t tick,
                                        const void *input);

/** The server has processed every input up to `tick`; older acks are ignored.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_input_client_ack(netcore_input_client *client, uint32_t tick);

/** Writes a packet with the newest input and the unacknowledged ones before it
 * (at most max_redundancy, as many as fit in min(size_bytes, mtu_bytes)), and
 * the ack blob (may be NULL when ack_size_bytes is 0).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, ack above
 * NETCORE_INPUT_MAX_ACK_BYTES), NETCORE_ERR_STATE (no input yet),
 * NETCORE_ERR_TOO_LARGE (not even one input fits). */
netcore_result netcore_input_client_write(netcore_input_client *client, const void *ack,
                                          size_t ack_size_bytes, void *buffer, size_t size_bytes,
                                          size_t *out_written);

/** Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_input_client_get_stats(const netcore_input_client *client,
                                              netcore_input_client_stats *out_stats);

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

/** Opaque handle: made by netcore_input_server_create(), freed by netcore_input_server_destroy(). */
typedef struct netcore_input_server netcore_input_server;

/** Settings of a netcore_input_server: fill with netcore_input_server_config_default(), change
 * what you need, pass to netcore_input_server_create() (which copies it). */
typedef struct netcore_input_server_config {
    netcore_allocator allocator; /**< memory for this object; zeroed: malloc and free */
    netcore_log log;             /**< where messages go; zeroed: nowhere */
    uint32_t input_size_bytes;   /**< default 8; 1..NETCORE_INPUT_MAX_SIZE */
    uint32_t max_clients;        /**< default 16; 1..4096; clients are 0 .. max_clients - 1 */
    uint32_t buffer_ticks;       /**< inputs held ahead per client, default 64; 2..1024 */
} netcore_input_server_config;

/** Where the input handed out for a tick came from. */
typedef enum netcore_input_source {
    NETCORE_INPUT_RECEIVED = 0, /**< the client's own input for that tick */
    NETCORE_INPUT_REPEATED,     /**< missing: the previous input again */
    NETCORE_INPUT_EMPTY         /**< missing and none ever received: all zero bytes */
} netcore_input_source;

/** Counters of a netcore_input_server since it was created (read with
 * netcore_input_server_get_stats()). A plain value. */
typedef struct netcore_input_server_stats {
    uint64_t packets_received; /**< packets passed to the server */

    uint64_t packets_rejected; /**< failed netcore_input_decode */
    uint64_t inputs_received;  /**< new inputs stored */
    uint64_t inputs_redundant; /**< copies of inputs already stored or processed */
    uint64_t inputs_late;      /**< arrived after their tick was processed with a repeat */
    uint64_t inputs_too_far;   /**< more than buffer_ticks ahead of the last processed tick */
    uint64_t ticks_received;   /**< ticks processed with the client's input */
    uint64_t ticks_repeated;   /**< ticks processed with a repeated input */
    uint64_t ticks_empty;      /**< ticks processed before any input arrived */
    uint32_t last_tick;        /**< newest tick processed (valid when ticks_* > 0) */
} netcore_input_server_stats;

/** Fills *config with the defaults given on each field. NULL is ignored. */
void netcore_input_server_config_default(netcore_input_server_config *config);
/** Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result netcore_input_server_create(const netcore_input_server_config *config,
                                           netcore_input_server **out_server);
/** NULL is ignored. */
void netcore_input_server_destroy(netcore_input_server *server);

/** Clears one client's buffer, last input and counters (call it when a player
 * takes the slot). Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, client out of range). */
netcore_result netcore_input_server_client_reset(netcore_input_server *server, uint32_t client);

/** Reads one packet from a client (untrusted bytes) into its buffer. The
 * carried ack blob is returned through *out_ack / *out_ack_size_bytes (either
 * may be NULL), pointing into `bytes`. Errors: NETCORE_ERR_INVALID_ARGUMENT
 * (NULL server, client out of range), NETCORE_ERR_MALFORMED (rejected, counted). */
netcore_result netcore_input_server_read(netcore_input_server *server, uint32_t client,
                                         const void *bytes, size_t size_bytes,
                                         const uint8_t **out_ack, size_t *out_ack_size_bytes);

/** Hands out the input for the client's `tick` (input_size_bytes into
 * out_input) and marks it processed; *out_source (may be NULL) says where it
 * came from. Ticks must rise per client; skipped ticks are not counted.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_STATE (tick not newer
 * than the last processed one; nothing is written). */
netcore_result netcore_input_server_take(netcore_input_server *server, uint32_t client,
                                         uint32_t tick, void *out_input,
                                         netcore_input_source *out_source);

/** Newest input tick processed for the client (to send back in snapshots, see
 * the top of this file). Errors: NETCORE_ERR_INVALID_ARGUMENT,
 * NETCORE_ERR_NOT_FOUND (no tick processed yet). */
netcore_result netcore_input_server_last_tick(const netcore_input_server *server, uint32_t client,
                                              uint32_t *out_tick);

/** Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_input_server_get_client_stats(const netcore_input_server *server,
                                                     uint32_t client,
                                                     netcore_input_server_stats *out_stats);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_INPUT_H */
