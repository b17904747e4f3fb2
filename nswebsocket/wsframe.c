/*
 * wsframe.c --
 *
 *      The RFC 6455 protocol engine: frame headers, masking, UTF-8
 *      validation and the message parser that the event thread runs for
 *      every WebSocket.  The parser takes bytes as they come from the
 *      socket, in pieces of any size, and reports whole data messages,
 *      control frames and the first protocol violation with the close code
 *      to fail the connection with.  It is strict where RFC 6455 says MUST
 *      and fails fast: a violation is reported as soon as the bytes that
 *      show it have arrived, not when the frame or message is complete.
 *      The hot path allocates nothing and copies nothing: a frame that
 *      arrives whole is unmasked and validated in the caller's buffer and
 *      handed over from there; only frames split across reads and
 *      fragmented messages go through the parser's one reusable buffer.
 */

#include "wsframe.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/*
 * The message buffer starts at MSG_BUFFER_MIN and doubles.  After a message
 * has been delivered a buffer larger than MSG_BUFFER_KEEP is freed, so that
 * one big message does not pin memory for the rest of a long-lived
 * connection.  Tcl 8.6 builds byte arrays with int sizes, so no message may
 * be larger than MSG_HARD_LIMIT, whatever the configured limit.
 *
 * Memory comes from malloc rather than ckalloc: the engine then needs nothing
 * from Tcl, and under AddressSanitizer every byte of the buffer is checked
 * (Tcl's threaded allocator carves small blocks out of larger ones, where an
 * overrun goes unnoticed).
 */
#define MSG_BUFFER_MIN  4096u
#define MSG_BUFFER_KEEP (64u * 1024u)
#define MSG_HARD_LIMIT  ((uint64_t)INT_MAX)

/* Bits of the first two header bytes. */
#define HDR_FIN         0x80u
#define HDR_RSV_SHIFT   4
#define HDR_RSV         0x70u
#define HDR_OPCODE      0x0Fu
#define HDR_MASK        0x80u
#define HDR_LEN7        0x7Fu
#define HDR_LEN16       126u
#define HDR_LEN64       127u

/* Opcodes 8 and above are control frames. */
#define IS_CONTROL(opcode) (((opcode) & 0x08u) != 0)

/*
 * The UTF-8 validator is a table-driven automaton over byte classes.  The
 * classes split the 256 byte values by the role they can play in
 * well-formed UTF-8 (Unicode 15, table 3-7); the second byte of some lead
 * bytes has a narrower range than a plain continuation byte, which is how
 * overlong forms, surrogates and code points above U+10FFFF are refused at
 * the byte that makes them so.
 */
typedef enum {
    CC_ASCII,       /* 00..7F */
    CC_CONT_8X,     /* 80..8F continuation */
    CC_CONT_9X,     /* 90..9F continuation */
    CC_CONT_AB,     /* A0..BF continuation */
    CC_LEAD2,       /* C2..DF: 2-byte sequence */
    CC_E0,          /* E0: 3 bytes, second A0..BF (no overlong) */
    CC_LEAD3,       /* E1..EC, EE..EF: 3 bytes */
    CC_ED,          /* ED: 3 bytes, second 80..9F (no surrogates) */
    CC_F0,          /* F0: 4 bytes, second 90..BF (no overlong) */
    CC_LEAD4,       /* F1..F3: 4 bytes */
    CC_F4,          /* F4: 4 bytes, second 80..8F (up to U+10FFFF) */
    CC_INVALID,     /* C0, C1, F5..FF: never in UTF-8 */
    CC_COUNT
} ByteClass;

/*
 * States; the first two are WS_UTF8_ACCEPT and WS_UTF8_REJECT.  "Tail n"
 * means n more continuation bytes of any kind are needed.
 */
enum {
    US_ACCEPT = WS_UTF8_ACCEPT,
    US_REJECT = WS_UTF8_REJECT,
    US_TAIL1,       /* one more 80..BF */
    US_TAIL2,       /* two more */
    US_TAIL3,       /* three more */
    US_AFTER_E0,    /* A0..BF, then one more */
    US_AFTER_ED,    /* 80..9F, then one more */
    US_AFTER_F0,    /* 90..BF, then two more */
    US_AFTER_F4,    /* 80..8F, then two more */
    US_COUNT
};

#define A  CC_ASCII
#define C8 CC_CONT_8X
#define C9 CC_CONT_9X
#define CA CC_CONT_AB
#define L2 CC_LEAD2
#define L3 CC_LEAD3
#define L4 CC_LEAD4
#define XX CC_INVALID

/* One row per high nibble of the byte value. */
static const uint8_t byteClasses[256] = {
    A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,      /* 0x */
    A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,      /* 1x */
    A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,      /* 2x */
    A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,      /* 3x */
    A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,      /* 4x */
    A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,      /* 5x */
    A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,      /* 6x */
    A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,  A,      /* 7x */
    C8, C8, C8, C8, C8, C8, C8, C8, C8, C8, C8, C8, C8, C8, C8, C8,     /* 8x */
    C9, C9, C9, C9, C9, C9, C9, C9, C9, C9, C9, C9, C9, C9, C9, C9,     /* 9x */
    CA, CA, CA, CA, CA, CA, CA, CA, CA, CA, CA, CA, CA, CA, CA, CA,     /* Ax */
    CA, CA, CA, CA, CA, CA, CA, CA, CA, CA, CA, CA, CA, CA, CA, CA,     /* Bx */
    XX, XX, L2, L2, L2, L2, L2, L2, L2, L2, L2, L2, L2, L2, L2, L2,     /* Cx */
    L2, L2, L2, L2, L2, L2, L2, L2, L2, L2, L2, L2, L2, L2, L2, L2,     /* Dx */
    CC_E0, L3, L3, L3, L3, L3, L3, L3, L3, L3, L3, L3, L3, CC_ED, L3, L3, /* Ex */
    CC_F0, L4, L4, L4, CC_F4, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX  /* Fx */
};

#undef A
#undef C8
#undef C9
#undef CA
#undef L2
#undef L3
#undef L4
#undef XX

#define R US_REJECT

/* transitions[state][class]: the state after a byte of that class. */
static const uint8_t transitions[US_COUNT][CC_COUNT] = {
    /*                ASCII      8X        9X        AB        LEAD2     E0
                      LEAD3      ED        F0        LEAD4     F4        INVALID */
    [US_ACCEPT]   = {US_ACCEPT, R,        R,        R,        US_TAIL1, US_AFTER_E0,
                     US_TAIL2,  US_AFTER_ED, US_AFTER_F0, US_TAIL3, US_AFTER_F4, R},
    [US_REJECT]   = {R, R, R, R, R, R, R, R, R, R, R, R},
    [US_TAIL1]    = {R, US_ACCEPT, US_ACCEPT, US_ACCEPT, R, R, R, R, R, R, R, R},
    [US_TAIL2]    = {R, US_TAIL1, US_TAIL1, US_TAIL1, R, R, R, R, R, R, R, R},
    [US_TAIL3]    = {R, US_TAIL2, US_TAIL2, US_TAIL2, R, R, R, R, R, R, R, R},
    [US_AFTER_E0] = {R, R, R, US_TAIL1, R, R, R, R, R, R, R, R},
    [US_AFTER_ED] = {R, US_TAIL1, US_TAIL1, R, R, R, R, R, R, R, R, R},
    [US_AFTER_F0] = {R, R, US_TAIL2, US_TAIL2, R, R, R, R, R, R, R, R},
    [US_AFTER_F4] = {R, US_TAIL2, R, R, R, R, R, R, R, R, R, R}
};

#undef R

/* A word with the high bit of every byte set: any non-ASCII byte shows up under it. */
#define HIGH_BITS UINT64_C(0x8080808080808080)

/* Reasons for WsFrameCheck, static so that callers may keep them. */
static const char *const unknownOpcodeReasons[16] = {
    NULL, NULL, NULL,
    "unknown opcode 3", "unknown opcode 4", "unknown opcode 5", "unknown opcode 6",
    "unknown opcode 7",
    NULL, NULL, NULL,
    "unknown opcode 11", "unknown opcode 12", "unknown opcode 13", "unknown opcode 14",
    "unknown opcode 15"
};

/* Where the parser is in the byte stream. */
typedef enum {
    PARSE_HEADER,       /* between frames, or inside a header split across feeds */
    PARSE_PAYLOAD,      /* inside the payload of hdr */
    PARSE_DONE          /* a close frame or an error ended the stream */
} ParseState;

struct WsParser {
    ParseState    state;            /* where in the stream; PARSE_DONE is final */
    bool          expectMasked;     /* server side: client frames must be masked */
    uint64_t      maxMessageSize;   /* effective limit, never above MSG_HARD_LIMIT */
    uint8_t       hdrBuf[WS_MAX_HEADER_LENGTH]; /* a header split across feeds */
    uint8_t       hdrLen;           /* bytes of it in hdrBuf */
    WsFrameHeader hdr;              /* the frame whose payload is being read */
    uint64_t      payloadDone;      /* bytes of its payload consumed so far */
    unsigned int  msgOpcode;        /* WS_OP_TEXT or _BINARY while a message is in
                                     * progress, WS_OP_CONTINUATION (0) otherwise */
    uint32_t      utf8State;        /* validation state of the text message so far */
    uint8_t      *msgBuf;           /* the message so far (malloc'd), or NULL */
    size_t        msgLen;           /* bytes in msgBuf */
    size_t        msgCapacity;      /* size of msgBuf */
    uint8_t      *ctrlBuf;          /* a control frame split across feeds (malloc'd,
                                     * WS_MAX_CONTROL_PAYLOAD bytes), or NULL */
};

/*
 * A valid address for an empty payload.  Nothing is ever written to it:
 * callbacks get it with a length of 0.
 */
static uint8_t emptyPayload[1];

static void StartFrame(WsParser *parserPtr, const WsParserCallbacks *cbPtr, void *arg);
static size_t ReadHeader(WsParser *parserPtr, const uint8_t *data, size_t len,
                         const WsParserCallbacks *cbPtr, void *arg);
static size_t ReadDataPayload(WsParser *parserPtr, uint8_t *data, size_t len,
                              const WsParserCallbacks *cbPtr, void *arg);
static size_t ReadControlPayload(WsParser *parserPtr, uint8_t *data, size_t len,
                                 const WsParserCallbacks *cbPtr, void *arg);
static void EndMessage(WsParser *parserPtr, uint8_t *data, size_t len,
                       const WsParserCallbacks *cbPtr, void *arg);
static void EndControl(WsParser *parserPtr, uint8_t *payload, size_t len,
                       const WsParserCallbacks *cbPtr, void *arg);
static bool AppendMessage(WsParser *parserPtr, const uint8_t *data, size_t len);
static void FreeMessageBuffer(WsParser *parserPtr);
static void Fail(WsParser *parserPtr, int code, const char *reason,
                 const WsParserCallbacks *cbPtr, void *arg);


/*
 *----------------------------------------------------------------------
 *
 * WsFrameParseHeader --
 *
 *      Decode the frame header at the start of buf[0..len).
 *
 * Results:
 *      The header length (2..14), 0 when the header is not complete yet,
 *      -1 when a 64-bit length has its most significant bit set.
 *
 * Side effects:
 *      Fills in *hdrPtr on success only.
 *
 *----------------------------------------------------------------------
 */

ssize_t
WsFrameParseHeader(const uint8_t *buf, size_t len, WsFrameHeader *hdrPtr)
{
    unsigned int len7;
    size_t       lengthBytes, need, i;
    uint64_t     length;
    bool         masked;

    if (len < 2) {
        return 0;
    }
    len7 = buf[1] & HDR_LEN7;
    masked = (buf[1] & HDR_MASK) != 0;
    lengthBytes = (len7 == HDR_LEN16) ? 2 : (len7 == HDR_LEN64) ? 8 : 0;

    /*
     * The first length byte already tells whether a 64-bit length is out
     * of range: say so at once rather than wait for seven more bytes.
     */
    if (lengthBytes == 8 && len >= 3 && (buf[2] & 0x80u) != 0) {
        return -1;
    }
    need = 2 + lengthBytes + (masked ? 4 : 0);
    if (len < need) {
        return 0;
    }
    if (lengthBytes == 0) {
        length = len7;
    } else {
        length = 0;
        for (i = 0; i < lengthBytes; i++) {
            length = (length << 8) | buf[2 + i];
        }
    }
    hdrPtr->fin = (buf[0] & HDR_FIN) != 0;
    hdrPtr->rsv = (buf[0] & HDR_RSV) >> HDR_RSV_SHIFT;
    hdrPtr->opcode = buf[0] & HDR_OPCODE;
    hdrPtr->masked = masked;
    if (masked) {
        memcpy(hdrPtr->mask, buf + 2 + lengthBytes, 4);
    } else {
        memset(hdrPtr->mask, 0, 4);
    }
    hdrPtr->payloadLength = length;
    hdrPtr->headerLength = need;
    return (ssize_t)need;
}


/*
 *----------------------------------------------------------------------
 *
 * WsFrameCheck --
 *
 *      Apply the rules of RFC 6455 section 5 that a single header can be
 *      judged by: no RSV bits (we negotiate no extensions), a defined
 *      opcode, control frames of at most 125 bytes and never fragmented,
 *      and masking by clients only.
 *
 * Results:
 *      0 when the header is acceptable, otherwise WS_CLOSE_PROTOCOL_ERROR
 *      with a static reason in *reasonPtr.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

int
WsFrameCheck(const WsFrameHeader *hdrPtr, bool expectMasked, const char **reasonPtr)
{
    const char *reason = NULL;

    if (hdrPtr->rsv != 0) {
        reason = "reserved bits set";
    } else if (unknownOpcodeReasons[hdrPtr->opcode & HDR_OPCODE] != NULL) {
        reason = unknownOpcodeReasons[hdrPtr->opcode & HDR_OPCODE];
    } else if (IS_CONTROL(hdrPtr->opcode) && hdrPtr->payloadLength > WS_MAX_CONTROL_PAYLOAD) {
        reason = "control frame too long";
    } else if (IS_CONTROL(hdrPtr->opcode) && !hdrPtr->fin) {
        reason = "fragmented control frame";
    } else if (expectMasked && !hdrPtr->masked) {
        reason = "unmasked client frame";
    } else if (!expectMasked && hdrPtr->masked) {
        reason = "masked server frame";
    }
    if (reason == NULL) {
        return 0;
    }
    *reasonPtr = reason;
    return WS_CLOSE_PROTOCOL_ERROR;
}


/*
 *----------------------------------------------------------------------
 *
 * WsFrameEncodeHeader --
 *
 *      Encode a frame header, with the length in its shortest form as
 *      RFC 6455 section 5.2 requires of a sender.
 *
 * Results:
 *      The header length (2..14).
 *
 * Side effects:
 *      Writes out[0..result).
 *
 *----------------------------------------------------------------------
 */

size_t
WsFrameEncodeHeader(uint8_t out[WS_MAX_HEADER_LENGTH], bool fin, unsigned int opcode,
                    uint64_t length, const uint8_t *maskOrNull)
{
    uint8_t maskBit = (maskOrNull != NULL) ? HDR_MASK : 0u;
    size_t  n, i;

    assert(length < (UINT64_C(1) << 63));
    out[0] = (uint8_t)((fin ? HDR_FIN : 0u) | (opcode & HDR_OPCODE));
    if (length <= WS_MAX_CONTROL_PAYLOAD) {
        out[1] = (uint8_t)(maskBit | length);
        n = 2;
    } else if (length <= 0xFFFFu) {
        out[1] = (uint8_t)(maskBit | HDR_LEN16);
        out[2] = (uint8_t)(length >> 8);
        out[3] = (uint8_t)length;
        n = 4;
    } else {
        out[1] = (uint8_t)(maskBit | HDR_LEN64);
        for (i = 0; i < 8; i++) {
            out[2 + i] = (uint8_t)(length >> (56 - 8 * i));
        }
        n = 10;
    }
    if (maskOrNull != NULL) {
        memcpy(out + n, maskOrNull, 4);
        n += 4;
    }
    return n;
}


/*
 *----------------------------------------------------------------------
 *
 * WsFrameMask --
 *
 *      XOR data[0..len) with the masking key, data[0] being byte number
 *      offset of the payload.  Bytes go one at a time up to an 8-byte
 *      boundary, then a word at a time with the key rotated to the right
 *      phase and doubled to 8 bytes; memcpy does the loads and stores, which
 *      the compiler turns into plain (aligned) word moves.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Changes data in place.
 *
 *----------------------------------------------------------------------
 */

void
WsFrameMask(uint8_t *data, size_t len, const uint8_t mask[4], size_t offset)
{
    size_t i = 0, j;

    while (i < len && ((uintptr_t)(data + i) & 7u) != 0) {
        data[i] ^= mask[(offset + i) & 3u];
        i++;
    }
    if (len - i >= 8) {
        uint8_t  keyBytes[8];
        uint64_t key;

        /* The phase stays the same from word to word, since 8 is a multiple of 4. */
        for (j = 0; j < 8; j++) {
            keyBytes[j] = mask[(offset + i + j) & 3u];
        }
        memcpy(&key, keyBytes, sizeof(key));
        for (; len - i >= 8; i += 8) {
            uint64_t word;

            memcpy(&word, data + i, sizeof(word));
            word ^= key;
            memcpy(data + i, &word, sizeof(word));
        }
    }
    for (; i < len; i++) {
        data[i] ^= mask[(offset + i) & 3u];
    }
}


/*
 *----------------------------------------------------------------------
 *
 * WsFrameEncode --
 *
 *      Encode a whole frame into a caller's buffer.
 *
 * Results:
 *      The frame length, or 0 when it does not fit into outSize bytes.
 *
 * Side effects:
 *      Writes out[0..result); a payload inside out is moved, not clobbered.
 *
 *----------------------------------------------------------------------
 */

size_t
WsFrameEncode(uint8_t *out, size_t outSize, bool fin, unsigned int opcode,
              const uint8_t *payload, size_t len, const uint8_t *maskOrNull)
{
    uint8_t header[WS_MAX_HEADER_LENGTH];
    size_t  hdrLen;

    hdrLen = WsFrameEncodeHeader(header, fin, opcode, len, maskOrNull);
    if (outSize < hdrLen || outSize - hdrLen < len) {
        return 0;
    }
    if (len > 0) {
        memmove(out + hdrLen, payload, len);
        if (maskOrNull != NULL) {
            WsFrameMask(out + hdrLen, len, maskOrNull, 0);
        }
    }
    memcpy(out, header, hdrLen);
    return hdrLen + len;
}


/*
 *----------------------------------------------------------------------
 *
 * WsCloseEncode --
 *
 *      Build the payload of a close frame.  A reason too long for a
 *      control frame is cut before the character that would not fit
 *      whole, so that the peer still gets valid UTF-8.
 *
 * Results:
 *      The payload length: 0 for code 0 or 1005, else 2 + reason bytes.
 *
 * Side effects:
 *      Writes out[0..result).
 *
 *----------------------------------------------------------------------
 */

size_t
WsCloseEncode(uint8_t out[WS_MAX_CONTROL_PAYLOAD], int code, const char *reason,
              size_t reasonLen)
{
    size_t n = reasonLen;

    if (code == 0 || code == WS_CLOSE_NO_STATUS) {
        return 0;
    }
    if (n > WS_MAX_CLOSE_REASON) {
        n = WS_MAX_CLOSE_REASON;
        /* reason[n] is the first byte left out: back off while it continues a character. */
        while (n > 0 && ((unsigned char)reason[n] & 0xC0u) == 0x80u) {
            n--;
        }
    }
    out[0] = (uint8_t)((unsigned int)code >> 8);
    out[1] = (uint8_t)code;
    if (n > 0) {
        memcpy(out + 2, reason, n);
    }
    return 2 + n;
}


/*
 *----------------------------------------------------------------------
 *
 * WsCloseCodeValid --
 *
 *      Tell whether a close code may be sent on the wire: the codes RFC
 *      6455 defines for use in frames (1000-1003, 1007-1011), the ones
 *      IANA registered since (1012-1014), and the ranges for libraries
 *      and applications (3000-4999).  1004 is reserved, and 1005, 1006
 *      and 1015 exist only to be reported locally.
 *
 * Results:
 *      True or false.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

bool
WsCloseCodeValid(int code)
{
    return (code >= 1000 && code <= 1003)
        || (code >= 1007 && code <= 1014)
        || (code >= 3000 && code <= 4999);
}


/*
 *----------------------------------------------------------------------
 *
 * WsUtf8Step --
 *
 *      Run the UTF-8 automaton over data[0..len) from the given state.
 *      Between characters, runs of ASCII are skipped 8 bytes at a time;
 *      the walk stops at the first byte that makes the input invalid.
 *
 * Results:
 *      The new state: WS_UTF8_ACCEPT, WS_UTF8_REJECT, or in between.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

uint32_t
WsUtf8Step(uint32_t state, const uint8_t *data, size_t len)
{
    const uint8_t *p, *end;

    if (state >= US_COUNT) {
        return US_REJECT;
    }
    if (len == 0) {
        return state;
    }
    p = data;
    end = data + len;
    while (p < end) {
        if (state == US_ACCEPT) {
            while (end - p >= 8) {
                uint64_t word;

                memcpy(&word, p, sizeof(word));
                if ((word & HIGH_BITS) != 0) {
                    break;
                }
                p += 8;
            }
            while (p < end && *p < 0x80u) {
                p++;
            }
            if (p == end) {
                break;
            }
        }
        state = transitions[state][byteClasses[*p++]];
        if (state == US_REJECT) {
            break;
        }
    }
    return state;
}


/*
 *----------------------------------------------------------------------
 *
 * WsParserCreate, WsParserDestroy, WsParserSetMaxMessageSize --
 *
 *      Make, free and configure a message parser.
 *
 * Results:
 *      WsParserCreate: the new parser, or NULL when memory is short.
 *
 * Side effects:
 *      Allocates or frees memory.
 *
 *----------------------------------------------------------------------
 */

WsParser *
WsParserCreate(bool isServer, uint64_t maxMessageSize)
{
    WsParser *parserPtr = (WsParser *)calloc(1, sizeof(WsParser));

    if (parserPtr == NULL) {
        return NULL;
    }
    parserPtr->state = PARSE_HEADER;
    parserPtr->expectMasked = isServer;
    parserPtr->msgOpcode = WS_OP_CONTINUATION;
    parserPtr->utf8State = WS_UTF8_ACCEPT;
    WsParserSetMaxMessageSize(parserPtr, maxMessageSize);
    return parserPtr;
}

void
WsParserDestroy(WsParser *parserPtr)
{
    if (parserPtr != NULL) {
        FreeMessageBuffer(parserPtr);
        free(parserPtr->ctrlBuf);
        free(parserPtr);
    }
}

void
WsParserSetMaxMessageSize(WsParser *parserPtr, uint64_t maxMessageSize)
{
    if (maxMessageSize == 0 || maxMessageSize > MSG_HARD_LIMIT) {
        maxMessageSize = MSG_HARD_LIMIT;
    }
    parserPtr->maxMessageSize = maxMessageSize;
}


/*
 *----------------------------------------------------------------------
 *
 * WsParserClosed, WsParserBuffered --
 *
 *      Whether the stream has ended, and how much the parser holds.
 *
 * Results:
 *      See above.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

bool
WsParserClosed(const WsParser *parserPtr)
{
    return parserPtr->state == PARSE_DONE;
}

size_t
WsParserBuffered(const WsParser *parserPtr)
{
    size_t n = parserPtr->hdrLen + parserPtr->msgLen;

    if (parserPtr->state == PARSE_PAYLOAD && IS_CONTROL(parserPtr->hdr.opcode)) {
        n += (size_t)parserPtr->payloadDone;
    }
    return n;
}


/*
 *----------------------------------------------------------------------
 *
 * WsParserFeed --
 *
 *      Run the parser over the next bytes of the stream.
 *
 * Results:
 *      Bytes consumed: all of them, unless a close frame or an error
 *      ended the stream; then up to the end of the close frame or the
 *      bytes that showed the error.
 *
 * Side effects:
 *      Calls the callbacks; unmasks data in place; may grow the message
 *      buffer.
 *
 *----------------------------------------------------------------------
 */

size_t
WsParserFeed(WsParser *parserPtr, uint8_t *data, size_t len, const WsParserCallbacks *cbPtr,
             void *arg)
{
    size_t pos = 0;

    while (pos < len && parserPtr->state != PARSE_DONE) {
        if (parserPtr->state == PARSE_HEADER) {
            pos += ReadHeader(parserPtr, data + pos, len - pos, cbPtr, arg);
        } else if (IS_CONTROL(parserPtr->hdr.opcode)) {
            pos += ReadControlPayload(parserPtr, data + pos, len - pos, cbPtr, arg);
        } else {
            pos += ReadDataPayload(parserPtr, data + pos, len - pos, cbPtr, arg);
        }
    }
    return pos;
}


/*
 *----------------------------------------------------------------------
 *
 * ReadHeader --
 *
 *      Read a frame header from data[0..len), which is not empty.  A
 *      header wholly in data is decoded in place; otherwise its bytes are
 *      collected in hdrBuf one at a time, trying to decode after each,
 *      so that exactly the header is taken and a bad length is seen at
 *      the same byte however the stream was split.
 *
 * Results:
 *      Bytes consumed.
 *
 * Side effects:
 *      Starts the frame once its header is complete (see StartFrame).
 *
 *----------------------------------------------------------------------
 */

static size_t
ReadHeader(WsParser *parserPtr, const uint8_t *data, size_t len,
           const WsParserCallbacks *cbPtr, void *arg)
{
    size_t  used = 0;
    ssize_t n;

    if (parserPtr->hdrLen == 0) {
        n = WsFrameParseHeader(data, len, &parserPtr->hdr);
        if (n > 0) {
            StartFrame(parserPtr, cbPtr, arg);
            return (size_t)n;
        }
    }
    while (used < len) {
        assert(parserPtr->hdrLen < WS_MAX_HEADER_LENGTH);
        parserPtr->hdrBuf[parserPtr->hdrLen++] = data[used++];
        n = WsFrameParseHeader(parserPtr->hdrBuf, parserPtr->hdrLen, &parserPtr->hdr);
        if (n > 0) {
            parserPtr->hdrLen = 0;
            StartFrame(parserPtr, cbPtr, arg);
            break;
        } else if (n < 0) {
            Fail(parserPtr, WS_CLOSE_PROTOCOL_ERROR, "frame length out of range", cbPtr, arg);
            break;
        }
    }
    return used;
}


/*
 *----------------------------------------------------------------------
 *
 * StartFrame --
 *
 *      Judge a complete header in parserPtr->hdr: the header rules, then
 *      the rules that need the stream's context (fragmentation, the
 *      message size limit, a 1-byte close payload).  The size limit is
 *      applied to the announced length, so an oversized message fails
 *      before any of it is buffered.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Moves to the payload state, or fails the stream.  A frame with an
 *      empty payload is finished at once.
 *
 *----------------------------------------------------------------------
 */

static void
StartFrame(WsParser *parserPtr, const WsParserCallbacks *cbPtr, void *arg)
{
    const WsFrameHeader *hdrPtr = &parserPtr->hdr;
    const char          *reason = NULL;
    int                  code;

    code = WsFrameCheck(hdrPtr, parserPtr->expectMasked, &reason);
    if (code != 0) {
        Fail(parserPtr, code, reason, cbPtr, arg);
        return;
    }
    if (IS_CONTROL(hdrPtr->opcode)) {
        if (hdrPtr->opcode == WS_OP_CLOSE && hdrPtr->payloadLength == 1) {
            Fail(parserPtr, WS_CLOSE_PROTOCOL_ERROR, "close frame with a 1-byte payload",
                 cbPtr, arg);
            return;
        }
    } else {
        if (hdrPtr->opcode == WS_OP_CONTINUATION) {
            if (parserPtr->msgOpcode == WS_OP_CONTINUATION) {
                Fail(parserPtr, WS_CLOSE_PROTOCOL_ERROR, "continuation frame without a message",
                     cbPtr, arg);
                return;
            }
        } else if (parserPtr->msgOpcode != WS_OP_CONTINUATION) {
            Fail(parserPtr, WS_CLOSE_PROTOCOL_ERROR, "data frame inside a fragmented message",
                 cbPtr, arg);
            return;
        } else {
            parserPtr->msgOpcode = hdrPtr->opcode;
            parserPtr->utf8State = WS_UTF8_ACCEPT;
        }
        /* msgLen <= maxMessageSize always holds, so this cannot wrap around. */
        if (hdrPtr->payloadLength > parserPtr->maxMessageSize - parserPtr->msgLen) {
            Fail(parserPtr, WS_CLOSE_TOO_BIG, "message too big", cbPtr, arg);
            return;
        }
    }
    parserPtr->payloadDone = 0;
    parserPtr->state = PARSE_PAYLOAD;
    if (hdrPtr->payloadLength == 0) {
        if (IS_CONTROL(hdrPtr->opcode)) {
            ReadControlPayload(parserPtr, emptyPayload, 0, cbPtr, arg);
        } else {
            ReadDataPayload(parserPtr, emptyPayload, 0, cbPtr, arg);
        }
    }
}


/*
 *----------------------------------------------------------------------
 *
 * ReadDataPayload --
 *
 *      Take what data[0..len) holds of the current data frame's payload:
 *      unmask it in place, validate it when the message is text (failing
 *      with 1007 at the first invalid piece, before the rest arrives), and
 *      either hand the message over from data (a final frame that starts a
 *      message and lies wholly in data) or append it to the message buffer.
 *
 * Results:
 *      Bytes consumed.
 *
 * Side effects:
 *      May deliver the message, grow the buffer or fail the stream.
 *
 *----------------------------------------------------------------------
 */

static size_t
ReadDataPayload(WsParser *parserPtr, uint8_t *data, size_t len,
                const WsParserCallbacks *cbPtr, void *arg)
{
    const WsFrameHeader *hdrPtr = &parserPtr->hdr;
    uint64_t             remaining = hdrPtr->payloadLength - parserPtr->payloadDone;
    size_t               chunk = (len < remaining) ? len : (size_t)remaining;

    if (hdrPtr->masked) {
        WsFrameMask(data, chunk, hdrPtr->mask, (size_t)(parserPtr->payloadDone & 3u));
    }
    if (parserPtr->msgOpcode == WS_OP_TEXT) {
        parserPtr->utf8State = WsUtf8Step(parserPtr->utf8State, data, chunk);
        if (parserPtr->utf8State == WS_UTF8_REJECT) {
            Fail(parserPtr, WS_CLOSE_INVALID_DATA, "invalid UTF-8 in text message", cbPtr, arg);
            return chunk;
        }
    }
    if (chunk == remaining && hdrPtr->fin && parserPtr->payloadDone == 0
        && parserPtr->msgLen == 0) {
        /* The whole message is right here: no copy. */
        EndMessage(parserPtr, data, chunk, cbPtr, arg);
        return chunk;
    }
    if (!AppendMessage(parserPtr, data, chunk)) {
        Fail(parserPtr, WS_CLOSE_INTERNAL_ERROR, "out of memory", cbPtr, arg);
        return chunk;
    }
    parserPtr->payloadDone += chunk;
    if (parserPtr->payloadDone == hdrPtr->payloadLength) {
        if (hdrPtr->fin) {
            EndMessage(parserPtr, parserPtr->msgBuf, parserPtr->msgLen, cbPtr, arg);
        } else {
            parserPtr->state = PARSE_HEADER;
        }
    }
    return chunk;
}


/*
 *----------------------------------------------------------------------
 *
 * EndMessage --
 *
 *      A final frame is complete: check that a text message does not end
 *      inside a character, reset for the next message and deliver this one.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Calls the message callback (or fails the stream); frees a message
 *      buffer that has grown large.
 *
 *----------------------------------------------------------------------
 */

static void
EndMessage(WsParser *parserPtr, uint8_t *data, size_t len, const WsParserCallbacks *cbPtr,
           void *arg)
{
    unsigned int opcode = parserPtr->msgOpcode;

    if (opcode == WS_OP_TEXT && parserPtr->utf8State != WS_UTF8_ACCEPT) {
        Fail(parserPtr, WS_CLOSE_INVALID_DATA, "incomplete UTF-8 sequence at the end of a "
             "text message", cbPtr, arg);
        return;
    }
    /* Reset first, so that the callback sees a parser between messages. */
    parserPtr->msgOpcode = WS_OP_CONTINUATION;
    parserPtr->msgLen = 0;
    parserPtr->state = PARSE_HEADER;
    assert(data != NULL);
    if (cbPtr->message != NULL) {
        cbPtr->message(arg, opcode, data, len);
    }
    if (parserPtr->msgCapacity > MSG_BUFFER_KEEP) {
        FreeMessageBuffer(parserPtr);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * ReadControlPayload --
 *
 *      Take what data[0..len) holds of the current control frame's
 *      payload.  A payload wholly in data is used in place, a split one
 *      is gathered in ctrlBuf.  That buffer exists only while such a
 *      frame is being gathered: most connections never see one, and an
 *      idle one should not keep it.
 *
 * Results:
 *      Bytes consumed.
 *
 * Side effects:
 *      Finishes the frame when its payload is complete (see EndControl);
 *      allocates and frees ctrlBuf, or fails the stream without memory.
 *
 *----------------------------------------------------------------------
 */

static size_t
ReadControlPayload(WsParser *parserPtr, uint8_t *data, size_t len,
                   const WsParserCallbacks *cbPtr, void *arg)
{
    const WsFrameHeader *hdrPtr = &parserPtr->hdr;
    size_t               done = (size_t)parserPtr->payloadDone;
    size_t               remaining = (size_t)hdrPtr->payloadLength - done;
    size_t               chunk = (len < remaining) ? len : remaining;

    if (hdrPtr->masked) {
        WsFrameMask(data, chunk, hdrPtr->mask, done);
    }
    if (done == 0 && chunk == remaining) {
        EndControl(parserPtr, data, chunk, cbPtr, arg);
        return chunk;
    }
    if (parserPtr->ctrlBuf == NULL) {
        parserPtr->ctrlBuf = (uint8_t *)malloc(WS_MAX_CONTROL_PAYLOAD);
        if (parserPtr->ctrlBuf == NULL) {
            Fail(parserPtr, WS_CLOSE_INTERNAL_ERROR, "out of memory", cbPtr, arg);
            return chunk;
        }
    }
    memcpy(parserPtr->ctrlBuf + done, data, chunk);
    parserPtr->payloadDone += chunk;
    if (parserPtr->payloadDone == hdrPtr->payloadLength) {
        uint8_t *payload = parserPtr->ctrlBuf;

        parserPtr->ctrlBuf = NULL;
        EndControl(parserPtr, payload, (size_t)hdrPtr->payloadLength, cbPtr, arg);
        free(payload);
    }
    return chunk;
}


/*
 *----------------------------------------------------------------------
 *
 * EndControl --
 *
 *      A control frame is complete: deliver a ping or pong, or check and
 *      deliver a close frame (code allowed on the wire, reason valid
 *      UTF-8), which ends the stream.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Calls a callback; a close frame or a bad one ends the stream.
 *
 *----------------------------------------------------------------------
 */

static void
EndControl(WsParser *parserPtr, uint8_t *payload, size_t len, const WsParserCallbacks *cbPtr,
           void *arg)
{
    int code;

    parserPtr->state = PARSE_HEADER;
    switch (parserPtr->hdr.opcode) {
    case WS_OP_PING:
        if (cbPtr->ping != NULL) {
            cbPtr->ping(arg, payload, len);
        }
        break;
    case WS_OP_PONG:
        if (cbPtr->pong != NULL) {
            cbPtr->pong(arg, payload, len);
        }
        break;
    case WS_OP_CLOSE:
        if (len == 0) {
            code = WS_CLOSE_NO_STATUS;
        } else {
            assert(len >= 2);
            code = (payload[0] << 8) | payload[1];
            if (!WsCloseCodeValid(code)) {
                Fail(parserPtr, WS_CLOSE_PROTOCOL_ERROR, "invalid close code", cbPtr, arg);
                return;
            }
            if (WsUtf8Step(WS_UTF8_ACCEPT, payload + 2, len - 2) != WS_UTF8_ACCEPT) {
                Fail(parserPtr, WS_CLOSE_INVALID_DATA, "invalid UTF-8 in close reason",
                     cbPtr, arg);
                return;
            }
        }
        parserPtr->state = PARSE_DONE;
        FreeMessageBuffer(parserPtr);
        if (cbPtr->close != NULL) {
            cbPtr->close(arg, code, len > 2 ? payload + 2 : emptyPayload,
                         len > 2 ? len - 2 : 0);
        }
        break;
    default:
        /* WsFrameCheck let through only the three control opcodes above. */
        assert(0);
        break;
    }
}


/*
 *----------------------------------------------------------------------
 *
 * AppendMessage, FreeMessageBuffer --
 *
 *      Append to the message buffer, growing it by doubling; free it.
 *
 * Results:
 *      AppendMessage: false when memory is short.
 *
 * Side effects:
 *      (Re)allocates or frees the buffer.
 *
 *----------------------------------------------------------------------
 */

static bool
AppendMessage(WsParser *parserPtr, const uint8_t *data, size_t len)
{
    size_t need = parserPtr->msgLen + len;

    if (len == 0) {
        return true;
    }
    if (need > parserPtr->msgCapacity) {
        size_t   capacity = (parserPtr->msgCapacity > 0) ? parserPtr->msgCapacity
                                                         : MSG_BUFFER_MIN;
        uint8_t *newBuf;

        /* StartFrame saw to it that need <= MSG_HARD_LIMIT. */
        while (capacity < need) {
            capacity = (capacity > MSG_HARD_LIMIT / 2) ? (size_t)MSG_HARD_LIMIT : 2 * capacity;
        }
        newBuf = (uint8_t *)realloc(parserPtr->msgBuf, capacity);
        if (newBuf == NULL) {
            return false;
        }
        parserPtr->msgBuf = newBuf;
        parserPtr->msgCapacity = capacity;
    }
    memcpy(parserPtr->msgBuf + parserPtr->msgLen, data, len);
    parserPtr->msgLen = need;
    return true;
}

static void
FreeMessageBuffer(WsParser *parserPtr)
{
    free(parserPtr->msgBuf);
    parserPtr->msgBuf = NULL;
    parserPtr->msgCapacity = 0;
    parserPtr->msgLen = 0;
}


/*
 *----------------------------------------------------------------------
 *
 * Fail --
 *
 *      End the stream with a protocol error.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Drops whatever is buffered; calls the error callback.
 *
 *----------------------------------------------------------------------
 */

static void
Fail(WsParser *parserPtr, int code, const char *reason, const WsParserCallbacks *cbPtr,
     void *arg)
{
    parserPtr->state = PARSE_DONE;
    parserPtr->hdrLen = 0;
    FreeMessageBuffer(parserPtr);
    if (cbPtr->error != NULL) {
        cbPtr->error(arg, code, reason);
    }
}
