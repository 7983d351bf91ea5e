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
