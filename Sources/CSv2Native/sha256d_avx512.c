/*
 * sha256d_avx512.c -- the multi-buffer nonce search on AVX-512: 16 nonces per 512-bit vector (see sha256d_simd.h);
 * AVX512F gives the rotates (vprord) and three-input logic (vpternlogd) the rounds are made of.
 */
#if defined(__x86_64__)
#define LANES 16
#define KERNEL_TARGET "avx512f"
#define KERNEL_NAME sv2_sha256d_scan_avx512
#include "sha256d_simd.h"
#endif
