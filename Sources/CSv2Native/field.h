/*
 * field.h -- internal arithmetic in GF(p), p = 2^256 - 2^32 - 977, the base
 * field of secp256k1. Used by ellswift.c (BIP324 "ElligatorSwift encoding of
 * curve X coordinates"); not part of the public API of CSv2Native.
 *
 * Representation: four 64-bit limbs, least significant first, products via
 * unsigned __int128 (GCC/Clang on 64-bit targets). Every sv2_fe value is kept
 * fully reduced (0 <= value < p) after every operation, so equality and
 * zero tests are plain limb comparisons.
 *
 * Reduction uses 2^256 == 2^32 + 977 = 0x1000003D1 (mod p).
 *
 * add/sub/mul/sqr/reduction are straight-line code (masks, no branches on the
 * values). Exponentiations (inverse, sqrt, Legendre symbol) use fixed
 * addition chains, so they are constant-time as well. The one exception is
 * sv2_fe_is_square_var (binary "divstep" Jacobi symbol, ~3.5x faster than the
 * exponentiation), which branches on its input; ellswift.c uses it only on
 * public data / hash outputs, as libsecp256k1 does.
 */
#ifndef SV2_FIELD_H
#define SV2_FIELD_H

#include <stdint.h>

#ifndef __SIZEOF_INT128__
#error "CSv2Native field.h needs unsigned __int128 (GCC/Clang, 64-bit target)"
#endif

__extension__ typedef unsigned __int128 sv2_u128;

typedef struct {
    uint64_t n[4]; /* little-endian limbs, value < p */
} sv2_fe;

/* 2^256 mod p */
#define SV2_FE_R 0x1000003D1ULL

#define SV2_FE_CONST(d7, d6, d5, d4, d3, d2, d1, d0) \
    {{ ((uint64_t)(d1) << 32) | (d0), ((uint64_t)(d3) << 32) | (d2), \
       ((uint64_t)(d5) << 32) | (d4), ((uint64_t)(d7) << 32) | (d6) }}

static inline void sv2_fe_set_int(sv2_fe *r, uint64_t v) {
    r->n[0] = v; r->n[1] = 0; r->n[2] = 0; r->n[3] = 0;
}

/* One multiply-accumulate step: (hi:lo) = x*y + c1 + c2 (cannot overflow). */
#define SV2_MAC(lo, hi, x, y, c1, c2) do { \
        sv2_u128 sv2_m_ = (sv2_u128)(x) * (y) + (c1) + (c2); \
        (lo) = (uint64_t)sv2_m_; (hi) = (uint64_t)(sv2_m_ >> 64); } while (0)

/* (r0..r3) = (l0..l3) + R if l >= p (i.e. if l + R carries out of 2^256),
 * else l. Valid for any l < 2^256 since 2^256 < 2p. Returns the carry. */
static inline uint64_t sv2_fe_final_reduce(sv2_fe *r, uint64_t l0, uint64_t l1,
                                           uint64_t l2, uint64_t l3) {
    uint64_t t0, t1, t2, t3, c, mask;
    sv2_u128 acc;
    acc = (sv2_u128)l0 + SV2_FE_R;          t0 = (uint64_t)acc;
    acc = (sv2_u128)l1 + (uint64_t)(acc >> 64); t1 = (uint64_t)acc;
    acc = (sv2_u128)l2 + (uint64_t)(acc >> 64); t2 = (uint64_t)acc;
    acc = (sv2_u128)l3 + (uint64_t)(acc >> 64); t3 = (uint64_t)acc;
    c = (uint64_t)(acc >> 64);
    mask = 0 - c;
    r->n[0] = (t0 & mask) | (l0 & ~mask);
    r->n[1] = (t1 & mask) | (l1 & ~mask);
    r->n[2] = (t2 & mask) | (l2 & ~mask);
    r->n[3] = (t3 & mask) | (l3 & ~mask);
    return c;
}

/* If r >= p, subtract p. Returns 1 if the input was >= p. */
static inline int sv2_fe_reduce_once(sv2_fe *r) {
    return (int)sv2_fe_final_reduce(r, r->n[0], r->n[1], r->n[2], r->n[3]);
}

/* Load 32 bytes big-endian, reduce mod p. Returns 1 if the input was < p. */
static inline int sv2_fe_set_b32(sv2_fe *r, const uint8_t *b) {
    int i, j;
    for (i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (j = 0; j < 8; j++) v = (v << 8) | b[(3 - i) * 8 + j];
        r->n[i] = v;
    }
    return !sv2_fe_reduce_once(r);
}

/* Store as 32 bytes big-endian. */
static inline void sv2_fe_get_b32(uint8_t *b, const sv2_fe *a) {
    int i, j;
    for (i = 0; i < 4; i++) {
        uint64_t v = a->n[i];
        for (j = 7; j >= 0; j--) { b[(3 - i) * 8 + j] = (uint8_t)v; v >>= 8; }
    }
}

static inline int sv2_fe_is_zero(const sv2_fe *a) {
    return (a->n[0] | a->n[1] | a->n[2] | a->n[3]) == 0;
}

static inline int sv2_fe_equal(const sv2_fe *a, const sv2_fe *b) {
    return ((a->n[0] ^ b->n[0]) | (a->n[1] ^ b->n[1]) |
            (a->n[2] ^ b->n[2]) | (a->n[3] ^ b->n[3])) == 0;
}

static inline int sv2_fe_is_odd(const sv2_fe *a) {
    return (int)(a->n[0] & 1);
}

/* r = flag ? a : r (flag must be 0 or 1) */
static inline void sv2_fe_cmov(sv2_fe *r, const sv2_fe *a, int flag) {
    uint64_t mask = 0 - (uint64_t)flag;
    r->n[0] = (a->n[0] & mask) | (r->n[0] & ~mask);
    r->n[1] = (a->n[1] & mask) | (r->n[1] & ~mask);
    r->n[2] = (a->n[2] & mask) | (r->n[2] & ~mask);
    r->n[3] = (a->n[3] & mask) | (r->n[3] & ~mask);
}

/* r = a + b mod p */
static inline void sv2_fe_add(sv2_fe *r, const sv2_fe *a, const sv2_fe *b) {
    uint64_t s0, s1, s2, s3, t0, t1, t2, t3, c, mask;
    sv2_u128 acc;
    acc = (sv2_u128)a->n[0] + b->n[0];                         s0 = (uint64_t)acc;
    acc = (sv2_u128)a->n[1] + b->n[1] + (uint64_t)(acc >> 64); s1 = (uint64_t)acc;
    acc = (sv2_u128)a->n[2] + b->n[2] + (uint64_t)(acc >> 64); s2 = (uint64_t)acc;
    acc = (sv2_u128)a->n[3] + b->n[3] + (uint64_t)(acc >> 64); s3 = (uint64_t)acc;
    c = (uint64_t)(acc >> 64);
    acc = (sv2_u128)s0 + SV2_FE_R;              t0 = (uint64_t)acc;
    acc = (sv2_u128)s1 + (uint64_t)(acc >> 64); t1 = (uint64_t)acc;
    acc = (sv2_u128)s2 + (uint64_t)(acc >> 64); t2 = (uint64_t)acc;
    acc = (sv2_u128)s3 + (uint64_t)(acc >> 64); t3 = (uint64_t)acc;
    /* a+b >= p  <=>  carry out of a+b, or carry out of (a+b mod 2^256) + R */
    mask = 0 - (c | (uint64_t)(acc >> 64));
    r->n[0] = (t0 & mask) | (s0 & ~mask);
    r->n[1] = (t1 & mask) | (s1 & ~mask);
    r->n[2] = (t2 & mask) | (s2 & ~mask);
    r->n[3] = (t3 & mask) | (s3 & ~mask);
}

/* r = a - b mod p */
static inline void sv2_fe_sub(sv2_fe *r, const sv2_fe *a, const sv2_fe *b) {
    uint64_t d0, d1, d2, d3, borrow;
    sv2_u128 acc;
    acc = (sv2_u128)a->n[0] - b->n[0];                           d0 = (uint64_t)acc;
    acc = (sv2_u128)a->n[1] - b->n[1] - (uint64_t)(acc >> 127); d1 = (uint64_t)acc;
    acc = (sv2_u128)a->n[2] - b->n[2] - (uint64_t)(acc >> 127); d2 = (uint64_t)acc;
    acc = (sv2_u128)a->n[3] - b->n[3] - (uint64_t)(acc >> 127); d3 = (uint64_t)acc;
    borrow = (uint64_t)(acc >> 127);
    /* If it wrapped, add p, i.e. subtract R modulo 2^256 (the final borrow cancels). */
    acc = (sv2_u128)d0 - (SV2_FE_R & (0 - borrow));   r->n[0] = (uint64_t)acc;
    acc = (sv2_u128)d1 - (uint64_t)(acc >> 127);      r->n[1] = (uint64_t)acc;
    acc = (sv2_u128)d2 - (uint64_t)(acc >> 127);      r->n[2] = (uint64_t)acc;
    acc = (sv2_u128)d3 - (uint64_t)(acc >> 127);      r->n[3] = (uint64_t)acc;
}

/* r = -a mod p */
static inline void sv2_fe_negate(sv2_fe *r, const sv2_fe *a) {
    static const sv2_fe zero = {{0, 0, 0, 0}};
    sv2_fe_sub(r, &zero, a);
}

/* Reduce the 512-bit value (t7..t0) to r < p. */
static inline void sv2_fe_reduce512(sv2_fe *r, uint64_t t0, uint64_t t1, uint64_t t2, uint64_t t3,
                                    uint64_t t4, uint64_t t5, uint64_t t6, uint64_t t7) {
    uint64_t l0, l1, l2, l3, c;
    sv2_u128 acc;
    /* (l3..l0) + c*2^256 = lo + hi*R, c < 2^34 */
    SV2_MAC(l0, c, t4, SV2_FE_R, t0, 0);
    SV2_MAC(l1, c, t5, SV2_FE_R, t1, c);
    SV2_MAC(l2, c, t6, SV2_FE_R, t2, c);
    SV2_MAC(l3, c, t7, SV2_FE_R, t3, c);
    /* fold c*2^256 == c*R (< 2^67) */
    acc = (sv2_u128)c * SV2_FE_R + l0;          l0 = (uint64_t)acc;
    acc = (sv2_u128)l1 + (uint64_t)(acc >> 64); l1 = (uint64_t)acc;
    acc = (sv2_u128)l2 + (uint64_t)(acc >> 64); l2 = (uint64_t)acc;
    acc = (sv2_u128)l3 + (uint64_t)(acc >> 64); l3 = (uint64_t)acc;
    /* Now value = l + c*2^256 with c in {0,1}. If c = 1, l < 2^67, so the
     * result is l + R (< p, no carry). If c = 0, the result is l + R - 2^256
     * if that addition carries (l >= p), else l. One conditional add does both. */
    c = (uint64_t)(acc >> 64);
    {
        uint64_t s0, s1, s2, s3, mask;
        acc = (sv2_u128)l0 + SV2_FE_R;              s0 = (uint64_t)acc;
        acc = (sv2_u128)l1 + (uint64_t)(acc >> 64); s1 = (uint64_t)acc;
        acc = (sv2_u128)l2 + (uint64_t)(acc >> 64); s2 = (uint64_t)acc;
        acc = (sv2_u128)l3 + (uint64_t)(acc >> 64); s3 = (uint64_t)acc;
        mask = 0 - (c | (uint64_t)(acc >> 64));
        r->n[0] = (s0 & mask) | (l0 & ~mask);
        r->n[1] = (s1 & mask) | (l1 & ~mask);
        r->n[2] = (s2 & mask) | (l2 & ~mask);
        r->n[3] = (s3 & mask) | (l3 & ~mask);
    }
}

/* r = a * b mod p (r may alias a or b); schoolbook 4x4 */
static inline void sv2_fe_mul(sv2_fe *r, const sv2_fe *a, const sv2_fe *b) {
    const uint64_t a0 = a->n[0], a1 = a->n[1], a2 = a->n[2], a3 = a->n[3];
    const uint64_t b0 = b->n[0], b1 = b->n[1], b2 = b->n[2], b3 = b->n[3];
    uint64_t t0, t1, t2, t3, t4, t5, t6, t7, c;
    SV2_MAC(t0, c, a0, b0, 0, 0);
    SV2_MAC(t1, c, a0, b1, c, 0);
    SV2_MAC(t2, c, a0, b2, c, 0);
    SV2_MAC(t3, t4, a0, b3, c, 0);
    SV2_MAC(t1, c, a1, b0, t1, 0);
    SV2_MAC(t2, c, a1, b1, t2, c);
    SV2_MAC(t3, c, a1, b2, t3, c);
    SV2_MAC(t4, t5, a1, b3, t4, c);
    SV2_MAC(t2, c, a2, b0, t2, 0);
    SV2_MAC(t3, c, a2, b1, t3, c);
    SV2_MAC(t4, c, a2, b2, t4, c);
    SV2_MAC(t5, t6, a2, b3, t5, c);
    SV2_MAC(t3, c, a3, b0, t3, 0);
    SV2_MAC(t4, c, a3, b1, t4, c);
    SV2_MAC(t5, c, a3, b2, t5, c);
    SV2_MAC(t6, t7, a3, b3, t6, c);
    sv2_fe_reduce512(r, t0, t1, t2, t3, t4, t5, t6, t7);
}

/* r = a^2 mod p (r may alias a): 6 cross products doubled + 4 squares */
static inline void sv2_fe_sqr(sv2_fe *r, const sv2_fe *a) {
    const uint64_t a0 = a->n[0], a1 = a->n[1], a2 = a->n[2], a3 = a->n[3];
    uint64_t t0, t1, t2, t3, t4, t5, t6, t7, c, h;
    sv2_u128 acc;
    /* cross products a_i a_j, i < j (sum < 2^511) */
    SV2_MAC(t1, c, a0, a1, 0, 0);
    SV2_MAC(t2, c, a0, a2, c, 0);
    SV2_MAC(t3, t4, a0, a3, c, 0);
    SV2_MAC(t3, c, a1, a2, t3, 0);
    SV2_MAC(t4, t5, a1, a3, t4, c);
    SV2_MAC(t5, t6, a2, a3, t5, 0);
    /* double */
    t7 = t6 >> 63;
    t6 = (t6 << 1) | (t5 >> 63);
    t5 = (t5 << 1) | (t4 >> 63);
    t4 = (t4 << 1) | (t3 >> 63);
    t3 = (t3 << 1) | (t2 >> 63);
    t2 = (t2 << 1) | (t1 >> 63);
    t1 <<= 1;
    /* add the squares a_i^2 at position 2i */
    SV2_MAC(t0, h, a0, a0, 0, 0);
    acc = (sv2_u128)t1 + h;                                   t1 = (uint64_t)acc;
    SV2_MAC(c, h, a1, a1, 0, 0);
    acc = (sv2_u128)t2 + c + (uint64_t)(acc >> 64);           t2 = (uint64_t)acc;
    acc = (sv2_u128)t3 + h + (uint64_t)(acc >> 64);           t3 = (uint64_t)acc;
    SV2_MAC(c, h, a2, a2, 0, 0);
    acc = (sv2_u128)t4 + c + (uint64_t)(acc >> 64);           t4 = (uint64_t)acc;
    acc = (sv2_u128)t5 + h + (uint64_t)(acc >> 64);           t5 = (uint64_t)acc;
    SV2_MAC(c, h, a3, a3, 0, 0);
    acc = (sv2_u128)t6 + c + (uint64_t)(acc >> 64);           t6 = (uint64_t)acc;
    t7 = t7 + h + (uint64_t)(acc >> 64);
    sv2_fe_reduce512(r, t0, t1, t2, t3, t4, t5, t6, t7);
}

/* r = a * k mod p for a small k (k < 2^32) */
static inline void sv2_fe_mul_int(sv2_fe *r, const sv2_fe *a, uint32_t k) {
    uint64_t t0, t1, t2, t3, t4;
    SV2_MAC(t0, t1, a->n[0], k, 0, 0);
    SV2_MAC(t1, t2, a->n[1], k, t1, 0);
    SV2_MAC(t2, t3, a->n[2], k, t2, 0);
    SV2_MAC(t3, t4, a->n[3], k, t3, 0);
    sv2_fe_reduce512(r, t0, t1, t2, t3, t4, 0, 0, 0);
}

/* r = a^(2^n) */
static inline void sv2_fe_sqr_n(sv2_fe *r, const sv2_fe *a, int n) {
    int i;
    *r = *a;
    for (i = 0; i < n; i++) sv2_fe_sqr(r, r);
}

/* Shared prefix of the exponentiation chains: returns x223 = a^(2^223 - 1),
 * and x2 = a^3, x3 = a^7, x22 = a^(2^22 - 1). The exponents p-2, (p+1)/4
 * and (p-1)/2 all start with 223 one bits, then a 0 bit, then 22 ones. */
static inline void sv2_fe_pow_prefix(sv2_fe *x223, sv2_fe *x2, sv2_fe *x3,
                                     sv2_fe *x22, const sv2_fe *a) {
    sv2_fe x6, x9, x11, x44, x88, x176, t;
    sv2_fe_sqr(x2, a);       sv2_fe_mul(x2, x2, a);        /* 2^2-1 */
    sv2_fe_sqr(x3, x2);      sv2_fe_mul(x3, x3, a);        /* 2^3-1 */
    sv2_fe_sqr_n(&x6, x3, 3);  sv2_fe_mul(&x6, &x6, x3);   /* 2^6-1 */
    sv2_fe_sqr_n(&x9, &x6, 3); sv2_fe_mul(&x9, &x9, x3);   /* 2^9-1 */
    sv2_fe_sqr_n(&x11, &x9, 2); sv2_fe_mul(&x11, &x11, x2);/* 2^11-1 */
    sv2_fe_sqr_n(x22, &x11, 11); sv2_fe_mul(x22, x22, &x11);   /* 2^22-1 */
    sv2_fe_sqr_n(&x44, x22, 22); sv2_fe_mul(&x44, &x44, x22);  /* 2^44-1 */
    sv2_fe_sqr_n(&x88, &x44, 44); sv2_fe_mul(&x88, &x88, &x44);/* 2^88-1 */
    sv2_fe_sqr_n(&x176, &x88, 88); sv2_fe_mul(&x176, &x176, &x88); /* 2^176-1 */
    sv2_fe_sqr_n(&t, &x176, 44); sv2_fe_mul(&t, &t, &x44);     /* 2^220-1 */
    sv2_fe_sqr_n(x223, &t, 3); sv2_fe_mul(x223, x223, x3);     /* 2^223-1 */
}

/* r = a^(p-2) = 1/a (Fermat); 1/0 gives 0.
 * p-2 = [223 ones] 0 [22 ones] 0000 1 0 11 0 1 */
static inline void sv2_fe_inv(sv2_fe *r, const sv2_fe *a) {
    sv2_fe x223, x2, x3, x22, t;
    sv2_fe_pow_prefix(&x223, &x2, &x3, &x22, a);
    sv2_fe_sqr_n(&t, &x223, 23); sv2_fe_mul(&t, &t, &x22);
    sv2_fe_sqr_n(&t, &t, 5);     sv2_fe_mul(&t, &t, a);
    sv2_fe_sqr_n(&t, &t, 3);     sv2_fe_mul(&t, &t, &x2);
    sv2_fe_sqr_n(&t, &t, 2);     sv2_fe_mul(r, &t, a);
}

/* r = a^((p-3)/4), the building block for square roots and Legendre
 * symbols: with y = a^((p-3)/4) and a != 0,
 *   a*y   = a^((p+1)/4)  (the square root BIP324's reference FE.sqrt() returns,
 *                         if a is a square),
 *   a*y^2 = a^((p-1)/2)  (Legendre symbol: 1 or p-1),
 *   y^2   = 1/a          if a is a square.
 * (p-3)/4 = [223 ones] 0 [22 ones] 0000 1011 */
static inline void sv2_fe_pow_p34(sv2_fe *r, const sv2_fe *a) {
    sv2_fe x223, x2, x3, x22, t;
    sv2_fe_pow_prefix(&x223, &x2, &x3, &x22, a);
    sv2_fe_sqr_n(&t, &x223, 23); sv2_fe_mul(&t, &t, &x22);
    sv2_fe_sqr_n(&t, &t, 5);     sv2_fe_mul(&t, &t, a);
    sv2_fe_sqr_n(&t, &t, 3);     sv2_fe_mul(r, &t, &x2);
}

/* r = a^((p+1)/4). Returns 1 if r^2 == a (a is a square, r is then the
 * root that is itself a square, as BIP324's FE.sqrt()), else 0. */
static inline int sv2_fe_sqrt(sv2_fe *r, const sv2_fe *a) {
    sv2_fe y, chk;
    sv2_fe_pow_p34(&y, a);
    sv2_fe_mul(r, &y, a);
    sv2_fe_sqr(&chk, r);
    return sv2_fe_equal(&chk, a);
}

/* Returns 1 if a is a square mod p (including 0), else 0. */
static inline int sv2_fe_is_square(const sv2_fe *a) {
    sv2_fe r;
    return sv2_fe_sqrt(&r, a);
}

/* ---- variable-time Legendre symbol ----
 *
 * Jacobi symbol (g/f) with f = p, g = a, by batches of 62 "positive
 * divsteps" (the Bernstein-Yang divstep with g + f instead of g - f, so
 * everything stays non-negative and the Jacobi rules apply directly; the same
 * idea as libsecp256k1's jacobi64 code). One step, on (delta, f odd, g):
 *   g even:               g = g/2,                        delta += 1
 *   g odd, delta > 0:     (f, g) = (g, (g + f)/2),        delta = 1 - delta
 *   g odd, delta <= 0:    g = (g + f)/2,                  delta += 1
 * tracking the sign: halving flips it if f = 3, 5 (mod 8), swapping flips it if
 * f = g = 3 (mod 4); adding f to g does not change (g/f). Values never grow,
 * and (f, g) reaches (1, 1); once f = 1 the tracked sign is (a/p).
 * Steps only depend on the low bits, so 62 of them are run on the low
 * 64-bit words, giving a 2x2 matrix M with 2^62 (f', g') = M (f, g), then
 * applied to the full numbers. Branches on the value: use on public data only.
 */

/* (u*F + v*G) >> 62 for F, G < 2^256 and u + v <= 2^62 (exact division) */
static inline void sv2_jac_lincomb(uint64_t out[4], uint64_t u, const uint64_t F[4],
                                   uint64_t v, const uint64_t G[4]) {
    uint64_t l[5], c1 = 0, c2 = 0;
    int i;
    for (i = 0; i < 4; i++) {
        sv2_u128 x = (sv2_u128)u * F[i] + c1;
        sv2_u128 y = (sv2_u128)v * G[i] + c2 + (uint64_t)x;
        c1 = (uint64_t)(x >> 64);
        c2 = (uint64_t)(y >> 64);
        l[i] = (uint64_t)y;
    }
    l[4] = c1 + c2;
    for (i = 0; i < 4; i++) out[i] = (l[i] >> 62) | (l[i + 1] << 2);
}

/* Returns 1 if a is a square mod p (including 0), 0 if not, or -1 if not
 * decided within the iteration budget (then use sv2_fe_is_square). */
static inline int sv2_fe_legendre_var_maybe(const sv2_fe *a) {
    uint64_t f[4] = {0xFFFFFFFEFFFFFC2FULL, 0xFFFFFFFFFFFFFFFFULL,
                     0xFFFFFFFFFFFFFFFFULL, 0xFFFFFFFFFFFFFFFFULL}; /* p */
    uint64_t g[4], nf[4], ng[4];
    uint64_t jac = 0; /* bit 0: sign flipped */
    int delta = 1, batch, k;
    if (sv2_fe_is_zero(a)) return 1;
    for (k = 0; k < 4; k++) g[k] = a->n[k];
    /* ~750 steps (~13 batches) are typical for 256-bit inputs */
    for (batch = 0; batch < 40; batch++) {
        uint64_t fl = f[0], gl = g[0], u = 1, v = 0, q = 0, r = 1, t;
        int i = 62, z;
        for (;;) {
            /* all halvings at once (at most i); a sentinel bit stops at i */
            z = __builtin_ctzll(gl | (~0ULL << i));
            gl >>= z; u <<= z; v <<= z; delta += z; i -= z;
            jac ^= (uint64_t)z & ((fl >> 1) ^ (fl >> 2)); /* z odd and f = 3,5 mod 8 */
            if (i == 0) break;
            /* g is odd */
            if (delta > 0) {
                t = fl; fl = gl; gl = t;
                t = u; u = q; q = t;
                t = v; v = r; r = t;
                jac ^= (fl & gl) >> 1;                   /* both 3 mod 4 */
                delta = -delta;                          /* +1 comes with the halving */
            }
            /* The next min(1 - delta, i, 6) steps are all "g = (g + bit*f)/2":
             * add w*f with w = -g/f mod 2^k at once (f(f^2-2) = -1/f mod 64);
             * the halvings follow at the top of the loop. */
            {
                int limit = (1 - delta) > i ? i : (1 - delta);
                uint64_t m = (~0ULL >> (64 - limit)) & 63;
                uint64_t w = (fl * gl * (fl * fl - 2)) & m;
                gl += fl * w; q += u * w; r += v * w;
            }
        }
        sv2_jac_lincomb(nf, u, f, v, g);
        sv2_jac_lincomb(ng, q, f, r, g);
        for (k = 0; k < 4; k++) { f[k] = nf[k]; g[k] = ng[k]; }
        if (f[0] == 1 && (f[1] | f[2] | f[3]) == 0) return (int)((jac & 1) ^ 1);
    }
    return -1;
}

/* Variable-time square test: the divstep Legendre symbol, with the
 * exponentiation as a fallback (never needed in testing). */
static inline int sv2_fe_is_square_var(const sv2_fe *a) {
    int r = sv2_fe_legendre_var_maybe(a);
    return r >= 0 ? r : sv2_fe_is_square(a);
}

#endif /* SV2_FIELD_H */
