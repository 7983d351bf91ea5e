/*
 * sha256d_simd.h -- the multi-buffer SHA-256d nonce search, one nonce per vector lane, written once with clang
 * vector types and compiled per instruction set by the file that includes it (sha256d_avx2.c: 8 lanes,
 * sha256d_avx512.c: 16 lanes), which defines LANES, KERNEL_TARGET (the target attribute string) and KERNEL_NAME.
 *
 * Per job (scalar, then broadcast): rounds 0..2 of the header's second block (W0..W2 do not depend on the nonce),
 * W16 and W17, and every schedule term made of the block's constant words (W4 = 0x80000000, W5..W14 = 0,
 * W15 = 640), which the compiler folds. Per batch: the 61 remaining rounds of the first hash, then the second hash
 * (W8..W15 constant) up to round 60 only -- the final hash's last word H7 is IV7 + e after round 60 -- and an early
 * out when no lane's H7 can meet the target's top word. Candidates are checked in full, in lane order (so the
 * lowest nonce wins), by sv2_sha256d_check_nonce.
 */
#include "sha256d_internal.h"

typedef uint32_t vec_t __attribute__((vector_size(4 * LANES)));

/* The round constants and the initial value, visible here so the compiler folds them. */
static const uint32_t kernel_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
static const uint32_t kernel_iv[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

/* A vector with every lane x. */
#define SPLAT(x) ((vec_t){0} + (uint32_t)(x))
/* Byte swap of every lane. */
#define VBSWAP(x) (((x) << 24) | (((x) << 8) & SPLAT(0x00ff0000u)) | (((x) >> 8) & SPLAT(0x0000ff00u)) | ((x) >> 24))

__attribute__((target(KERNEL_TARGET)))
int KERNEL_NAME(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce, uint32_t count,
                const uint8_t target32[32], uint32_t *found_nonce) {
    const uint32_t top = sv2_load_le32(target32 + 28);
    const uint32_t w0 = sv2_load_be32(tail16), w1 = sv2_load_be32(tail16 + 4), w2 = sv2_load_be32(tail16 + 8);
    /* W16 = s1(W14) + W9 + s0(W1) + W0 and W17 = s1(W15) + W10 + s0(W2) + W1, with W9, W10, W14 = 0, W15 = 640. */
    const uint32_t w16 = SS0(w1) + w0, w17 = SS1(640u) + SS0(w2) + w1;
    uint32_t pre[8];
    vec_t lane = SPLAT(0);
    uint64_t n;
    int i;
    for (i = 0; i < 8; i++) pre[i] = midstate[i];
    ROUND(pre, kernel_k[0] + w0);
    ROUND(pre, kernel_k[1] + w1);
    ROUND(pre, kernel_k[2] + w2);
    for (i = 0; i < LANES; i++) lane[i] = (uint32_t)i;

    for (n = 0; n < count; n += LANES) {
        const vec_t nonce = SPLAT(start_nonce + (uint32_t)n) + lane;
        vec_t w[64], v[8], first[8], h7, hit;
        /* First hash, second block: W3 is the nonce's little-endian bytes read as a big-endian word. */
        w[0] = SPLAT(w0); w[1] = SPLAT(w1); w[2] = SPLAT(w2); w[3] = VBSWAP(nonce);
        w[4] = SPLAT(0x80000000u);
#pragma clang loop unroll(full)
        for (i = 5; i < 15; i++) w[i] = SPLAT(0);
        w[15] = SPLAT(640);
        w[16] = SPLAT(w16);
        w[17] = SPLAT(w17);
#pragma clang loop unroll(full)
        for (i = 0; i < 8; i++) v[i] = SPLAT(pre[i]);
        /* Each message word is computed just before its round: short live ranges (the vectors stay in registers). */
#pragma clang loop unroll(full)
        for (i = 3; i < 64; i++) {
            if (i >= 18) w[i] = SCHEDULE(w, i);
            ROUND(v, SPLAT(kernel_k[i]) + w[i]);
        }
#pragma clang loop unroll(full)
        for (i = 0; i < 8; i++) first[i] = SPLAT(midstate[i]) + v[i];

        /* Second hash: the 32-byte digest and its padding; 61 rounds give H7. */
#pragma clang loop unroll(full)
        for (i = 0; i < 8; i++) w[i] = first[i];
        w[8] = SPLAT(0x80000000u);
#pragma clang loop unroll(full)
        for (i = 9; i < 15; i++) w[i] = SPLAT(0);
        w[15] = SPLAT(256);
#pragma clang loop unroll(full)
        for (i = 0; i < 8; i++) v[i] = SPLAT(kernel_iv[i]);
#pragma clang loop unroll(full)
        for (i = 0; i < 61; i++) {
            if (i >= 16) w[i] = SCHEDULE(w, i);
            ROUND(v, SPLAT(kernel_k[i]) + w[i]);
        }
        h7 = SPLAT(kernel_iv[7]) + v[4];
        hit = (vec_t)(VBSWAP(h7) <= SPLAT(top));
        if (__builtin_reduce_or(hit) == 0) continue;
        for (i = 0; i < LANES && n + (uint64_t)i < count; i++) {
            if (hit[i] && sv2_sha256d_check_nonce(midstate, tail16, nonce[i], target32)) {
                *found_nonce = nonce[i];
                return 1;
            }
        }
    }
    return 0;
}
