/* Fuzz target: token opening and validation must never crash, read out of
 * bounds or accept bytes that were not made with the key. The input is a
 * presented token; inputs of the right size mostly fail authentication, so the
 * target also re-seals the input's body bytes as user data to reach the
 * decoder's accept path. */
#include <stdint.h>
#include <string.h>

#include "netcore/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_key[NETCORE_TOKEN_KEY_BYTES] = {
    0x6e, 0x65, 0x74, 0x63, 0x6f, 0x72, 0x65, 0x20, 0x66, 0x75, 0x7a, 0x7a, 0x20, 0x6b, 0x65, 0x79,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    netcore_token_validator_config cfg;
    netcore_token_validator_config_default(&cfg);
    memcpy(cfg.key, fuzz_key, sizeof cfg.key);
    cfg.server_address = netcore_address_ipv4(127, 0, 0, 1, 7778);
    cfg.replay_capacity = 4;
    netcore_token_validator *validator = NULL;
    if (netcore_token_validator_create(&cfg, &validator) != NETCORE_OK)
        return 0;

    netcore_token_info info;
    netcore_result opened = netcore_token_open(fuzz_key, data, size, &info);
    netcore_result validated = netcore_token_validate(validator, data, size, 1000, NULL);
    /* Bytes not sealed with the key must never pass. The seed corpus holds
     * real tokens, so an accepted input is legitimate only if it opened. */
    if (validated == NETCORE_OK && opened != NETCORE_OK)
        __builtin_trap();
    (void)netcore_token_connect_proof(fuzz_key, data, size, &cfg.server_address);

    /* Accept path: build a genuine token whose fields come from the input. */
    if (size >= 20) {
        netcore_token_params params;
        memset(&params, 0, sizeof params);
        memcpy(&params.client_id, data, 8);
        memcpy(&params.match_id, data + 8, 8);
        params.server_address = cfg.server_address;
        params.create_time_s = 990 + data[16] % 20;
        params.lifetime_s = 1 + data[17] % 60;
        params.user_data = data + 20;
        params.user_data_size_bytes = (size - 20) % (NETCORE_TOKEN_USER_DATA_MAX + 1);
        if (params.user_data_size_bytes > size - 20)
            params.user_data_size_bytes = size - 20;
        /* Never zero (refused): both keys from input bytes. */
        memset(params.session_keys.client_to_server, data[18] | 1, NETCORE_SESSION_KEY_BYTES);
        memset(params.session_keys.server_to_client, data[19] | 2, NETCORE_SESSION_KEY_BYTES);
        uint8_t token[NETCORE_TOKEN_BYTES];
        if (netcore_token_create(fuzz_key, &params, token) == NETCORE_OK) {
            netcore_result first =
                netcore_token_validate(validator, token, sizeof token, 1000, &info);
            if (first == NETCORE_OK &&
                (info.client_id != params.client_id ||
                 info.user_data_size_bytes != params.user_data_size_bytes ||
                 memcmp(&info.session_keys, &params.session_keys, sizeof info.session_keys) != 0 ||
                 info.bound_address.family != NETCORE_ADDRESS_NONE))
                __builtin_trap();
            if (first == NETCORE_OK && netcore_token_validate(validator, token, sizeof token, 1000,
                                                              NULL) != NETCORE_ERR_REPLAYED)
                __builtin_trap();
        }
    }
    netcore_token_validator_destroy(validator);
    return 0;
}
