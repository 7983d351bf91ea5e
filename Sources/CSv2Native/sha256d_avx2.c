/*
 * sha256d_avx2.c -- the multi-buffer nonce search on AVX2: 8 nonces per 256-bit vector (see sha256d_simd.h).
 */
#if defined(__x86_64__)
#define LANES 8
#define KERNEL_TARGET "avx2"
#define KERNEL_NAME sv2_sha256d_scan_avx2
#include "sha256d_simd.h"
#endif
