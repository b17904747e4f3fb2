/*
 * wsdigest.h --
 *
 *      The two encodings of the WebSocket opening handshake's keys
 *      (RFC 6455 section 4): SHA-1 and Base64.  Our own, so that the
 *      handshake needs nothing of libcrypto (see wsdigest.c).
 */

#ifndef WSDIGEST_H
#define WSDIGEST_H

#include <stddef.h>
#include <stdint.h>

/*
 * SHA-1 (FIPS 180-4) of data[0..len) into digest, for the opening handshake's
 * Sec-WebSocket-Accept (RFC 6455 section 4.2.2), where it is a checksum that
 * no security rests on.  data may be NULL when len is 0.
 */
#define WS_SHA1_LENGTH 20

void WsSha1(const uint8_t *data, size_t len, uint8_t digest[WS_SHA1_LENGTH]);

/*
 * Base64 (RFC 4648, with padding) of data[0..len) into out, which must
 * hold 4 * ((len + 2) / 3) + 1 bytes, for the handshake's keys.  Results:
 * the length of the text, which ends with a NUL.
 */
size_t WsBase64Encode(const uint8_t *data, size_t len, char *out);

#endif /* WSDIGEST_H */
