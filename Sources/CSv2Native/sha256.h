/*
 * sha256.h -- internal, minimal SHA-256 (FIPS 180-4) for CSv2Native.
 * Used by ellswift.c to derive the deterministic ElligatorSwift encoding
 * randomness exactly like libsecp256k1's ellswift module (BIP340-style
 * tagged hashes, started from precomputed midstates), and for the BIP324
 * "bip324_ellswift_xonly_ecdh" tagged hash. Not part of the public API.
 */
#ifndef SV2_SHA256_H
#define SV2_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t s[8];
    uint8_t buf[64];
    uint64_t bytes; /* total bytes written so far (including midstate bytes) */
} sv2_sha256_ctx;

/* The values of the two tables below, for kernels that want them as constants the compiler can fold. */
#define SV2_SHA256_K_VALUES \
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, \
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, \
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, \
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, \
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, \
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, \
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, \
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
#define SV2_SHA256_IV_VALUES 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19

/* The 64 round constants of FIPS 180-4 (16-byte aligned for SHA-NI loads), shared by every SHA-256 here. */
extern const uint32_t sv2_sha256_k[64];
/* The initial hash value H(0) of FIPS 180-4 (16-byte aligned). */
extern const uint32_t sv2_sha256_iv[8];

/* Plain SHA-256 initial state. */
void sv2_sha256_init(sv2_sha256_ctx *ctx);
/* Start from a midstate after `bytes` (a multiple of 64) bytes were absorbed,
 * e.g. the state after SHA256(tag)||SHA256(tag) for a BIP340 tagged hash. */
void sv2_sha256_init_midstate(sv2_sha256_ctx *ctx, const uint32_t s[8], uint64_t bytes);
void sv2_sha256_write(sv2_sha256_ctx *ctx, const uint8_t *data, size_t len);
void sv2_sha256_finalize(sv2_sha256_ctx *ctx, uint8_t out32[32]);

/* 1 when the CPU has the x86 SHA extensions (and SSE4.1/SSSE3), else 0; cached after the first call. The block
 * transform behind sv2_sha256_write uses them when present. */
int sv2_cpu_has_shani(void);

#endif /* SV2_SHA256_H */
