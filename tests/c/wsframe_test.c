/*
 * wsframe_test.c --
 *
 *      Unit tests of the frame layer of nswebsocket/wsframe.c, the RFC 6455
 *      protocol engine: frame headers at every length-encoding boundary,
 *      WsFrameCheck, masking (the word path against a byte-by-byte
 *      reference at every phase, alignment and length), the frame and
 *      close encoders, and UTF-8 validation (a table of the Autobahn 6.x
 *      kinds of input plus an exhaustive comparison with an independent
 *      reference decoder, including the byte at which each input must
 *      fail), SHA-1 (FIPS 180-4 vectors, the RFC 6455 handshake's
 *      example, and OpenSSL's digest at every length up to a few blocks)
 *      and base64 (RFC 4648 vectors, and OpenSSL's encoder).
 *      The message parser is tested in wsparser_test.c.  Every
 *      input is copied to the end of a buffer followed by a PROT_NONE
 *      guard page, so reading one byte too far crashes the test.  Build
 *      with -fsanitize=address,undefined.  Prints "wsframe_test: N passed,
 *      M failed" and exits non-zero when anything failed.
 */

#define UNITTEST_NAME "wsframe_test"

#include "wsframe.h"
#include "wsdigest.h"
#include "unittest.h"
#include "utf8cases.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static int RefUtf8(const uint8_t *s, size_t len, size_t *failPtr);
static size_t Utf8FailPosition(const uint8_t *s, size_t len);
static bool Viable(uint32_t lo, uint32_t hi, uint32_t min, uint32_t max);
static int CompareWithReference(const uint8_t *s, size_t len);
static void TestHeaders(void);
static void TestFrameCheck(void);
static void TestMask(void);
static void TestEncoders(void);
static void TestUtf8Table(void);
static void TestUtf8Exhaustive(void);
static void TestSha1(void);
static void TestBase64(void);


/*
 *----------------------------------------------------------------------
 *
 * TestHeaders --
 *
 *      Encode and decode headers at every length-encoding boundary, with
 *      and without a mask; pin the exact bytes of a few; every truncated
 *      prefix is incomplete; a 64-bit length with the top bit set is
 *      rejected as soon as its first byte is there; non-minimal lengths
 *      and all RSV/opcode bits decode.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static void
TestHeaders(void)
{
    static const uint64_t lengths[] = {
        0, 1, 125, 126, 127, 65535, 65536, 16u * 1024u * 1024u, UINT64_C(1) << 32,
        (UINT64_C(1) << 63) - 1
    };
    static const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
    size_t i, prefix;
    int    masked;

    for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        for (masked = 0; masked < 2; masked++) {
            uint8_t       out[WS_MAX_HEADER_LENGTH];
            WsFrameHeader hdr;
            size_t        n, expectLen;
            ssize_t       r;
            bool          allIncomplete = true;

            n = WsFrameEncodeHeader(out, i % 2 == 0, WS_OP_BINARY, lengths[i],
                                    masked ? key : NULL);
            expectLen = (lengths[i] <= 125 ? 2 : lengths[i] <= 65535 ? 4 : 10)
                + (masked ? 4 : 0);
            CHECK(n == expectLen, "length %llu masked %d: header of %zu bytes",
                  (unsigned long long)lengths[i], masked, n);
            r = WsFrameParseHeader(Guarded(out, n), n, &hdr);
            CHECK(r == (ssize_t)n && hdr.payloadLength == lengths[i] && hdr.headerLength == n
                  && hdr.fin == (i % 2 == 0) && hdr.rsv == 0 && hdr.opcode == WS_OP_BINARY
                  && hdr.masked == (masked != 0)
                  && (!masked || memcmp(hdr.mask, key, 4) == 0),
                  "length %llu masked %d: decoded %zd, length %llu",
                  (unsigned long long)lengths[i], masked, r,
                  (unsigned long long)hdr.payloadLength);
            for (prefix = 0; prefix < n; prefix++) {
                if (WsFrameParseHeader(Guarded(out, prefix), prefix, &hdr) != 0) {
                    allIncomplete = false;
                }
            }
            CHECK(allIncomplete, "length %llu masked %d: a prefix is not incomplete",
                  (unsigned long long)lengths[i], masked);
        }
    }

    /* Exact bytes at the boundaries. */
    {
        static const struct {
            uint64_t length;
            uint8_t  bytes[10];
            size_t   n;
        } exact[] = {
            {0, {0x81, 0x00}, 2},
            {125, {0x81, 0x7d}, 2},
            {126, {0x81, 0x7e, 0x00, 0x7e}, 4},
            {65535, {0x81, 0x7e, 0xff, 0xff}, 4},
            {65536, {0x81, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}, 10},
            {16u * 1024u * 1024u, {0x81, 0x7f, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x00}, 10},
        };
        uint8_t out[WS_MAX_HEADER_LENGTH];
        size_t  n;

        for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
            n = WsFrameEncodeHeader(out, true, WS_OP_TEXT, exact[i].length, NULL);
            CHECK(n == exact[i].n && memcmp(out, exact[i].bytes, n) == 0,
                  "exact encoding of %llu", (unsigned long long)exact[i].length);
        }
        n = WsFrameEncodeHeader(out, false, WS_OP_CONTINUATION, 5, key);
        CHECK(n == 6 && out[0] == 0x00 && out[1] == 0x85 && memcmp(out + 2, key, 4) == 0,
              "masked continuation header");
        n = WsFrameEncodeHeader(out, true, WS_OP_PONG, 0, NULL);
        CHECK(n == 2 && out[0] == 0x8a && out[1] == 0x00, "pong header");
    }

    /* 2^63 and above: rejected once the first length byte shows the top bit. */
    {
        static const uint8_t big[] = {0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0};
        static const uint8_t huge[] = {0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 1, 2, 3, 4};
        static const uint8_t max[] = {0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff};
        WsFrameHeader hdr;

        CHECK(WsFrameParseHeader(Guarded(big, 2), 2, &hdr) == 0, "2^63: 2 bytes incomplete");
        for (prefix = 3; prefix <= sizeof(big); prefix++) {
            CHECK(WsFrameParseHeader(Guarded(big, prefix), prefix, &hdr) == -1,
                  "2^63 rejected with %zu bytes", prefix);
        }
        CHECK(WsFrameParseHeader(Guarded(huge, sizeof(huge)), sizeof(huge), &hdr) == -1,
              "2^64-1 masked rejected");
        CHECK(WsFrameParseHeader(Guarded(max, sizeof(max)), sizeof(max), &hdr) == 10
              && hdr.payloadLength == (UINT64_C(1) << 63) - 1, "2^63-1 accepted");
    }

    /* Lengths in more bytes than needed are accepted; all header bits decode. */
    {
        static const uint8_t long16[] = {0x81, 0x7e, 0x00, 0x05};
        static const uint8_t long64[] = {0x02, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x7d, 9, 8, 7, 6};
        static const uint8_t bits[] = {0xff, 0x00};
        WsFrameHeader hdr;

        CHECK(WsFrameParseHeader(Guarded(long16, 4), 4, &hdr) == 4 && hdr.payloadLength == 5,
              "non-minimal 16-bit length");
        CHECK(WsFrameParseHeader(Guarded(long64, 14), 14, &hdr) == 14
              && hdr.payloadLength == 125 && !hdr.fin && hdr.opcode == WS_OP_BINARY
              && hdr.masked && hdr.mask[0] == 9 && hdr.mask[3] == 6,
              "non-minimal 64-bit length with mask");
        CHECK(WsFrameParseHeader(Guarded(bits, 2), 2, &hdr) == 2 && hdr.fin && hdr.rsv == 7
              && hdr.opcode == 15 && !hdr.masked && hdr.payloadLength == 0,
              "all bits of the first byte");
    }
}


/*
 *----------------------------------------------------------------------
 *
 * TestFrameCheck --
 *
 *      WsFrameCheck: each rule and its exact reason.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static void
TestFrameCheck(void)
{
    static const struct {
        bool         fin;
        unsigned int rsv, opcode;
        bool         masked;
        uint64_t     length;
        bool         expectMasked;
        const char  *reason;        /* NULL: acceptable */
    } cases[] = {
        {true, 0, WS_OP_TEXT, true, 5, true, NULL},
        {false, 0, WS_OP_BINARY, true, 70000, true, NULL},
        {true, 0, WS_OP_CONTINUATION, true, 0, true, NULL},
        {true, 0, WS_OP_PING, true, 125, true, NULL},
        {true, 0, WS_OP_CLOSE, false, 2, false, NULL},
        {true, 0, WS_OP_PONG, false, 0, false, NULL},
        {true, 4, WS_OP_TEXT, true, 5, true, "reserved bits set"},
        {true, 1, WS_OP_PING, true, 0, true, "reserved bits set"},
        {true, 0, 3, true, 0, true, "unknown opcode 3"},
        {true, 0, 7, true, 0, true, "unknown opcode 7"},
        {true, 0, 11, true, 0, true, "unknown opcode 11"},
        {true, 0, 15, true, 0, true, "unknown opcode 15"},
        {true, 0, WS_OP_PING, true, 126, true, "control frame too long"},
        {true, 0, WS_OP_CLOSE, true, 65536, true, "control frame too long"},
        {false, 0, WS_OP_PONG, true, 1, true, "fragmented control frame"},
        {true, 0, WS_OP_TEXT, false, 5, true, "unmasked client frame"},
        {true, 0, WS_OP_TEXT, true, 5, false, "masked server frame"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        WsFrameHeader hdr;
        const char   *reason = NULL;
        int           code;

        memset(&hdr, 0, sizeof(hdr));
        hdr.fin = cases[i].fin;
        hdr.rsv = cases[i].rsv;
        hdr.opcode = cases[i].opcode;
        hdr.masked = cases[i].masked;
        hdr.payloadLength = cases[i].length;
        code = WsFrameCheck(&hdr, cases[i].expectMasked, &reason);
        if (cases[i].reason == NULL) {
            CHECK(code == 0, "case %zu: got %d (%s)", i, code, reason ? reason : "");
        } else {
            CHECK(code == WS_CLOSE_PROTOCOL_ERROR && reason != NULL
                  && strcmp(reason, cases[i].reason) == 0,
                  "case %zu: got %d \"%s\", want \"%s\"", i, code, reason ? reason : "",
                  cases[i].reason);
        }
    }
}


/*
 *----------------------------------------------------------------------
 *
 * TestMask --
 *
 *      WsFrameMask against the obvious byte loop, at every payload offset
 *      0..15, every length 0..100 and every alignment of the data, right
 *      before the guard page and inside a buffer; masking twice restores
 *      the data; pieces of a payload unmask like the whole.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static void
TestMask(void)
{
    static const uint8_t mask[4] = {0xa5, 0x3c, 0x0f, 0xf0};
    uint8_t              original[128], expect[128], buf[160];
    size_t               offset, len, align, i;
    int                  mismatches = 0, guardMismatches = 0, splitMismatches = 0;
    uint64_t             seed = 0x9e3779b97f4a7c15u;

    for (i = 0; i < sizeof(original); i++) {
        original[i] = (uint8_t)NextRandom(&seed);
    }
    for (offset = 0; offset < 16; offset++) {
        for (len = 0; len <= 100; len++) {
            memcpy(expect, original, len);
            RefMask(expect, len, mask, offset);
            for (align = 0; align < 8; align++) {
                memcpy(buf + align, original, len);
                WsFrameMask(buf + align, len, mask, offset);
                if (memcmp(buf + align, expect, len) != 0) {
                    mismatches++;
                }
                WsFrameMask(buf + align, len, mask, offset);
                if (memcmp(buf + align, original, len) != 0) {
                    mismatches++;
                }
            }
            {
                uint8_t *g = Guarded(original, len);

                WsFrameMask(g, len, mask, offset);
                if (memcmp(g, expect, len) != 0) {
                    guardMismatches++;
                }
            }
            for (i = 0; i <= len; i++) {
                memcpy(buf + 3, original, len);
                WsFrameMask(buf + 3, i, mask, offset);
                WsFrameMask(buf + 3 + i, len - i, mask, offset + i);
                if (memcmp(buf + 3, expect, len) != 0) {
                    splitMismatches++;
                }
            }
        }
    }
    CHECK(mismatches == 0, "%d mismatches against the byte loop", mismatches);
    CHECK(guardMismatches == 0, "%d mismatches before the guard page", guardMismatches);
    CHECK(splitMismatches == 0, "%d mismatches when masked in two pieces", splitMismatches);
    WsFrameMask(NULL, 0, mask, 3);
    CHECK(1, "empty data");
}


/*
 *----------------------------------------------------------------------
 *
 * TestEncoders --
 *
 *      WsFrameEncode (sizes, too-small buffers, masking, a payload inside
 *      the output) and WsCloseEncode (codes, cutting the reason at a
 *      character boundary), and WsCloseCodeValid.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static void
TestEncoders(void)
{
    static const uint8_t key[4] = {1, 2, 3, 4};
    uint8_t              out[70000], payload[65536];
    size_t               n, i;
    WsFrameHeader        hdr;

    for (i = 0; i < sizeof(payload); i++) {
        payload[i] = (uint8_t)(i * 7);
    }
    n = WsFrameEncode(out, sizeof(out), true, WS_OP_TEXT, (const uint8_t *)"Hello", 5, NULL);
    CHECK(n == 7 && memcmp(out, "\x81\x05Hello", 7) == 0, "unmasked Hello");
    n = WsFrameEncode(out, sizeof(out), true, WS_OP_TEXT, (const uint8_t *)"Hello", 5,
                      (const uint8_t *)"\x37\xfa\x21\x3d");
    CHECK(n == 11 && memcmp(out, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11) == 0,
          "masked Hello as in RFC 6455 section 5.7");
    CHECK(WsFrameEncode(out, 6, true, WS_OP_TEXT, (const uint8_t *)"Hello", 5, NULL) == 0,
          "one byte too small");
    CHECK(WsFrameEncode(out, 7, true, WS_OP_TEXT, (const uint8_t *)"Hello", 5, NULL) == 7,
          "exactly big enough");
    CHECK(WsFrameEncode(out, 1, true, WS_OP_PING, NULL, 0, NULL) == 0, "no room for a header");
    n = WsFrameEncode(out, 2, true, WS_OP_PING, NULL, 0, NULL);
    CHECK(n == 2 && out[0] == 0x89 && out[1] == 0, "empty ping");

    n = WsFrameEncode(out, sizeof(out), false, WS_OP_BINARY, payload, 65536, key);
    CHECK(n == 65536 + 14 && WsFrameParseHeader(out, n, &hdr) == 14
          && hdr.payloadLength == 65536 && !hdr.fin && hdr.masked, "64 KiB masked frame");
    WsFrameMask(out + 14, 65536, key, 0);
    CHECK(memcmp(out + 14, payload, 65536) == 0, "64 KiB masked frame unmasks");

    memcpy(out, payload, 300);
    n = WsFrameEncode(out, sizeof(out), true, WS_OP_BINARY, out, 300, NULL);
    CHECK(n == 304 && memcmp(out + 4, payload, 300) == 0 && out[1] == 126,
          "payload inside the output buffer");

    {
        uint8_t close[WS_MAX_CONTROL_PAYLOAD];
        char    reason[200];

        CHECK(WsCloseEncode(close, 1005, "x", 1) == 0, "1005 gives an empty payload");
        CHECK(WsCloseEncode(close, 0, NULL, 0) == 0, "0 gives an empty payload");
        n = WsCloseEncode(close, 1000, NULL, 0);
        CHECK(n == 2 && close[0] == 0x03 && close[1] == 0xe8, "1000 without reason");
        n = WsCloseEncode(close, 4999, "bye", 3);
        CHECK(n == 5 && close[0] == 0x13 && close[1] == 0x87 && memcmp(close + 2, "bye", 3) == 0,
              "4999 bye");

        memset(reason, 'a', sizeof(reason));
        n = WsCloseEncode(close, 1000, reason, 123);
        CHECK(n == 125, "123-byte reason fits");
        n = WsCloseEncode(close, 1000, reason, 124);
        CHECK(n == 125, "124-byte ASCII reason cut to 123");
        memcpy(reason + 122, "\xc3\xa9", 2);            /* e-acute over bytes 122..123 */
        n = WsCloseEncode(close, 1000, reason, 124);
        CHECK(n == 124, "2-byte character across the limit left out: %zu", n);
        memset(reason, 'a', sizeof(reason));
        memcpy(reason + 121, "\xe2\x82\xac", 3);        /* euro sign over 121..123 */
        n = WsCloseEncode(close, 1000, reason, 130);
        CHECK(n == 123, "3-byte character across the limit left out: %zu", n);
        memset(reason, 'a', sizeof(reason));
        memcpy(reason + 120, "\xf0\x9f\x98\x80", 4);    /* U+1F600 over 120..123 */
        n = WsCloseEncode(close, 1000, reason, 124);
        CHECK(n == 122, "4-byte character across the limit left out: %zu", n);
        memset(reason, 'a', sizeof(reason));
        memcpy(reason + 119, "\xf0\x9f\x98\x80", 4);    /* U+1F600 over 119..122 */
        n = WsCloseEncode(close, 1000, reason, 124);
        CHECK(n == 125 && WsUtf8Step(WS_UTF8_ACCEPT, close + 2, n - 2) == WS_UTF8_ACCEPT,
              "4-byte character ending at the limit kept: %zu", n);
    }
    {
        static const int valid[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012,
                                    1013, 1014, 3000, 3999, 4000, 4999};
        static const int invalid[] = {-1, 0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000,
                                      2999, 5000, 65535};

        for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
            CHECK(WsCloseCodeValid(valid[i]), "%d is valid", valid[i]);
        }
        for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
            CHECK(!WsCloseCodeValid(invalid[i]), "%d is invalid", invalid[i]);
        }
    }
}


/*
 *----------------------------------------------------------------------
 *
 * RefUtf8, Utf8FailPosition --
 *
 *      An independent UTF-8 checker, written for clarity: decode each
 *      sequence and, after each of its bytes, ask whether some completion
 *      could still give a code point in the allowed range for its length
 *      (not overlong, not a surrogate, at most U+10FFFF).
 *      Utf8FailPosition feeds WsUtf8Step a byte at a time.
 *
 * Results:
 *      RefUtf8: 0 valid, 1 invalid (*failPtr: index of the first byte
 *      that makes it so), 2 valid but cut inside a character.
 *      Utf8FailPosition: that index for WsUtf8Step, or SIZE_MAX.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static bool
Viable(uint32_t lo, uint32_t hi, uint32_t min, uint32_t max)
{
    uint32_t a = (lo > min) ? lo : min;
    uint32_t z = (hi < max) ? hi : max;

    if (a > z) {
        return false;
    }
    return !(a >= 0xD800 && z <= 0xDFFF);
}

static int
RefUtf8(const uint8_t *s, size_t len, size_t *failPtr)
{
    size_t i = 0, k, need;

    while (i < len) {
        uint32_t cp, min, max;

        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if (s[i] >= 0xC0 && s[i] <= 0xDF) {
            need = 1, cp = s[i] & 0x1Fu, min = 0x80, max = 0x7FF;
        } else if (s[i] >= 0xE0 && s[i] <= 0xEF) {
            need = 2, cp = s[i] & 0x0Fu, min = 0x800, max = 0xFFFF;
        } else if (s[i] >= 0xF0 && s[i] <= 0xF7) {
            need = 3, cp = s[i] & 0x07u, min = 0x10000, max = 0x10FFFF;
        } else {
            *failPtr = i;
            return 1;
        }
        for (k = 0; k <= need; k++) {
            uint32_t lo, hi;

            if (k > 0) {
                if (i + k >= len) {
                    return 2;
                }
                if ((s[i + k] & 0xC0u) != 0x80u) {
                    *failPtr = i + k;
                    return 1;
                }
                cp = (cp << 6) | (s[i + k] & 0x3Fu);
            }
            lo = cp << (6 * (need - k));
            hi = lo | ((1u << (6 * (need - k))) - 1);
            if (!Viable(lo, hi, min, max)) {
                *failPtr = i + k;
                return 1;
            }
        }
        i += need + 1;
    }
    return 0;
}

static size_t
Utf8FailPosition(const uint8_t *s, size_t len)
{
    uint32_t state = WS_UTF8_ACCEPT;
    size_t   i;

    for (i = 0; i < len; i++) {
        state = WsUtf8Step(state, s + i, 1);
        if (state == WS_UTF8_REJECT) {
            return i;
        }
    }
    return SIZE_MAX;
}


/*
 *----------------------------------------------------------------------
 *
 * TestUtf8Table --
 *
 *      The validator on the kinds of input Autobahn section 6 sends:
 *      boundaries, overlong forms, surrogates, out-of-range code points,
 *      stray and missing continuation bytes, truncation.  Each input must
 *      be classified right whole, in two pieces split anywhere, and behind
 *      ASCII runs of every length up to 17 (the 8-byte fast path); an
 *      invalid one must fail exactly at the given byte.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static void
TestUtf8Table(void)
{
    size_t          numCases, i, k, pad;
    const Utf8Case *utf8Cases = Utf8Cases(&numCases);

    for (i = 0; i < numCases; i++) {
        const Utf8Case *casePtr = &utf8Cases[i];
        uint32_t        state;
        size_t          refFail = SIZE_MAX;
        int             ref;
        bool            splitsAgree = true, paddedAgree = true;
        uint8_t         padded[128];

        state = WsUtf8Step(WS_UTF8_ACCEPT, Guarded(casePtr->bytes, casePtr->len),
                           casePtr->len);
        ref = RefUtf8(casePtr->bytes, casePtr->len, &refFail);
        if (casePtr->expect == U8_VALID) {
            CHECK(state == WS_UTF8_ACCEPT && ref == 0, "%s: state %u, reference %d",
                  casePtr->name, state, ref);
        } else if (casePtr->expect == U8_INCOMPLETE) {
            CHECK(state != WS_UTF8_ACCEPT && state != WS_UTF8_REJECT && ref == 2,
                  "%s: state %u, reference %d", casePtr->name, state, ref);
        } else {
            size_t at = Utf8FailPosition(Guarded(casePtr->bytes, casePtr->len), casePtr->len);

            CHECK(state == WS_UTF8_REJECT && at == (size_t)casePtr->expect && ref == 1
                  && refFail == at, "%s: state %u, fails at %zu (reference %zu), want %d",
                  casePtr->name, state, at, refFail, casePtr->expect);
        }
        for (k = 0; k <= casePtr->len; k++) {
            uint32_t s2 = WsUtf8Step(WS_UTF8_ACCEPT, Guarded(casePtr->bytes, k), k);

            s2 = WsUtf8Step(s2, Guarded(casePtr->bytes + k, casePtr->len - k), casePtr->len - k);
            if (s2 != state) {
                splitsAgree = false;
            }
        }
        CHECK(splitsAgree, "%s: a split changes the result", casePtr->name);
        for (pad = 0; pad <= 17; pad++) {
            uint32_t expect, s3;

            memset(padded, 'x', pad);
            memcpy(padded + pad, casePtr->bytes, casePtr->len);
            s3 = WsUtf8Step(WS_UTF8_ACCEPT, Guarded(padded, pad + casePtr->len),
                            pad + casePtr->len);
            if (s3 != state) {
                paddedAgree = false;
            }
            if (casePtr->expect >= 0 && Utf8FailPosition(padded, pad + casePtr->len)
                != pad + (size_t)casePtr->expect) {
                paddedAgree = false;
            }
            /* ASCII after the input: valid stays valid, anything else is invalid. */
            memset(padded + pad + casePtr->len, 'y', 9);
            expect = (casePtr->expect == U8_VALID) ? WS_UTF8_ACCEPT : WS_UTF8_REJECT;
            s3 = WsUtf8Step(WS_UTF8_ACCEPT, Guarded(padded, pad + casePtr->len + 9),
                            pad + casePtr->len + 9);
            if (s3 != expect) {
                paddedAgree = false;
            }
        }
        CHECK(paddedAgree, "%s: ASCII around it changes the result", casePtr->name);
    }
    CHECK(WsUtf8Step(WS_UTF8_REJECT, U8("abc")) == WS_UTF8_REJECT, "reject is final");
    CHECK(WsUtf8Step(WS_UTF8_REJECT, NULL, 0) == WS_UTF8_REJECT, "reject is final, no data");
    CHECK(WsUtf8Step(12345, U8("abc")) == WS_UTF8_REJECT, "a bogus state rejects");
}


/*
 *----------------------------------------------------------------------
 *
 * TestUtf8Exhaustive --
 *
 *      Compare the validator with RefUtf8 on every input of one and two
 *      bytes, every three-byte input that starts with a lead byte, and
 *      four-byte inputs with every F0..FF lead and second byte and a set
 *      of interesting last bytes: the same verdict, and for invalid input
 *      the same failing byte.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static int
CompareWithReference(const uint8_t *s, size_t len)
{
    uint32_t state = WsUtf8Step(WS_UTF8_ACCEPT, s, len);
    size_t   refFail = SIZE_MAX;
    int      ref = RefUtf8(s, len, &refFail);

    switch (ref) {
    case 0:
        return state == WS_UTF8_ACCEPT;
    case 1:
        return state == WS_UTF8_REJECT && Utf8FailPosition(s, len) == refFail;
    default:
        return state != WS_UTF8_ACCEPT && state != WS_UTF8_REJECT;
    }
}

static void
TestUtf8Exhaustive(void)
{
    static const uint8_t thirds[] = {0x20, 0x80, 0x8f, 0x90, 0xa0, 0xbf, 0xc0};
    static const uint8_t tails[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
                                    0xc2, 0xe0, 0xf0, 0xff};
    uint8_t              s[4];
    unsigned int         a, b, c, d;
    long                 bad = 0, count = 0;

    for (a = 0; a < 256; a++) {
        s[0] = (uint8_t)a;
        count++;
        bad += !CompareWithReference(s, 1);
        for (b = 0; b < 256; b++) {
            s[1] = (uint8_t)b;
            count++;
            bad += !CompareWithReference(s, 2);
            if (a >= 0xC0) {
                for (c = 0; c < 256; c++) {
                    s[2] = (uint8_t)c;
                    count++;
                    bad += !CompareWithReference(s, 3);
                }
            }
            if (a >= 0xF0) {
                for (c = 0; c < sizeof(thirds); c++) {
                    s[2] = thirds[c];
                    for (d = 0; d < sizeof(tails); d++) {
                        s[3] = tails[d];
                        count++;
                        bad += !CompareWithReference(s, 4);
                    }
                }
            }
        }
    }
    CHECK(bad == 0, "%ld of %ld inputs disagree with the reference", bad, count);
}


/*
 *----------------------------------------------------------------------
 *
 * TestSha1 --
 *
 *      WsSha1 on the FIPS 180-4 example messages, on the RFC 6455 key
 *      (whose Sec-WebSocket-Accept is "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), on
 *      a million "a", and against OpenSSL's SHA-1 at every length from 0
 *      to 300 bytes (each padding case: one or two final blocks, and the
 *      lengths around 55, 56 and 64), each input against the guard page.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static void
TestSha1(void)
{
    static const struct {
        const char *input;
        const char *hex;
    } vectors[] = {
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
        {"dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
         "b37a4f2cc0624f1690f64606cf385945b2bec4ea"},
    };
    uint8_t  digest[WS_SHA1_LENGTH], expected[WS_SHA1_LENGTH], data[300];
    char     hex[2 * WS_SHA1_LENGTH + 1];
    uint64_t seed = 0x5a5a1234u;
    size_t   i;
    uint8_t *million;
    int      bad = 0;

    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        size_t len = strlen(vectors[i].input);

        WsSha1(Guarded(vectors[i].input, len), len, digest);
        for (size_t j = 0; j < WS_SHA1_LENGTH; j++) {
            snprintf(hex + 2 * j, 3, "%02x", digest[j]);
        }
        CHECK(strcmp(hex, vectors[i].hex) == 0, "SHA-1 of \"%s\": %s", vectors[i].input, hex);
    }
    WsSha1(NULL, 0, digest);
    CHECK(digest[0] == 0xda && digest[19] == 0x09, "SHA-1 of NULL, 0");

    million = malloc(1000000);
    CHECK(million != NULL, "malloc");
    if (million == NULL) {
        return;
    }
    memset(million, 'a', 1000000);
    WsSha1(Guarded(million, 1000000), 1000000, digest);
    free(million);
    for (i = 0; i < WS_SHA1_LENGTH; i++) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    CHECK(strcmp(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f") == 0,
          "SHA-1 of a million a: %s", hex);

    for (i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)NextRandom(&seed);
    }
    for (size_t len = 0; len <= sizeof(data); len++) {
        unsigned int n = 0;

        WsSha1(Guarded(data, len), len, digest);
        if (EVP_Digest(data, len, expected, &n, EVP_sha1(), NULL) != 1
            || n != WS_SHA1_LENGTH || memcmp(digest, expected, WS_SHA1_LENGTH) != 0) {
            bad++;
        }
    }
    CHECK(bad == 0, "%d of %zu lengths differ from OpenSSL's SHA-1", bad, sizeof(data) + 1);
}


/*
 *----------------------------------------------------------------------
 *
 * TestBase64 --
 *
 *      WsBase64Encode on the RFC 4648 section 10 vectors, on the RFC 6455
 *      example digest (whose text is "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), and
 *      against OpenSSL's EVP_EncodeBlock at every length from 0 to 100
 *      bytes, each input against the guard page.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static void
TestBase64(void)
{
    static const struct {
        const char *input;
        const char *text;
    } vectors[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}
    };
    static const uint8_t digest[WS_SHA1_LENGTH] = {
        0xb3, 0x7a, 0x4f, 0x2c, 0xc0, 0x62, 0x4f, 0x16, 0x90, 0xf6,
        0x46, 0x06, 0xcf, 0x38, 0x59, 0x45, 0xb2, 0xbe, 0xc4, 0xea
    };
    char     text[4 * 34 + 1], expected[4 * 34 + 1];
    uint8_t  data[100];
    uint64_t seed = 0x77a1u;
    size_t   i, n;
    int      bad = 0;

    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        size_t len = strlen(vectors[i].input);

        n = WsBase64Encode(Guarded(vectors[i].input, len), len, text);
        CHECK(n == strlen(vectors[i].text) && strcmp(text, vectors[i].text) == 0,
              "base64 of \"%s\": \"%s\"", vectors[i].input, text);
    }
    n = WsBase64Encode(Guarded(digest, sizeof(digest)), sizeof(digest), text);
    CHECK(n == 28 && strcmp(text, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0,
          "base64 of the RFC 6455 digest: \"%s\"", text);

    for (i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)NextRandom(&seed);
    }
    for (size_t len = 0; len <= sizeof(data); len++) {
        int m = EVP_EncodeBlock((unsigned char *)expected, data, (int)len);

        n = WsBase64Encode(Guarded(data, len), len, text);
        if (m < 0 || n != (size_t)m || strcmp(text, expected) != 0) {
            bad++;
        }
    }
    CHECK(bad == 0, "%d of %zu lengths differ from OpenSSL's base64", bad, sizeof(data) + 1);
}


int
main(void)
{
    SetupArena();
    TestHeaders();
    TestFrameCheck();
    TestMask();
    TestEncoders();
    TestUtf8Table();
    TestUtf8Exhaustive();
    TestSha1();
    TestBase64();
    return UnitReport();
}
