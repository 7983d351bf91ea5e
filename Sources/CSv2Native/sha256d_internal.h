/*
 * sha256d_internal.h -- internal to CSv2Native: the SHA-256 round macros every nonce-search kernel uses (they work on
 * uint32_t and on clang vector types alike), the header word loads, and the entry points of the kernels that live in
 * their own files (compiled with their own target attributes). Not part of the public API.
 */
#ifndef SV2_SHA256D_INTERNAL_H
#define SV2_SHA256D_INTERNAL_H

#include <stdint.h>

#include "sha256.h"

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define BS0(x) (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BS1(x) (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SS0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SS1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))
#define CH(e, f, g) ((g) ^ ((e) & ((f) ^ (g))))
#define MAJ(a, b, c) (((a) & (b)) | ((c) & ((a) | (b))))

/* One round over state v[0..7] = a..h with k + w already added (v's element type: a word or a vector of words). */
#define ROUND(v, kw)                                                           \
    do {                                                                       \
        const __typeof__(v[0]) t1_ = v[7] + BS1(v[4]) + CH(v[4], v[5], v[6]) + (kw); \
        const __typeof__(v[0]) t2_ = BS0(v[0]) + MAJ(v[0], v[1], v[2]);       \
        v[7] = v[6]; v[6] = v[5]; v[5] = v[4]; v[4] = v[3] + t1_;              \
        v[3] = v[2]; v[2] = v[1]; v[1] = v[0]; v[0] = t1_ + t2_;               \
    } while (0)

/* The message word W[i] (i >= 16) from the four it depends on. */
#define SCHEDULE(w, i) (SS1(w[(i) - 2]) + w[(i) - 7] + SS0(w[(i) - 15]) + w[(i) - 16])

static inline uint32_t sv2_load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline uint32_t sv2_load_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* What a nonce search computes once per job from the header's second block (tail16: W0..W2, then the nonce as W3,
 * then the constant padding W4 = 0x80000000, W5..W14 = 0, W15 = 640): the words W0..W2, the state after rounds
 * 0..2 (which only see W0..W2), and W16 = s1(W14) + W9 + s0(W1) + W0 and W17 = s1(W15) + W10 + s0(W2) + W1. */
typedef struct {
    uint32_t w0, w1, w2, w16, w17;
    uint32_t pre[8];
} sv2_sha256d_job;

static inline void sv2_sha256d_prepare(sv2_sha256d_job *job, const uint32_t midstate[8], const uint8_t tail16[16]) {
    int i;
    job->w0 = sv2_load_be32(tail16);
    job->w1 = sv2_load_be32(tail16 + 4);
    job->w2 = sv2_load_be32(tail16 + 8);
    for (i = 0; i < 8; i++) job->pre[i] = midstate[i];
    ROUND(job->pre, sv2_sha256_k[0] + job->w0);
    ROUND(job->pre, sv2_sha256_k[1] + job->w1);
    ROUND(job->pre, sv2_sha256_k[2] + job->w2);
    job->w16 = SS0(job->w1) + job->w0;
    job->w17 = SS1(640u) + SS0(job->w2) + job->w1;
}

/* 1 when the header (midstate + tail16 with this nonce) hashes to a SHA256d <= target32: the scalar check of a
 * candidate that passed a kernel's early-out test. */
int sv2_sha256d_check_nonce(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t nonce, const uint8_t target32[32]);

/* The kernels in their own files (same contract as sv2_sha256d_scan, for a kernel the CPU has). */
int sv2_sha256d_scan_shani_x1(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce, uint32_t count,
                              const uint8_t target32[32], uint32_t *found_nonce);
int sv2_sha256d_scan_shani_x2(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce, uint32_t count,
                              const uint8_t target32[32], uint32_t *found_nonce);
int sv2_sha256d_scan_shani_x4(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce, uint32_t count,
                              const uint8_t target32[32], uint32_t *found_nonce);
int sv2_sha256d_scan_shani_x4_avx512(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce,
                                     uint32_t count, const uint8_t target32[32], uint32_t *found_nonce);
int sv2_sha256d_scan_avx2(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce, uint32_t count,
                          const uint8_t target32[32], uint32_t *found_nonce);
int sv2_sha256d_scan_avx512(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce, uint32_t count,
                            const uint8_t target32[32], uint32_t *found_nonce);

#endif /* SV2_SHA256D_INTERNAL_H */
