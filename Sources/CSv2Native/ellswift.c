/*
 * ellswift.c -- BIP324 ElligatorSwift for secp256k1 (libc only).
 *
 * Implements, from BIP324 "Specification" > "Handshake: key exchange and
 * version negotiation" > "ElligatorSwift encoding of curve X coordinates"
 * (and the BIP's reference code):
 *   - XSwiftEC(u, t), the forward map, used by ellswift decoding
 *     (ellswift_ecdh_xonly: u, t = the two 32-byte halves mod p),
 *   - XSwiftECInv(x, u, case), its partial inverse,
 *   - XElligatorSwift(x), the loop over random (u, case) until XSwiftECInv
 *     succeeds, with the randomness derived exactly like libsecp256k1's
 *     ellswift module so encodings match secp256k1_ellswift_encode/_create
 *     byte for byte,
 *   - the "bip324_ellswift_xonly_ecdh" tagged hash of the sibling section
 *     "Shared secret computation" (v2_ecdh).
 * Field arithmetic is in field.h, SHA-256 in sha256.c. API docs: CSv2Native.h.
 */
#include "CSv2Native.h"

#include <string.h>

#include "field.h"
#include "sha256.h"

/* c3 = (1 - c)/2 and c4 = (1 + c)/2, where c = sqrt(-3) = (-3)^((p+1)/4)
 * = 0x0a2d2ba9...cd5f852 is BIP324's constant (the root that is a square). */
static const sv2_fe sv2_c3 = SV2_FE_CONST(0x7ae96a2b, 0x657c0710, 0x6e64479e, 0xac3434e9,
                                          0x9cf04975, 0x12f58995, 0xc1396c28, 0x719501ef);
static const sv2_fe sv2_c4 = SV2_FE_CONST(0x851695d4, 0x9a83f8ef, 0x919bb861, 0x53cbcb16,
                                          0x630fb68a, 0xed0a766a, 0x3ec693d6, 0x8e6afa41);
/* c1 = (sqrt(-3) - 1)/2 = c4 - 1 and c2 = (-sqrt(-3) - 1)/2 = c3 - 1 */
static const sv2_fe sv2_c1 = SV2_FE_CONST(0x851695d4, 0x9a83f8ef, 0x919bb861, 0x53cbcb16,
                                          0x630fb68a, 0xed0a766a, 0x3ec693d6, 0x8e6afa40);
static const sv2_fe sv2_c2 = SV2_FE_CONST(0x7ae96a2b, 0x657c0710, 0x6e64479e, 0xac3434e9,
                                          0x9cf04975, 0x12f58995, 0xc1396c28, 0x719501ee);

/* 1/2 = (p+1)/2 */
static const sv2_fe sv2_half = SV2_FE_CONST(0x7fffffff, 0xffffffff, 0xffffffff, 0xffffffff,
                                            0xffffffff, 0xffffffff, 0xffffffff, 0x7ffffe18);

/* ---- curve helpers ---- */

/* x^3 + 7 */
static void sv2_curve_rhs(sv2_fe *r, const sv2_fe *x) {
    sv2_fe seven;
    sv2_fe_sqr(r, x);
    sv2_fe_mul(r, r, x);
    sv2_fe_set_int(&seven, 7);
    sv2_fe_add(r, r, &seven);
}

/* Is x a valid X coordinate (x^3 + 7 a square)? (never 0 on secp256k1)
 * Variable time: only used on public values and hash-derived u. */
static int sv2_x_on_curve(const sv2_fe *x) {
    sv2_fe r;
    sv2_curve_rhs(&r, x);
    return sv2_fe_is_square_var(&r);
}

/* Is n/d a valid X coordinate (d != 0)? Also returns 1/d, from the same
 * single exponentiation:
 *   A = n^3 + 7 d^3 = d^3 ((n/d)^3 + 7)   (never 0: x^3 + 7 has no root mod p)
 *   n/d valid  <=>  A*d = d^4 ((n/d)^3 + 7) is a square
 *   z = (A d)^((p-3)/4):  c = A d z^2 = chi(A d) = +-1,  and  1/d = c * A z^2. */
static int sv2_x_frac_on_curve_inv(const sv2_fe *n, const sv2_fe *d, sv2_fe *dinv) {
    sv2_fe t, a, e, z, one;
    int valid;
    sv2_fe_sqr(&t, d);
    sv2_fe_mul(&t, &t, d);
    sv2_fe_mul_int(&t, &t, 7);     /* 7 d^3 */
    sv2_fe_sqr(&a, n);
    sv2_fe_mul(&a, &a, n);         /* n^3 */
    sv2_fe_add(&a, &a, &t);        /* A */
    sv2_fe_mul(&e, &a, d);         /* A d */
    sv2_fe_pow_p34(&z, &e);
    sv2_fe_sqr(&z, &z);            /* z^2 = chi(A d) / (A d) */
    sv2_fe_mul(dinv, &a, &z);      /* chi(A d) / d */
    sv2_fe_mul(&e, &e, &z);        /* chi(A d) */
    sv2_fe_set_int(&one, 1);
    valid = sv2_fe_equal(&e, &one);
    if (!valid) sv2_fe_negate(dinv, dinv);
    return valid;
}

/* ---- XSwiftEC (BIP324, "ElligatorSwift encoding of curve X coordinates") ----
 *
 * BIP324:  if u = 0: u = 1;  if t = 0: t = 1;  if u^3 + t^2 + 7 = 0: t = 2t
 *          X = (u^3 + 7 - t^2)/(2t);  Y = (X + t)/(sqrt(-3) u)
 *          return the first valid x of  x3 = u + 4Y^2,  x2 = (-X/Y - u)/2,
 *                                       x1 = (X/Y - u)/2.
 * With s = t^2, g = u^3 + 7 (and s -> 4s for the t -> 2t case):
 *   x3 = (3 s u^3 - (g+s)^2) / (3 s u^2)
 *   x2 = u (c1 s + c2 g) / (g + s)
 *   x1 = -(x2 + u)          (same denominator g + s as x2)
 * Each validity test also yields the inverse of the denominator, so decoding
 * costs one exponentiation if x3 is valid, else two. */
static void sv2_xswiftec_fe(sv2_fe *x, const sv2_fe *u_in, const sv2_fe *t) {
    sv2_fe u = *u_in, s, g, gs, d, n, l, one, dinv;
    sv2_fe_set_int(&one, 1);
    sv2_fe_cmov(&u, &one, sv2_fe_is_zero(&u));
    sv2_fe_sqr(&s, t);
    sv2_fe_cmov(&s, &one, sv2_fe_is_zero(t));
    sv2_fe_sqr(&l, &u);                 /* l = u^2 */
    sv2_fe_mul(&g, &l, &u);
    {
        sv2_fe seven;
        sv2_fe_set_int(&seven, 7);
        sv2_fe_add(&g, &g, &seven);     /* g = u^3 + 7 */
    }
    sv2_fe_add(&gs, &g, &s);
    if (sv2_fe_is_zero(&gs)) {          /* u^3 + t^2 + 7 = 0: t -> 2t, s -> 4s */
        sv2_fe_mul_int(&s, &s, 4);
        sv2_fe_add(&gs, &g, &s);        /* = 3s, nonzero */
    }
    sv2_fe_mul(&d, &s, &l);
    sv2_fe_mul_int(&d, &d, 3);          /* d = 3 s u^2 (nonzero) */
    sv2_fe_mul(&n, &d, &u);             /* 3 s u^3 */
    sv2_fe_sqr(&l, &gs);                /* (g+s)^2 */
    sv2_fe_sub(&n, &n, &l);             /* n = 3 s u^3 - (g+s)^2 */
    if (!sv2_x_frac_on_curve_inv(&n, &d, &dinv)) {
        sv2_fe_mul(&l, &sv2_c1, &s);
        sv2_fe_mul(&n, &sv2_c2, &g);
        sv2_fe_add(&n, &n, &l);
        sv2_fe_mul(&n, &n, &u);         /* n = u (c1 s + c2 g), x2 = n / (g+s) */
        if (!sv2_x_frac_on_curve_inv(&n, &gs, &dinv)) {
            sv2_fe_mul(&l, &gs, &u);
            sv2_fe_add(&n, &n, &l);
            sv2_fe_negate(&n, &n);      /* x1 = -(u (c1 s + c2 g) + u (g+s)) / (g+s) */
        }
    }
    sv2_fe_mul(x, &n, &dinv);
}

void sv2_xswiftec(const uint8_t *u32, const uint8_t *t32, uint8_t *x_out32) {
    sv2_fe u, t, x;
    sv2_fe_set_b32(&u, u32);
    sv2_fe_set_b32(&t, t32);
    sv2_xswiftec_fe(&x, &u, &t);
    sv2_fe_get_b32(x_out32, &x);
}

void sv2_ellswift_decode(const uint8_t *ell64, uint8_t *x_out32) {
    sv2_xswiftec(ell64, ell64 + 32, x_out32);
}

void sv2_ellswift_decode_pubkey(const uint8_t *ell64, uint8_t *pub_out33) {
    sv2_fe u, t, x;
    sv2_fe_set_b32(&u, ell64);
    sv2_fe_set_b32(&t, ell64 + 32);
    sv2_xswiftec_fe(&x, &u, &t);
    /* x is valid and y != 0 on secp256k1, so both parities exist: pick parity(t mod p) */
    pub_out33[0] = (uint8_t)(0x02 | sv2_fe_is_odd(&t));
    sv2_fe_get_b32(pub_out33 + 1, &x);
}

int sv2_secp256k1_is_valid_x(const uint8_t *x32) {
    sv2_fe x;
    if (!sv2_fe_set_b32(&x, x32)) return 0;
    return sv2_x_on_curve(&x);
}

/* ---- XSwiftECInv (BIP324, same section) ----
 *
 * BIP324 reference:
 *   if case & 2 == 0:
 *       if is_valid_x(-x - u): fail
 *       v = x;  s = -(u^3 + 7)/(u^2 + u v + v^2)
 *   else:
 *       s = x - u;  if s = 0: fail
 *       r = sqrt(-s (4 (u^3 + 7) + 3 s u^2));  fail if none
 *       if case & 1 and r = 0: fail
 *       v = (r/s - u)/2
 *   w = sqrt(s);  fail if none
 *   case & 5 == 0: t = -w (c3 u + v)      case & 5 == 1: t =  w (c4 u + v)
 *   case & 5 == 4: t =  w (c3 u + v)      case & 5 == 5: t = -w (c4 u + v)
 * x must be a valid X coordinate and u != 0 (checked by the callers). */
static int sv2_xswiftec_inv_fe(sv2_fe *t, const sv2_fe *x, const sv2_fe *u, int c) {
    sv2_fe g, s, v, w, m, q, r, y, seven;
    sv2_fe_set_int(&seven, 7);
    sv2_fe_sqr(&q, u);                  /* q = u^2 */
    sv2_fe_mul(&g, &q, u);
    sv2_fe_add(&g, &g, &seven);         /* g = u^3 + 7 */
    if (!(c & 2)) {
        sv2_fe den;
        sv2_fe_add(&m, x, u);
        sv2_fe_negate(&m, &m);          /* m = -x - u */
        if (sv2_x_on_curve(&m)) return 0;
        /* den = u^2 + u x + x^2 = (u + x)^2 - u x; nonzero here (den = 0 would
         * make -x-u valid, see libsecp256k1's comment). s = -g/den. */
        sv2_fe_sqr(&m, &m);
        sv2_fe_mul(&r, u, x);
        sv2_fe_sub(&den, &m, &r);       /* den */
        sv2_fe_mul(&m, &g, &den);
        sv2_fe_negate(&m, &m);          /* a = -g den: s is a square iff a is */
        if (!sv2_fe_is_square_var(&m)) return 0;
        /* w = sqrt(s) = s^((p+1)/4) in one exponentiation, with b = den^2 (a
         * square) so that s = a/b:  w = a (a b)^((p-3)/4). */
        sv2_fe_sqr(&r, &den);
        sv2_fe_mul(&r, &r, &m);         /* a b = -g den^3 */
        sv2_fe_pow_p34(&y, &r);
        sv2_fe_mul(&w, &y, &m);
        v = *x;
    } else {
        sv2_fe_sub(&s, x, u);           /* s = x - u */
        if (sv2_fe_is_zero(&s)) return 0;
        /* BIP324 tests sqrt(s) last; failing earlier gives the same result. */
        if (!sv2_fe_is_square_var(&s)) return 0;
        sv2_fe_mul(&q, &q, &s);
        sv2_fe_mul_int(&q, &q, 3);      /* 3 s u^2 */
        sv2_fe_mul_int(&m, &g, 4);      /* 4 (u^3 + 7) */
        sv2_fe_add(&q, &q, &m);
        sv2_fe_mul(&q, &q, &s);
        sv2_fe_negate(&q, &q);          /* q = -s (4 (u^3+7) + 3 s u^2) */
        if (!sv2_fe_is_square_var(&q)) return 0;
        sv2_fe_sqrt(&r, &q);            /* r = sqrt(q) */
        if ((c & 1) && sv2_fe_is_zero(&r)) return 0;
        /* y = s^((p-3)/4): w = s y = sqrt(s), and y^2 = 1/s (s is a square) */
        sv2_fe_pow_p34(&y, &s);
        sv2_fe_mul(&w, &y, &s);
        /* v = (r/s - u)/2 */
        sv2_fe_sqr(&y, &y);
        sv2_fe_mul(&v, &r, &y);
        sv2_fe_sub(&v, &v, u);
        sv2_fe_mul(&v, &v, &sv2_half);
    }
    sv2_fe_mul(&m, u, (c & 1) ? &sv2_c4 : &sv2_c3);
    sv2_fe_add(&m, &m, &v);
    sv2_fe_mul(t, &w, &m);
    if ((c & 5) == 0 || (c & 5) == 5) sv2_fe_negate(t, t);
    return 1;
}

int sv2_xswiftec_inv(const uint8_t *x32, const uint8_t *u32, int case_, uint8_t *t_out32) {
    sv2_fe x, u, t;
    if (case_ < 0 || case_ > 7) return 0;
    if (!sv2_fe_set_b32(&x, x32) || !sv2_x_on_curve(&x)) return 0;
    sv2_fe_set_b32(&u, u32);
    if (sv2_fe_is_zero(&u)) return 0;
    if (!sv2_xswiftec_inv_fe(&t, &x, &u, case_)) return 0;
    sv2_fe_get_b32(t_out32, &t);
    return 1;
}

/* ---- XElligatorSwift: the encoding loop (BIP324, same section) ---- */

/* BIP340 tagged-hash midstates: SHA-256 state after absorbing
 * SHA256(tag) || SHA256(tag) (64 bytes). Checked by the test driver. */
static const uint32_t sv2_midstate_ellswift_encode[8] = { /* "secp256k1_ellswift_encode" */
    0xd1a6524b, 0x028594b3, 0x96e42f4e, 0x1037a177, 0x1b8fcb8b, 0x56023885, 0x2560ede1, 0xd626b715,
};
static const uint32_t sv2_midstate_ellswift_create[8] = { /* "secp256k1_ellswift_create" */
    0xd29e1bf5, 0xf7025f42, 0x9b024773, 0x094cb7d5, 0xe59ed789, 0x03bc9786, 0x68335b35, 0x4e363b53,
};
static const uint32_t sv2_midstate_bip324_ecdh[8] = { /* "bip324_ellswift_xonly_ecdh" */
    0x8c12d730, 0x827bd392, 0x9e4fb2ee, 0x207b373e, 0x2292bd7a, 0xaa5441bc, 0x15c3779f, 0xcfb52549,
};

/* R(cnt) = SHA256(hasher-so-far || le32(cnt)) */
static void sv2_ellswift_prng(uint8_t *out32, const sv2_sha256_ctx *hasher, uint32_t cnt) {
    sv2_sha256_ctx h = *hasher;
    uint8_t buf4[4];
    buf4[0] = (uint8_t)cnt;
    buf4[1] = (uint8_t)(cnt >> 8);
    buf4[2] = (uint8_t)(cnt >> 16);
    buf4[3] = (uint8_t)(cnt >> 24);
    sv2_sha256_write(&h, buf4, 4);
    sv2_sha256_finalize(&h, out32);
}

/* BIP324 encoding loop for a valid x, randomness from the hasher stream (see
 * CSv2Native.h); t gets parity y_odd. Writes ell64 = u32 || t. */
static void sv2_ellswift_loop(uint8_t *ell64, const sv2_fe *x, int y_odd, const sv2_sha256_ctx *hasher) {
    uint8_t branch_hash[32];
    int branches_left = 0;
    uint32_t cnt = 0;
    sv2_fe u, t;
    for (;;) {
        int branch;
        if (branches_left == 0) {
            sv2_ellswift_prng(branch_hash, hasher, cnt++);
            branches_left = 64;
        }
        --branches_left;
        branch = (branch_hash[branches_left >> 1] >> ((branches_left & 1) << 2)) & 7;
        sv2_ellswift_prng(ell64, hasher, cnt++);
        sv2_fe_set_b32(&u, ell64);   /* u32 kept raw in ell64; decoding reduces it */
        /* u = 0 mod p has probability ~2^-256; skip it (libsecp256k1 does not check) */
        if (sv2_fe_is_zero(&u)) continue;
        if (sv2_xswiftec_inv_fe(&t, x, &u, branch)) break;
    }
    if (sv2_fe_is_odd(&t) != y_odd) sv2_fe_negate(&t, &t);
    sv2_fe_get_b32(ell64 + 32, &t);
}

/* memset through a volatile pointer so the wipe is not optimised away */
static void *(*const volatile sv2_memset_v)(void *, int, size_t) = memset;

/* Parse 0x02/0x03 || x with x valid. */
static int sv2_parse_pub33(sv2_fe *x, int *y_odd, const uint8_t *pub33) {
    if (pub33[0] != 0x02 && pub33[0] != 0x03) return 0;
    if (!sv2_fe_set_b32(x, pub33 + 1) || !sv2_x_on_curve(x)) return 0;
    *y_odd = pub33[0] & 1;
    return 1;
}

static int sv2_ellswift_encode_impl(const uint8_t *pub33, const uint8_t *rnd32, uint8_t *ell_out64) {
    static const uint8_t zero31[31] = {0};
    sv2_sha256_ctx hasher;
    sv2_fe x;
    int y_odd;
    if (!sv2_parse_pub33(&x, &y_odd, pub33)) {
        memset(ell_out64, 0, 64);
        return 0;
    }
    sv2_sha256_init_midstate(&hasher, sv2_midstate_ellswift_encode, 64);
    sv2_sha256_write(&hasher, pub33, 33);
    sv2_sha256_write(&hasher, zero31, 31);
    sv2_sha256_write(&hasher, rnd32, 32);
    sv2_ellswift_loop(ell_out64, &x, y_odd, &hasher);
    return 1;
}

int sv2_ellswift_encode_pubkey(const uint8_t *pub33, const uint8_t *rnd32, uint8_t *ell_out64) {
    return sv2_ellswift_encode_impl(pub33, rnd32, ell_out64);
}

int sv2_ellswift_encode_x(const uint8_t *x32, const uint8_t *rnd32, uint8_t *ell_out64) {
    uint8_t pub33[33];
    pub33[0] = 0x02;
    memcpy(pub33 + 1, x32, 32);
    return sv2_ellswift_encode_impl(pub33, rnd32, ell_out64);
}

int sv2_ellswift_create_from_pubkey(const uint8_t *seckey32, const uint8_t *pub33,
                                    const uint8_t *auxrnd32, uint8_t *ell_out64) {
    static const uint8_t zero32[32] = {0};
    sv2_sha256_ctx hasher;
    sv2_fe x;
    int y_odd;
    if (!sv2_parse_pub33(&x, &y_odd, pub33)) {
        memset(ell_out64, 0, 64);
        return 0;
    }
    sv2_sha256_init_midstate(&hasher, sv2_midstate_ellswift_create, 64);
    sv2_sha256_write(&hasher, seckey32, 32);
    sv2_sha256_write(&hasher, zero32, 32);
    if (auxrnd32) sv2_sha256_write(&hasher, auxrnd32, 32);
    sv2_ellswift_loop(ell_out64, &x, y_odd, &hasher);
    /* the hasher state is derived from the secret key: wipe it (best effort) */
    sv2_memset_v(&hasher, 0, sizeof(hasher));
    return 1;
}

void sv2_bip324_ellswift_xonly_ecdh_hash(const uint8_t *ell_initiator64,
                                         const uint8_t *ell_responder64,
                                         const uint8_t *x_shared32, uint8_t *out32) {
    sv2_sha256_ctx h;
    sv2_sha256_init_midstate(&h, sv2_midstate_bip324_ecdh, 64);
    sv2_sha256_write(&h, ell_initiator64, 64);
    sv2_sha256_write(&h, ell_responder64, 64);
    sv2_sha256_write(&h, x_shared32, 32);
    sv2_sha256_finalize(&h, out32);
}
