/*
 * ffi_util.c -- see ffi_util.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "ffi_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ffi_ok(sv2_error error, const char *what) {
    if (error == SV2_OK) return 1;
    fprintf(stderr, "%s: %s (%s)\n", what, sv2_error_message(error), sv2_last_error_detail());
    return 0;
}

int ffi_connect(const char *host, int port) {
    struct sockaddr_in address;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int ffi_listen(int *port) {
    struct sockaddr_in address;
    socklen_t length = sizeof address;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&address, &length) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(address.sin_port);
    return fd;
}

int ffi_read_exact(int fd, uint8_t *buffer, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t got = read(fd, buffer + done, n - done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return 0;
        done += (size_t)got;
    }
    return 1;
}

int ffi_write_all(int fd, const uint8_t *buffer, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t sent = write(fd, buffer + done, n - done);
        if (sent < 0 && errno == EINTR) continue;
        if (sent <= 0) return 0;
        done += (size_t)sent;
    }
    return 1;
}

int ffi_send(int fd, sv2_noise *noise, const sv2_message *message) {
    size_t frame_size = 0, sealed_size = 0;
    uint8_t *frame, *sealed;
    int ok = 0;
    /* The first call asks for the size. */
    if (sv2_message_encode(message, NULL, 0, &frame_size) != SV2_ERR_BUFFER_TOO_SMALL) {
        return ffi_ok(sv2_message_encode(message, NULL, 0, &frame_size), "encode");
    }
    frame = malloc(frame_size);
    sealed = malloc(sv2_noise_encrypted_size(frame_size));
    if (frame != NULL && sealed != NULL &&
        ffi_ok(sv2_message_encode(message, frame, frame_size, &frame_size), "encode") &&
        ffi_ok(sv2_noise_encrypt(noise, frame, frame_size, sealed, sv2_noise_encrypted_size(frame_size), &sealed_size), "encrypt")) {
        ok = ffi_write_all(fd, sealed, sealed_size);
    }
    free(frame);
    free(sealed);
    return ok;
}

sv2_message *ffi_receive(int fd, sv2_noise *noise) {
    size_t capacity = 4096;
    uint8_t *frame = malloc(capacity);
    uint8_t incoming[4096];
    for (;;) {
        size_t written = 0, frame_size = 0;
        sv2_message *message = NULL;
        sv2_error error;
        if (frame == NULL) return NULL;
        error = sv2_noise_next_frame(noise, frame, capacity, &written);
        if (error == SV2_ERR_INCOMPLETE) {
            ssize_t got = read(fd, incoming, sizeof incoming);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0 || !ffi_ok(sv2_noise_feed(noise, incoming, (size_t)got), "feed")) break;
            continue;
        }
        if (error == SV2_ERR_BUFFER_TOO_SMALL) {
            uint8_t *larger = realloc(frame, written);
            if (larger == NULL) break;
            frame = larger;
            capacity = written;
            continue;
        }
        if (!ffi_ok(error, "decrypt")) break;
        error = sv2_frame_decode(frame, written, &message, &frame_size);
        if (error == SV2_ERR_UNKNOWN_MESSAGE) continue;
        if (!ffi_ok(error, "decode")) break;
        free(frame);
        return message;
    }
    free(frame);
    return NULL;
}

void ffi_print_hex(FILE *out, const uint8_t *bytes, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) fprintf(out, "%02x", bytes[i]);
}

/* Prints element i of a sequence field. */
static void print_element(FILE *out, const sv2_message *message, const char *name, sv2_field_kind kind, size_t i) {
    uint64_t number = 0;
    uint8_t u256[32];
    const uint8_t *data = NULL;
    size_t length = 0;
    if (kind == SV2_FIELD_SEQ_UINT && sv2_message_get_uint_at(message, name, i, &number) == SV2_OK) {
        fprintf(out, "%llu", (unsigned long long)number);
    } else if (kind == SV2_FIELD_SEQ_U256 && sv2_message_get_u256_at(message, name, i, u256) == SV2_OK) {
        ffi_print_hex(out, u256, 32);
    } else if (kind == SV2_FIELD_SEQ_BYTES && sv2_message_get_bytes_at(message, name, i, &data, &length) == SV2_OK) {
        ffi_print_hex(out, data, length);
    }
}

void ffi_print_message(FILE *out, const sv2_message *message) {
    size_t index, count = sv2_message_field_count(message);
    fprintf(out, "%s\n", sv2_message_name(message));
    for (index = 0; index < count; index++) {
        const char *name = sv2_message_field_name(message, index);
        sv2_field_kind kind = sv2_message_field_kind(message, index);
        uint64_t number = 0;
        float real = 0;
        uint8_t u256[32];
        const uint8_t *data = NULL;
        size_t length = 0, elements = 0, i;
        int present = 0;
        uint32_t option = 0;
        fprintf(out, "  %s = ", name);
        switch (kind) {
        case SV2_FIELD_BOOL:
        case SV2_FIELD_UINT:
            if (sv2_message_get_uint(message, name, &number) == SV2_OK) fprintf(out, "%llu", (unsigned long long)number);
            break;
        case SV2_FIELD_F32:
            if (sv2_message_get_f32(message, name, &real) == SV2_OK) fprintf(out, "%g", (double)real);
            break;
        case SV2_FIELD_U256:
            if (sv2_message_get_u256(message, name, u256) == SV2_OK) ffi_print_hex(out, u256, 32);
            break;
        case SV2_FIELD_STR:
            if (sv2_message_get_bytes(message, name, &data, &length) == SV2_OK) fprintf(out, "\"%.*s\"", (int)length, (const char *)data);
            break;
        case SV2_FIELD_BYTES:
            if (sv2_message_get_bytes(message, name, &data, &length) == SV2_OK) ffi_print_hex(out, data, length);
            break;
        case SV2_FIELD_OPTION_U32:
            if (sv2_message_get_option_u32(message, name, &present, &option) == SV2_OK) {
                if (present) fprintf(out, "%lu", (unsigned long)option); else fprintf(out, "none");
            }
            break;
        case SV2_FIELD_SEQ_UINT:
        case SV2_FIELD_SEQ_U256:
        case SV2_FIELD_SEQ_BYTES:
            if (sv2_message_get_count(message, name, &elements) == SV2_OK) {
                fprintf(out, "[");
                for (i = 0; i < elements; i++) {
                    if (i > 0) fprintf(out, ",");
                    print_element(out, message, name, kind, i);
                }
                fprintf(out, "]");
            }
            break;
        }
        fprintf(out, "\n");
    }
}
