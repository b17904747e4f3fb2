/*
 * wsdigest.c --
 *
 *      SHA-1 and Base64 for the keys of the WebSocket opening handshake.
 */

#include "wsdigest.h"

#include <string.h>

/*
 *----------------------------------------------------------------------
 *
 * WsSha1, Sha1Block --
 *
 *      SHA-1 of data[0..len), as FIPS 180-4 section 6.1 describes it; one
 *      512-bit block of it.  The handshake hashes some 60 bytes per
 *      connection.  OpenSSL's SHA1() would do, but in OpenSSL 3 it looks
 *      the algorithm up through the provider machinery on every call, and
 *      setting that up on first use brought some 2 MB of libcrypto and
 *      heap into a plain-HTTP server that never needs it otherwise.
 *
 * Results:
 *      The 20-byte digest in digest.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

#define ROTL32(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static void
Sha1Block(uint32_t h[5], const uint8_t *block)
{
    uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

    for (int t = 0; t < 16; t++) {
        w[t] = ((uint32_t)block[4 * t] << 24) | ((uint32_t)block[4 * t + 1] << 16)
            | ((uint32_t)block[4 * t + 2] << 8) | (uint32_t)block[4 * t + 3];
    }
    for (int t = 16; t < 80; t++) {
        w[t] = ROTL32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    }
    for (int t = 0; t < 80; t++) {
        uint32_t f, k, temp;

        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999u;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1u;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDCu;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6u;
        }
        temp = ROTL32(a, 5) + f + e + k + w[t];
        e = d;
        d = c;
        c = ROTL32(b, 30);
        b = a;
        a = temp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void
WsSha1(const uint8_t *data, size_t len, uint8_t digest[WS_SHA1_LENGTH])
{
    uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    uint8_t  tail[128];
    size_t   whole = len - len % 64, rest = len % 64;
    size_t   tailLen = (rest < 56) ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;

    for (size_t i = 0; i < whole; i += 64) {
        Sha1Block(h, data + i);
    }
    /* Padding: a 1 bit, zeros, and the length in bits, to a whole block. */
    memset(tail, 0, sizeof(tail));
    if (rest > 0) {
        memcpy(tail, data + whole, rest);
    }
    tail[rest] = 0x80u;
    for (int i = 0; i < 8; i++) {
        tail[tailLen - 1 - (size_t)i] = (uint8_t)(bits >> (8 * i));
    }
    for (size_t i = 0; i < tailLen; i += 64) {
        Sha1Block(h, tail + i);
    }
    for (int i = 0; i < 5; i++) {
        digest[4 * i] = (uint8_t)(h[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(h[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(h[i] >> 8);
        digest[4 * i + 3] = (uint8_t)h[i];
    }
}

#undef ROTL32


/*
 *----------------------------------------------------------------------
 *
 * WsBase64Encode --
 *
 *      Base64 of data[0..len) with "=" padding (RFC 4648 section 4), for
 *      the Sec-WebSocket-Key and -Accept headers.  Here for the reason
 *      WsSha1 is: the handshake then needs no page of libcrypto.
 *
 * Results:
 *      The length of the text in out (NUL-terminated).
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

size_t
WsBase64Encode(const uint8_t *data, size_t len, char *out)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;

    for (size_t i = 0; i < len; i += 3) {
        size_t   left = len - i;
        uint32_t v = (uint32_t)data[i] << 16;

        if (left > 1) {
            v |= (uint32_t)data[i + 1] << 8;
        }
        if (left > 2) {
            v |= data[i + 2];
        }
        out[n++] = digits[(v >> 18) & 63u];
        out[n++] = digits[(v >> 12) & 63u];
        out[n++] = (left > 1) ? digits[(v >> 6) & 63u] : '=';
        out[n++] = (left > 2) ? digits[v & 63u] : '=';
    }
    out[n] = '\0';
    return n;
}
