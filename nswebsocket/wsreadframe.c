/*
 * wsreadframe.c --
 *
 *      Taking frames out of a channel's input for ns_connchan read
 *      -websocket, as NaviServer does: one frame per call, described in a
 *      dict; the payloads of a fragmented message are collected until its
 *      last frame; control frames stand alone, also between fragments.
 *      Like NaviServer, it leaves the rules of RFC 6455 (masking, opcodes,
 *      UTF-8) to the script and refuses only what it cannot parse, and
 *      beyond NaviServer, frames and messages over the size limit, as soon
 *      as a header announces one: nothing grows without bound, and every
 *      payload fits a Tcl byte array.
 *
 *      The bytes held are a window buf[start, start+len): taking a frame
 *      moves start, so a read with many small frames costs no more than
 *      their bytes.  Memory comes from malloc rather than ckalloc, as in
 *      wsframe.c, so that AddressSanitizer checks every byte of it (Tcl's
 *      threaded allocator carves small blocks out of larger ones) and a
 *      leak shows.  Running out of it is fatal, as with ckalloc.
 */

#include "ns.h"
#include "wsreadframe.h"
#include "wsframe.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Buffers start at BUFFER_MIN and double.  A buffer larger than BUFFER_KEEP
 * is freed once it is empty, so that one big message does not pin memory
 * for the rest of a long-lived channel.  The fuzz harness makes both tiny,
 * so that its short inputs reach every path.
 */
#ifndef WS_READ_BUFFER_MIN
#define WS_READ_BUFFER_MIN  4096u
#endif
#ifndef WS_READ_BUFFER_KEEP
#define WS_READ_BUFFER_KEEP (64u * 1024u)
#endif
#define BUFFER_MIN  ((size_t)WS_READ_BUFFER_MIN)
#define BUFFER_KEEP ((size_t)WS_READ_BUFFER_KEEP)

/* Tcl 8.6 byte arrays have int sizes: the limit never goes above this. */
#define HARD_LIMIT  ((uint64_t)INT_MAX)

/* What the bytes held begin with. */
typedef enum {
    FRAME_INCOMPLETE,       /* part of a frame, or nothing */
    FRAME_COMPLETE,         /* a whole frame */
    FRAME_BAD_HEADER,       /* a header that cannot be parsed */
    FRAME_TOO_BIG           /* a header announcing a frame or message over the limit */
} FrameState;

static void       Regrow(char **bufPtr, size_t *sizePtr, size_t offset, size_t len,
                         size_t more);
static void       MakeRoom(WsFrameReader *readerPtr, size_t more);
static void       AppendFragment(WsFrameReader *readerPtr, const uint8_t *data, size_t len);
static void       Consume(WsFrameReader *readerPtr, size_t len);
static uint64_t   EffectiveLimit(uint64_t maxMessage);
static FrameState Examine(const WsFrameReader *readerPtr, uint64_t limit, WsFrameHeader *hdrPtr,
                          uint64_t *sizePtr);
static Tcl_Obj   *TakeFrame(WsFrameReader *readerPtr, const WsFrameHeader *hdrPtr,
                            uint64_t limit);
static Tcl_Obj   *Describe(const WsFrameReader *readerPtr, uint64_t limit, bool fin,
                           const char *frame, int opcode, Tcl_Obj *payloadObj);
static void       SetFailure(Tcl_Interp *interp, const WsFrameReader *readerPtr);

/*
 *----------------------------------------------------------------------
 * WsFrameReaderInit, WsFrameReaderFree --
 *
 *      Make a reader empty; free what it holds (it is then empty again).
 *----------------------------------------------------------------------
 */
void
WsFrameReaderInit(WsFrameReader *readerPtr)
{
    memset(readerPtr, 0, sizeof(WsFrameReader));
}

void
WsFrameReaderFree(WsFrameReader *readerPtr)
{
    free(readerPtr->buf);
    free(readerPtr->fragments);
    WsFrameReaderInit(readerPtr);
}

/*
 *----------------------------------------------------------------------
 * WsFrameReaderPending --
 *
 *      Results: the number of bytes held.
 *----------------------------------------------------------------------
 */
size_t
WsFrameReaderPending(const WsFrameReader *readerPtr)
{
    return readerPtr->len;
}

/*
 *----------------------------------------------------------------------
 * WsFrameReaderAppend --
 *
 *      Add data[0..len) after the bytes held.
 *----------------------------------------------------------------------
 */
void
WsFrameReaderAppend(WsFrameReader *readerPtr, const char *data, size_t len)
{
    if (len > 0) {
        MakeRoom(readerPtr, len);
        memcpy(readerPtr->buf + readerPtr->start + readerPtr->len, data, len);
        readerPtr->len += len;
    }
}

/*
 *----------------------------------------------------------------------
 * WsFrameReaderTake --
 *
 *      Move all bytes held to the end of dsPtr, or as many as a
 *      Tcl_DString can hold.
 *----------------------------------------------------------------------
 */
void
WsFrameReaderTake(WsFrameReader *readerPtr, Tcl_DString *dsPtr)
{
    size_t room = (size_t)INT_MAX - (size_t)Tcl_DStringLength(dsPtr);
    size_t len = (readerPtr->len < room) ? readerPtr->len : room;

    if (len > 0) {
        Tcl_DStringAppend(dsPtr, readerPtr->buf + readerPtr->start, (int)len);
        Consume(readerPtr, len);
    }
}

/*
 *----------------------------------------------------------------------
 * WsFrameReaderReady --
 *
 *      Can the next WsFrameReaderNext answer without more input?
 *
 * Results:
 *      true after a failure, and when the bytes held begin with a whole
 *      frame or with one that can never be taken.
 *----------------------------------------------------------------------
 */
bool
WsFrameReaderReady(const WsFrameReader *readerPtr, uint64_t maxMessage)
{
    WsFrameHeader hdr;
    uint64_t      size;

    return readerPtr->failure != WS_READ_OK
        || Examine(readerPtr, EffectiveLimit(maxMessage), &hdr, &size) != FRAME_INCOMPLETE;
}

/*
 *----------------------------------------------------------------------
 * WsFrameReaderNext --
 *
 *      Add the new bytes and take one frame: see wsreadframe.h.
 *
 * Results:
 *      TCL_OK or TCL_ERROR, with the interp's result set.
 *
 * Side effects:
 *      A whole frame leaves the bytes held (unmasked on its way out); a
 *      failure is kept for good.
 *----------------------------------------------------------------------
 */
int
WsFrameReaderNext(Tcl_Interp *interp, WsFrameReader *readerPtr, const char *data, size_t len,
                  bool eof, uint64_t maxMessage)
{
    WsFrameHeader hdr;
    FrameState    state = FRAME_INCOMPLETE;
    uint64_t      limit = EffectiveLimit(maxMessage), size = 0;
    int           result = TCL_OK;

    if (readerPtr->failure == WS_READ_OK) {
        WsFrameReaderAppend(readerPtr, data, len);
        state = Examine(readerPtr, limit, &hdr, &size);
        if (state == FRAME_BAD_HEADER) {
            readerPtr->failure = WS_READ_BAD_HEADER;
        } else if (state == FRAME_TOO_BIG) {
            readerPtr->failure = WS_READ_TOO_BIG;
            readerPtr->failedSize = size;
            readerPtr->failedLimit = limit;
        }
    }
    if (readerPtr->failure != WS_READ_OK) {
        /* The stream cannot be parsed past this point: its new bytes are dropped. */
        SetFailure(interp, readerPtr);
        result = TCL_ERROR;
    } else if (state == FRAME_COMPLETE) {
        Tcl_SetObjResult(interp, TakeFrame(readerPtr, &hdr, limit));
    } else if (eof) {
        /*
         * The rest of the frame can never come: EOF, as a plain read says
         * it.  An "incomplete" here would have a read callback called for
         * the EOF again and again, never learning of it.
         */
        Tcl_ResetResult(interp);
    } else {
        Tcl_SetObjResult(interp, Describe(readerPtr, limit, false, "incomplete", 0, NULL));
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * EffectiveLimit --
 *
 *      Results: the limit that maxMessage stands for.
 *----------------------------------------------------------------------
 */
static uint64_t
EffectiveLimit(uint64_t maxMessage)
{
    return (maxMessage == 0 || maxMessage > HARD_LIMIT) ? HARD_LIMIT : maxMessage;
}

/*
 *----------------------------------------------------------------------
 * Regrow --
 *
 *      Replace a buffer with a new one of twice what is needed (at least
 *      BUFFER_MIN) for its len bytes from offset, moved to its front, and
 *      more after them.
 *----------------------------------------------------------------------
 */
static void
Regrow(char **bufPtr, size_t *sizePtr, size_t offset, size_t len, size_t more)
{
    size_t newSize = (len + more) * 2;
    char  *newBuf;

    if (newSize < BUFFER_MIN) {
        newSize = BUFFER_MIN;
    }
    newBuf = ns_malloc(newSize);
    if (len > 0) {
        memcpy(newBuf, *bufPtr + offset, len);
    }
    free(*bufPtr);
    *bufPtr = newBuf;
    *sizePtr = newSize;
}

/*
 *----------------------------------------------------------------------
 * MakeRoom --
 *
 *      Make room for more bytes after those held.  They move to the front
 *      of the buffer when the bytes taken before them are at least as
 *      many, so that moving costs no more than taking did; otherwise they
 *      go to a new buffer of twice what is needed.
 *----------------------------------------------------------------------
 */
static void
MakeRoom(WsFrameReader *readerPtr, size_t more)
{
    if (readerPtr->size - readerPtr->start - readerPtr->len < more) {
        if (readerPtr->start >= readerPtr->len && readerPtr->size - readerPtr->len >= more) {
            memmove(readerPtr->buf, readerPtr->buf + readerPtr->start, readerPtr->len);
        } else {
            Regrow(&readerPtr->buf, &readerPtr->size, readerPtr->start, readerPtr->len, more);
        }
        readerPtr->start = 0;
    }
}

/*
 *----------------------------------------------------------------------
 * AppendFragment --
 *
 *      Add a payload to the unfinished fragmented message.
 *----------------------------------------------------------------------
 */
static void
AppendFragment(WsFrameReader *readerPtr, const uint8_t *data, size_t len)
{
    if (readerPtr->fragmentsSize - readerPtr->fragmentsLen < len) {
        Regrow(&readerPtr->fragments, &readerPtr->fragmentsSize, 0, readerPtr->fragmentsLen, len);
    }
    if (len > 0) {
        memcpy(readerPtr->fragments + readerPtr->fragmentsLen, data, len);
        readerPtr->fragmentsLen += len;
    }
}

/*
 *----------------------------------------------------------------------
 * Consume --
 *
 *      Drop the first len bytes held.
 *----------------------------------------------------------------------
 */
static void
Consume(WsFrameReader *readerPtr, size_t len)
{
    readerPtr->start += len;
    readerPtr->len -= len;
    if (readerPtr->len == 0) {
        readerPtr->start = 0;
        if (readerPtr->size > BUFFER_KEEP) {
            free(readerPtr->buf);
            readerPtr->buf = NULL;
            readerPtr->size = 0;
        }
    }
}

/*
 *----------------------------------------------------------------------
 * Examine --
 *
 *      What do the bytes held begin with?  A data frame adds to the
 *      unfinished message, if any (see TakeFrame), so its size is the
 *      message's size with it; a control frame's size is its own.
 *
 * Results:
 *      The state; with FRAME_COMPLETE the frame's header in *hdrPtr, with
 *      FRAME_TOO_BIG the size in *sizePtr.
 *----------------------------------------------------------------------
 */
static FrameState
Examine(const WsFrameReader *readerPtr, uint64_t limit, WsFrameHeader *hdrPtr,
        uint64_t *sizePtr)
{
    FrameState state = FRAME_INCOMPLETE;

    if (readerPtr->len > 0) {
        ssize_t hdrLen = WsFrameParseHeader((const uint8_t *)readerPtr->buf + readerPtr->start,
                                            readerPtr->len, hdrPtr);

        if (hdrLen < 0) {
            state = FRAME_BAD_HEADER;
        } else if (hdrLen > 0) {
            /* Both terms are below 2^63: no overflow. */
            uint64_t size = hdrPtr->payloadLength
                + ((hdrPtr->opcode >= WS_OP_CLOSE) ? 0 : readerPtr->fragmentsLen);

            if (size > limit) {
                *sizePtr = size;
                state = FRAME_TOO_BIG;
            } else if (readerPtr->len - (size_t)hdrLen >= hdrPtr->payloadLength) {
                state = FRAME_COMPLETE;
            }
        }
    }
    return state;
}

/*
 *----------------------------------------------------------------------
 * TakeFrame --
 *
 *      Take the whole frame the bytes held begin with.
 *
 * Results:
 *      The result dict, with opcode and payload when the frame is a
 *      control frame or ends a message.
 *----------------------------------------------------------------------
 */
static Tcl_Obj *
TakeFrame(WsFrameReader *readerPtr, const WsFrameHeader *hdrPtr, uint64_t limit)
{
    uint8_t *payload = (uint8_t *)readerPtr->buf + readerPtr->start + hdrPtr->headerLength;
    size_t   payloadLen = (size_t)hdrPtr->payloadLength;
    int      opcode = (int)hdrPtr->opcode;
    Tcl_Obj *payloadObj = NULL;

    /* Examine saw to it that payloads and messages fit an int. */
    if (hdrPtr->masked) {
        WsFrameMask(payload, payloadLen, hdrPtr->mask, 0);
    }
    if (opcode >= WS_OP_CLOSE) {
        /* Control frames stand alone, even between fragments. */
        payloadObj = Tcl_NewByteArrayObj(payload, (int)payloadLen);
    } else if (!hdrPtr->fin) {
        if (opcode != WS_OP_CONTINUATION) {
            readerPtr->fragmentsOpcode = opcode;
        }
        AppendFragment(readerPtr, payload, payloadLen);
    } else if (readerPtr->fragmentsLen > 0 || opcode == WS_OP_CONTINUATION) {
        AppendFragment(readerPtr, payload, payloadLen);
        payloadObj = Tcl_NewByteArrayObj((uint8_t *)readerPtr->fragments,
                                         (int)readerPtr->fragmentsLen);
        opcode = readerPtr->fragmentsOpcode;
        readerPtr->fragmentsLen = 0;
        if (readerPtr->fragmentsSize > BUFFER_KEEP) {
            free(readerPtr->fragments);
            readerPtr->fragments = NULL;
            readerPtr->fragmentsSize = 0;
        }
    } else {
        payloadObj = Tcl_NewByteArrayObj(payload, (int)payloadLen);
    }
    Consume(readerPtr, hdrPtr->headerLength + payloadLen);
    return Describe(readerPtr, limit, hdrPtr->fin, "complete", opcode, payloadObj);
}

/*
 *----------------------------------------------------------------------
 * Describe --
 *
 *      The result dict of a read, in NaviServer's key order: fin, frame,
 *      unprocessed, fragments, havedata, and opcode and payload when
 *      payloadObj is given.
 *----------------------------------------------------------------------
 */
static Tcl_Obj *
Describe(const WsFrameReader *readerPtr, uint64_t limit, bool fin, const char *frame,
         int opcode, Tcl_Obj *payloadObj)
{
    Tcl_Obj *dictObj = Tcl_NewDictObj();

    Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("fin", 3), Tcl_NewIntObj(fin));
    Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("frame", 5), Tcl_NewStringObj(frame, -1));
    Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("unprocessed", -1),
                   Tcl_NewWideIntObj((Tcl_WideInt)readerPtr->len));
    Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("fragments", -1),
                   Tcl_NewWideIntObj((Tcl_WideInt)readerPtr->fragmentsLen));
    Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("havedata", -1),
                   Tcl_NewIntObj(WsFrameReaderReady(readerPtr, limit)));
    if (payloadObj != NULL) {
        Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("opcode", -1), Tcl_NewIntObj(opcode));
        Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("payload", -1), payloadObj);
    }
    return dictObj;
}

/*
 *----------------------------------------------------------------------
 * SetFailure --
 *
 *      The error of a failed reader as the interp's result.
 *----------------------------------------------------------------------
 */
static void
SetFailure(Tcl_Interp *interp, const WsFrameReader *readerPtr)
{
    if (readerPtr->failure == WS_READ_BAD_HEADER) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj("invalid websocket frame header", -1));
        Tcl_SetErrorCode(interp, "NS", "WS", "PROTOCOL", (char *)0);
    } else if (readerPtr->failure == WS_READ_TOO_BIG) {
        char size[24], limit[24];

        snprintf(size, sizeof(size), "%" PRIu64, readerPtr->failedSize);
        snprintf(limit, sizeof(limit), "%" PRIu64, readerPtr->failedLimit);
        Tcl_SetObjResult(interp, Tcl_ObjPrintf("websocket message too large: %s bytes,"
                                               " maxmessage %s", size, limit));
        Tcl_SetErrorCode(interp, "NS", "WS", "TOOBIG", size, limit, (char *)0);
    }
}
