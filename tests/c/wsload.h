/*
 * wsload.h --
 *
 *      What the files of the test load client share (the tool itself is
 *      described in wsload.c): a connection and the accounting of the
 *      messages it got, the state of the run, the command line, and the
 *      functions one file calls in another.
 *
 *        wsload.c            the command line and its usage, main
 *        wsload_conn.c       connections: sockets, the epoll loop, the
 *                            upgrade, frames, the message accounting,
 *                            lines from stdin
 *        wsload_multicast.c  mode multicast: every message to every one
 *        wsload_drop.c       mode drop: connections dropped without a close
 *        wsload_hold.c       mode hold: open connections until the server
 *                            ends them
 *        wsload_storm.c      mode storm: sessions that drop, rejoin and
 *                            lag while a stream runs
 */

#ifndef WSLOAD_H
#define WSLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WSL_MAX_ERRORS   10     /* errors reported one by one, then only counted */
#define WSL_MAX_REQUEST  2048   /* bytes of an upgrade request */
#define WSL_LINE_MAX     256    /* bytes of a line from stdin */

typedef enum {
    CONN_IDLE,          /* no socket yet (or again) */
    CONN_CONNECTING,    /* connect() in progress */
    CONN_HANDSHAKE,     /* request sent, waiting for the 101 */
    CONN_OPEN,          /* a WebSocket */
    CONN_CLOSING,       /* a close frame went out, waiting for the other's and EOF */
    CONN_DONE           /* the socket is closed */
} ConnState;

/*
 * A connection.  The accounting fields start afresh with each socket
 * (ConnStart): in storm mode one slot has a series of sessions.
 */
typedef struct Conn {
    int         index;          /* slot: 0 .. N-1 */
    long        session;        /* storm: number of the slot's current session */
    int         fd;             /* -1 without a socket */
    ConnState   state;
    bool        slow;           /* a slow consumer (its mode says how slow) */
    bool        reading;        /* EPOLLIN is on */
    bool        abortOnInput;   /* drop: close as soon as input is there, unread */
    long        budget;         /* bytes it may still read (< 0: no limit) */
    int         rcvbuf;         /* SO_RCVBUF to ask for, 0: the kernel's default */
    char        request[WSL_MAX_REQUEST];   /* the upgrade request */
    char       *buf;            /* bytes read, not parsed yet */
    size_t      len, size;
    /* What came: messages "i" followed by "x"s, i in order. */
    long        first;          /* index of the first message, -1 before one came */
    long        next;           /* index the next message must have */
    long        count;          /* messages received */
    bool        ordered;        /* no gap and nothing out of order */
    bool        gapsAllowed;    /* multicast's slow ones: increasing is enough */
    bool        fromZero;       /* the first message must be message 0 */
    int         closeCode;      /* the server's close frame: 0 none, -1 without a code */
    bool        pong;           /* the pong of our "drain" ping came */
    bool        eof;            /* the server ended the connection */
    bool        reset;          /* ... with an error (ECONNRESET) */
    bool        closeEchoed;    /* our close 1000 was answered with 1000 */
    bool        closeSent;      /* we sent a close frame */
    long        lifetime;       /* storm: messages a dropping session takes before it drops */
} Conn;

/* The state of a run: the connections and the event loop over them. */
typedef struct Load {
    int         port;
    int         epfd;
    int         errors;
    Conn       *conns;
    int         nconns;
    long        deadline;       /* monotonic ms: the -timeout */
    char        input[WSL_LINE_MAX];    /* stdin, up to the next newline */
    size_t      inputLen;
    bool        inputEof;
    bool        watchingInput;
} Load;

/* The command line, for every mode; which options a mode takes is in wsload.c. */
typedef struct Options {
    const char *mode;
    int         port;
    const char *path;           /* URL path and query of the upgrades */
    const char *slowPath;       /* ... of the slow consumers (default: path) */
    int         n;              /* connections (storm: slots) */
    long        messages;       /* messages the server sends */
    int         slow;           /* slow consumers among them (the first ones) */
    int         droppers;       /* storm: slots that drop and rejoin */
    long        slowRate;       /* storm: bytes per second a slow consumer reads */
    long        calm;           /* storm: no drops or rejoins once this index came */
    int         wave;           /* drop: connections open at once */
    int         parallel;       /* handshakes at once */
    int         timeout;        /* seconds for the whole run */
} Options;

extern Load load;

/* wsload_conn.c */
void        LoadInit(const Options *optsPtr);
void        LoadFail(const Conn *connPtr, const char *fmt, ...)
            __attribute__((format(printf, 2, 3)));
long        LoadNow(void);
bool        LoadTimedOut(void);
int         LoadPoll(int ms);
void        LoadWatchInput(void);
bool        LoadInputLine(char *line, size_t size);
int         LoadFinishErrors(void);
int         LoadClosedNormally(int n);
void        ConnSetRequest(Conn *connPtr, const char *path, long session);
void        ConnStart(Conn *connPtr);
void        ConnFinish(Conn *connPtr);
bool        ConnSend(Conn *connPtr, const void *data, size_t len);
void        ConnSendFrame(Conn *connPtr, int opcode, const char *payload, size_t len);
size_t      WsEncodeFrame(uint8_t *out, int opcode, const char *payload, size_t len);
void        ConnSetBudget(Conn *connPtr, long budget);
void        ConnParse(Conn *connPtr);
bool        ConnPending(const Conn *connPtr);
bool        ConnLive(const Conn *connPtr);

/* The modes. */
int         RunMulticast(const Options *optsPtr);
int         RunDrop(const Options *optsPtr);
int         RunHold(const Options *optsPtr);
int         RunStorm(const Options *optsPtr);

#endif /* WSLOAD_H */
