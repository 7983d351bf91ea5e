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
static const uint32_t kernel_k[64] = {SV2_SHA256_K_VALUES};
static const uint32_t kernel_iv[8] = {SV2_SHA256_IV_VALUES};

/* A vector with every lane x. */
#define SPLAT(x) ((vec_t){0} + (uint32_t)(x))
/* Byte swap of every lane. */
#define VBSWAP(x) (((x) << 24) | (((x) << 8) & SPLAT(0x00ff0000u)) | (((x) >> 8) & SPLAT(0x0000ff00u)) | ((x) >> 24))

__attribute__((target(KERNEL_TARGET)))
int KERNEL_NAME(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce, uint32_t count,
                const uint8_t target32[32], uint32_t *found_nonce) {
    const uint32_t top = sv2_load_le32(target32 + 28);
    sv2_sha256d_job job;
    vec_t lane = SPLAT(0);
    uint64_t n;
    int i;
    sv2_sha256d_prepare(&job, midstate, tail16);
    for (i = 0; i < LANES; i++) lane[i] = (uint32_t)i;

    for (n = 0; n < count; n += LANES) {
        const vec_t nonce = SPLAT(start_nonce + (uint32_t)n) + lane;
        vec_t w[64], v[8], first[8], h7, hit;
        /* First hash, second block: W3 is the nonce's little-endian bytes read as a big-endian word. */
        w[0] = SPLAT(job.w0); w[1] = SPLAT(job.w1); w[2] = SPLAT(job.w2); w[3] = VBSWAP(nonce);
        w[4] = SPLAT(0x80000000u);
#pragma clang loop unroll(full)
        for (i = 5; i < 15; i++) w[i] = SPLAT(0);
        w[15] = SPLAT(640);
        w[16] = SPLAT(job.w16);
        w[17] = SPLAT(job.w17);
#pragma clang loop unroll(full)
        for (i = 0; i < 8; i++) v[i] = SPLAT(job.pre[i]);
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
