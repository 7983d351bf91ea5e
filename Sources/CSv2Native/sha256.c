/*
 * sha256.c -- minimal portable SHA-256 (FIPS 180-4), internal to CSv2Native.
 * See sha256.h. Used for the ElligatorSwift encoding PRNG (BIP324 section
 * "ElligatorSwift encoding of curve X coordinates", realised the way
 * libsecp256k1's secp256k1_ellswift_encode/_create derive their randomness)
 * and the BIP324 x-only ECDH tagged hash.
 */
#include "sha256.h"

#include <string.h>

const uint32_t sv2_sha256_k[64] __attribute__((aligned(16))) = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define SV2_ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sv2_sha256_transform(uint32_t s[8], const uint8_t *block) {
    uint32_t w[64], a, b, c, d, e, f, g, h;
    int i;
    for (i = 0; i < 16; i++) {
        w[i] = ((uint32_t)block[4 * i] << 24) | ((uint32_t)block[4 * i + 1] << 16) |
               ((uint32_t)block[4 * i + 2] << 8) | (uint32_t)block[4 * i + 3];
    }
    for (i = 16; i < 64; i++) {
        uint32_t s0 = SV2_ROTR(w[i - 15], 7) ^ SV2_ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = SV2_ROTR(w[i - 2], 17) ^ SV2_ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = s[0]; b = s[1]; c = s[2]; d = s[3]; e = s[4]; f = s[5]; g = s[6]; h = s[7];
    for (i = 0; i < 64; i++) {
        uint32_t S1 = SV2_ROTR(e, 6) ^ SV2_ROTR(e, 11) ^ SV2_ROTR(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = h + S1 + ch + sv2_sha256_k[i] + w[i];
        uint32_t S0 = SV2_ROTR(a, 2) ^ SV2_ROTR(a, 13) ^ SV2_ROTR(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + maj;
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s[0] += a; s[1] += b; s[2] += c; s[3] += d; s[4] += e; s[5] += f; s[6] += g; s[7] += h;
}

const uint32_t sv2_sha256_iv[8] __attribute__((aligned(16))) = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

void sv2_sha256_init(sv2_sha256_ctx *ctx) {
    sv2_sha256_init_midstate(ctx, sv2_sha256_iv, 0);
}

void sv2_sha256_init_midstate(sv2_sha256_ctx *ctx, const uint32_t s[8], uint64_t bytes) {
    memcpy(ctx->s, s, sizeof(ctx->s));
    ctx->bytes = bytes;
}

void sv2_sha256_write(sv2_sha256_ctx *ctx, const uint8_t *data, size_t len) {
    size_t fill = (size_t)(ctx->bytes & 63);
    ctx->bytes += len;
    if (fill) {
        size_t take = 64 - fill;
        if (take > len) take = len;
        memcpy(ctx->buf + fill, data, take);
        data += take; len -= take; fill += take;
        if (fill < 64) return;
        sv2_sha256_transform(ctx->s, ctx->buf);
    }
    while (len >= 64) {
        sv2_sha256_transform(ctx->s, data);
        data += 64; len -= 64;
    }
    if (len) memcpy(ctx->buf, data, len);
}

void sv2_sha256_finalize(sv2_sha256_ctx *ctx, uint8_t out32[32]) {
    uint8_t pad[72];
    uint64_t bits = ctx->bytes << 3;
    size_t padlen = 64 - (size_t)((ctx->bytes + 8) & 63); /* 1..64 bytes of 0x80 00.. */
    int i;
    memset(pad, 0, sizeof(pad));
    pad[0] = 0x80;
    for (i = 0; i < 8; i++) pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
    sv2_sha256_write(ctx, pad, padlen + 8);
    for (i = 0; i < 8; i++) {
        out32[4 * i] = (uint8_t)(ctx->s[i] >> 24);
        out32[4 * i + 1] = (uint8_t)(ctx->s[i] >> 16);
        out32[4 * i + 2] = (uint8_t)(ctx->s[i] >> 8);
        out32[4 * i + 3] = (uint8_t)ctx->s[i];
    }
}
