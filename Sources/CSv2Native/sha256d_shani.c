/*
 * sha256d_shani.c -- the SHA-NI kernels in legacy SSE encoding (any CPU with the SHA extensions): one, two or four
 * nonces interleaved (see sha256d_shani.h).
 */
#if defined(__x86_64__)
#define SHANI_TARGET "sha,sse4.1"
#include "sha256d_shani.h"

__attribute__((target(SHANI_TARGET)))
int sv2_sha256d_scan_shani_x1(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce, uint32_t count,
                              const uint8_t target32[32], uint32_t *found_nonce) {
    return scan_shani_lanes(1, midstate, tail16, start_nonce, count, target32, found_nonce);
}

__attribute__((target(SHANI_TARGET)))
int sv2_sha256d_scan_shani_x2(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce, uint32_t count,
                              const uint8_t target32[32], uint32_t *found_nonce) {
    return scan_shani_lanes(2, midstate, tail16, start_nonce, count, target32, found_nonce);
}

__attribute__((target(SHANI_TARGET)))
int sv2_sha256d_scan_shani_x4(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce, uint32_t count,
                              const uint8_t target32[32], uint32_t *found_nonce) {
    return scan_shani_lanes(4, midstate, tail16, start_nonce, count, target32, found_nonce);
}
#endif
