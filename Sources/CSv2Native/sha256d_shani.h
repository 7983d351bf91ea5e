/*
 * sha256d_shani.h -- the SHA-NI nonce search over 1, 2 or 4 interleaved nonces, written once and compiled per
 * instruction encoding by the file that includes it: sha256d_shani.c (legacy SSE, 16 registers: any CPU with SHA-NI)
 * and sha256d_shani_avx512.c (the same code with AVX-512VL enabled, so the compiler keeps the four streams' state in
 * the 32 vector registers EVEX encodes instead of spilling them to the stack). The includer defines SHANI_TARGET.
 *
 * The SHA unit executes one sha256rnds2, sha256msg1 or sha256msg2 per cycle, with several cycles of latency for
 * rnds2: one stream leaves it idle most of the time, four keep it busy. Per nonce that is 63 rnds2 (the second hash
 * stops after round 61, which gives H7) and 48 msg1/msg2.
 */
#include <immintrin.h>
#include <stdint.h>

#include "sha256.h"
#include "sha256d_internal.h"

#define SHANI __attribute__((target(SHANI_TARGET), always_inline)) static inline


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

/* The 64 rounds of one block for `lanes` independent streams (1, 2 or 4: a constant after inlining), interleaved so
 * the latencies of their sha256rnds2 overlap. st[j] = {ABEF, CDGH}; m[j] = the block's four quads of words (lane 0
 * first). With full, the block's state is added in (st becomes the next chaining value). Without it, the last two
 * rounds are skipped and st[j][0] is left holding ABEF after round 61, whose F is H7 - IV7 of a final block: the
 * early-out of the second hash. */
SHANI void shani_rounds(const int lanes, const int full, __m128i st[4][2], __m128i m[4][4]) {
    __m128i abef[4], cdgh[4];
    int i, j;
    for (j = 0; j < lanes; j++) { abef[j] = st[j][0]; cdgh[j] = st[j][1]; }
#pragma clang loop unroll(full)
    for (i = 0; i < 16; i++) {
        const __m128i k = _mm_load_si128((const __m128i *)(sv2_sha256_k + 4 * i));
#pragma clang loop unroll(full)
        for (j = 0; j < lanes; j++) {
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
            if (full || i < 15) abef[j] = _mm_sha256rnds2_epu32(abef[j], cdgh[j], _mm_shuffle_epi32(msg, 0x0E));
        }
    }
    for (j = 0; j < lanes; j++) {
        if (full) {
            st[j][0] = _mm_add_epi32(abef[j], st[j][0]);
            st[j][1] = _mm_add_epi32(cdgh[j], st[j][1]);
        } else {
            st[j][0] = cdgh[j];
        }
    }
}

/* The SHA-NI nonce search over `lanes` nonces at a time (a constant after inlining). */
SHANI int scan_shani_lanes(const int lanes, const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce,
                           uint32_t count, const uint8_t target32[32], uint32_t *found_nonce) {
    const uint32_t top = sv2_load_le32(target32 + 28);
    const uint32_t w0 = sv2_load_be32(tail16), w1 = sv2_load_be32(tail16 + 4), w2 = sv2_load_be32(tail16 + 8);
    __m128i mid0 = _mm_loadu_si128((const __m128i *)midstate);
    __m128i mid1 = _mm_loadu_si128((const __m128i *)(midstate + 4));
    __m128i iv0 = _mm_load_si128((const __m128i *)sv2_sha256_iv);
    __m128i iv1 = _mm_load_si128((const __m128i *)(sv2_sha256_iv + 4));
    const __m128i pad1_1 = _mm_set_epi32(0, 0, 0, (int)0x80000000u);
    const __m128i zero = _mm_setzero_si128();
    const __m128i len1 = _mm_set_epi32(640, 0, 0, 0);
    const __m128i len2 = _mm_set_epi32(256, 0, 0, 0);
    uint64_t n = 0;
    shani_shuffle(&mid0, &mid1);
    shani_shuffle(&iv0, &iv1);

    while (n < count) {
        __m128i st[4][2], m[4][4];
        uint32_t nonces[4];
        const int active = count - n >= (uint64_t)lanes ? lanes : (int)(count - n);
        int j;
        for (j = 0; j < lanes; j++) {
            nonces[j] = start_nonce + (uint32_t)(n + (uint64_t)j);
            st[j][0] = mid0; st[j][1] = mid1;
            m[j][0] = _mm_set_epi32((int)__builtin_bswap32(nonces[j]), (int)w2, (int)w1, (int)w0);
            m[j][1] = pad1_1; m[j][2] = zero; m[j][3] = len1;
        }
        shani_rounds(lanes, 1, st, m);
        for (j = 0; j < lanes; j++) {
            __m128i a = st[j][0], b = st[j][1];
            shani_unshuffle(&a, &b);
            m[j][0] = a; m[j][1] = b; m[j][2] = pad1_1; m[j][3] = len2;
            st[j][0] = iv0; st[j][1] = iv1;
        }
        shani_rounds(lanes, 0, st, m);
        for (j = 0; j < active; j++) {
            const uint32_t h7 = sv2_sha256_iv[7] + (uint32_t)_mm_cvtsi128_si32(st[j][0]);
            if (__builtin_bswap32(h7) <= top && sv2_sha256d_check_nonce(midstate, tail16, nonces[j], target32)) {
                *found_nonce = nonces[j];
                return 1;
            }
        }
        n += (uint64_t)active;
    }
    return 0;
}

