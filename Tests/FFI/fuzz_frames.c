/*
 * fuzz_frames.c -- bad input through libsv2c, for AddressSanitizer and LeakSanitizer: random and truncated frames
 * into the frame decoder (every decoded message read back field by field and re-encoded), random bytes into both
 * sides of the Noise handshake and into an established transport, and misuse of the accessors (unknown fields,
 * wrong types, out-of-range values, NULL arguments). Every call must return an error code, never crash or leak.
 *
 * Usage: fuzz_frames [ITERATIONS [SEED]]   (default 10000 iterations, seed 1)
 * Prints a summary line with what the decoder made of the inputs; exit status 0 unless a check failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffi_util.h"

static uint64_t rng_state;

/* xorshift64*: deterministic for a seed. */
static uint32_t next_random(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static void random_bytes(uint8_t *out, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) out[i] = (uint8_t)next_random();
}

static int failures = 0;

static void check(int condition, const char *what) {
    if (!condition) {
        fprintf(stderr, "check failed: %s (%s)\n", what, sv2_last_error_detail());
        failures++;
    }
}

/* The message types the library knows, to aim most random frames at real decoders. */
static const uint8_t known_types[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                      0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24,
                                      0x25, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x60, 0x70, 0x71,
                                      0x72, 0x73, 0x74, 0x75, 0x76};

/* Decodes a frame; a message that decodes is printed to /dev/null, and its encoding must decode and encode to the
 * same bytes again (the first encoding may differ from the input: a BOOL byte other than 1 reads as true, TLVs are
 * dropped). */
static int decode_one(const uint8_t *frame, size_t length, FILE *sink) {
    sv2_message *message = NULL, *again = NULL;
    size_t frame_size = 0, written = 0, rewritten = 0, again_size = 0;
    sv2_error error = sv2_frame_decode(frame, length, &message, &frame_size);
    if (error == SV2_OK) {
        uint8_t *first = malloc(frame_size + 1), *second = malloc(frame_size + 1);
        check(message != NULL && frame_size <= length, "a decoded frame gives a message");
        ffi_print_message(sink, message);
        if (first != NULL && second != NULL) {
            int encoded = sv2_message_encode(message, first, frame_size + 1, &written) == SV2_OK;
            check(encoded, "a decoded message re-encodes");
            if (encoded) {
                check(sv2_frame_decode(first, written, &again, &again_size) == SV2_OK && again_size == written, "its encoding decodes");
                check(again != NULL && sv2_message_encode(again, second, frame_size + 1, &rewritten) == SV2_OK &&
                      rewritten == written && memcmp(first, second, written) == 0, "and encodes to the same bytes");
            }
        }
        free(first);
        free(second);
        sv2_message_free(again);
        sv2_message_free(message);
    } else {
        check(message == NULL, "a failed decode gives no message");
    }
    return (int)error;
}

/* A real frame of a random known message with random field values, or 0 bytes when it cannot be built. */
static size_t random_valid_frame(uint8_t *out, size_t capacity) {
    static const char *names[] = {"NewTemplate", "SetupConnection", "SubmitSolution", "RequestTransactionData.Success",
                                  "NewExtendedMiningJob", "SetCustomMiningJob", "DeclareMiningJob", "OpenExtendedMiningChannel"};
    sv2_message *message = NULL;
    size_t index, written = 0;
    if (sv2_message_new(names[next_random() % (sizeof names / sizeof names[0])], &message) != SV2_OK) return 0;
    for (index = 0; index < sv2_message_field_count(message); index++) {
        const char *name = sv2_message_field_name(message, index);
        uint8_t bytes[64];
        size_t length = next_random() % 40, items = next_random() % 4, i;
        random_bytes(bytes, sizeof bytes);
        switch (sv2_message_field_kind(message, index)) {
        case SV2_FIELD_BOOL: sv2_message_set_uint(message, name, next_random() % 2); break;
        case SV2_FIELD_UINT: sv2_message_set_uint(message, name, next_random() % 256); break;
        case SV2_FIELD_F32: sv2_message_set_f32(message, name, (float)(next_random() % 1000)); break;
        case SV2_FIELD_U256: sv2_message_set_u256(message, name, bytes); break;
        case SV2_FIELD_STR:
        case SV2_FIELD_BYTES: sv2_message_set_bytes(message, name, bytes, length); break;
        case SV2_FIELD_OPTION_U32: sv2_message_set_option_u32(message, name, (int)(next_random() % 2), next_random()); break;
        case SV2_FIELD_SEQ_UINT: for (i = 0; i < items; i++) sv2_message_append_uint(message, name, next_random() % 65536); break;
        case SV2_FIELD_SEQ_U256: for (i = 0; i < items; i++) sv2_message_append_u256(message, name, bytes); break;
        case SV2_FIELD_SEQ_BYTES: for (i = 0; i < items; i++) sv2_message_append_bytes(message, name, bytes, length); break;
        }
    }
    if (sv2_message_encode(message, out, capacity, &written) != SV2_OK) written = 0;
    sv2_message_free(message);
    return written;
}

/* Random and truncated frames into the decoder; returns how many decoded. */
static int fuzz_decoder(int iterations, FILE *sink) {
    uint8_t frame[1024];
    int i, decoded = 0;
    for (i = 0; i < iterations; i++) {
        size_t length;
        if (i % 2 == 0) {
            /* A random header (mostly a known message type) and a random payload, the length field honest or not. */
            size_t payload = next_random() % 300;
            random_bytes(frame, 6 + payload);
            if (next_random() % 4 != 0) {
                frame[0] = 0;
                frame[1] = (uint8_t)(next_random() % 2 ? 0x80 : 0);
                frame[2] = known_types[next_random() % sizeof known_types];
            }
            if (next_random() % 4 != 0) {
                frame[3] = (uint8_t)payload;
                frame[4] = (uint8_t)(payload >> 8);
                frame[5] = 0;
            }
            length = 6 + payload;
        } else {
            /* A valid frame, truncated, with a byte flipped, or with its length field changed. */
            length = random_valid_frame(frame, sizeof frame);
            if (length == 0) continue;
            switch (next_random() % 3) {
            case 0: length = next_random() % length; break;
            case 1: frame[next_random() % length] ^= (uint8_t)(1 + next_random() % 255); break;
            default: frame[3 + next_random() % 3] = (uint8_t)next_random(); break;
            }
        }
        if (decode_one(frame, length, sink) == SV2_OK) decoded++;
        {
            /* The payload alone, as a given message type. */
            sv2_message *message = NULL;
            if (length >= 6 && sv2_message_decode(0, known_types[next_random() % sizeof known_types], frame + 6, length - 6, &message) == SV2_OK) {
                sv2_message_free(message);
            }
        }
    }
    return decoded;
}

/* Random bytes into both sides of the handshake, then into a transport established between two handles. */
static void fuzz_noise(int iterations) {
    uint8_t authority_secret[32], authority_public[32], server_secret[32], server_public[32];
    uint8_t certificate[SV2_CERTIFICATE_SIZE], act1[SV2_NOISE_ACT1_SIZE], act2[SV2_NOISE_ACT2_SIZE], junk[512], out[1024];
    sv2_noise *client = NULL, *server = NULL;
    size_t written = 0;
    int i;
    check(sv2_key_generate(authority_secret, authority_public) == SV2_OK, "authority key");
    check(sv2_key_generate(server_secret, server_public) == SV2_OK, "server key");
    check(sv2_certificate_sign(authority_secret, server_public, 1, 0xffffffffu, certificate) == SV2_OK, "certificate");
    for (i = 0; i < iterations / 20; i++) {
        size_t length = next_random() % 2 ? (size_t)(next_random() % 300) : (i % 2 ? SV2_NOISE_ACT2_SIZE : SV2_NOISE_ACT1_SIZE);
        random_bytes(junk, sizeof junk);
        if (sv2_noise_responder_new(server_secret, certificate, &server) == SV2_OK) {
            check(sv2_noise_respond(server, junk, length, act2) != SV2_OK || length == SV2_NOISE_ACT1_SIZE, "random act 1 of the wrong size fails");
            sv2_noise_free(server);
        }
        if (sv2_noise_initiator_new(authority_public, &client) == SV2_OK) {
            check(sv2_noise_write_act1(client, act1) == SV2_OK, "act 1");
            check(sv2_noise_read_act2(client, junk, length, 0) != SV2_OK, "random act 2 fails");
            check(sv2_noise_feed(client, junk, length) == SV2_ERR_STATE, "no transport after a failed handshake");
            sv2_noise_free(client);
        }
    }
    /* A real handshake, then random bytes on the wire. */
    check(sv2_noise_initiator_new(authority_public, &client) == SV2_OK, "initiator");
    check(sv2_noise_responder_new(server_secret, certificate, &server) == SV2_OK, "responder");
    check(sv2_noise_write_act1(client, act1) == SV2_OK, "act 1");
    check(sv2_noise_respond(server, act1, sizeof act1, act2) == SV2_OK, "act 2");
    check(sv2_noise_read_act2(client, act2, sizeof act2, 0) == SV2_OK, "handshake");
    check(sv2_noise_is_transport(client) && sv2_noise_is_transport(server), "both in transport");
    check(sv2_noise_write_act1(client, act1) == SV2_ERR_STATE && sv2_noise_respond(server, act1, sizeof act1, act2) == SV2_ERR_STATE &&
          sv2_noise_is_transport(client) && sv2_noise_is_transport(server), "a handshake step out of order keeps the session");
    {
        /* One real frame from the client to the server first, received through a buffer too small, then whole. */
        uint8_t frame[] = {0, 0, 0x73, 8, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
        uint8_t sealed[64];
        check(sv2_noise_encrypt(client, frame, sizeof frame, sealed, sizeof sealed, &written) == SV2_OK, "encrypt");
        check(sv2_noise_feed(server, sealed, written) == SV2_OK, "feed");
        check(sv2_noise_next_frame(server, out, 4, &written) == SV2_ERR_BUFFER_TOO_SMALL && written == sizeof frame, "small buffer");
        check(sv2_noise_next_frame(server, out, sizeof out, &written) == SV2_OK && written == sizeof frame &&
              memcmp(out, frame, sizeof frame) == 0, "round trip");
        check(sv2_noise_next_frame(server, out, sizeof out, &written) == SV2_ERR_INCOMPLETE, "nothing more");
    }
    random_bytes(junk, sizeof junk);
    check(sv2_noise_feed(server, junk, sizeof junk) == SV2_OK, "feed junk");
    check(sv2_noise_next_frame(server, out, sizeof out, &written) == SV2_ERR_DECRYPT, "junk does not authenticate");
    check(sv2_noise_next_frame(server, out, sizeof out, &written) == SV2_ERR_STATE, "the handle is unusable after");
    sv2_noise_free(client);
    sv2_noise_free(server);
}

/* Misuse of the accessors and NULL arguments. */
static void misuse(void) {
    sv2_message *message = NULL;
    uint64_t number = 0;
    uint8_t bytes[300] = {0}, key[32];
    const uint8_t *data = NULL;
    size_t length = 0;
    char text[8];
    check(sv2_message_new("NoSuchMessage", &message) == SV2_ERR_UNKNOWN_MESSAGE && message == NULL, "unknown name");
    check(sv2_message_new("NewTemplate", &message) == SV2_OK, "NewTemplate");
    check(sv2_message_get_uint(message, "no_such_field", &number) == SV2_ERR_NO_SUCH_FIELD, "unknown field");
    check(sv2_message_get_uint(message, "coinbase_prefix", &number) == SV2_ERR_NO_SUCH_FIELD, "wrong type");
    check(sv2_message_set_uint(message, "future_template", 2) == SV2_ERR_OUT_OF_RANGE, "BOOL 2");
    check(sv2_message_set_uint(message, "version", 1ull << 32) == SV2_ERR_OUT_OF_RANGE, "U32 overflow");
    check(sv2_message_set_bytes(message, "coinbase_prefix", bytes, 256) == SV2_ERR_OUT_OF_RANGE, "B0_255 overflow");
    check(sv2_message_set_bytes(message, "coinbase_prefix", NULL, 3) == SV2_ERR_INVALID_ARGUMENT, "NULL data");
    check(sv2_message_get_u256_at(message, "merkle_path", 0, bytes) == SV2_ERR_OUT_OF_RANGE, "index past the end");
    check(sv2_message_append_uint(message, "merkle_path", 1) == SV2_ERR_NO_SUCH_FIELD, "wrong element type");
    check(sv2_message_get_bytes(message, "coinbase_tx_outputs", &data, &length) == SV2_OK && length == 0, "empty bytes");
    check(sv2_message_get_uint(NULL, "version", &number) == SV2_ERR_INVALID_ARGUMENT, "NULL message");
    check(sv2_message_get_uint(message, NULL, &number) == SV2_ERR_INVALID_ARGUMENT, "NULL field");
    check(sv2_message_field_name(message, 99) == NULL, "field index out of range");
    sv2_message_free(message);
    sv2_message_free(NULL);
    sv2_noise_free(NULL);
    check(sv2_key_parse_public("not a key", key) == SV2_ERR_KEY, "bad key text");
    check(sv2_key_generate(key, NULL) == SV2_OK && sv2_key_format_secret(key, text, sizeof text, &length) == SV2_ERR_BUFFER_TOO_SMALL, "small key buffer");
    check(sv2_coinbase_merkle_root(bytes, 10, NULL, 0, key) == SV2_ERR_MALFORMED, "garbage coinbase");
    check(sv2_noise_encrypt(NULL, bytes, 6, bytes, sizeof bytes, &length) == SV2_ERR_INVALID_ARGUMENT, "NULL noise");
}

int main(int argc, char **argv) {
    int iterations = argc > 1 ? atoi(argv[1]) : 10000, decoded;
    FILE *sink = fopen("/dev/null", "w");
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    if (rng_state == 0) rng_state = 1;
    if (sink == NULL) return 2;
    decoded = fuzz_decoder(iterations, sink);
    fuzz_noise(iterations);
    misuse();
    fclose(sink);
    printf("%d frames: %d decoded, %d refused; %d handshake inputs; %d failed checks\n", iterations, decoded,
           iterations - decoded, iterations / 20 * 2, failures);
    return failures == 0 ? 0 : 1;
}
