/*
 * sha256.c -- minimal portable SHA-256 (FIPS 180-4), internal to CSv2Native.
 * See sha256.h. Used for the ElligatorSwift encoding PRNG (BIP324 section
 * "ElligatorSwift encoding of curve X coordinates", realised the way
 * libsecp256k1's secp256k1_ellswift_encode/_create derive their randomness)
 * and the BIP324 x-only ECDH tagged hash.
 */
#include "sha256.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

const uint32_t sv2_sha256_k[64] __attribute__((aligned(16))) = {SV2_SHA256_K_VALUES};

#define SV2_ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sv2_sha256_transform_portable(uint32_t s[8], const uint8_t *block) {
    uint32_t w[64], a, b, c, d, e, f, g, h;
    int i;
    for (i = 0; i < 16; i++) {
        w[i] = ((uint32_t)block[4 * i] << 24) | ((uint32_t)block[4 * i + 1] << 16) |
               ((uint32_t)block[4 * i + 2] << 8) | (uint32_t)block[4 * i + 3];
    }
    for (i = 16; i < 64; i++) {
        uint32_t s0 = SV2_ROTR(w[i - 15], 7) ^ SV2_ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = SV2_ROTR(w[i - 2], 17) ^ SV2_ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = s[0]; b = s[1]; c = s[2]; d = s[3]; e = s[4]; f = s[5]; g = s[6]; h = s[7];
    for (i = 0; i < 64; i++) {
        uint32_t S1 = SV2_ROTR(e, 6) ^ SV2_ROTR(e, 11) ^ SV2_ROTR(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = h + S1 + ch + sv2_sha256_k[i] + w[i];
        uint32_t S0 = SV2_ROTR(a, 2) ^ SV2_ROTR(a, 13) ^ SV2_ROTR(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + maj;
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s[0] += a; s[1] += b; s[2] += c; s[3] += d; s[4] += e; s[5] += f; s[6] += g; s[7] += h;
}

#if defined(__x86_64__)

int sv2_cpu_has_shani(void) {
    static int cached = -1;
    unsigned int a, b, c, d;
    int has;
    int seen = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (seen >= 0) return seen;
    has = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 19)) && (c & (1u << 9)) &&
        __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)))
        has = 1;
    __atomic_store_n(&cached, has, __ATOMIC_RELAXED); /* racing threads store the same value */
    return has;
}

/* One block with the SHA extensions: the state goes to the ABEF/CDGH layout sha256rnds2 works on, the 16
 * big-endian message words are expanded four at a time with sha256msg1/msg2, and the layout is undone. */
__attribute__((target("sha,sse4.1,ssse3")))
static void sv2_sha256_transform_shani(uint32_t s[8], const uint8_t *block) {
    const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    __m128i t1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)s), 0xB1);
    __m128i t2 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(s + 4)), 0x1B);
    __m128i abef = _mm_alignr_epi8(t1, t2, 8);
    __m128i cdgh = _mm_blend_epi16(t2, t1, 0xF0);
    const __m128i abef_in = abef, cdgh_in = cdgh;
    __m128i m[4];
    int i;
    for (i = 0; i < 4; i++) m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 16 * i)), bswap);
    for (i = 0; i < 16; i++) {
        __m128i q, msg;
        if (i < 4) {
            q = m[i];
        } else {
            q = _mm_sha256msg1_epu32(m[(i - 4) & 3], m[(i - 3) & 3]);
            q = _mm_add_epi32(q, _mm_alignr_epi8(m[(i - 1) & 3], m[(i - 2) & 3], 4));
            q = _mm_sha256msg2_epu32(q, m[(i - 1) & 3]);
            m[i & 3] = q;
        }
        msg = _mm_add_epi32(q, _mm_load_si128((const __m128i *)(sv2_sha256_k + 4 * i)));
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, msg);
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(msg, 0x0E));
    }
    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);
    t1 = _mm_shuffle_epi32(abef, 0x1B);
    t2 = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)s, _mm_blend_epi16(t1, t2, 0xF0));
    _mm_storeu_si128((__m128i *)(s + 4), _mm_alignr_epi8(t2, t1, 8));
}

static void sv2_sha256_transform(uint32_t s[8], const uint8_t *block) {
    if (sv2_cpu_has_shani()) {
        sv2_sha256_transform_shani(s, block);
    } else {
        sv2_sha256_transform_portable(s, block);
    }
}

#else

int sv2_cpu_has_shani(void) { return 0; }

#define sv2_sha256_transform sv2_sha256_transform_portable

#endif /* __x86_64__ */

const uint32_t sv2_sha256_iv[8] __attribute__((aligned(16))) = {SV2_SHA256_IV_VALUES};

void sv2_sha256_init(sv2_sha256_ctx *ctx) {
    sv2_sha256_init_midstate(ctx, sv2_sha256_iv, 0);
}

void sv2_sha256_init_midstate(sv2_sha256_ctx *ctx, const uint32_t s[8], uint64_t bytes) {
    memcpy(ctx->s, s, sizeof(ctx->s));
    ctx->bytes = bytes;
}

void sv2_sha256_write(sv2_sha256_ctx *ctx, const uint8_t *data, size_t len) {
    size_t fill = (size_t)(ctx->bytes & 63);
    ctx->bytes += len;
    if (fill) {
        size_t take = 64 - fill;
        if (take > len) take = len;
        memcpy(ctx->buf + fill, data, take);
        data += take; len -= take; fill += take;
        if (fill < 64) return;
        sv2_sha256_transform(ctx->s, ctx->buf);
    }
    while (len >= 64) {
        sv2_sha256_transform(ctx->s, data);
        data += 64; len -= 64;
    }
    if (len) memcpy(ctx->buf, data, len);
}

void sv2_sha256_finalize(sv2_sha256_ctx *ctx, uint8_t out32[32]) {
    uint8_t pad[72];
    uint64_t bits = ctx->bytes << 3;
    size_t padlen = 64 - (size_t)((ctx->bytes + 8) & 63); /* 1..64 bytes of 0x80 00.. */
    int i;
    memset(pad, 0, sizeof(pad));
    pad[0] = 0x80;
    for (i = 0; i < 8; i++) pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
    sv2_sha256_write(ctx, pad, padlen + 8);
    for (i = 0; i < 8; i++) {
        out32[4 * i] = (uint8_t)(ctx->s[i] >> 24);
        out32[4 * i + 1] = (uint8_t)(ctx->s[i] >> 16);
        out32[4 * i + 2] = (uint8_t)(ctx->s[i] >> 8);
        out32[4 * i + 3] = (uint8_t)ctx->s[i];
    }
}
