/*
 * wsreadframe.h --
 *
 *      ns_connchan read -websocket without the socket: the bytes a channel
 *      has read but not yet returned, the payload of an unfinished
 *      fragmented message, and the step that takes one frame out of them
 *      and describes it in NaviServer's result dict.  It knows nothing of
 *      sockets or channels: the caller reads, hands over the new bytes, and
 *      holds whatever lock protects the reader.  So it can be fuzzed on its
 *      own (tests/c/fuzz_readframe.c).
 */

#ifndef NSWS_WSREADFRAME_H
#define NSWS_WSREADFRAME_H

#include <tcl.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a reader stopped taking frames; once set, it stays. */
typedef enum {
    WS_READ_OK,             /* no failure */
    WS_READ_BAD_HEADER,     /* a 64-bit length with its top bit set */
    WS_READ_TOO_BIG         /* a frame or message over the limit */
} WsReadFailure;

/*
 * All zeros (WsFrameReaderInit) is an empty reader.  The buffers come from
 * malloc, not ckalloc; free them with WsFrameReaderFree.
 */
typedef struct WsFrameReader {
    char          *buf;             /* bytes read, not yet returned: buf[start, start+len) */
    size_t         start;           /* first of them */
    size_t         len;             /* how many */
    size_t         size;            /* bytes allocated */
    char          *fragments;       /* payload of an unfinished fragmented message */
    size_t         fragmentsLen;    /* bytes of it */
    size_t         fragmentsSize;   /* bytes allocated */
    int            fragmentsOpcode; /* opcode of its first frame */
    WsReadFailure  failure;         /* after one, no more frames and no more input */
    uint64_t       failedSize;      /* WS_READ_TOO_BIG: the size the message would have */
    uint64_t       failedLimit;     /* WS_READ_TOO_BIG: the limit it went over */
} WsFrameReader;

void   WsFrameReaderInit(WsFrameReader *readerPtr);
void   WsFrameReaderFree(WsFrameReader *readerPtr);

/* Bytes held, not yet returned (the "unprocessed" of the result dict). */
size_t WsFrameReaderPending(const WsFrameReader *readerPtr);

/* Add bytes after those held; bytes read by others, such as the rest of a request. */
void   WsFrameReaderAppend(WsFrameReader *readerPtr, const char *data, size_t len);

/* Move the bytes held to the end of dsPtr (a plain read), as many as it can hold. */
void   WsFrameReaderTake(WsFrameReader *readerPtr, Tcl_DString *dsPtr);

/*
 * True when the next WsFrameReaderNext needs no more input to return a
 * frame or an error (the "havedata" of the result dict).  maxMessage as
 * for WsFrameReaderNext.
 */
bool   WsFrameReaderReady(const WsFrameReader *readerPtr, uint64_t maxMessage);

/*
 * Add data[0..len) to the bytes held and take one frame, as ns_connchan
 * read -websocket does.  eof: the peer has closed its side, so no more
 * bytes will come.  maxMessage: largest frame payload or reassembled
 * message in bytes; 0, like any value above 2^31-1, means 2^31-1, the most
 * a Tcl 8.6 byte array holds.  A header announcing more fails as soon as
 * it is there, without waiting for the payload.  Results: TCL_OK with the dict (fin,
 * frame complete|incomplete, unprocessed, fragments, havedata, and opcode
 * and payload once a message or a control frame is whole) or, at EOF
 * without a whole frame, the empty string as the interp's result; or
 * TCL_ERROR with the message and -errorcode (NS WS PROTOCOL, or NS WS
 * TOOBIG size limit).  After an error every call fails the same way and
 * drops its data.
 */
int    WsFrameReaderNext(Tcl_Interp *interp, WsFrameReader *readerPtr, const char *data,
                         size_t len, bool eof, uint64_t maxMessage);

#endif /* NSWS_WSREADFRAME_H */
