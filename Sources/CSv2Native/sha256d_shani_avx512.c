/*
 * sha256d_shani_avx512.c -- the four-stream SHA-NI kernel compiled with AVX-512VL, for CPUs that have both: the SHA
 * instructions stay in legacy encoding (registers 0-15), everything else may use EVEX and registers 16-31, which holds
 * the four streams' states and message quads without stack spills (see sha256d_shani.h).
 */
#if defined(__x86_64__)
#define SHANI_TARGET "sha,avx512f,avx512vl"
#include "sha256d_shani.h"

__attribute__((target(SHANI_TARGET)))
int sv2_sha256d_scan_shani_x4_avx512(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce,
                                     uint32_t count, const uint8_t target32[32], uint32_t *found_nonce) {
    return scan_shani_lanes(4, midstate, tail16, start_nonce, count, target32, found_nonce);
}
#endif
