/*
 * wsframe.h --
 *
 *      The RFC 6455 protocol engine: frame header encoding and decoding,
 *      payload masking, incremental UTF-8 validation, and a message parser
 *      that turns a byte stream into whole messages, control frames and
 *      protocol errors.  It does no I/O and knows nothing of Tcl or of
 *      sockets, so the event thread can run it on bytes straight from the
 *      socket, and it can be unit-tested and fuzzed on its own.
 */

#ifndef NSWS_WSFRAME_H
#define NSWS_WSFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum {
    WS_OP_CONTINUATION = 0,
    WS_OP_TEXT         = 1,
    WS_OP_BINARY       = 2,
    WS_OP_CLOSE        = 8,
    WS_OP_PING         = 9,
    WS_OP_PONG         = 10
} WsOpcode;

/* Close codes (RFC 6455 section 7.4.1) that the engine itself produces or reports. */
#define WS_CLOSE_NORMAL         1000
#define WS_CLOSE_PROTOCOL_ERROR 1002
#define WS_CLOSE_NO_STATUS      1005   /* reported only: the close frame had no payload */
#define WS_CLOSE_INVALID_DATA   1007   /* invalid UTF-8 */
#define WS_CLOSE_TOO_BIG        1009
#define WS_CLOSE_INTERNAL_ERROR 1011   /* no memory for a message */

#define WS_MAX_HEADER_LENGTH    14     /* 2 + 8 (64-bit length) + 4 (mask) */
#define WS_MAX_CONTROL_PAYLOAD  125
#define WS_MAX_CLOSE_REASON     123    /* a close payload is a 2-byte code plus this */

typedef struct WsFrameHeader {  /* small: every parser keeps one */
    bool         fin;            /* last frame of its message */
    bool         masked;         /* a masking key follows the length */
    uint8_t      rsv;            /* RSV1-3 bits as 0..7 (RSV1 is 4) */
    uint8_t      opcode;         /* 0..15, see WsOpcode */
    uint8_t      mask[4];        /* the masking key, when masked */
    uint64_t     payloadLength;  /* always < 2^63 */
    size_t       headerLength;   /* bytes of the header: 2..14 */
} WsFrameHeader;

/*
 * Decode the frame header at buf[0..len) into *hdrPtr.  Results: the header
 * length (2..14), 0 when buf holds only part of it (nothing past len is
 * read), or -1 when the 64-bit length has its most significant bit set,
 * reported as soon as that byte is there.  A length that is not encoded in
 * the fewest bytes is accepted.  *hdrPtr is written only on success.
 * Opcode, RSV and control-frame rules are for WsFrameCheck.
 */
ssize_t WsFrameParseHeader(const uint8_t *buf, size_t len, WsFrameHeader *hdrPtr);

/*
 * Check a decoded header against the rules that need no context (RSV bits
 * without an extension, known opcodes, control frames short and unfragmented,
 * masking by the right side).  expectMasked: true on the server side.
 * Results: 0, or WS_CLOSE_PROTOCOL_ERROR with *reasonPtr set to a static
 * string such as "unknown opcode 3".
 */
int WsFrameCheck(const WsFrameHeader *hdrPtr, bool expectMasked, const char **reasonPtr);

/*
 * Encode a frame header with the shortest length form into out; with a
 * maskOrNull key the MASK bit is set and the key appended.  length must be
 * below 2^63.  Results: the header length (2..14).
 */
size_t WsFrameEncodeHeader(uint8_t out[WS_MAX_HEADER_LENGTH], bool fin, unsigned int opcode,
                           uint64_t length, const uint8_t *maskOrNull);

/*
 * XOR data[0..len) in place with the masking key, where data[0] is byte
 * number offset of the frame payload (so that a payload that arrives in
 * pieces can be unmasked piece by piece).  Masking twice restores the data.
 */
void WsFrameMask(uint8_t *data, size_t len, const uint8_t mask[4], size_t offset);

/*
 * Encode a whole frame (header, then the payload, masked with maskOrNull if
 * given) into out[0..outSize).  payload may be NULL when len is 0, and may lie
 * inside out.  Results: the frame length, or 0 when out is too small.
 */
size_t WsFrameEncode(uint8_t *out, size_t outSize, bool fin, unsigned int opcode,
                     const uint8_t *payload, size_t len, const uint8_t *maskOrNull);

/*
 * Encode a close frame payload: the code in network byte order and the
 * reason, cut to WS_MAX_CLOSE_REASON bytes at a UTF-8 character boundary.
 * A code of 0 or 1005 (no status) gives an empty payload.
 * Results: the payload length (0, or 2..125).
 */
size_t WsCloseEncode(uint8_t out[WS_MAX_CONTROL_PAYLOAD], int code, const char *reason,
                     size_t reasonLen);

/*
 * True when code may appear in a close frame on the wire: 1000-1003,
 * 1007-1014 and 3000-4999.
 */
bool WsCloseCodeValid(int code);

/*
 * Incremental UTF-8 validation.  Start with WS_UTF8_ACCEPT and pass the
 * returned state to the next call for the following bytes.  Results:
 * WS_UTF8_ACCEPT when the bytes so far are complete valid UTF-8,
 * WS_UTF8_REJECT as soon as a byte makes them invalid (overlong forms,
 * surrogates, code points above U+10FFFF, stray continuation bytes; the
 * state stays REJECT), anything else while in the middle of a character.
 */
#define WS_UTF8_ACCEPT 0u
#define WS_UTF8_REJECT 1u

uint32_t WsUtf8Step(uint32_t state, const uint8_t *data, size_t len);

/*
 * The message parser: one per WebSocket, fed with the bytes as they come.
 * Callbacks may be NULL (the event is then dropped); they must not feed or
 * destroy the parser that calls them.
 */
typedef struct WsParserCallbacks {
    /* A complete data message (text already validated as UTF-8).  data may point into
       the parser's buffer or the caller's input; valid only during the call. */
    void (*message)(void *arg, unsigned int opcode, uint8_t *data, size_t len);
    void (*ping)(void *arg, uint8_t *data, size_t len);
    void (*pong)(void *arg, uint8_t *data, size_t len);
    /* The peer's close frame: code 1005 when the payload was empty; reason valid UTF-8. */
    void (*close)(void *arg, int code, const uint8_t *reason, size_t len);
    /* A protocol violation: code 1002 (protocol), 1007 (invalid UTF-8 in text or close
       reason), 1009 (message too big), 1011 (no memory); the caller closes with it. */
    void (*error)(void *arg, int code, const char *reason);
} WsParserCallbacks;

typedef struct WsParser WsParser;

/*
 * Create a parser.  isServer: the peer is a client, whose frames must be
 * masked (and a client-side parser wants unmasked ones).  maxMessageSize:
 * largest data message in bytes; 0, like any value above 2^31-1, means
 * 2^31-1, the most a Tcl 8.6 byte array holds.  Results: the parser (free
 * it with WsParserDestroy), or NULL when memory is short.
 */
WsParser *WsParserCreate(bool isServer, uint64_t maxMessageSize);
void      WsParserDestroy(WsParser *parserPtr);

/* Change the limit; it applies from the next frame header on. */
void      WsParserSetMaxMessageSize(WsParser *parserPtr, uint64_t maxMessageSize);

/*
 * Consume data[0..len), which the parser may unmask in place, and call the
 * callbacks for whatever completes; a text message is checked as its bytes
 * arrive, so invalid UTF-8 fails before the rest of the message is there.
 * Results: bytes consumed.  That is len while the stream is open.  A close
 * frame ends it: the count stops right after that frame.  An error ends it
 * too: the count then covers at least the byte that showed the error.
 * After the end every call consumes nothing and calls nothing.
 */
size_t    WsParserFeed(WsParser *parserPtr, uint8_t *data, size_t len,
                       const WsParserCallbacks *cbPtr, void *arg);

/* True once a close frame was received or an error reported. */
bool      WsParserClosed(const WsParser *parserPtr);

/* Bytes held for an incomplete frame or message. */
size_t    WsParserBuffered(const WsParser *parserPtr);

#endif /* NSWS_WSFRAME_H */
