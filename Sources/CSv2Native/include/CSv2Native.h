/*
 * CSv2Native.h -- public header of the CSv2Native C target.
 *
 * BIP324 ElligatorSwift for secp256k1 (BIP324, section "ElligatorSwift
 * encoding of curve X coordinates" and its reference code), self-contained
 * (libc only) because Debian's libsecp256k1 0.2.0 has no ellswift module.
 * No scalar multiplication here: public keys / ECDH points come from
 * elsewhere (e.g. libsecp256k1's secp256k1_ec_pubkey_create / secp256k1_ecdh).
 *
 * Conventions: all field elements and coordinates are 32-byte big-endian.
 * An ElligatorSwift encoding is 64 bytes u || t. "Valid x" means x < p and
 * x^3 + 7 is a square mod p (a point with that x exists on the curve).
 *
 * Encodings produced here are byte-for-byte identical to libsecp256k1's
 * secp256k1_ellswift_encode / secp256k1_ellswift_create (ellswift module,
 * libsecp256k1 >= 0.4.0; what rust-secp256k1's ElligatorSwift calls) for the
 * same inputs; see sv2_ellswift_encode_pubkey.
 *
 * Thread-safe: no global mutable state. Constant-time: the field arithmetic
 * (add/mul/inverse/sqrt exponentiations) is branch-free, but -- like BIP324's
 * own specification and libsecp256k1 -- decode/encode branch on public results
 * such as "is this a valid x", use a variable-time Legendre symbol, and the
 * encoding loop runs a data-dependent number of attempts on hash outputs.
 * Secret keys only ever enter SHA-256 (sv2_ellswift_create_from_pubkey).
 *
 * Also the SHA-256d block-header nonce search for the CPU miner (portable C
 * and x86-64 SHA-NI kernels chosen at run time); see the section at the end.
 */
#ifndef CSV2NATIVE_H
#define CSV2NATIVE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returns 1 if x32 is a valid secp256k1 X coordinate (x < p and x^3+7 is a
 * square mod p, i.e. BIP340 lift_x succeeds), else 0. */
int sv2_secp256k1_is_valid_x(const uint8_t *x32);

/* BIP324 XSwiftEC(u, t) -> x, the forward map. u32 and t32 are reduced mod p
 * first; then u = 0 -> 1, t = 0 -> 1, and if u^3 + t^2 + 7 = 0 then t -> 2t,
 * exactly as in BIP324. Always yields a valid x, written to x_out32. */
void sv2_xswiftec(const uint8_t *u32, const uint8_t *t32, uint8_t *x_out32);

/* BIP324 ellswift decoding: the 64-byte encoding ell64 = u || t to the x
 * coordinate (x_out32 = XSwiftEC(u mod p, t mod p)). Every 64-byte string is
 * a valid encoding; this cannot fail. */
void sv2_ellswift_decode(const uint8_t *ell64, uint8_t *x_out32);

/* Like sv2_ellswift_decode, but returns the full point as a 33-byte
 * compressed public key (0x02/0x03 || x), with the Y parity taken from the
 * parity of (t mod p), as libsecp256k1's secp256k1_ellswift_decode does.
 * BIP324 ECDH only uses x; this is for feeding libsecp256k1 APIs that want a
 * full secp256k1_pubkey (secp256k1_ec_pubkey_parse). Same cost as decode. */
void sv2_ellswift_decode_pubkey(const uint8_t *ell64, uint8_t *pub_out33);

/* BIP324 XSwiftECInv(x, u, case) for case in 0..7. If a t exists with
 * XSwiftEC(u, t) = x for that case, writes it (32 bytes, < p) to t_out32 and
 * returns 1; otherwise returns 0 and leaves t_out32 untouched.
 * u32 is reduced mod p. Also returns 0 if x32 is not a valid X coordinate,
 * if case_ is outside 0..7, or if u = 0 mod p (decoding maps u = 0 to 1, so no
 * t can round-trip). */
int sv2_xswiftec_inv(const uint8_t *x32, const uint8_t *u32, int case_, uint8_t *t_out32);

/* ElligatorSwift-encode the point (x, even y) -- for BIP324/Sv2 only x
 * matters. Identical to sv2_ellswift_encode_pubkey(0x02 || x32, rnd32, ...).
 * Returns 1 on success, 0 (ell_out64 zeroed) if x32 is not a valid X
 * coordinate. Decoding the result gives x32 (and t is even). */
int sv2_ellswift_encode_x(const uint8_t *x32, const uint8_t *rnd32, uint8_t *ell_out64);

/* ElligatorSwift-encode a compressed public key pub33 (0x02/0x03 || x),
 * deterministically from the caller's 32-byte seed rnd32 (pass fresh random
 * bytes for unlinkable encodings; a fixed seed gives a fixed encoding).
 *
 * Randomness (same as libsecp256k1 secp256k1_ellswift_encode, so outputs are
 * byte-identical): with H = BIP340 tagged SHA-256, tag
 * "secp256k1_ellswift_encode", the stream is
 *     R(cnt) = H(pub33 || 0x00*31 || rnd32 || le32(cnt)),  cnt = 0, 1, 2, ...
 * R(0) is a pool of 64 branch values: the i-th one used (i = 0..63) is
 * nibble 63-i of R(0) (byte (63-i)/2, high nibble if 63-i is odd), low 3 bits.
 * Each attempt takes the next branch value as the case, u32 = R(next cnt),
 * u = u32 mod p, and tries XSwiftECInv(x, u, case) (BIP324 loop; about 4
 * attempts on average). After 64 attempts the pool is refilled from the
 * next cnt. Output: ell = u32 (the raw hash bytes) || t, where t is replaced
 * by p - t if needed so that parity(t) = parity(y) of the key.
 * Returns 1, or 0 (ell_out64 zeroed) if pub33 is not a valid compressed key. */
int sv2_ellswift_encode_pubkey(const uint8_t *pub33, const uint8_t *rnd32, uint8_t *ell_out64);

/* Reproduces libsecp256k1's secp256k1_ellswift_create(seckey32, auxrnd32)
 * given the matching public key pub33 = seckey32 * G (compressed), which the
 * caller computes elsewhere (it is NOT checked against seckey32). Same
 * algorithm as sv2_ellswift_encode_pubkey but with tag
 * "secp256k1_ellswift_create" and stream input
 *     seckey32 || 0x00*32 [|| auxrnd32 if non-NULL] || le32(cnt).
 * The secret key only enters through SHA-256; the loop then branches on hash
 * outputs (as in libsecp256k1). Returns 1, or 0 (ell_out64 zeroed) if pub33
 * is not a valid compressed key. */
int sv2_ellswift_create_from_pubkey(const uint8_t *seckey32, const uint8_t *pub33,
                                    const uint8_t *auxrnd32, uint8_t *ell_out64);

/* BIP324 shared secret from the x-only ECDH result:
 *   out32 = TaggedHash("bip324_ellswift_xonly_ecdh",
 *                      ell_initiator64 || ell_responder64 || x_shared32)
 * (libsecp256k1's secp256k1_ellswift_xdh_hash_function_bip324). The shared
 * x must be computed elsewhere (e.g. secp256k1_ecdh with a hash function
 * that returns x, against the point from sv2_ellswift_decode_pubkey). */
void sv2_bip324_ellswift_xonly_ecdh_hash(const uint8_t *ell_initiator64,
                                         const uint8_t *ell_responder64,
                                         const uint8_t *x_shared32, uint8_t *out32);

/* ---- SHA-256d nonce search (sha256d_kernel.c) ----------------------------
 * For the CPU miner: an 80-byte block header is split into its first 64 bytes
 * (hashed once into a midstate) and the 16-byte tail (bytes 64..79: the last
 * 4 bytes of the merkle root, time, nBits, nonce at tail offset 12..15,
 * little-endian). Hashes and targets are 32 bytes in internal order, compared
 * as little-endian 256-bit integers (the way Bitcoin compares a block hash to
 * its target). Thread-safe; no allocation. */

/* Which nonce-search implementation to run. */
typedef enum {
    /* The fastest kernel this CPU has, measured once per process on first use
     * (about 30 ms of hashing); portable when there is no SIMD or SHA kernel. */
    SV2_KERNEL_AUTO = 0,
    /* Plain C, unrolled rounds, nonce-independent work precomputed. */
    SV2_KERNEL_PORTABLE = 1,
    /* x86-64 SHA extensions (CPUID leaf 7 EBX bit 29), one nonce at a time. */
    SV2_KERNEL_SHANI = 2,
    /* SHA extensions, two nonces interleaved. */
    SV2_KERNEL_SHANI_X2 = 3,
    /* SHA extensions, four nonces interleaved. */
    SV2_KERNEL_SHANI_X4 = 4,
    /* The four-nonce SHA-NI kernel with AVX-512VL registers (CPUs with both). */
    SV2_KERNEL_SHANI_X4_AVX512 = 7,
    /* AVX2 (with OS support for YMM state), 8 nonces per vector. */
    SV2_KERNEL_AVX2 = 5,
    /* AVX512F (with OS support for ZMM state), 16 nonces per vector. */
    SV2_KERNEL_AVX512 = 6,
} sv2_sha256d_kernel;

/* The SHA-256 state (8 words) after absorbing the header's first 64 bytes. */
void sv2_sha256_midstate(const uint8_t header64[64], uint32_t state_out[8]);

/* Hashes the header with nonce = start_nonce, start_nonce+1, ...,
 * start_nonce+count-1 (wrapping mod 2^32) and returns 1 with *found_nonce set
 * to the first nonce whose SHA256d, read as a little-endian 256-bit integer,
 * is <= target32 (little-endian); 0 if none is; -1 if the kernel is not
 * available on this CPU. tail16's own nonce bytes (12..15) are ignored.
 * Rejects on the hash's most significant 32-bit word (h[7]) first. */
int sv2_sha256d_scan(sv2_sha256d_kernel kernel, const uint32_t midstate[8], const uint8_t tail16[16],
                     uint32_t start_nonce, uint32_t count, const uint8_t target32[32], uint32_t *found_nonce);

/* 1 if the kernel can run on this CPU (AUTO and PORTABLE always can), else 0. */
int sv2_sha256d_kernel_available(sv2_sha256d_kernel kernel);

/* A short static name ("portable", "sha-ni", "sha-ni-x2", "sha-ni-x4",
 * "sha-ni-x4-avx512", "avx2", "avx512"); for AUTO, the kernel it picks. */
const char *sv2_sha256d_kernel_name(sv2_sha256d_kernel kernel);

/* One-shot SHA256d (SHA-256 of SHA-256) of length bytes; out32 in internal
 * byte order. The block transform uses the SHA extensions when the CPU has
 * them, else portable C. For share validation, references and tests. */
void sv2_sha256d(const uint8_t *data, size_t length, uint8_t out32[32]);

/* ---- Thread placement (affinity.c) ---------------------------------------- */

/* Pins the calling thread to the (index mod n)-th of the n CPUs it may run on
 * (Linux; taskset and cpusets respected); 0 on success, -1 when it cannot. */
int sv2_pin_current_thread(int index);

/* Gives the calling thread the idle scheduling class (Linux SCHED_IDLE; else
 * nice 19), so every other runnable thread is scheduled before it; 0 on
 * success, -1 when neither could be set. */
int sv2_idle_current_thread(void);

#ifdef __cplusplus
}
#endif

#endif /* CSV2NATIVE_H */
