/* Adaptive binary range coder: see range_coder.h and docs/snapshot-format.md. */
#include "replication/range_coder.h"

/* ---- encoder ---- */

static void put_byte(nci_range_encoder *enc, uint8_t byte)
{
    if (enc->skip_first) {
        enc->skip_first = false;
        return;
    }
    if (enc->pos < enc->capacity && enc->zeros_past_end == 0) {
        enc->buf[enc->pos++] = byte;
    } else if (byte == 0) {
        enc->zeros_past_end++; /* fine if nothing but zeros follows (dropped at the end) */
    } else {
        enc->failed = true;
    }
}

/* Moves the top byte of low out, holding back 0xff bytes until it is known
 * whether a carry will turn them into 0x00 (and the byte before into +1). */
void nci_range_shift_low(nci_range_encoder *enc)
{
    if ((uint32_t)enc->low < 0xff000000u || (enc->low >> 32) != 0) {
        uint8_t carry = (uint8_t)(enc->low >> 32);
        uint8_t byte = enc->cache;
        do {
            put_byte(enc, (uint8_t)(byte + carry));
            byte = 0xff;
        } while (--enc->cache_size != 0);
        enc->cache = (uint8_t)(enc->low >> 24);
    }
    enc->cache_size++;
    enc->low = (enc->low & 0x00ffffffu) << 8;
}

void nci_range_encoder_init(nci_range_encoder *enc, void *buffer, size_t capacity_bytes)
{
    enc->buf = buffer;
    enc->capacity = capacity_bytes;
    enc->pos = 0;
    enc->zeros_past_end = 0;
    enc->low = 0;
    enc->range = 0xffffffffu;
    enc->cache = 0;
    enc->cache_size = 1;
    enc->skip_first = true;
    enc->failed = false;
    enc->dropped = 0;
}

void nci_range_encode_direct(nci_range_encoder *enc, uint32_t value, unsigned bits)
{
    while (bits-- > 0) {
        enc->range >>= 1;
        if ((value >> bits) & 1u)
            enc->low += enc->range;
        while (enc->range < NCI_RC_TOP) {
            enc->range <<= 8;
            nci_range_shift_low(enc);
        }
    }
}

size_t nci_range_encoder_finish(nci_range_encoder *enc)
{
    /* Any value in [low, low + range) decodes the same symbols: take the one
     * with the most trailing zero bits (a multiple of the largest power of
     * two that still lands inside), so the zero bytes at the end can go. */
    uint64_t end = enc->low + enc->range;
    for (unsigned k = 32; k > 0; k--) {
        uint64_t step = (uint64_t)1 << k;
        uint64_t v = (enc->low + step - 1) & ~(step - 1);
        if (v < end) {
            enc->low = v;
            break;
        }
    }
    for (int i = 0; i < 5; i++)
        nci_range_shift_low(enc);
    /* Drop up to NCI_RC_MAX_PAD_BYTES trailing zeros, the ones that did not fit first. */
    unsigned dropped = 0;
    while (dropped < NCI_RC_MAX_PAD_BYTES && enc->zeros_past_end > 0) {
        enc->zeros_past_end--;
        dropped++;
    }
    while (dropped < NCI_RC_MAX_PAD_BYTES && enc->zeros_past_end == 0 && enc->pos > 0 &&
           enc->buf[enc->pos - 1] == 0) {
        enc->pos--;
        dropped++;
    }
    if (enc->zeros_past_end > 0)
        enc->failed = true;
    enc->dropped = dropped;
    return enc->failed ? 0 : enc->pos;
}

/* ---- decoder ---- */

uint8_t nci_range_next_byte(nci_range_decoder *dec)
{
    size_t at = dec->pos++;
    if (at < dec->size)
        return dec->buf[at];
    if (dec->pos - dec->size > NCI_RC_MAX_PAD_BYTES)
        dec->failed = true; /* more than an encoder can have dropped */
    return 0;
}

void nci_range_decoder_init(nci_range_decoder *dec, const void *bytes, size_t size_bytes)
{
    dec->buf = bytes;
    dec->size = size_bytes;
    dec->pos = 0;
    dec->range = 0xffffffffu;
    dec->code = 0;
    dec->failed = false;
    for (int i = 0; i < 4; i++)
        dec->code = (dec->code << 8) | nci_range_next_byte(dec);
    /* code < range holds for every encoder output and is kept by every step
     * below; input that breaks it is rejected here, once. */
    if (dec->code == 0xffffffffu)
        dec->failed = true;
}

uint32_t nci_range_decode_direct(nci_range_decoder *dec, unsigned bits)
{
    uint32_t value = 0;
    while (bits-- > 0 && !dec->failed) {
        dec->range >>= 1;
        unsigned bit = dec->code >= dec->range;
        if (bit)
            dec->code -= dec->range;
        value = (value << 1) | bit;
        nci_range_decoder_normalize(dec);
    }
    return dec->failed ? 0 : value;
}

bool nci_range_decoder_finish(const nci_range_decoder *dec, unsigned dropped_bytes)
{
    return !dec->failed && dec->pos >= dec->size && dec->pos - dec->size == dropped_bytes;
}
