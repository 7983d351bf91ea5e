/*
 * tp_server.c -- a small Template Provider in C over libsv2c. It listens on 127.0.0.1 (a free port, written to
 * PORT_FILE), answers the Noise handshake as responder with a certificate it signs with the authority secret key,
 * accepts SetupConnection for the Template Distribution protocol, and serves templates it builds from fixed data: a
 * coinbase-only block on regtest difficulty (nBits 0x207fffff) over the previous block it knows. Each SubmitSolution
 * is checked: the header rebuilt from the template, the solution and the merkle root of the submitted coinbase must
 * hash below the target. A valid solution becomes the new tip and the client gets the next template and
 * SetNewPrevHash; after BLOCKS valid solutions the program exits 0. An invalid solution exits 1.
 * RequestTransactionData is answered (no transactions) for the current template and refused for others.
 *
 * Usage: tp_server PORT_FILE AUTHORITY_SECRET_KEY BLOCKS
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ffi_util.h"

#define NBITS 0x207fffffu

/* The chain as this provider knows it: the tip's hash (wire order), its height, the current template id. */
typedef struct chain {
    uint8_t tip[32];
    uint32_t height;
    uint64_t template_id;
    uint32_t timestamp;
    int blocks_found;
} chain;

/* The regtest genesis block hash in wire order (0f9188f1...e2206 reversed). */
static const uint8_t regtest_genesis[32] = {
    0x06, 0x22, 0x6e, 0x46, 0x11, 0x1a, 0x0b, 0x59, 0xca, 0xaf, 0x12, 0x60, 0x43, 0xeb, 0x5b, 0xbf,
    0x28, 0xc3, 0x4f, 0x3a, 0x5e, 0x33, 0x2a, 0x1f, 0xc7, 0xb2, 0xb7, 0x3c, 0xf1, 0x88, 0x91, 0x0f};

static void put_u32(uint8_t *out, uint32_t value) {
    out[0] = (uint8_t)value;
    out[1] = (uint8_t)(value >> 8);
    out[2] = (uint8_t)(value >> 16);
    out[3] = (uint8_t)(value >> 24);
}

/* The target of NBITS in wire order (little-endian). */
static void target_of_nbits(uint8_t target[32]) {
    uint32_t exponent = NBITS >> 24, mantissa = NBITS & 0x7fffffu, i;
    memset(target, 0, 32);
    for (i = 0; i < 3; i++) {
        uint32_t position = exponent - 3 + i;
        if (position < 32) target[position] = (uint8_t)(mantissa >> (8 * i));
    }
}

/* 1 when hash <= target, both 256-bit little-endian numbers. */
static int meets_target(const uint8_t hash[32], const uint8_t target[32]) {
    int i;
    for (i = 31; i >= 0; i--) {
        if (hash[i] != target[i]) return hash[i] < target[i];
    }
    return 1;
}

/* BIP34: the height as a minimal script number push (heights below 2^23). */
static size_t height_push(uint32_t height, uint8_t out[4]) {
    size_t length = 0;
    while (height > 0) {
        out[1 + length++] = (uint8_t)height;
        height >>= 8;
    }
    if (length > 0 && (out[length] & 0x80)) out[1 + length++] = 0;
    out[0] = (uint8_t)length;
    return length + 1;
}

/* Sends the next template (future) and the SetNewPrevHash that activates it. */
static int send_work(int fd, sv2_noise *noise, chain *state) {
    sv2_message *template_message = NULL, *prev_hash = NULL;
    uint8_t prefix[4], target[32];
    size_t prefix_length = height_push(state->height + 1, prefix);
    int ok;
    state->template_id++;
    state->timestamp = (uint32_t)time(NULL);
    target_of_nbits(target);
    ok = ffi_ok(sv2_message_new("NewTemplate", &template_message), "NewTemplate") &&
         ffi_ok(sv2_message_set_uint(template_message, "template_id", state->template_id), "template_id") &&
         ffi_ok(sv2_message_set_uint(template_message, "future_template", 1), "future_template") &&
         ffi_ok(sv2_message_set_uint(template_message, "version", 0x20000000u), "version") &&
         ffi_ok(sv2_message_set_uint(template_message, "coinbase_tx_version", 2), "coinbase_tx_version") &&
         ffi_ok(sv2_message_set_bytes(template_message, "coinbase_prefix", prefix, prefix_length), "coinbase_prefix") &&
         ffi_ok(sv2_message_set_uint(template_message, "coinbase_tx_input_sequence", 0xffffffffu), "sequence") &&
         ffi_ok(sv2_message_set_uint(template_message, "coinbase_tx_value_remaining", 5000000000u), "value") &&
         ffi_ok(sv2_message_new("TemplateDistribution.SetNewPrevHash", &prev_hash), "SetNewPrevHash") &&
         ffi_ok(sv2_message_set_uint(prev_hash, "template_id", state->template_id), "template_id") &&
         ffi_ok(sv2_message_set_u256(prev_hash, "prev_hash", state->tip), "prev_hash") &&
         ffi_ok(sv2_message_set_uint(prev_hash, "header_timestamp", state->timestamp), "header_timestamp") &&
         ffi_ok(sv2_message_set_uint(prev_hash, "n_bits", NBITS), "n_bits") &&
         ffi_ok(sv2_message_set_u256(prev_hash, "target", target), "target") &&
         ffi_send(fd, noise, template_message) && ffi_send(fd, noise, prev_hash);
    sv2_message_free(template_message);
    sv2_message_free(prev_hash);
    if (ok) printf("template %llu at height %lu sent\n", (unsigned long long)state->template_id, (unsigned long)state->height + 1);
    return ok;
}

/* Checks a SubmitSolution against the current template: 1 valid (the tip moves on), 0 invalid, -1 error. */
static int check_solution(const sv2_message *solution, chain *state) {
    uint64_t template_id = 0, version = 0, timestamp = 0, nonce = 0;
    const uint8_t *coinbase = NULL;
    size_t coinbase_length = 0;
    uint8_t header[80], hash[32], target[32];
    if (!ffi_ok(sv2_message_get_uint(solution, "template_id", &template_id), "template_id") ||
        !ffi_ok(sv2_message_get_uint(solution, "version", &version), "version") ||
        !ffi_ok(sv2_message_get_uint(solution, "header_timestamp", &timestamp), "header_timestamp") ||
        !ffi_ok(sv2_message_get_uint(solution, "header_nonce", &nonce), "header_nonce") ||
        !ffi_ok(sv2_message_get_bytes(solution, "coinbase_tx", &coinbase, &coinbase_length), "coinbase_tx")) {
        return -1;
    }
    if (template_id != state->template_id) {
        printf("solution for template %llu, not the current %llu\n", (unsigned long long)template_id, (unsigned long long)state->template_id);
        return 0;
    }
    put_u32(header, (uint32_t)version);
    memcpy(header + 4, state->tip, 32);
    if (!ffi_ok(sv2_coinbase_merkle_root(coinbase, coinbase_length, NULL, 0, header + 36), "merkle root")) return 0;
    put_u32(header + 68, (uint32_t)timestamp);
    put_u32(header + 72, NBITS);
    put_u32(header + 76, (uint32_t)nonce);
    if (!ffi_ok(sv2_hash256(header, sizeof header, hash), "hash")) return -1;
    target_of_nbits(target);
    printf("solution for template %llu: block hash ", (unsigned long long)template_id);
    ffi_print_hex(stdout, hash, 32);
    if (!meets_target(hash, target)) {
        printf(" is above the target: invalid proof of work\n");
        return 0;
    }
    printf(" meets the target: valid proof of work\n");
    memcpy(state->tip, hash, 32);
    state->height++;
    state->blocks_found++;
    return 1;
}

/* Answers RequestTransactionData: the current template has no transactions; any other is unknown. */
static int answer_transaction_data(int fd, sv2_noise *noise, const sv2_message *request, const chain *state) {
    uint64_t template_id = 0;
    sv2_message *reply = NULL;
    const char *unknown = "template-id-not-found";
    int ok = ffi_ok(sv2_message_get_uint(request, "template_id", &template_id), "template_id");
    if (ok && template_id == state->template_id) {
        ok = ffi_ok(sv2_message_new("RequestTransactionData.Success", &reply), "reply") &&
             ffi_ok(sv2_message_set_uint(reply, "template_id", template_id), "template_id");
    } else if (ok) {
        ok = ffi_ok(sv2_message_new("RequestTransactionData.Error", &reply), "reply") &&
             ffi_ok(sv2_message_set_uint(reply, "template_id", template_id), "template_id") &&
             ffi_ok(sv2_message_set_bytes(reply, "error_code", (const uint8_t *)unknown, strlen(unknown)), "error_code");
    }
    ok = ok && ffi_send(fd, noise, reply);
    sv2_message_free(reply);
    return ok;
}

/* Replies to SetupConnection: Success for protocol 2 at version 2, else Error. 1 when accepted. */
static int answer_setup(int fd, sv2_noise *noise, const sv2_message *setup) {
    uint64_t protocol = 0, min_version = 0, max_version = 0;
    sv2_message *reply = NULL;
    const char *unsupported = "unsupported-protocol";
    int accepted, ok;
    if (strcmp(sv2_message_name(setup), "SetupConnection") != 0) {
        fprintf(stderr, "expected SetupConnection, got %s\n", sv2_message_name(setup));
        return 0;
    }
    ok = ffi_ok(sv2_message_get_uint(setup, "protocol", &protocol), "protocol") &&
         ffi_ok(sv2_message_get_uint(setup, "min_version", &min_version), "min_version") &&
         ffi_ok(sv2_message_get_uint(setup, "max_version", &max_version), "max_version");
    accepted = ok && protocol == 2 && min_version <= 2 && max_version >= 2;
    if (accepted) {
        ok = ffi_ok(sv2_message_new("SetupConnection.Success", &reply), "reply") &&
             ffi_ok(sv2_message_set_uint(reply, "used_version", 2), "used_version");
    } else {
        ok = ffi_ok(sv2_message_new("SetupConnection.Error", &reply), "reply") &&
             ffi_ok(sv2_message_set_bytes(reply, "error_code", (const uint8_t *)unsupported, strlen(unsupported)), "error_code");
    }
    ok = ok && ffi_send(fd, noise, reply);
    sv2_message_free(reply);
    return ok && accepted;
}

/* Serves one client until it leaves (0), the wanted blocks were found (1), or a solution is invalid (-1). */
static int serve(int fd, sv2_noise *noise, chain *state, int blocks) {
    uint8_t act1[SV2_NOISE_ACT1_SIZE], act2[SV2_NOISE_ACT2_SIZE];
    sv2_message *message;
    int result = 0;
    if (!ffi_read_exact(fd, act1, sizeof act1) || !ffi_ok(sv2_noise_respond(noise, act1, sizeof act1, act2), "handshake") ||
        !ffi_write_all(fd, act2, sizeof act2)) {
        return 0;
    }
    message = ffi_receive(fd, noise);
    if (message == NULL || !answer_setup(fd, noise, message)) {
        sv2_message_free(message);
        return 0;
    }
    sv2_message_free(message);
    printf("client set up\n");
    fflush(stdout);
    while (result == 0 && (message = ffi_receive(fd, noise)) != NULL) {
        const char *name = sv2_message_name(message);
        if (strcmp(name, "CoinbaseOutputConstraints") == 0) {
            result = send_work(fd, noise, state) ? 0 : -1;
        } else if (strcmp(name, "RequestTransactionData") == 0) {
            result = answer_transaction_data(fd, noise, message, state) ? 0 : -1;
        } else if (strcmp(name, "SubmitSolution") == 0) {
            int valid = check_solution(message, state);
            if (valid <= 0) result = -1;
            else if (state->blocks_found >= blocks) result = 1;
            else if (valid == 1 && !send_work(fd, noise, state)) result = -1;
        } else {
            printf("ignored %s\n", name);
        }
        fflush(stdout);
        sv2_message_free(message);
    }
    return result;
}

int main(int argc, char **argv) {
    uint8_t authority[32], static_secret[32], static_public[32], certificate[SV2_CERTIFICATE_SIZE];
    chain state;
    FILE *port_file;
    int listener, port = 0, blocks, result = 0;
    uint32_t now = (uint32_t)time(NULL);
    if (argc != 4 || (blocks = atoi(argv[3])) <= 0) {
        fprintf(stderr, "usage: tp_server PORT_FILE AUTHORITY_SECRET_KEY BLOCKS\n");
        return 2;
    }
    if (!ffi_ok(sv2_key_parse_secret(argv[2], authority), "authority secret key") ||
        !ffi_ok(sv2_key_generate(static_secret, static_public), "static key") ||
        !ffi_ok(sv2_certificate_sign(authority, static_public, now - 60, now + 3600, certificate), "certificate")) {
        return 2;
    }
    memset(&state, 0, sizeof state);
    memcpy(state.tip, regtest_genesis, 32);
    listener = ffi_listen(&port);
    port_file = listener < 0 ? NULL : fopen(argv[1], "w");
    if (port_file == NULL) {
        fprintf(stderr, "cannot listen on 127.0.0.1 or write %s\n", argv[1]);
        return 1;
    }
    fprintf(port_file, "%d\n", port);
    fclose(port_file);
    printf("listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    while (result == 0) {
        sv2_noise *noise = NULL;
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) break;
        if (ffi_ok(sv2_noise_responder_new(static_secret, certificate, &noise), "responder")) {
            result = serve(fd, noise, &state, blocks);
        }
        sv2_noise_free(noise);
        close(fd);
    }
    close(listener);
    printf("%d valid block(s)\n", state.blocks_found);
    return result == 1 ? 0 : 1;
}
