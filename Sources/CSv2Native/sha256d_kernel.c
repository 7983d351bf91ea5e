/*
 * sha256d_kernel.c -- SHA-256d nonce search over an 80-byte block header
 * (the CPU miner's inner loop), declared in include/CSv2Native.h.
 *
 * Header layout: bytes 0..63 are absorbed once into a midstate
 * (sv2_sha256_midstate); bytes 64..79 (end of the merkle root, time, nBits,
 * nonce) form the second block together with the fixed padding. Each nonce
 * then costs two SHA-256 compressions: the second block of the first hash and
 * the single block of the second hash (a 32-byte message plus padding).
 *
 * Two kernels: a portable C one (unrolled rounds, the first 3 rounds and
 * W16/W17 of the second header block precomputed because they do not depend
 * on the nonce, 61 of 64 rounds of the second hash before the early-exit
 * check) and an x86-64 SHA-NI one (two nonces interleaved), picked at run time.
 */
#include "CSv2Native.h"
#include "sha256.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define K sv2_sha256_k
#define IV sv2_sha256_iv

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define BS0(x) (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BS1(x) (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SS0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SS1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))
#define CH(e, f, g) ((g) ^ ((e) & ((f) ^ (g))))
#define MAJ(a, b, c) (((a) & (b)) | ((c) & ((a) | (b))))

/* One round over state v[0..7] = a..h with k + w already added. */
#define ROUND(v, kw)                                                           \
    do {                                                                       \
        uint32_t t1_ = v[7] + BS1(v[4]) + CH(v[4], v[5], v[6]) + (kw);         \
        uint32_t t2_ = BS0(v[0]) + MAJ(v[0], v[1], v[2]);                      \
        v[7] = v[6]; v[6] = v[5]; v[5] = v[4]; v[4] = v[3] + t1_;              \
        v[3] = v[2]; v[2] = v[1]; v[1] = v[0]; v[0] = t1_ + t2_;               \
    } while (0)

static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline uint32_t load_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint32_t bswap32(uint32_t x) { return __builtin_bswap32(x); }

/* Generic compression of one block given as 16 big-endian words. */
static void compress_words(uint32_t s[8], const uint32_t block[16]) {
    uint32_t w[64], v[8];
    int i;
    for (i = 0; i < 16; i++) w[i] = block[i];
    for (i = 16; i < 64; i++) w[i] = SS1(w[i - 2]) + w[i - 7] + SS0(w[i - 15]) + w[i - 16];
    for (i = 0; i < 8; i++) v[i] = s[i];
    for (i = 0; i < 64; i++) ROUND(v, K[i] + w[i]);
    for (i = 0; i < 8; i++) s[i] += v[i];
}

/* Full second hash of the first hash's state words; returns its 8 state words. */
static void second_hash_full(const uint32_t first[8], uint32_t out[8]) {
    uint32_t block[16] = {0};
    memcpy(block, first, 32);
    block[8] = 0x80000000u;
    block[15] = 256;
    memcpy(out, IV, 32);
    compress_words(out, block);
}

/* 1 if the digest with state words h (bytes = big-endian words), read as a
 * little-endian 256-bit integer, is <= the little-endian target32. */
static int hash_leq_target(const uint32_t h[8], const uint8_t target32[32]) {
    uint8_t d[32];
    int i;
    for (i = 0; i < 8; i++) {
        d[4 * i] = (uint8_t)(h[i] >> 24); d[4 * i + 1] = (uint8_t)(h[i] >> 16);
        d[4 * i + 2] = (uint8_t)(h[i] >> 8); d[4 * i + 3] = (uint8_t)h[i];
    }
    for (i = 31; i >= 0; i--) {
        if (d[i] != target32[i]) return d[i] < target32[i];
    }
    return 1;
}

void sv2_sha256_midstate(const uint8_t header64[64], uint32_t state_out[8]) {
    sv2_sha256_ctx ctx;
    sv2_sha256_init(&ctx);
    sv2_sha256_write(&ctx, header64, 64);
    memcpy(state_out, ctx.s, 32);
}

void sv2_sha256d(const uint8_t *data, size_t length, uint8_t out32[32]) {
    sv2_sha256_ctx ctx;
    uint8_t first[32];
    sv2_sha256_init(&ctx);
    sv2_sha256_write(&ctx, data, length);
    sv2_sha256_finalize(&ctx, first);
    sv2_sha256_init(&ctx);
    sv2_sha256_write(&ctx, first, 32);
    sv2_sha256_finalize(&ctx, out32);
}

/* ---- portable kernel ---------------------------------------------------- */

static int scan_portable(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce,
                         uint32_t count, const uint8_t target32[32], uint32_t *found_nonce) {
    const uint32_t top = load_le32(target32 + 28);
    uint32_t w0 = load_be32(tail16), w1 = load_be32(tail16 + 4), w2 = load_be32(tail16 + 8);
    uint32_t pre[8], w16, w17;
    uint32_t n;
    int i;
    /* Rounds 0..2 only see W0..W2; W16 = s1(W14) + W9 + s0(W1) + W0 and
     * W17 = s1(W15) + W10 + s0(W2) + W1 with W9, W10, W14 = 0, W15 = 640. */
    for (i = 0; i < 8; i++) pre[i] = midstate[i];
    ROUND(pre, K[0] + w0);
    ROUND(pre, K[1] + w1);
    ROUND(pre, K[2] + w2);
    w16 = SS0(w1) + w0;
    w17 = SS1(640u) + SS0(w2) + w1;

    for (n = 0; n < count; n++) {
        const uint32_t nonce = start_nonce + n;
        uint32_t w[64], v[8], first[8];
        /* First hash, second block: W3 = nonce (big-endian word of LE bytes). */
        w[0] = w0; w[1] = w1; w[2] = w2; w[3] = bswap32(nonce);
        w[4] = 0x80000000u;
        w[5] = 0; w[6] = 0; w[7] = 0; w[8] = 0; w[9] = 0; w[10] = 0; w[11] = 0; w[12] = 0; w[13] = 0; w[14] = 0;
        w[15] = 640;
        w[16] = w16; w[17] = w17;
#pragma clang loop unroll(full)
        for (i = 18; i < 64; i++) w[i] = SS1(w[i - 2]) + w[i - 7] + SS0(w[i - 15]) + w[i - 16];
#pragma clang loop unroll(full)
        for (i = 0; i < 8; i++) v[i] = pre[i];
#pragma clang loop unroll(full)
        for (i = 3; i < 64; i++) ROUND(v, K[i] + w[i]);
#pragma clang loop unroll(full)
        for (i = 0; i < 8; i++) first[i] = midstate[i] + v[i];

        /* Second hash: one block, the 32-byte digest then padding for 256 bits. */
#pragma clang loop unroll(full)
        for (i = 0; i < 8; i++) w[i] = first[i];
        w[8] = 0x80000000u;
        w[9] = 0; w[10] = 0; w[11] = 0; w[12] = 0; w[13] = 0; w[14] = 0;
        w[15] = 256;
#pragma clang loop unroll(full)
        for (i = 16; i < 61; i++) w[i] = SS1(w[i - 2]) + w[i - 7] + SS0(w[i - 15]) + w[i - 16];
#pragma clang loop unroll(full)
        for (i = 0; i < 8; i++) v[i] = IV[i];
        /* h after 64 rounds is e after 61 rounds: H7 = IV7 + e61. */
#pragma clang loop unroll(full)
        for (i = 0; i < 61; i++) ROUND(v, K[i] + w[i]);
        if (bswap32(IV[7] + v[4]) > top) continue;
        {
            uint32_t h[8];
            second_hash_full(first, h);
            if (hash_leq_target(h, target32)) {
                *found_nonce = nonce;
                return 1;
            }
        }
    }
    return 0;
}

/* ---- SHA-NI kernel (x86-64) --------------------------------------------- */

#if defined(__x86_64__)

#define SHANI __attribute__((target("sha,sse4.1"), always_inline)) static inline

/* (a,b,c,d),(e,f,g,h) lanes -> the ABEF / CDGH layout sha256rnds2 works on. */
SHANI void shani_shuffle(__m128i *s0, __m128i *s1) {
    const __m128i t1 = _mm_shuffle_epi32(*s0, 0xB1);
    const __m128i t2 = _mm_shuffle_epi32(*s1, 0x1B);
    *s0 = _mm_alignr_epi8(t1, t2, 8);
    *s1 = _mm_blend_epi16(t2, t1, 0xF0);
}

/* ABEF / CDGH -> (a,b,c,d),(e,f,g,h) lanes. */
SHANI void shani_unshuffle(__m128i *s0, __m128i *s1) {
    const __m128i t1 = _mm_shuffle_epi32(*s0, 0x1B);
    const __m128i t2 = _mm_shuffle_epi32(*s1, 0xB1);
    *s0 = _mm_blend_epi16(t1, t2, 0xF0);
    *s1 = _mm_alignr_epi8(t2, t1, 8);
}

/* Two independent compressions, interleaved so the rnds2 latencies overlap.
 * st[j] = {ABEF, CDGH}; m[j] = the block's four quads of words (lane 0 first). */
SHANI void shani_compress2(__m128i st[2][2], __m128i m[2][4]) {
    __m128i abef[2], cdgh[2];
    int i, j;
    for (j = 0; j < 2; j++) { abef[j] = st[j][0]; cdgh[j] = st[j][1]; }
#pragma clang loop unroll(full)
    for (i = 0; i < 16; i++) {
        const __m128i k = _mm_load_si128((const __m128i *)(K + 4 * i));
#pragma clang loop unroll(full)
        for (j = 0; j < 2; j++) {
            __m128i q, msg;
            if (i < 4) {
                q = m[j][i];
            } else {
                q = _mm_sha256msg1_epu32(m[j][(i - 4) & 3], m[j][(i - 3) & 3]);
                q = _mm_add_epi32(q, _mm_alignr_epi8(m[j][(i - 1) & 3], m[j][(i - 2) & 3], 4));
                q = _mm_sha256msg2_epu32(q, m[j][(i - 1) & 3]);
                m[j][i & 3] = q;
            }
            msg = _mm_add_epi32(q, k);
            cdgh[j] = _mm_sha256rnds2_epu32(cdgh[j], abef[j], msg);
            abef[j] = _mm_sha256rnds2_epu32(abef[j], cdgh[j], _mm_shuffle_epi32(msg, 0x0E));
        }
    }
    for (j = 0; j < 2; j++) {
        st[j][0] = _mm_add_epi32(abef[j], st[j][0]);
        st[j][1] = _mm_add_epi32(cdgh[j], st[j][1]);
    }
}

__attribute__((target("sha,sse4.1")))
static int scan_shani(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce,
                      uint32_t count, const uint8_t target32[32], uint32_t *found_nonce) {
    const uint32_t top = load_le32(target32 + 28);
    const uint32_t w0 = load_be32(tail16), w1 = load_be32(tail16 + 4), w2 = load_be32(tail16 + 8);
    __m128i mid0 = _mm_loadu_si128((const __m128i *)midstate);
    __m128i mid1 = _mm_loadu_si128((const __m128i *)(midstate + 4));
    __m128i iv0 = _mm_load_si128((const __m128i *)IV);
    __m128i iv1 = _mm_load_si128((const __m128i *)(IV + 4));
    const __m128i pad1_1 = _mm_set_epi32(0, 0, 0, (int)0x80000000u);
    const __m128i zero = _mm_setzero_si128();
    const __m128i len1 = _mm_set_epi32(640, 0, 0, 0);
    const __m128i len2 = _mm_set_epi32(256, 0, 0, 0);
    uint64_t n = 0;
    shani_shuffle(&mid0, &mid1);
    shani_shuffle(&iv0, &iv1);

    while (n < count) {
        __m128i st[2][2], m[2][4];
        uint32_t nonces[2];
        int j, lanes = (count - n >= 2) ? 2 : 1;
        for (j = 0; j < 2; j++) {
            nonces[j] = start_nonce + (uint32_t)(n + (uint64_t)j);
            st[j][0] = mid0; st[j][1] = mid1;
            m[j][0] = _mm_set_epi32((int)bswap32(nonces[j]), (int)w2, (int)w1, (int)w0);
            m[j][1] = pad1_1; m[j][2] = zero; m[j][3] = len1;
        }
        shani_compress2(st, m);
        for (j = 0; j < 2; j++) {
            __m128i a = st[j][0], b = st[j][1];
            shani_unshuffle(&a, &b);
            m[j][0] = a; m[j][1] = b; m[j][2] = pad1_1; m[j][3] = len2;
            st[j][0] = iv0; st[j][1] = iv1;
        }
        shani_compress2(st, m);
        for (j = 0; j < lanes; j++) {
            __m128i a = st[j][0], b = st[j][1];
            shani_unshuffle(&a, &b);
            if (bswap32((uint32_t)_mm_extract_epi32(b, 3)) > top) continue;
            {
                uint32_t h[8];
                _mm_storeu_si128((__m128i *)h, a);
                _mm_storeu_si128((__m128i *)(h + 4), b);
                if (hash_leq_target(h, target32)) {
                    *found_nonce = nonces[j];
                    return 1;
                }
            }
        }
        n += (uint64_t)lanes;
    }
    return 0;
}

#endif /* __x86_64__ */

static sv2_sha256d_kernel resolve(sv2_sha256d_kernel kernel) {
    if (kernel == SV2_KERNEL_AUTO) return sv2_cpu_has_shani() ? SV2_KERNEL_SHANI : SV2_KERNEL_PORTABLE;
    return kernel;
}

int sv2_sha256d_kernel_available(sv2_sha256d_kernel kernel) {
    switch (kernel) {
    case SV2_KERNEL_AUTO:
    case SV2_KERNEL_PORTABLE:
        return 1;
    case SV2_KERNEL_SHANI:
        return sv2_cpu_has_shani();
    }
    return 0;
}

const char *sv2_sha256d_kernel_name(sv2_sha256d_kernel kernel) {
    switch (resolve(kernel)) {
    case SV2_KERNEL_PORTABLE: return "portable";
    case SV2_KERNEL_SHANI: return "sha-ni";
    default: return "unknown";
    }
}

int sv2_sha256d_scan(sv2_sha256d_kernel kernel, const uint32_t midstate[8], const uint8_t tail16[16],
                     uint32_t start_nonce, uint32_t count, const uint8_t target32[32], uint32_t *found_nonce) {
    switch (resolve(kernel)) {
    case SV2_KERNEL_PORTABLE:
        return scan_portable(midstate, tail16, start_nonce, count, target32, found_nonce);
#if defined(__x86_64__)
    case SV2_KERNEL_SHANI:
        if (!sv2_cpu_has_shani()) return -1;
        return scan_shani(midstate, tail16, start_nonce, count, target32, found_nonce);
#endif
    default:
        return -1;
    }
}
