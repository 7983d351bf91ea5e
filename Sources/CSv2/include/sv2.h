/*
 * sv2.h -- libsv2c, the Stratum V2 wire primitives of the sv2 toolkit as a C library.
 *
 * Plain C99. Everything this header declares is prefixed sv2_ / SV2_. Build the library with
 *     swift build -c release --product sv2c          (.build/release/libsv2c.so)
 *     swift build -c release --product sv2c-static   (.build/release/libsv2c-static.a)
 * or scripts/build-libsv2, which builds both and writes the pkg-config file .build/release/pkgconfig/sv2c.pc.
 *
 * What is here: Sv2 frames and messages (every message of the spec: Common, Mining, Job Declaration, Template
 * Distribution, extensions), read and written through an accessor API keyed by the spec's field names; the Noise NX
 * handshake and transport ciphers of spec 4 for both roles, sans-IO (bytes in, bytes out: the caller owns the
 * socket); authority keys in their base58check text form; certificates (SIGNATURE_NOISE_MESSAGE); SHA-256d and the
 * coinbase merkle root a template provider checks a solution with.
 *
 * Conventions
 *  - Every function that can fail returns an sv2_error; SV2_OK is 0. sv2_error_message() names a code;
 *    sv2_last_error_detail() gives the sentence of the last failure on the calling thread (which field, which
 *    byte, what was expected).
 *  - Opaque handles (sv2_message, sv2_noise) are created by *_new / decode functions and released with the matching
 *    *_free function, which accepts NULL. A handle is not thread-safe: use one from one thread at a time.
 *  - Output buffers are the caller's: a function writing bytes takes (out, capacity, &written). When the capacity is
 *    too small it writes nothing, returns SV2_ERR_BUFFER_TOO_SMALL and sets *written to the size needed (so a call
 *    with out NULL and capacity 0 asks for the size).
 *  - Pointers the library returns (names, field bytes) point into memory it owns; how long each stays valid is said
 *    at the function. Nothing the library returns needs free() by the caller.
 *  - Byte strings are (pointer, length); a pointer may be NULL when the length is 0. U256 values are 32 bytes in
 *    wire order (little-endian, as the spec and SRI put them on the wire).
 *  - No function aborts on bad input: malformed frames, wrong keys and out-of-range values are errors.
 */
#ifndef SV2_H
#define SV2_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version: bumped when a declaration of this header changes incompatibly. */
#define SV2_ABI_VERSION 1

/* The ABI version the library was built with; compare with SV2_ABI_VERSION. */
uint32_t sv2_abi_version(void);

/* ---------------------------------------------------------------------------------------------------------------
 * Errors
 */

typedef enum sv2_error {
    SV2_OK = 0,
    /* A required pointer was NULL, or an argument is out of its domain. */
    SV2_ERR_INVALID_ARGUMENT = 1,
    /* The output buffer is too small; *written holds the size needed. */
    SV2_ERR_BUFFER_TOO_SMALL = 2,
    /* Not enough bytes yet (a partial frame): read more and call again. */
    SV2_ERR_INCOMPLETE = 3,
    /* The bytes do not decode: a field is truncated, too long, or has an invalid value. */
    SV2_ERR_MALFORMED = 4,
    /* The frame's (extension_type, msg_type) names no message this library knows (spec 3: ignore such frames). */
    SV2_ERR_UNKNOWN_MESSAGE = 5,
    /* A frame's payload is longer than the maximum allowed. */
    SV2_ERR_OVERSIZED = 6,
    /* The message has no field of that name, or the field is not of the type the accessor reads or writes. */
    SV2_ERR_NO_SUCH_FIELD = 7,
    /* A value does not fit its field (a U16 over 65535, a B0_32 over 32 bytes, an index past a sequence's end). */
    SV2_ERR_OUT_OF_RANGE = 8,
    /* The handshake failed: a wrong act length, a key that does not decode, or a message that did not authenticate. */
    SV2_ERR_HANDSHAKE = 9,
    /* The certificate is not signed by the authority key, is outside its validity window, or has a bad version. */
    SV2_ERR_CERTIFICATE = 10,
    /* An encrypted frame did not authenticate: the connection must be closed. */
    SV2_ERR_DECRYPT = 11,
    /* A key is invalid: bad base58, bad checksum, wrong length or version, or not a valid secp256k1 key. */
    SV2_ERR_KEY = 12,
    /* A call out of order (transport before the handshake ended, an act twice, the wrong role). */
    SV2_ERR_STATE = 13,
    /* Memory could not be allocated. */
    SV2_ERR_NO_MEMORY = 14
} sv2_error;

/* A constant sentence naming an error code (never NULL). */
const char *sv2_error_message(sv2_error error);

/* The detailed sentence of the last failure of a call on this thread, "" when none. Valid until the next call that
 * fails on this thread. */
const char *sv2_last_error_detail(void);

/* ---------------------------------------------------------------------------------------------------------------
 * Frames (spec 3.2): a 6-byte header -- extension_type U16 (top bit: channel_msg), msg_type U8, msg_length U24 --
 * then the payload.
 */

#define SV2_FRAME_HEADER_SIZE 6
#define SV2_MAX_PAYLOAD_SIZE 16777215u

typedef struct sv2_frame_header {
    /* extension_type without the channel_msg bit. */
    uint16_t extension_type;
    /* 1 when the channel_msg bit is set, else 0. */
    uint8_t channel_msg;
    uint8_t msg_type;
    /* Payload length in bytes. */
    uint32_t length;
} sv2_frame_header;

/* Parses the 6-byte header at data (len >= 6, else SV2_ERR_INCOMPLETE). */
sv2_error sv2_frame_header_parse(const uint8_t *data, size_t len, sv2_frame_header *header);

/* ---------------------------------------------------------------------------------------------------------------
 * Messages: an opaque handle holding one message of the spec, read and written by field name (the spec's
 * snake_case names, e.g. "template_id", "coinbase_tx_outputs"). sv2_message_field_count/_name/_kind list them.
 *
 * Accessors by field type:
 *   BOOL, U8, U16, U32, U64          sv2_message_get_uint / sv2_message_set_uint (BOOL is 0 or 1)
 *   F32                              sv2_message_get_f32 / sv2_message_set_f32
 *   U256                             sv2_message_get_u256 / sv2_message_set_u256 (32 bytes, wire order)
 *   STR0_255, B0_32 ... B0_16M       sv2_message_get_bytes / sv2_message_set_bytes
 *   OPTION[U32]                      sv2_message_get_option_u32 / sv2_message_set_option_u32
 *   SEQ0_255 / SEQ0_64K of anything  sv2_message_get_count, sv2_message_get_*_at, sv2_message_append_*,
 *                                    sv2_message_clear
 */

typedef struct sv2_message sv2_message;

/* What kind of value a field holds (its exact spec type: sv2_message_field_type_name). */
typedef enum sv2_field_kind {
    SV2_FIELD_BOOL = 1,
    SV2_FIELD_UINT = 2,
    SV2_FIELD_F32 = 3,
    SV2_FIELD_U256 = 4,
    SV2_FIELD_STR = 5,
    SV2_FIELD_BYTES = 6,
    SV2_FIELD_OPTION_U32 = 7,
    SV2_FIELD_SEQ_UINT = 8,
    SV2_FIELD_SEQ_U256 = 9,
    SV2_FIELD_SEQ_BYTES = 10
} sv2_field_kind;

/* A new message with every field zero or empty. name: the spec's name as `sv2 encode` takes it ("NewTemplate",
 * "SetupConnection.Success", "TemplateDistribution.SetNewPrevHash"; any case). SV2_ERR_UNKNOWN_MESSAGE if none. */
sv2_error sv2_message_new(const char *name, sv2_message **message);

/* Decodes one frame at the start of data. On success *message is the message and *frame_size the frame's bytes
 * (header + payload); TLV fields after the message's fields are accepted and not kept.
 * SV2_ERR_INCOMPLETE: *frame_size is the size needed (6 while the header is incomplete).
 * SV2_ERR_UNKNOWN_MESSAGE: *frame_size is the frame's size, to skip it.
 * SV2_ERR_MALFORMED: the payload does not decode (sv2_last_error_detail names the field and byte). */
sv2_error sv2_frame_decode(const uint8_t *data, size_t len, sv2_message **message, size_t *frame_size);

/* Decodes a payload (without header) as the message (extension_type, msg_type); all of it must decode. */
sv2_error sv2_message_decode(uint16_t extension_type, uint8_t msg_type, const uint8_t *payload, size_t len,
                             sv2_message **message);

/* Writes the message as a frame (header with the spec's channel_msg bit, then the payload); SV2_ERR_OVERSIZED when
 * the payload would exceed SV2_MAX_PAYLOAD_SIZE. */
sv2_error sv2_message_encode(const sv2_message *message, uint8_t *out, size_t capacity, size_t *written);

/* Releases a message (NULL is fine). */
void sv2_message_free(sv2_message *message);

/* The message's spec name ("NewTemplate"); valid for the life of the process. */
const char *sv2_message_name(const sv2_message *message);
/* extension_type (without the channel_msg bit) and msg_type of the message. */
uint16_t sv2_message_extension_type(const sv2_message *message);
uint8_t sv2_message_msg_type(const sv2_message *message);
/* 1 when the spec sends this message with the channel_msg bit. */
int sv2_message_is_channel_message(const sv2_message *message);

/* The number of fields, and for index 0 ..< count: the field's name, kind and spec type name ("SEQ0_255[U256]").
 * The strings are valid for the life of the process; an index out of range gives NULL (kind: 0). */
size_t sv2_message_field_count(const sv2_message *message);
const char *sv2_message_field_name(const sv2_message *message, size_t index);
sv2_field_kind sv2_message_field_kind(const sv2_message *message, size_t index);
const char *sv2_message_field_type_name(const sv2_message *message, size_t index);

sv2_error sv2_message_get_uint(const sv2_message *message, const char *field, uint64_t *value);
sv2_error sv2_message_set_uint(sv2_message *message, const char *field, uint64_t value);
sv2_error sv2_message_get_f32(const sv2_message *message, const char *field, float *value);
sv2_error sv2_message_set_f32(sv2_message *message, const char *field, float value);
sv2_error sv2_message_get_u256(const sv2_message *message, const char *field, uint8_t value[32]);
sv2_error sv2_message_set_u256(sv2_message *message, const char *field, const uint8_t value[32]);
/* *data points into the message and stays valid until the message is changed or freed. */
sv2_error sv2_message_get_bytes(const sv2_message *message, const char *field, const uint8_t **data, size_t *len);
sv2_error sv2_message_set_bytes(sv2_message *message, const char *field, const uint8_t *data, size_t len);
/* *present is 1 with *value set, or 0 for none. */
sv2_error sv2_message_get_option_u32(const sv2_message *message, const char *field, int *present, uint32_t *value);
sv2_error sv2_message_set_option_u32(sv2_message *message, const char *field, int present, uint32_t value);

/* Sequences. */
sv2_error sv2_message_get_count(const sv2_message *message, const char *field, size_t *count);
sv2_error sv2_message_get_uint_at(const sv2_message *message, const char *field, size_t index, uint64_t *value);
sv2_error sv2_message_get_u256_at(const sv2_message *message, const char *field, size_t index, uint8_t value[32]);
sv2_error sv2_message_get_bytes_at(const sv2_message *message, const char *field, size_t index, const uint8_t **data,
                                   size_t *len);
sv2_error sv2_message_append_uint(sv2_message *message, const char *field, uint64_t value);
sv2_error sv2_message_append_u256(sv2_message *message, const char *field, const uint8_t value[32]);
sv2_error sv2_message_append_bytes(sv2_message *message, const char *field, const uint8_t *data, size_t len);
/* Empties a sequence. */
sv2_error sv2_message_clear(sv2_message *message, const char *field);

/* ---------------------------------------------------------------------------------------------------------------
 * Noise NX (spec 4): the handshake and the encrypted transport, sans-IO.
 *
 * Initiator (client):  act1 = sv2_noise_write_act1(); send act1; read SV2_NOISE_ACT2_SIZE bytes;
 *                      sv2_noise_read_act2(act2) -- checks the certificate against the authority key.
 * Responder (server):  read SV2_NOISE_ACT1_SIZE bytes; sv2_noise_respond(act1) gives act 2; send it.
 * Then both: sv2_noise_encrypt() each plaintext frame to send; sv2_noise_feed() received bytes and take plaintext
 * frames out with sv2_noise_next_frame(). A failed handshake or decryption leaves the handle unusable.
 */

#define SV2_NOISE_ACT1_SIZE 64
#define SV2_NOISE_ACT2_SIZE 234
#define SV2_CERTIFICATE_SIZE 74

typedef struct sv2_noise sv2_noise;

/* An initiator that will accept only a responder whose certificate is signed by authority_public_key (32-byte x-only
 * key). NULL skips the check: only for tools that knowingly connect unauthenticated. */
sv2_error sv2_noise_initiator_new(const uint8_t authority_public_key[32], sv2_noise **noise);

/* A responder with the server's static secret key and its certificate (sv2_certificate_sign over the static key's
 * public key). */
sv2_error sv2_noise_responder_new(const uint8_t static_secret_key[32], const uint8_t certificate[SV2_CERTIFICATE_SIZE],
                                  sv2_noise **noise);

/* Releases a handle (NULL is fine). */
void sv2_noise_free(sv2_noise *noise);

/* Initiator: writes act 1 (SV2_NOISE_ACT1_SIZE bytes). */
sv2_error sv2_noise_write_act1(sv2_noise *noise, uint8_t act1[SV2_NOISE_ACT1_SIZE]);
/* Initiator: reads act 2 (len must be SV2_NOISE_ACT2_SIZE); now is Unix time in seconds for the certificate's
 * validity window, 0 for the system clock. SV2_ERR_CERTIFICATE when the certificate is refused. */
sv2_error sv2_noise_read_act2(sv2_noise *noise, const uint8_t *act2, size_t len, uint32_t now);
/* Responder: reads act 1 (len must be SV2_NOISE_ACT1_SIZE) and writes act 2. */
sv2_error sv2_noise_respond(sv2_noise *noise, const uint8_t *act1, size_t len, uint8_t act2[SV2_NOISE_ACT2_SIZE]);
/* 1 once the handshake has completed (the transport functions work), else 0. */
int sv2_noise_is_transport(const sv2_noise *noise);

/* The bytes on the wire for a plaintext frame of frame_len bytes (header included). */
size_t sv2_noise_encrypted_size(size_t frame_len);
/* Encrypts one plaintext frame (6-byte header and exactly the payload it announces). */
sv2_error sv2_noise_encrypt(sv2_noise *noise, const uint8_t *frame, size_t frame_len, uint8_t *out, size_t capacity,
                            size_t *written);
/* Appends received bytes to the handle's buffer. */
sv2_error sv2_noise_feed(sv2_noise *noise, const uint8_t *data, size_t len);
/* The next decrypted frame (header and payload) into out. SV2_ERR_INCOMPLETE when more bytes are needed;
 * SV2_ERR_BUFFER_TOO_SMALL keeps the frame for the next call with a larger buffer (*written: its size);
 * SV2_ERR_DECRYPT or SV2_ERR_OVERSIZED are final. */
sv2_error sv2_noise_next_frame(sv2_noise *noise, uint8_t *out, size_t capacity, size_t *written);

/* ---------------------------------------------------------------------------------------------------------------
 * Keys and certificates (spec 4.7): secret keys are 32 bytes, public keys 32-byte x-only (BIP340). Text forms are
 * those of SRI and `sv2 keygen`: a public key is base58check(01 00 || key), a secret key base58check(key).
 */

/* A fresh secret key (from the system's randomness) and its public key (either output may be NULL). */
sv2_error sv2_key_generate(uint8_t secret_key[32], uint8_t public_key[32]);
/* The x-only public key of a secret key. */
sv2_error sv2_key_public(const uint8_t secret_key[32], uint8_t public_key[32]);
/* Parses a public key / secret key text (surrounding whitespace allowed). */
sv2_error sv2_key_parse_public(const char *text, uint8_t public_key[32]);
sv2_error sv2_key_parse_secret(const char *text, uint8_t secret_key[32]);
/* Writes the text form with its terminating NUL; *written counts the characters without the NUL (after
 * SV2_ERR_BUFFER_TOO_SMALL it is the size needed, NUL included). */
sv2_error sv2_key_format_public(const uint8_t public_key[32], char *out, size_t capacity, size_t *written);
sv2_error sv2_key_format_secret(const uint8_t secret_key[32], char *out, size_t capacity, size_t *written);

/* Signs a version-0 certificate for the server static public key, valid from valid_from to not_valid_after (Unix
 * seconds), with the authority's secret key. */
sv2_error sv2_certificate_sign(const uint8_t authority_secret_key[32], const uint8_t server_public_key[32],
                               uint32_t valid_from, uint32_t not_valid_after,
                               uint8_t certificate[SV2_CERTIFICATE_SIZE]);
/* Checks a certificate as an initiator does: version 0, signed by authority_public_key over server_public_key, and
 * valid at now (0: the system clock) with 10 s of leeway. SV2_ERR_CERTIFICATE with the reason otherwise. */
sv2_error sv2_certificate_verify(const uint8_t certificate[SV2_CERTIFICATE_SIZE], const uint8_t authority_public_key[32],
                                 const uint8_t server_public_key[32], uint32_t now);

/* ---------------------------------------------------------------------------------------------------------------
 * Hashing for template providers.
 */

/* SHA256(SHA256(data)) (Bitcoin's Hash256: block header hashes, txids). */
sv2_error sv2_hash256(const uint8_t *data, size_t len, uint8_t hash[32]);

/* The merkle root (32 bytes, wire order) of a block whose coinbase transaction is coinbase_tx (serialised with or
 * without its witness) and whose Sv2 merkle path is path_count hashes of 32 bytes at path (deepest first). */
sv2_error sv2_coinbase_merkle_root(const uint8_t *coinbase_tx, size_t len, const uint8_t *path, size_t path_count,
                                   uint8_t root[32]);

#ifdef __cplusplus
}
#endif

#endif /* SV2_H */
