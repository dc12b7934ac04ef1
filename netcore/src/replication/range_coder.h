/* Adaptive binary range coder for the range-coded snapshot format
 * (docs/snapshot-format.md, "Range-coded snapshots"). Integer arithmetic
 * only, so both ends compute the same bits on any compiler:
 *   - 32-bit range, 12-bit probabilities, byte-wise renormalisation when the
 *     range falls below 2^24, carries propagated through a pending byte
 *     and a count of 0xff bytes behind it;
 *   - the coder's first byte (always 0) is not sent, and the final flush picks
 *     the value of the last interval with the most trailing zero bytes, up to
 *     four of which are dropped: the decoder reads zeros past the end.
 * A model is one probability with its own learning rate: it adapts quickly
 * while it has seen few symbols and settles at 1/32 per symbol, so models
 * that start fresh every snapshot still learn within a few dozen symbols. */
#ifndef NETCORE_RANGE_CODER_H
#define NETCORE_RANGE_CODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NCI_RC_PROB_BITS 12u
/* Bytes the decoder may read past the end of its input (the dropped zeros). */
#define NCI_RC_MAX_PAD_BYTES 4u

/* An adaptive binary model in 16 bits: the low 12 the probability of a 0 in
 * 1/4096 XOR 2048, the high 4 the symbols seen (saturating at 15: picks the
 * learning rate). All-zero bytes are the initial state (probability 1/2,
 * nothing seen), so a block of models resets with memset. */
typedef struct nci_bit_model {
    uint16_t state;
} nci_bit_model;

typedef struct nci_range_encoder {
    uint8_t *buf;
    size_t capacity, pos;
    size_t zeros_past_end; /* zero bytes that did not fit (droppable if trailing) */
    uint64_t low;
    uint32_t range;
    uint8_t cache;
    uint64_t cache_size; /* the pending byte plus the 0xff bytes behind it */
    bool skip_first;     /* the first byte out is always 0 and is not sent */
    bool failed;
    unsigned dropped; /* trailing zero bytes dropped by finish (0..NCI_RC_MAX_PAD_BYTES) */
} nci_range_encoder;

typedef struct nci_range_decoder {
    const uint8_t *buf;
    size_t size;
    size_t pos; /* bytes consumed, counting the zeros read past the end */
    uint32_t range, code;
    bool failed;
} nci_range_decoder;

/* Codes into buffer[0 .. capacity_bytes). */
void nci_range_encoder_init(nci_range_encoder *enc, void *buffer, size_t capacity_bytes);
static inline void nci_range_encode_bit(nci_range_encoder *enc, nci_bit_model *model, unsigned bit);
/* The low `bits` (0..32) bits of value, each with probability 1/2, top bit first. */
void nci_range_encode_direct(nci_range_encoder *enc, uint32_t value, unsigned bits);
/* Flushes; returns the bytes written, or 0 with enc->failed set when the
 * code did not fit the capacity. enc->dropped gets the number of trailing
 * zero bytes left out, which the decoder must be told (a truncated input then
 * reads a different number of zeros past its end and is rejected). */
size_t nci_range_encoder_finish(nci_range_encoder *enc);

/* Starts decoding size_bytes of untrusted input; a first code word no encoder
 * can produce fails the decoder (sticky; the decode functions then return 0). */
void nci_range_decoder_init(nci_range_decoder *dec, const void *bytes, size_t size_bytes);
static inline unsigned nci_range_decode_bit(nci_range_decoder *dec, nci_bit_model *model);
uint32_t nci_range_decode_direct(nci_range_decoder *dec, unsigned bits);
/* After the last symbol: true when the decoder consumed exactly the input plus
 * the dropped_bytes zeros the encoder left out, and never failed. */
bool nci_range_decoder_finish(const nci_range_decoder *dec, unsigned dropped_bytes);

/* ---- the per-bit paths, inline: a snapshot codes thousands of bits ---- */

#define NCI_RC_TOP (1u << 24)

/* Moves the top byte of low out (carry handling); once per output byte. */
void nci_range_shift_low(nci_range_encoder *enc);
/* The next input byte, or 0 past the end (counted; failing after the pad). */
uint8_t nci_range_next_byte(nci_range_decoder *dec);

static inline uint32_t nci_bit_model_p(const nci_bit_model *m)
{
    return (uint32_t)((m->state & ((1u << NCI_RC_PROB_BITS) - 1u)) ^
                      (1u << (NCI_RC_PROB_BITS - 1)));
}

/* Moves the probability towards the symbol by a shift that grows with the
 * symbols seen: 1 (the first), 2 (2nd-3rd), 3 (4th-7th), 4 (8th-15th), then 5.
 * It stays within [1, 4095], so neither sub-interval is ever empty. */
static inline void nci_bit_model_update(nci_bit_model *m, uint32_t p, unsigned bit)
{
    unsigned seen = m->state >> NCI_RC_PROB_BITS;
    unsigned shift = seen == 0 ? 1u : seen < 3 ? 2u : seen < 7 ? 3u : seen < 15 ? 4u : 5u;
    if (seen < 15)
        seen++;
    if (bit)
        p -= p >> shift;
    else
        p += ((1u << NCI_RC_PROB_BITS) - p) >> shift;
    m->state = (uint16_t)(seen << NCI_RC_PROB_BITS | (p ^ (1u << (NCI_RC_PROB_BITS - 1))));
}

static inline void nci_range_encode_bit(nci_range_encoder *enc, nci_bit_model *model, unsigned bit)
{
    uint32_t p = nci_bit_model_p(model);
    uint32_t bound = (enc->range >> NCI_RC_PROB_BITS) * p;
    if (bit) {
        enc->low += bound;
        enc->range -= bound;
    } else {
        enc->range = bound;
    }
    nci_bit_model_update(model, p, bit);
    while (enc->range < NCI_RC_TOP) {
        enc->range <<= 8;
        nci_range_shift_low(enc);
    }
}

static inline void nci_range_decoder_normalize(nci_range_decoder *dec)
{
    while (dec->range < NCI_RC_TOP) {
        dec->range <<= 8;
        dec->code = (dec->code << 8) | nci_range_next_byte(dec);
    }
}

static inline unsigned nci_range_decode_bit(nci_range_decoder *dec, nci_bit_model *model)
{
    if (dec->failed)
        return 0;
    uint32_t p = nci_bit_model_p(model);
    uint32_t bound = (dec->range >> NCI_RC_PROB_BITS) * p;
    unsigned bit;
    if (dec->code < bound) {
        dec->range = bound;
        bit = 0;
    } else {
        dec->code -= bound;
        dec->range -= bound;
        bit = 1;
    }
    nci_bit_model_update(model, p, bit);
    nci_range_decoder_normalize(dec);
    return bit;
}

#endif /* NETCORE_RANGE_CODER_H */
