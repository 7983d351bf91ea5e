/*
 * tp_client.c -- a Template Distribution client in C over libsv2c: connects to a template provider (`sv2 tp`, or
 * Bitcoin Core's Sv2 interface) over Noise, checks its certificate against the authority public key, sends
 * SetupConnection and CoinbaseOutputConstraints, and prints the first NewTemplate and the first SetNewPrevHash.
 *
 * Usage: tp_client HOST PORT AUTHORITY_PUBLIC_KEY
 *   HOST is a numeric IPv4 address; AUTHORITY_PUBLIC_KEY is the text form `sv2 keygen` prints.
 * Exit status 0 when both messages arrived, 1 otherwise (with the reason on stderr).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ffi_util.h"

/* SetupConnection for the Template Distribution protocol (2), version 2. */
static sv2_message *setup_connection(const char *host, int port) {
    sv2_message *message = NULL;
    const char *vendor = "libsv2c", *firmware = "tp_client";
    if (!ffi_ok(sv2_message_new("SetupConnection", &message), "SetupConnection")) return NULL;
    if (ffi_ok(sv2_message_set_uint(message, "protocol", 2), "protocol") &&
        ffi_ok(sv2_message_set_uint(message, "min_version", 2), "min_version") &&
        ffi_ok(sv2_message_set_uint(message, "max_version", 2), "max_version") &&
        ffi_ok(sv2_message_set_bytes(message, "endpoint_host", (const uint8_t *)host, strlen(host)), "endpoint_host") &&
        ffi_ok(sv2_message_set_uint(message, "endpoint_port", (uint64_t)port), "endpoint_port") &&
        ffi_ok(sv2_message_set_bytes(message, "vendor", (const uint8_t *)vendor, strlen(vendor)), "vendor") &&
        ffi_ok(sv2_message_set_bytes(message, "firmware", (const uint8_t *)firmware, strlen(firmware)), "firmware")) {
        return message;
    }
    sv2_message_free(message);
    return NULL;
}

/* The Noise handshake as initiator; 1 on success. */
static int handshake(int fd, sv2_noise *noise) {
    uint8_t act1[SV2_NOISE_ACT1_SIZE], act2[SV2_NOISE_ACT2_SIZE];
    if (!ffi_ok(sv2_noise_write_act1(noise, act1), "act 1") || !ffi_write_all(fd, act1, sizeof act1)) return 0;
    if (!ffi_read_exact(fd, act2, sizeof act2)) {
        fprintf(stderr, "the server closed the connection during the handshake\n");
        return 0;
    }
    return ffi_ok(sv2_noise_read_act2(noise, act2, sizeof act2, 0), "act 2");
}

/* Sends the setup and the constraints, then prints messages until a NewTemplate and a SetNewPrevHash came. */
static int run(int fd, sv2_noise *noise, const char *host, int port) {
    sv2_message *message = setup_connection(host, port), *reply;
    int ok = message != NULL && ffi_send(fd, noise, message), saw_template = 0, saw_prev_hash = 0;
    sv2_message_free(message);
    if (!ok) return 0;
    reply = ffi_receive(fd, noise);
    if (reply == NULL || strcmp(sv2_message_name(reply), "SetupConnection.Success") != 0) {
        if (reply != NULL) ffi_print_message(stderr, reply);
        fprintf(stderr, "SetupConnection was not accepted\n");
        sv2_message_free(reply);
        return 0;
    }
    sv2_message_free(reply);
    message = NULL;
    ok = ffi_ok(sv2_message_new("CoinbaseOutputConstraints", &message), "CoinbaseOutputConstraints") &&
         ffi_ok(sv2_message_set_uint(message, "coinbase_output_max_additional_size", 100), "size") &&
         ffi_ok(sv2_message_set_uint(message, "coinbase_output_max_additional_sigops", 4), "sigops") &&
         ffi_send(fd, noise, message);
    sv2_message_free(message);
    while (ok && !(saw_template && saw_prev_hash)) {
        const char *name;
        reply = ffi_receive(fd, noise);
        if (reply == NULL) return 0;
        name = sv2_message_name(reply);
        if ((strcmp(name, "NewTemplate") == 0 && !saw_template) ||
            (strcmp(name, "TemplateDistribution.SetNewPrevHash") == 0 && !saw_prev_hash)) {
            ffi_print_message(stdout, reply);
            saw_template |= name[0] == 'N';
            saw_prev_hash |= name[0] == 'T';
        }
        sv2_message_free(reply);
    }
    return ok;
}

int main(int argc, char **argv) {
    uint8_t authority[32];
    sv2_noise *noise = NULL;
    int fd, port, ok;
    if (argc != 4) {
        fprintf(stderr, "usage: tp_client HOST PORT AUTHORITY_PUBLIC_KEY\n");
        return 2;
    }
    port = atoi(argv[2]);
    if (!ffi_ok(sv2_key_parse_public(argv[3], authority), "authority public key")) return 2;
    fd = ffi_connect(argv[1], port);
    if (fd < 0) {
        fprintf(stderr, "cannot connect to %s:%d\n", argv[1], port);
        return 1;
    }
    ok = ffi_ok(sv2_noise_initiator_new(authority, &noise), "initiator") && handshake(fd, noise) && run(fd, noise, argv[1], port);
    sv2_noise_free(noise);
    close(fd);
    return ok ? 0 : 1;
}
