/*
 * wsload.h --
 *
 *      What the files of the load generator share, private to bench/: the
 *      constants, the command line, a connection, the state of the run
 *      ("load"), the report of a run, the inline clock and random number
 *      helpers, and the functions one file calls in another.
 *
 *        wsload.c        the modes, what a connection does in its role,
 *                        the command line, main
 *        wsload_conn.c   connections: sockets, the epoll loop, the
 *                        WebSocket handshake and framing
 *        wsload_stats.c  measurement: the measured interval, the latency
 *                        histogram, /proc readings, the JSON line
 */

#ifndef WSLOAD_H
#define WSLOAD_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WS_GUID          "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define MAX_EVENTS       1024
#define SCRATCH_SIZE     (256 * 1024)   /* one read's worth for one connection */
#define MAX_HEAD         8192           /* bytes of a 101 response head */
#define MAX_PENDING      256            /* connections being opened at once */
#define SYNC_SEQ         UINT64_MAX     /* sequence number of fan-out sync messages */
#define PORTS_PER_SOURCE 20000          /* connections per source address before the next */

typedef enum { MODE_ECHO, MODE_FANOUT, MODE_CONNECT, MODE_IDLE } Mode;
typedef enum { ROLE_ECHO, ROLE_SUB, ROLE_PUB, ROLE_CONNECT, ROLE_IDLE } Role;
typedef enum {
    ST_FREE,          /* no socket */
    ST_CONNECTING,    /* TCP connect in progress */
    ST_HANDSHAKE,     /* upgrade request sent, waiting for the 101 */
    ST_OPEN,          /* messages flow */
    ST_CLOSING        /* our close frame is out (or raw: waiting for EOF) */
} State;

/* The command line. */
typedef struct Options {
    Mode        mode;
    bool        raw;           /* the baseline's raw protocol */
    const char *host;          /* server address (127.0.0.0/8) */
    int         port;          /* echo, connect and idle port; fanout: subscribers */
    int         pubPort;       /* fanout: publisher's port (default: port) */
    const char *path;          /* echo, connect, idle: URL path */
    const char *subPath;       /* fanout: subscribers' URL path */
    const char *pubPath;       /* fanout: publisher's URL path */
    int         conns;         /* echo and connect: connections; idle, fanout: N */
    int         inflight;      /* echo: messages in flight per connection */
    int         size;          /* payload bytes (raw: record bytes) */
    double      duration;      /* seconds measured */
    double      warmup;        /* seconds before measuring */
    double      rate;          /* fanout: messages/s, 0: as fast as the window allows */
    int         window;        /* fanout: messages not yet fully delivered */
    double      hold;          /* idle: seconds to hold */
    double      openTimeout;   /* seconds to open all connections; 0: 30 + N/1000 */
    int         sources;       /* source addresses 127.0.0.x; 0: automatic */
    int         sourceFirst;   /* x of the first source address */
    pid_t       pid;           /* server process for CPU and RSS, or 0 */
    const char *label;         /* copied into the JSON line */
} Options;

/* A latency histogram: 32 sub-buckets per power of two of nanoseconds. */
#define HIST_SUB     32
#define HIST_BUCKETS (HIST_SUB * 40)
typedef struct Hist {
    uint64_t counts[HIST_BUCKETS];
    uint64_t n;
    uint64_t max;
} Hist;

typedef struct Conn {
    int       fd;
    uint32_t  gen;           /* epoll events carry it; a stale event is ignored */
    State     state;
    Role      role;
    char      key[32];       /* Sec-WebSocket-Key sent */
    uint8_t  *in;            /* bytes read but not yet parsed */
    size_t    inLen;
    uint8_t  *out;           /* bytes not yet taken by the kernel */
    size_t    outLen, outOff, outCap;
    bool      wantOut;       /* EPOLLOUT is registered */
    bool      gotRecord;     /* raw connect: the echo arrived */
    uint64_t  started;       /* ns, when the connection was opened */
    uint64_t  expect;        /* fanout: next sequence number expected */
    uint64_t  received;      /* messages received (measured ones for fanout) */
    bool      synced;        /* fanout: got a sync message */
    int       inflight;      /* echo: messages out */
} Conn;

typedef struct Load {
    Options   opt;
    int       epfd;
    Conn     *conns;
    int       nconns;        /* slots */
    int       opening;       /* connections in ST_CONNECTING or ST_HANDSHAKE */
    int       openConns;     /* in ST_OPEN */
    uint64_t  srcNext;
    uint8_t  *scratch;
    uint8_t  *filler;        /* payload bytes after the header */
    Hist      hist;
    uint64_t  rng;
    /* Counters. */
    uint64_t  errors;        /* failed connects, bad handshakes, protocol errors */
    uint64_t  serverClosed;  /* connections the server closed under us */
    uint64_t  lastCloseCode; /* of a close frame from the server */
    char      firstError[160];
    /* Measurement window. */
    bool      sending;       /* new messages may be sent */
    uint64_t  tStart, tEnd;  /* ns; tEnd = 0 while measuring */
    uint64_t  measured;      /* messages (deliveries, cycles) in the window */
    uint64_t  sent;          /* messages sent */
    uint64_t  echoed;        /* echo: replies received */
    /* Fan-out. */
    int       pubIndex;
    uint64_t  nextSeq;       /* next sequence number to publish */
    uint64_t  oldest;        /* lowest not fully delivered */
    uint32_t *ring;          /* deliveries per sequence number, window slots */
    int       subsAlive;
    int       synced;
    uint64_t  lost;
    uint64_t  published;     /* messages published in the measured interval */
    uint64_t  expected;      /* latency samples that should come: the rest never came */
    bool      overloaded;    /* fixed rate: the server fell too far behind, publishing stopped */
    uint64_t  lastLagCheck;  /* ns */
} Load;

/*
 *----------------------------------------------------------------------
 * Report --
 *
 *      The JSON line of a run.
 *----------------------------------------------------------------------
 */
typedef struct Report {
    double    seconds;       /* measured interval */
    long long cpuTicks;      /* server CPU over it, -1: unknown */
    double    clientCpu;     /* seconds */
    long      rssBefore, rssAfter;
    int       held;
} Report;

/* The one run of this process; defined in wsload.c. */
extern Load load;


/*
 *----------------------------------------------------------------------
 * NowNs --
 *
 *      CLOCK_MONOTONIC in nanoseconds.
 *----------------------------------------------------------------------
 */
static inline uint64_t
NowNs(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 *----------------------------------------------------------------------
 * SecondsToNs --
 *
 *      Seconds (of an option) in nanoseconds.
 *----------------------------------------------------------------------
 */
static inline uint64_t
SecondsToNs(double s)
{
    return (uint64_t)(s * 1e9);
}

/*
 *----------------------------------------------------------------------
 * Random --
 *
 *      xorshift64*: masks and keys need no cryptographic strength here.
 *----------------------------------------------------------------------
 */
static inline uint64_t
Random(void)
{
    load.rng ^= load.rng >> 12;
    load.rng ^= load.rng << 25;
    load.rng ^= load.rng >> 27;
    return load.rng * 2685821657736338717ull;
}

/* wsload.c: the modes and the role handlers. */
void            Die(const char *fmt, const char *arg);
void            OnOpen(Conn *c);
void            OnMessage(Conn *c, const uint8_t *data, size_t len);
void            CompleteCycle(Conn *c);

/* wsload_conn.c: connections, the event loop, framing. */
uint8_t        *OutReserve(Conn *c, size_t len);
void            Flush(Conn *c);
uint8_t        *AppendFrame(Conn *c, unsigned opcode, const uint8_t *payload, size_t len);
void            MaskInPlace(uint8_t *data, size_t len);
void            SendClose(Conn *c, int code);
void            SetState(Conn *c, State state);
void            Dispose(Conn *c);
void            Fail(Conn *c, const char *what);
bool            Open(Conn *c, Role role);
void            Poll(uint64_t timeoutNs);
int             OpenAll(int first, int n, Role role, uint64_t deadline);
void            CloseAll(void);

/* wsload_stats.c: measurement and the report. */
void            HistAdd(Hist *h, uint64_t v);
long            ProcRssKb(pid_t pid);
double          ClientCpuSeconds(void);
void            Measure(Report *r, void (*pump)(void), uint64_t (*nextWake)(void));
void            PrintReport(const Report *r);

#endif /* WSLOAD_H */
