/** @file
 * @brief netcore — networking for real-time multiplayer games: results,
 * allocators, logging, version and process-wide initialisation.
 *
 * Core conventions shared by every module:
 *   - Every public name starts with netcore_ / NETCORE_.
 *   - Objects are opaque handles made by netcore_MODULE_create() from a config
 *     struct that netcore_MODULE_config_default() fills; the config is copied.
 *   - Functions return a netcore_result (NETCORE_OK == 0) and write results
 *     through out-parameters. netcore_result_str() names every code.
 *   - Time is passed in by the caller wherever a module can be driven by an
 *     injected clock; units are in the names (_ms, _us, _kbps).
 *   - Threading: netcore is single-threaded. An object must only be used by one
 *     thread at a time; different objects may live on different threads.
 *   - Bytes from the network are never trusted: they are bounds-checked,
 *     rejected and counted in stats, never asserted on.
 */
#ifndef NETCORE_NETCORE_H
#define NETCORE_NETCORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major version of these headers; 0 while the API may still change between minor versions. */
#define NETCORE_VERSION_MAJOR 0
/** Minor version of these headers. */
#define NETCORE_VERSION_MINOR 2
/** Patch version of these headers. */
#define NETCORE_VERSION_PATCH 0
/** Version of these headers as text, "MAJOR.MINOR.PATCH". */
#define NETCORE_VERSION_STRING "0.2.0"
/** Version packed as 0x00MMmmpp, comparable with <, e.g. NETCORE_VERSION >= NETCORE_MAKE_VERSION(0, 1, 0). */
#define NETCORE_MAKE_VERSION(major, minor, patch)                                                  \
    ((uint32_t)(((major) << 16) | ((minor) << 8) | (patch)))
/** Version of these headers, packed by NETCORE_MAKE_VERSION(). */
#define NETCORE_VERSION                                                                            \
    NETCORE_MAKE_VERSION(NETCORE_VERSION_MAJOR, NETCORE_VERSION_MINOR, NETCORE_VERSION_PATCH)

/** Version of the library actually linked (may differ from the header's NETCORE_VERSION). */
uint32_t netcore_version(void);
/** Same, as a static string such as "0.2.0". Never NULL; do not free. */
const char *netcore_version_string(void);

/** Result of every fallible netcore call: 0 is success, the rest name what
 * went wrong. Each function's comment lists the codes it returns. */
typedef enum netcore_result {
    NETCORE_OK = 0,               /**< success */
    NETCORE_ERR_INVALID_ARGUMENT, /**< NULL where an object is required, out-of-range value */
    NETCORE_ERR_OUT_OF_MEMORY,    /**< the allocator returned NULL */
    NETCORE_ERR_NOT_INITIALIZED,  /**< netcore_init() was not called */
    NETCORE_ERR_SOCKET,           /**< socket, bind or send failed in the operating system */
    NETCORE_ERR_ADDRESS,          /**< an address could not be parsed or resolved */
    NETCORE_ERR_FULL,          /**< a fixed-size table or queue has no room (peers, rooms, ...) */
    NETCORE_ERR_NOT_CONNECTED, /**< the peer or connection is gone or not yet admitted */
    NETCORE_ERR_TOO_LARGE,     /**< a message exceeds the configured maximum */
    NETCORE_ERR_MALFORMED,     /**< bytes failed validation (bad length, bad field, overflow) */
    NETCORE_ERR_MISMATCH,      /**< version or schema hash differs between the two ends */
    NETCORE_ERR_UNSUPPORTED,   /**< the backend or build does not offer this */
    NETCORE_ERR_BACKEND,       /**< the underlying library (ENet, libsodium) failed */
    NETCORE_ERR_TIMEOUT,       /**< a deadline passed */
    NETCORE_ERR_AUTH,          /**< authentication failed (forged or tampered data) */
    NETCORE_ERR_EXPIRED,       /**< a token or grant is past its expiry */
    NETCORE_ERR_REPLAYED,      /**< a single-use token was presented twice */
    NETCORE_ERR_NOT_FOUND,     /**< no object with that id or name */
    NETCORE_ERR_STATE,         /**< the call is not valid in the object's current state */
    NETCORE_RESULT_COUNT       /**< number of codes; not a result */
} netcore_result;

/** Short English name of a result code, e.g. "out of memory". Never NULL; static storage. */
const char *netcore_result_str(netcore_result result);

/**
 * Allocator, set per instance in each module's config. Both functions are
 * required when the struct is used; a zeroed struct means malloc/free.
 * alloc returns memory aligned for any object type, or NULL on failure.
 */
typedef struct netcore_allocator {
    void *(*alloc)(void *user, size_t size_bytes); /**< size_bytes > 0; NULL on failure */
    void (*free)(void *user, void *ptr);           /**< ptr may be NULL */
    void *user; /**< passed to both functions unchanged; netcore never reads it */
} netcore_allocator;

/** Severity of a log message, and the minimum a netcore_log passes on. */
typedef enum netcore_log_level {
    NETCORE_LOG_DEBUG = 0, /**< per-event detail for debugging */
    NETCORE_LOG_INFO,      /**< lifecycle: created, connected, stopped */
    NETCORE_LOG_WARN,      /**< something was refused or dropped (hostile or broken input) */
    NETCORE_LOG_ERROR,     /**< a call failed (socket, backend, memory) */
    NETCORE_LOG_NONE       /**< as a minimum level: log nothing */
} netcore_log_level;

/** Log callback. message is NUL-terminated, without a trailing newline, valid
 * only during the call. */
typedef void (*netcore_log_fn)(void *user, netcore_log_level level, const char *message);

/** Logging, set per instance in each module's config. A zeroed struct logs
 * nothing. Messages below min_level are not formatted at all. */
typedef struct netcore_log {
    netcore_log_fn fn;           /**< NULL: log nothing */
    void *user;                  /**< passed to fn unchanged */
    netcore_log_level min_level; /**< messages below this level are dropped */
} netcore_log;

/** A log callback that writes "[netcore LEVEL] message" lines to stderr; user is ignored. */
void netcore_log_stderr(void *user, netcore_log_level level, const char *message);

/**
 * Process-wide initialisation of the backends (ENet). Reference-counted: each
 * successful netcore_init() must be matched by one netcore_shutdown(). Call it
 * from one thread before creating hosts. Returns NETCORE_ERR_BACKEND if ENet
 * fails to initialise.
 */
netcore_result netcore_init(void);
/** Releases one reference taken by a successful netcore_init(); the backends
 * are shut down with the last one. Destroy every host first. Calling it more
 * often than netcore_init() succeeded does nothing. */
void netcore_shutdown(void);

/** Monotonic wall clock in microseconds since an arbitrary start. Only the ENet
 * backend, tools and games read it; every other module takes time as a parameter. */
uint64_t netcore_time_now_us(void);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_NETCORE_H */
