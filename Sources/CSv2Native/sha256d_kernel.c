/*
 * sha256d_kernel.c -- SHA-256d nonce search over an 80-byte block header
 * (the CPU miner's inner loop), declared in include/CSv2Native.h.
 *
 * Header layout: bytes 0..63 are absorbed once into a midstate
 * (sv2_sha256_midstate); bytes 64..79 (end of the merkle root, time, nBits,
 * nonce) form the second block together with the fixed padding. Each nonce
 * then costs two SHA-256 compressions: the second block of the first hash and
 * the single block of the second hash (a 32-byte message plus padding).
 *
 * Kernels, picked at run time: a portable C one (unrolled rounds, the first 3
 * rounds and W16/W17 of the second header block precomputed because they do
 * not depend on the nonce, 61 of 64 rounds of the second hash before the
 * early-exit check); x86-64 SHA-NI ones over 1, 2 or 4 nonces interleaved
 * (sha256rnds2 has a latency of several cycles and a throughput of about one
 * per cycle, so independent nonces fill the gaps); and the multi-buffer AVX2
 * (8 lanes) and AVX-512 (16 lanes) kernels of sha256d_simd.h.
 */
#include "CSv2Native.h"
#include "sha256.h"
#include "sha256d_internal.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#define K sv2_sha256_k
#define IV sv2_sha256_iv

static inline uint32_t bswap32(uint32_t x) { return __builtin_bswap32(x); }

/* Generic compression of one block given as 16 big-endian words. */
static void compress_words(uint32_t s[8], const uint32_t block[16]) {
    uint32_t w[64], v[8];
    int i;
    for (i = 0; i < 16; i++) w[i] = block[i];
    for (i = 16; i < 64; i++) w[i] = SS1(w[i - 2]) + w[i - 7] + SS0(w[i - 15]) + w[i - 16];
    for (i = 0; i < 8; i++) v[i] = s[i];
    for (i = 0; i < 64; i++) ROUND(v, K[i] + w[i]);
    for (i = 0; i < 8; i++) s[i] += v[i];
}

/* Full second hash of the first hash's state words; returns its 8 state words. */
static void second_hash_full(const uint32_t first[8], uint32_t out[8]) {
    uint32_t block[16] = {0};
    memcpy(block, first, 32);
    block[8] = 0x80000000u;
    block[15] = 256;
    memcpy(out, IV, 32);
    compress_words(out, block);
}

/* 1 if the digest with state words h (bytes = big-endian words), read as a
 * little-endian 256-bit integer, is <= the little-endian target32. */
static int hash_leq_target(const uint32_t h[8], const uint8_t target32[32]) {
    uint8_t d[32];
    int i;
    for (i = 0; i < 8; i++) {
        d[4 * i] = (uint8_t)(h[i] >> 24); d[4 * i + 1] = (uint8_t)(h[i] >> 16);
        d[4 * i + 2] = (uint8_t)(h[i] >> 8); d[4 * i + 3] = (uint8_t)h[i];
    }
    for (i = 31; i >= 0; i--) {
        if (d[i] != target32[i]) return d[i] < target32[i];
    }
    return 1;
}

int sv2_sha256d_check_nonce(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t nonce, const uint8_t target32[32]) {
    uint32_t block[16] = {0}, first[8], h[8];
    int i;
    for (i = 0; i < 3; i++) block[i] = sv2_load_be32(tail16 + 4 * i);
    block[3] = bswap32(nonce);
    block[4] = 0x80000000u;
    block[15] = 640;
    memcpy(first, midstate, 32);
    compress_words(first, block);
    second_hash_full(first, h);
    return hash_leq_target(h, target32);
}

void sv2_sha256_midstate(const uint8_t header64[64], uint32_t state_out[8]) {
    sv2_sha256_ctx ctx;
    sv2_sha256_init(&ctx);
    sv2_sha256_write(&ctx, header64, 64);
    memcpy(state_out, ctx.s, 32);
}

void sv2_sha256d(const uint8_t *data, size_t length, uint8_t out32[32]) {
    sv2_sha256_ctx ctx;
    uint8_t first[32];
    sv2_sha256_init(&ctx);
    sv2_sha256_write(&ctx, data, length);
    sv2_sha256_finalize(&ctx, first);
    sv2_sha256_init(&ctx);
    sv2_sha256_write(&ctx, first, 32);
    sv2_sha256_finalize(&ctx, out32);
}

/* ---- portable kernel ---------------------------------------------------- */

static int scan_portable(const uint32_t midstate[8], const uint8_t tail16[16], uint32_t start_nonce,
                         uint32_t count, const uint8_t target32[32], uint32_t *found_nonce) {
    const uint32_t top = sv2_load_le32(target32 + 28);
    sv2_sha256d_job job;
    uint32_t n;
    int i;
    sv2_sha256d_prepare(&job, midstate, tail16);

    for (n = 0; n < count; n++) {
        const uint32_t nonce = start_nonce + n;
        uint32_t w[64], v[8], first[8];
        /* First hash, second block: W3 = nonce (big-endian word of LE bytes). */
        w[0] = job.w0; w[1] = job.w1; w[2] = job.w2; w[3] = bswap32(nonce);
        w[4] = 0x80000000u;
        w[5] = 0; w[6] = 0; w[7] = 0; w[8] = 0; w[9] = 0; w[10] = 0; w[11] = 0; w[12] = 0; w[13] = 0; w[14] = 0;
        w[15] = 640;
        w[16] = job.w16; w[17] = job.w17;
#pragma clang loop unroll(full)
        for (i = 0; i < 8; i++) v[i] = job.pre[i];
#pragma clang loop unroll(full)
        for (i = 3; i < 64; i++) {
            if (i >= 18) w[i] = SCHEDULE(w, i);
            ROUND(v, K[i] + w[i]);
        }
#pragma clang loop unroll(full)
        for (i = 0; i < 8; i++) first[i] = midstate[i] + v[i];

        /* Second hash: one block, the 32-byte digest then padding for 256 bits. */
#pragma clang loop unroll(full)
        for (i = 0; i < 8; i++) w[i] = first[i];
        w[8] = 0x80000000u;
        w[9] = 0; w[10] = 0; w[11] = 0; w[12] = 0; w[13] = 0; w[14] = 0;
        w[15] = 256;
#pragma clang loop unroll(full)
        for (i = 0; i < 8; i++) v[i] = IV[i];
        /* h after 64 rounds is e after 61 rounds: H7 = IV7 + e61. */
#pragma clang loop unroll(full)
        for (i = 0; i < 61; i++) {
            if (i >= 16) w[i] = SCHEDULE(w, i);
            ROUND(v, K[i] + w[i]);
        }
        if (bswap32(IV[7] + v[4]) <= top && sv2_sha256d_check_nonce(midstate, tail16, nonce, target32)) {
            *found_nonce = nonce;
            return 1;
        }
    }
    return 0;
}

/* ---- CPU features (x86-64) ---------------------------------------------- */

#if defined(__x86_64__)

/* XCR0 (the register states the OS saves), 0 when the OS does not enable XSAVE. */
static uint64_t xcr0(void) {
    unsigned int a, b, c, d, lo, hi;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* CPUID leaf 7 EBX, 0 when the leaf is missing. */
static unsigned int cpuid7_ebx(void) {
    unsigned int a, b, c, d;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) ? b : 0;
}

/* Bit 0: AVX2 with the OS saving the YMM state; bit 1: AVX512F with the OS saving the opmask and ZMM states;
 * bit 2: AVX512VL too (EVEX encoding of 128-bit operations, registers 16-31). Read once (CPUID traps to the
 * hypervisor in a VM), cached; racing threads store the same value. */
static int cpu_vector_features(void) {
    static int cached = -1;
    int seen = __atomic_load_n(&cached, __ATOMIC_RELAXED), features = 0;
    unsigned int ebx;
    uint64_t xcr;
    if (seen >= 0) return seen;
    ebx = cpuid7_ebx();
    xcr = xcr0();
    if ((ebx & (1u << 5)) && (xcr & 0x6) == 0x6) features |= 1;
    if ((ebx & (1u << 16)) && (xcr & 0xe6) == 0xe6) features |= 2;
    if ((features & 2) && (ebx & (1u << 31))) features |= 4;
    __atomic_store_n(&cached, features, __ATOMIC_RELAXED);
    return features;
}

static int cpu_has_avx2(void) { return (cpu_vector_features() & 1) != 0; }
static int cpu_has_avx512(void) { return (cpu_vector_features() & 2) != 0; }
static int cpu_has_avx512vl(void) { return (cpu_vector_features() & 4) != 0; }

#else

static int cpu_has_avx2(void) { return 0; }
static int cpu_has_avx512(void) { return 0; }
static int cpu_has_avx512vl(void) { return 0; }

#endif /* __x86_64__ */

int sv2_sha256d_kernel_available(sv2_sha256d_kernel kernel) {
    switch (kernel) {
    case SV2_KERNEL_AUTO:
    case SV2_KERNEL_PORTABLE:
        return 1;
    case SV2_KERNEL_SHANI:
    case SV2_KERNEL_SHANI_X2:
    case SV2_KERNEL_SHANI_X4:
        return sv2_cpu_has_shani();
    case SV2_KERNEL_SHANI_X4_AVX512:
        return sv2_cpu_has_shani() && cpu_has_avx512vl();
    case SV2_KERNEL_AVX2:
        return cpu_has_avx2();
    case SV2_KERNEL_AVX512:
        return cpu_has_avx512();
    }
    return 0;
}

/* The kernel AUTO runs, measured once per process: each available kernel other than portable scans the same
 * header's nonces three times, interleaved with the others, and the best of its three rates competes. The ranking
 * differs between CPUs (the SHA unit's throughput, AVX-512's clock cost) and under load from a sibling thread, so it
 * is measured rather than assumed; about 30 ms on first use. */
static sv2_sha256d_kernel auto_kernel = SV2_KERNEL_PORTABLE;
static pthread_once_t auto_once = PTHREAD_ONCE_INIT;

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

static int scan_kernel(sv2_sha256d_kernel kernel, const uint32_t midstate[8], const uint8_t tail16[16],
                       uint32_t start_nonce, uint32_t count, const uint8_t target32[32], uint32_t *found_nonce);

static void calibrate_auto(void) {
    static const sv2_sha256d_kernel candidates[] = {SV2_KERNEL_SHANI_X4_AVX512, SV2_KERNEL_SHANI_X4, SV2_KERNEL_SHANI_X2,
                                                    SV2_KERNEL_AVX512, SV2_KERNEL_AVX2};
    enum { count = sizeof candidates / sizeof candidates[0], nonces = 1 << 15 };
    const uint8_t impossible[32] = {0};
    uint8_t header[64] = {1};
    uint32_t midstate[8], found;
    double best[count] = {0};
    size_t i;
    int round;
    for (i = 0; i < sizeof header; i++) header[i] = (uint8_t)(i * 37 + 1);
    sv2_sha256_midstate(header, midstate);
    for (round = 0; round < 3; round++) {
        for (i = 0; i < count; i++) {
            double start, rate;
            if (!sv2_sha256d_kernel_available(candidates[i])) continue;
            start = seconds_now();
            scan_kernel(candidates[i], midstate, header, 0, nonces, impossible, &found);
            rate = nonces / (seconds_now() - start + 1e-9);
            if (rate > best[i]) best[i] = rate;
        }
    }
    {
        double fastest = 0;
        for (i = 0; i < count; i++) {
            if (best[i] > fastest) {
                fastest = best[i];
                auto_kernel = candidates[i];
            }
        }
    }
}

static sv2_sha256d_kernel resolve(sv2_sha256d_kernel kernel) {
    if (kernel != SV2_KERNEL_AUTO) return kernel;
    pthread_once(&auto_once, calibrate_auto);
    return auto_kernel;
}

const char *sv2_sha256d_kernel_name(sv2_sha256d_kernel kernel) {
    switch (resolve(kernel)) {
    case SV2_KERNEL_PORTABLE: return "portable";
    case SV2_KERNEL_SHANI: return "sha-ni";
    case SV2_KERNEL_SHANI_X2: return "sha-ni-x2";
    case SV2_KERNEL_SHANI_X4: return "sha-ni-x4";
    case SV2_KERNEL_SHANI_X4_AVX512: return "sha-ni-x4-avx512";
    case SV2_KERNEL_AVX2: return "avx2";
    case SV2_KERNEL_AVX512: return "avx512";
    default: return "unknown";
    }
}

static int scan_kernel(sv2_sha256d_kernel kernel, const uint32_t midstate[8], const uint8_t tail16[16],
                       uint32_t start_nonce, uint32_t count, const uint8_t target32[32], uint32_t *found_nonce) {
    switch (kernel) {
    case SV2_KERNEL_PORTABLE:
        return scan_portable(midstate, tail16, start_nonce, count, target32, found_nonce);
#if defined(__x86_64__)
    case SV2_KERNEL_SHANI:
        return sv2_sha256d_scan_shani_x1(midstate, tail16, start_nonce, count, target32, found_nonce);
    case SV2_KERNEL_SHANI_X2:
        return sv2_sha256d_scan_shani_x2(midstate, tail16, start_nonce, count, target32, found_nonce);
    case SV2_KERNEL_SHANI_X4:
        return sv2_sha256d_scan_shani_x4(midstate, tail16, start_nonce, count, target32, found_nonce);
    case SV2_KERNEL_SHANI_X4_AVX512:
        return sv2_sha256d_scan_shani_x4_avx512(midstate, tail16, start_nonce, count, target32, found_nonce);
    case SV2_KERNEL_AVX2:
        return sv2_sha256d_scan_avx2(midstate, tail16, start_nonce, count, target32, found_nonce);
    case SV2_KERNEL_AVX512:
        return sv2_sha256d_scan_avx512(midstate, tail16, start_nonce, count, target32, found_nonce);
#endif
    default:
        return -1;
    }
}

int sv2_sha256d_scan(sv2_sha256d_kernel kernel, const uint32_t midstate[8], const uint8_t tail16[16],
                     uint32_t start_nonce, uint32_t count, const uint8_t target32[32], uint32_t *found_nonce) {
    kernel = resolve(kernel);
    if (!sv2_sha256d_kernel_available(kernel)) return -1;
    return scan_kernel(kernel, midstate, tail16, start_nonce, count, target32, found_nonce);
}
