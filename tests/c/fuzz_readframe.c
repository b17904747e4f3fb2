/*
 * fuzz_readframe.c --
 *
 *      libFuzzer harness for nswebsocket/wsreadframe.c, the frame taking of
 *      ns_connchan read -websocket.  The first two bytes of an input choose
 *      the size limit, how the end of the stream comes, and a seed for
 *      split points; the rest is the byte stream.  One reader gets the
 *      stream whole, another in pieces cut at pseudo-random points, some
 *      of them handed over with WsFrameReaderAppend as the channel does
 *      for bytes read elsewhere.  Each is called as a read callback calls
 *      it: with the new bytes, then again without while havedata says the
 *      next answer is there.  Both must take the same frames (fin, opcode,
 *      payload bytes) and end the same way.
 *
 *      Every result is also checked against a model that parses the
 *      stream at the offset where the next frame must begin: a complete
 *      frame has the model's fin, opcode and unmasked (reassembled)
 *      payload, within the limit; unprocessed is the bytes given minus
 *      the bytes taken; fragments is the size of the unfinished message;
 *      havedata says whether a frame or an error is next; an incomplete
 *      answer comes only when no frame is there, "" only at EOF, and the
 *      dict keys come in NaviServer's order.  An error comes exactly when
 *      the model sees an unparsable header or a size over the limit, with
 *      the message and -errorcode it expects; after it, every call gives
 *      the same error and the reader keeps no more bytes.  A call without
 *      new bytes while havedata is 0 changes nothing.
 *
 *      A broken property aborts, so libFuzzer reports it like a crash.
 *      The reader's buffers come from malloc, so LeakSanitizer reports one
 *      that is not freed; Tcl objects come from Tcl's own allocator, where
 *      LeakSanitizer sees no leaks.  Built with tiny buffer sizes (see the
 *      Makefile), inputs of a few bytes make the buffers grow, move their
 *      bytes to the front, and be freed when empty.
 *
 *      clang -g -O1 -fsanitize=fuzzer,address,undefined -Inswebsocket \
 *          -DWS_READ_BUFFER_MIN=1 -DWS_READ_BUFFER_KEEP=64 \
 *          -I/usr/include/tcl8.6 tests/c/fuzz_readframe.c \
 *          nswebsocket/wsreadframe.c nswebsocket/wsframe.c -ltcl8.6 -o /tmp/fuzz_readframe
 *      /tmp/fuzz_readframe -max_total_time=60 CORPUS   (a copy of tests/fuzz/readframe)
 */

#include "wsreadframe.h"
#include "wsframe.h"

#define FUZZ_NAME "fuzz_readframe"
#include "fuzzcheck.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Size limits to pick from; 0 is the reader's own hard limit, 2^31-1. */
static const uint64_t limits[8] = {0, 1, 7, 125, 126, 1000, 65536, 3};

/* Calls without new bytes while a frame is there, at most; more is a loop. */
#define MAX_DRAIN 100000

/* What one call of WsFrameReaderNext answered. */
typedef enum {
    OUT_COMPLETE,           /* a dict with frame complete */
    OUT_INCOMPLETE,         /* a dict with frame incomplete */
    OUT_EMPTY,              /* "" (EOF) */
    OUT_ERROR               /* TCL_ERROR */
} Outcome;

/* What the model sees at the offset where the next frame begins. */
typedef enum {
    NEXT_INCOMPLETE,        /* not all of the frame is there, or nothing */
    NEXT_COMPLETE,          /* a whole frame */
    NEXT_BAD_HEADER,        /* a header WsFrameParseHeader refuses */
    NEXT_TOO_BIG            /* a frame or message over the limit */
} NextState;

/*
 * The model of one reader: the stream as given so far, where the next frame
 * begins in it, and the unfinished message.
 */
typedef struct Model {
    const uint8_t *stream;          /* the whole stream */
    size_t         fed;             /* bytes given to the reader */
    size_t         cursor;          /* where the next frame begins */
    uint64_t       limit;           /* the effective limit */
    uint8_t       *fragments;       /* the unfinished message, unmasked */
    size_t         fragmentsLen;
    size_t         fragmentsSize;
    int            fragmentsOpcode; /* as the reader keeps it: set by a first fragment */
} Model;

/* One reader under test and what it answered. */
typedef struct Run {
    WsFrameReader  reader;
    Model          model;
    uint64_t       maxMessage;      /* as passed to the reader */
    uint64_t       digest;          /* hash of the frames taken and of the end */
    unsigned       frames;          /* complete answers */
    bool           failed;          /* an error came */
    char           error[512];      /* its message and -errorcode */
    int            havedata;        /* of the last dict */
} Run;

int LLVMFuzzerInitialize(int *argcPtr, char ***argvPtr);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void      Note(Run *runPtr, int kind, int fin, int opcode, const uint8_t *data,
                      size_t len);
static NextState ModelNext(const Model *modelPtr, WsFrameHeader *hdrPtr, uint64_t *sizePtr);
static void      ModelAppend(Model *modelPtr, const uint8_t *data, size_t len);
static Tcl_Obj  *DictGet(Tcl_Obj *dictObj, const char *key);
static Tcl_WideInt DictInt(Tcl_Obj *dictObj, const char *key);
static void      CheckKeys(Tcl_Obj *dictObj, bool withPayload);
static void      CheckError(Run *runPtr);
static void      CheckComplete(Run *runPtr, Tcl_Obj *dictObj);
static void      CheckIncomplete(Run *runPtr, Tcl_Obj *dictObj);
static Outcome   Call(Run *runPtr, const uint8_t *data, size_t len, bool eof, bool append);
static Outcome   Read(Run *runPtr, const uint8_t *data, size_t len, bool eof, bool append);
static void      FeedAll(Run *runPtr, size_t len, const size_t *cuts, size_t numCuts,
                         uint64_t appendBits, bool eofWithLast);

static Tcl_Interp *interp;


/*
 *----------------------------------------------------------------------
 *
 * LLVMFuzzerInitialize --
 *
 *      Initialise Tcl once and make the interp that receives the results.
 *
 * Results:
 *      0.
 *
 * Side effects:
 *      Creates the interp.
 *
 *----------------------------------------------------------------------
 */

int
LLVMFuzzerInitialize(int *argcPtr, char ***argvPtr)
{
    (void)argcPtr;
    Tcl_FindExecutable((*argvPtr)[0]);
    interp = Tcl_CreateInterp();
    return 0;
}


/*
 *----------------------------------------------------------------------
 *
 * Note --
 *
 *      Fold one answer into a run's digest (fuzzcheck.h has Require and
 *      HashBytes).
 *
 * Side effects:
 *      Updates *runPtr; may abort.
 *
 *----------------------------------------------------------------------
 */

static void
Note(Run *runPtr, int kind, int fin, int opcode, const uint8_t *data, size_t len)
{
    int      head[3] = {kind, fin, opcode};
    uint64_t len64 = (uint64_t)len;

    runPtr->digest = HashBytes(runPtr->digest, (const uint8_t *)head, sizeof(head));
    runPtr->digest = HashBytes(runPtr->digest, (const uint8_t *)&len64, sizeof(len64));
    runPtr->digest = HashBytes(runPtr->digest, data, len);
}


/*
 *----------------------------------------------------------------------
 *
 * ModelNext --
 *
 *      What the stream given so far holds at the model's cursor, by the
 *      rules of wsreadframe.h: a data frame's size is that of the message
 *      with it, a control frame's its own.
 *
 * Results:
 *      The state; the header in *hdrPtr and the size in *sizePtr once
 *      the header is there.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static NextState
ModelNext(const Model *modelPtr, WsFrameHeader *hdrPtr, uint64_t *sizePtr)
{
    size_t    avail = modelPtr->fed - modelPtr->cursor;
    ssize_t   hdrLen;
    NextState state;

    if (avail == 0) {
        return NEXT_INCOMPLETE;
    }
    hdrLen = WsFrameParseHeader(modelPtr->stream + modelPtr->cursor, avail, hdrPtr);
    if (hdrLen < 0) {
        state = NEXT_BAD_HEADER;
    } else if (hdrLen == 0) {
        state = NEXT_INCOMPLETE;
    } else {
        Require((size_t)hdrLen == hdrPtr->headerLength, "header length");
        *sizePtr = hdrPtr->payloadLength
            + (hdrPtr->opcode >= WS_OP_CLOSE ? 0 : modelPtr->fragmentsLen);
        if (*sizePtr > modelPtr->limit) {
            state = NEXT_TOO_BIG;
        } else if (avail - (size_t)hdrLen >= hdrPtr->payloadLength) {
            state = NEXT_COMPLETE;
        } else {
            state = NEXT_INCOMPLETE;
        }
    }
    return state;
}

static void
ModelAppend(Model *modelPtr, const uint8_t *data, size_t len)
{
    if (modelPtr->fragmentsSize - modelPtr->fragmentsLen < len) {
        modelPtr->fragmentsSize = (modelPtr->fragmentsLen + len) * 2;
        modelPtr->fragments = realloc(modelPtr->fragments, modelPtr->fragmentsSize);
        Require(modelPtr->fragments != NULL, "memory");
    }
    if (len > 0) {
        memcpy(modelPtr->fragments + modelPtr->fragmentsLen, data, len);
        modelPtr->fragmentsLen += len;
    }
}


/*
 *----------------------------------------------------------------------
 *
 * DictGet, DictInt, CheckKeys --
 *
 *      A value of a result dict, which must be there; the same as an
 *      integer; the keys exactly, in NaviServer's order.
 *
 * Results:
 *      The value.
 *
 * Side effects:
 *      May abort.
 *
 *----------------------------------------------------------------------
 */

static Tcl_Obj *
DictGet(Tcl_Obj *dictObj, const char *key)
{
    Tcl_Obj *keyObj = Tcl_NewStringObj(key, -1);
    Tcl_Obj *valueObj = NULL;

    Tcl_IncrRefCount(keyObj);
    Require(Tcl_DictObjGet(NULL, dictObj, keyObj, &valueObj) == TCL_OK && valueObj != NULL,
            "a key of the result dict");
    Tcl_DecrRefCount(keyObj);
    return valueObj;
}

static Tcl_WideInt
DictInt(Tcl_Obj *dictObj, const char *key)
{
    Tcl_WideInt value = -1;

    Require(Tcl_GetWideIntFromObj(NULL, DictGet(dictObj, key), &value) == TCL_OK,
            "an integer in the result dict");
    return value;
}

static void
CheckKeys(Tcl_Obj *dictObj, bool withPayload)
{
    static const char *const keys[] = {
        "fin", "frame", "unprocessed", "fragments", "havedata", "opcode", "payload"
    };
    Tcl_DictSearch search;
    Tcl_Obj       *keyObj, *valueObj;
    int            done, i = 0, size = 0;

    Require(Tcl_DictObjSize(NULL, dictObj, &size) == TCL_OK && size == (withPayload ? 7 : 5),
            "the keys of the result dict");
    Require(Tcl_DictObjFirst(NULL, dictObj, &search, &keyObj, &valueObj, &done) == TCL_OK,
            "a dict");
    for (; !done; Tcl_DictObjNext(&search, &keyObj, &valueObj, &done)) {
        Require(i < size && strcmp(Tcl_GetString(keyObj), keys[i]) == 0,
                "the keys in NaviServer's order");
        i++;
    }
    Tcl_DictObjDone(&search);
}


/*
 *----------------------------------------------------------------------
 *
 * CheckError --
 *
 *      An error answer: the first must be the one the model expects at
 *      the cursor; any later one the same again.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Keeps the error in *runPtr; may abort.
 *
 *----------------------------------------------------------------------
 */

static void
CheckError(Run *runPtr)
{
    Tcl_Obj      *optionsObj = Tcl_GetReturnOptions(interp, TCL_ERROR);
    Tcl_Obj      *codeObj = NULL, *keyObj = Tcl_NewStringObj("-errorcode", -1);
    char          error[512], expected[512];
    WsFrameHeader hdr;
    uint64_t      size = 0;
    NextState     state;

    Tcl_IncrRefCount(optionsObj);
    Tcl_IncrRefCount(keyObj);
    Require(Tcl_DictObjGet(NULL, optionsObj, keyObj, &codeObj) == TCL_OK && codeObj != NULL,
            "an error has an -errorcode");
    snprintf(error, sizeof(error), "%s|%s", Tcl_GetString(Tcl_GetObjResult(interp)),
             Tcl_GetString(codeObj));
    Tcl_DecrRefCount(keyObj);
    Tcl_DecrRefCount(optionsObj);

    if (runPtr->failed) {
        Require(strcmp(error, runPtr->error) == 0, "after an error, the same error");
    } else {
        state = ModelNext(&runPtr->model, &hdr, &size);
        if (state == NEXT_BAD_HEADER) {
            snprintf(expected, sizeof(expected), "invalid websocket frame header|NS WS PROTOCOL");
        } else {
            Require(state == NEXT_TOO_BIG, "an error only for a bad header or a size");
            snprintf(expected, sizeof(expected),
                     "websocket message too large: %" PRIu64 " bytes, maxmessage %" PRIu64
                     "|NS WS TOOBIG %" PRIu64 " %" PRIu64,
                     size, runPtr->model.limit, size, runPtr->model.limit);
        }
        Require(strcmp(error, expected) == 0, "the error message and -errorcode");
        snprintf(runPtr->error, sizeof(runPtr->error), "%s", error);
        runPtr->failed = true;
        Note(runPtr, OUT_ERROR, 0, 0, (const uint8_t *)error, strlen(error));
    }
}


/*
 *----------------------------------------------------------------------
 *
 * CheckComplete, CheckIncomplete --
 *
 *      A dict answer against the model, which a complete frame advances.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Updates the model and the digest; may abort.
 *
 *----------------------------------------------------------------------
 */

static void
CheckComplete(Run *runPtr, Tcl_Obj *dictObj)
{
    Model         *modelPtr = &runPtr->model;
    WsFrameHeader  hdr, nextHdr;
    uint64_t       size = 0;
    uint8_t       *payload;
    size_t         payloadLen, i;
    bool           withPayload = true, reassembled = false;
    const uint8_t *expectData;
    size_t         expectLen;
    int            expectOpcode, gotLen = 0;
    const uint8_t *got;

    Require(ModelNext(modelPtr, &hdr, &size) == NEXT_COMPLETE, "complete when a frame is there");
    Require(DictInt(dictObj, "fin") == (hdr.fin ? 1 : 0), "fin");

    /* The payload, unmasked here without WsFrameMask. */
    payloadLen = (size_t)hdr.payloadLength;
    payload = malloc(payloadLen + 1);
    Require(payload != NULL, "memory");
    if (payloadLen > 0) {
        memcpy(payload, modelPtr->stream + modelPtr->cursor + hdr.headerLength, payloadLen);
    }
    for (i = 0; hdr.masked && i < payloadLen; i++) {
        payload[i] ^= hdr.mask[i & 3];
    }
    expectData = payload;
    expectLen = payloadLen;
    expectOpcode = (int)hdr.opcode;

    if (hdr.opcode >= WS_OP_CLOSE) {
        /* A control frame: alone, even between fragments. */
    } else if (!hdr.fin) {
        if (hdr.opcode != WS_OP_CONTINUATION) {
            modelPtr->fragmentsOpcode = (int)hdr.opcode;
        }
        ModelAppend(modelPtr, payload, payloadLen);
        withPayload = false;
    } else if (modelPtr->fragmentsLen > 0 || hdr.opcode == WS_OP_CONTINUATION) {
        ModelAppend(modelPtr, payload, payloadLen);
        expectData = modelPtr->fragments;
        expectLen = modelPtr->fragmentsLen;
        expectOpcode = modelPtr->fragmentsOpcode;
        reassembled = true;
    }
    CheckKeys(dictObj, withPayload);
    if (withPayload) {
        Require(DictInt(dictObj, "opcode") == expectOpcode, "opcode");
        got = Tcl_GetByteArrayFromObj(DictGet(dictObj, "payload"), &gotLen);
        Require(gotLen >= 0 && (size_t)gotLen == expectLen
                && (expectLen == 0 || memcmp(got, expectData, expectLen) == 0), "payload");
        Require((uint64_t)gotLen <= modelPtr->limit, "payload within the limit");
        Note(runPtr, OUT_COMPLETE, hdr.fin, expectOpcode, got, (size_t)gotLen);
        if (reassembled) {
            modelPtr->fragmentsLen = 0;
        }
    } else {
        Note(runPtr, OUT_COMPLETE, hdr.fin, -1, NULL, 0);
    }
    free(payload);

    modelPtr->cursor += hdr.headerLength + payloadLen;
    Require(modelPtr->fragmentsLen <= modelPtr->limit, "fragments within the limit");
    Require(DictInt(dictObj, "unprocessed") == (Tcl_WideInt)(modelPtr->fed - modelPtr->cursor),
            "unprocessed: the bytes given and not taken");
    Require(DictInt(dictObj, "fragments") == (Tcl_WideInt)modelPtr->fragmentsLen,
            "fragments: the bytes of the unfinished message");
    Require(WsFrameReaderPending(&runPtr->reader) == modelPtr->fed - modelPtr->cursor,
            "pending: the bytes given and not taken");
    runPtr->havedata = (int)DictInt(dictObj, "havedata");
    Require(runPtr->havedata == (ModelNext(modelPtr, &nextHdr, &size) != NEXT_INCOMPLETE),
            "havedata: whether a frame or an error is next");
    runPtr->frames++;
}

static void
CheckIncomplete(Run *runPtr, Tcl_Obj *dictObj)
{
    Model        *modelPtr = &runPtr->model;
    WsFrameHeader hdr;
    uint64_t      size = 0;

    CheckKeys(dictObj, false);
    Require(ModelNext(modelPtr, &hdr, &size) == NEXT_INCOMPLETE,
            "incomplete only when no frame and no error is there");
    Require(DictInt(dictObj, "fin") == 0 && DictInt(dictObj, "havedata") == 0,
            "incomplete: fin 0, havedata 0");
    Require(DictInt(dictObj, "unprocessed") == (Tcl_WideInt)(modelPtr->fed - modelPtr->cursor),
            "incomplete: unprocessed is all bytes not taken");
    Require(DictInt(dictObj, "fragments") == (Tcl_WideInt)modelPtr->fragmentsLen,
            "incomplete: fragments");
    runPtr->havedata = 0;
}


/*
 *----------------------------------------------------------------------
 *
 * Call --
 *
 *      One WsFrameReaderNext with data[0..len) (after WsFrameReaderAppend
 *      when append is set), and its answer checked.
 *
 * Results:
 *      What it answered.
 *
 * Side effects:
 *      Feeds the reader; updates the run; may abort.
 *
 *----------------------------------------------------------------------
 */

static Outcome
Call(Run *runPtr, const uint8_t *data, size_t len, bool eof, bool append)
{
    size_t   pendingBefore = WsFrameReaderPending(&runPtr->reader);
    bool     failedBefore = runPtr->failed;
    Outcome  outcome;
    int      code, size = -1;
    Tcl_Obj *resultObj;

    if (append && !failedBefore) {
        WsFrameReaderAppend(&runPtr->reader, (const char *)data, len);
        code = WsFrameReaderNext(interp, &runPtr->reader, NULL, 0, eof, runPtr->maxMessage);
    } else {
        code = WsFrameReaderNext(interp, &runPtr->reader, (const char *)data, len, eof,
                                 runPtr->maxMessage);
    }
    if (!failedBefore) {
        runPtr->model.fed += len;
    }
    resultObj = Tcl_GetObjResult(interp);
    if (code == TCL_ERROR) {
        CheckError(runPtr);
        if (failedBefore) {
            Require(WsFrameReaderPending(&runPtr->reader) == pendingBefore,
                    "after an error, no byte more kept");
        }
        outcome = OUT_ERROR;
    } else {
        Require(code == TCL_OK, "TCL_OK or TCL_ERROR");
        Require(!failedBefore, "after an error, only errors");
        Require(Tcl_DictObjSize(NULL, resultObj, &size) == TCL_OK, "a dict or \"\"");
        if (size == 0) {
            WsFrameHeader hdr;
            uint64_t      frameSize = 0;

            Require(eof && ModelNext(&runPtr->model, &hdr, &frameSize) == NEXT_INCOMPLETE,
                    "\"\" only at EOF without a frame");
            outcome = OUT_EMPTY;
        } else if (strcmp(Tcl_GetString(DictGet(resultObj, "frame")), "complete") == 0) {
            CheckComplete(runPtr, resultObj);
            outcome = OUT_COMPLETE;
        } else {
            Require(strcmp(Tcl_GetString(DictGet(resultObj, "frame")), "incomplete") == 0,
                    "frame complete or incomplete");
            Require(!eof, "no incomplete at EOF");
            CheckIncomplete(runPtr, resultObj);
            outcome = OUT_INCOMPLETE;
        }
    }
    Tcl_ResetResult(interp);
    Require(WsFrameReaderReady(&runPtr->reader, runPtr->maxMessage)
            == (runPtr->failed || (outcome == OUT_COMPLETE && runPtr->havedata)),
            "WsFrameReaderReady agrees with havedata");
    return outcome;
}


/*
 *----------------------------------------------------------------------
 *
 * Read --
 *
 *      What a read callback does on a readable event: read with the new
 *      bytes, then without while havedata says the next answer is there
 *      (at EOF, until "" or an error).  While no answer is there, a call
 *      without bytes must change nothing.
 *
 * Results:
 *      The last answer.
 *
 * Side effects:
 *      As Call.
 *
 *----------------------------------------------------------------------
 */

static Outcome
Read(Run *runPtr, const uint8_t *data, size_t len, bool eof, bool append)
{
    Outcome  outcome = Call(runPtr, data, len, eof, append);
    unsigned drained = 0;

    while (outcome == OUT_COMPLETE && (runPtr->havedata || eof)) {
        Require(++drained < MAX_DRAIN, "havedata ends");
        outcome = Call(runPtr, NULL, 0, eof, false);
    }
    if (!eof && outcome != OUT_ERROR) {
        size_t cursor = runPtr->model.cursor, fragmentsLen = runPtr->model.fragmentsLen;

        Require(Call(runPtr, NULL, 0, false, false) == OUT_INCOMPLETE
                && runPtr->model.cursor == cursor && runPtr->model.fragmentsLen == fragmentsLen,
                "a call without bytes and without a frame changes nothing");
    }
    return outcome;
}


/*
 *----------------------------------------------------------------------
 *
 * FeedAll --
 *
 *      Give a run the stream cut at the given ascending offsets, EOF with
 *      the last piece or after it, and read on at EOF to the end.  After
 *      an error, one more piece goes in (and must be refused), no more.
 *      At the end, a plain read (WsFrameReaderTake) must get the bytes
 *      not taken, as they came.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      As Call; the end goes into the digest.
 *
 *----------------------------------------------------------------------
 */

static void
FeedAll(Run *runPtr, size_t len, const size_t *cuts, size_t numCuts, uint64_t appendBits,
        bool eofWithLast)
{
    size_t      from = 0, i, errorsAfter = 0, left;
    Outcome     outcome = OUT_INCOMPLETE;
    Tcl_DString ds;

    for (i = 0; i <= numCuts && errorsAfter < 2; i++) {
        size_t to = (i < numCuts) ? cuts[i] : len;
        bool   eof = eofWithLast && i == numCuts;

        outcome = Read(runPtr, runPtr->model.stream + from, to - from, eof,
                       ((appendBits >> (i & 63)) & 1) != 0);
        if (runPtr->failed) {
            errorsAfter++;
        }
        from = to;
    }
    if (!runPtr->failed) {
        Require(runPtr->model.fed == len, "all of the stream given");
        if (!eofWithLast) {
            outcome = Read(runPtr, NULL, 0, true, false);
        }
        /* At EOF: "" once no frame is left, and again. */
        Require(outcome == OUT_EMPTY || outcome == OUT_ERROR, "the end is \"\" or an error");
    }
    outcome = Read(runPtr, NULL, 0, true, false);
    Require(outcome == (runPtr->failed ? OUT_ERROR : OUT_EMPTY), "the end stays the end");
    if (!runPtr->failed) {
        Note(runPtr, OUT_EMPTY, 0, 0, NULL, 0);
    }

    Tcl_DStringInit(&ds);
    Tcl_DStringAppend(&ds, "<", 1);
    WsFrameReaderTake(&runPtr->reader, &ds);
    left = runPtr->model.fed - runPtr->model.cursor;
    Require((size_t)Tcl_DStringLength(&ds) == left + 1
            && memcmp(Tcl_DStringValue(&ds) + 1, runPtr->model.stream + runPtr->model.cursor,
                      left) == 0, "a plain read gets the bytes not taken");
    Require(WsFrameReaderPending(&runPtr->reader) == 0, "nothing held after a plain read");
    Tcl_DStringFree(&ds);
}


/*
 *----------------------------------------------------------------------
 *
 * LLVMFuzzerTestOneInput --
 *
 *      One fuzzing round on data[0..size).
 *
 * Results:
 *      0 (the input is always acceptable to the fuzzer).
 *
 * Side effects:
 *      Aborts when a property is broken.
 *
 *----------------------------------------------------------------------
 */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t maxMessage, seed, appendBits;
    bool     eofWithLast;
    size_t   len, numCuts;
    size_t  *cuts;
    Run      whole, split;

    if (size < 2) {
        return 0;
    }
    maxMessage = limits[data[0] & 7];
    eofWithLast = (data[0] & 8) != 0;
    seed = ((uint64_t)data[0] << 8 | data[1]) * UINT64_C(0x9e3779b97f4a7c15) + 1;
    appendBits = seed * UINT64_C(0xbf58476d1ce4e5b9);
    len = size - 2;

    cuts = malloc((len + 1) * sizeof(size_t));
    Require(cuts != NULL, "memory");

    numCuts = SplitPoints(seed, len, cuts);

    memset(&whole, 0, sizeof(whole));
    memset(&split, 0, sizeof(split));
    WsFrameReaderInit(&whole.reader);
    WsFrameReaderInit(&split.reader);
    whole.maxMessage = split.maxMessage = maxMessage;
    whole.model.limit = split.model.limit = (maxMessage == 0) ? (uint64_t)INT_MAX : maxMessage;
    whole.model.stream = split.model.stream = data + 2;

    FeedAll(&whole, len, NULL, 0, 0, false);
    FeedAll(&split, len, cuts, numCuts, appendBits, eofWithLast);

    Require(whole.frames == split.frames && whole.digest == split.digest,
            "the same frames and the same end, whole and in pieces");
    Require(whole.failed == split.failed && strcmp(whole.error, split.error) == 0,
            "the same error");

    WsFrameReaderFree(&whole.reader);
    WsFrameReaderFree(&split.reader);
    Require(whole.reader.buf == NULL && whole.reader.fragments == NULL
            && WsFrameReaderPending(&whole.reader) == 0, "free leaves an empty reader");
    free(whole.model.fragments);
    free(split.model.fragments);
    free(cuts);
    return 0;
}
