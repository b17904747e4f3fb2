/*
 * wsload.c --
 *
 *      The load generator of "make bench": one thread, one epoll loop,
 *      non-blocking sockets, loopback only.  It speaks WebSocket (RFC 6455:
 *      masked client frames, the 101 and its Sec-WebSocket-Accept checked)
 *      or, with --raw, the baseline's protocol: fixed-size records with no
 *      handshake and no framing.  Modes:
 *
 *        echo     C connections x P messages in flight, S-byte messages, D
 *                 seconds: messages/s and round-trip latency (p50, p99)
 *                 from a timestamp carried in the payload.
 *        fanout   N subscribers and one publisher; the publisher sends as
 *                 fast as a window of W not yet fully delivered messages
 *                 allows, or at a fixed rate: deliveries/s,
 *                 publish-to-receive latency, messages lost.
 *        connect  K connections at a time, each opened, upgraded and closed
 *                 (close handshake): cycles/s.
 *        idle     hold N upgraded connections for T seconds; with --pid, the
 *                 server's RSS is read from /proc before and while they are
 *                 held.
 *
 *      With --pid the server's CPU time (utime + stime from /proc/PID/stat)
 *      over the measured interval is reported too.  Every run prints one
 *      JSON line on stdout.  Every loop is bounded in count and time, and
 *      alarm() ends the process if something still hangs.
 *
 *      Payload of a measured message: 8 bytes sequence number, 8 bytes
 *      CLOCK_MONOTONIC send time in ns, then filler; so S >= 16.
 */

#define _GNU_SOURCE

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

#include <openssl/evp.h>
#include <openssl/sha.h>

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

static Load load;

static void Fail(Conn *c, const char *what);
static void Flush(Conn *c);
static void Dispose(Conn *c);
static void SetState(Conn *c, State state);
static bool InWindow(uint64_t t);

/*
 *----------------------------------------------------------------------
 * NowNs --
 *
 *      CLOCK_MONOTONIC in nanoseconds.
 *----------------------------------------------------------------------
 */
static uint64_t
NowNs(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
SecondsToNs(double s)
{
    return (uint64_t)(s * 1e9);
}

static void
Die(const char *fmt, const char *arg)
{
    fprintf(stderr, "wsload: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

/*
 *----------------------------------------------------------------------
 * Random --
 *
 *      xorshift64*: masks and keys need no cryptographic strength here.
 *----------------------------------------------------------------------
 */
static uint64_t
Random(void)
{
    load.rng ^= load.rng >> 12;
    load.rng ^= load.rng << 25;
    load.rng ^= load.rng >> 27;
    return load.rng * 2685821657736338717ull;
}

/*
 *----------------------------------------------------------------------
 * HistAdd, HistPercentile --
 *
 *      Record a latency in ns; read a percentile back (in us, the middle
 *      of its bucket: about 3% precision).  Samples that never came
 *      (expected - n) count as infinitely late: a percentile that falls
 *      among them is -1, "unbounded".
 *----------------------------------------------------------------------
 */
static int
HistIndex(uint64_t v)
{
    int msb, idx;

    if (v < HIST_SUB) {
        return (int)v;
    }
    msb = 63 - __builtin_clzll(v);             /* >= 5 */
    idx = (msb - 4) * HIST_SUB + (int)((v >> (msb - 5)) & (HIST_SUB - 1));
    return (idx < HIST_BUCKETS) ? idx : HIST_BUCKETS - 1;
}

static uint64_t
HistValue(int idx)
{
    int      octave = idx / HIST_SUB, sub = idx % HIST_SUB;
    uint64_t low;

    if (octave == 0) {
        return (uint64_t)idx;
    }
    low = (uint64_t)(HIST_SUB + sub) << (octave - 1);
    return low + ((1ull << (octave - 1)) / 2);
}

static void
HistAdd(Hist *h, uint64_t v)
{
    h->counts[HistIndex(v)]++;
    h->n++;
    if (v > h->max) {
        h->max = v;
    }
}

static double
HistPercentileUs(const Hist *h, double p, uint64_t expected)
{
    uint64_t want, seen = 0, total = (expected > h->n) ? expected : h->n;

    if (total == 0) {
        return 0.0;
    }
    want = (uint64_t)((double)total * p / 100.0);
    if (want >= h->n) {
        return -1.0;
    }
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen > want) {
            return (double)HistValue(i) / 1000.0;
        }
    }
    return (double)h->max / 1000.0;
}

/*
 *----------------------------------------------------------------------
 * ProcCpuTicks, ProcRssKb --
 *
 *      utime + stime of a process (clock ticks), and its VmRSS (kB); -1
 *      when /proc does not say.
 *----------------------------------------------------------------------
 */
static long long
ProcCpuTicks(pid_t pid)
{
    char       path[64], buf[1024];
    FILE      *f;
    size_t     n;
    long long  utime = -1, stime = -1;
    const char *p;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (pid <= 0 || (f = fopen(path, "r")) == NULL) {
        return -1;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces: fields count from the last ')'. */
    p = strrchr(buf, ')');
    if (p == NULL
        || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld",
                  &utime, &stime) != 2) {
        return -1;
    }
    return utime + stime;
}

static long
ProcRssKb(pid_t pid)
{
    char  path[64], line[256];
    FILE *f;
    long  kb = -1;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (pid <= 0 || (f = fopen(path, "r")) == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

static double
ClientCpuSeconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
        + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/*
 *----------------------------------------------------------------------
 * Output buffer --
 *
 *      OutReserve makes room for len more bytes and returns where they go;
 *      Flush hands what is there to the kernel, and watches EPOLLOUT while
 *      something is left.
 *----------------------------------------------------------------------
 */
static uint8_t *
OutReserve(Conn *c, size_t len)
{
    if (c->outOff > 0 && c->outOff == c->outLen) {
        c->outOff = c->outLen = 0;
    }
    if (c->outLen + len > c->outCap) {
        if (c->outOff > 0) {
            memmove(c->out, c->out + c->outOff, c->outLen - c->outOff);
            c->outLen -= c->outOff;
            c->outOff = 0;
        }
        if (c->outLen + len > c->outCap) {
            size_t cap = c->outCap * 2 + len + 256;

            c->out = realloc(c->out, cap);
            if (c->out == NULL) {
                Die("%s", "out of memory");
            }
            c->outCap = cap;
        }
    }
    c->outLen += len;
    return c->out + c->outLen - len;
}

static void
WatchOut(Conn *c, bool on)
{
    struct epoll_event ev;

    if (c->wantOut == on || c->fd < 0) {
        return;
    }
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
    ev.data.u64 = ((uint64_t)c->gen << 32) | (uint64_t)(c - load.conns);
    if (epoll_ctl(load.epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0) {
        c->wantOut = on;
    }
}

static void
Flush(Conn *c)
{
    int rounds = 0;

    while (c->fd >= 0 && c->outOff < c->outLen && rounds++ < 16) {
        ssize_t n = send(c->fd, c->out + c->outOff, c->outLen - c->outOff, MSG_NOSIGNAL);

        if (n > 0) {
            c->outOff += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            Fail(c, "send");
            return;
        }
    }
    if (c->fd >= 0) {
        if (c->outOff == c->outLen) {
            c->outOff = c->outLen = 0;
        }
        WatchOut(c, c->outLen > 0);
    }
}

/*
 *----------------------------------------------------------------------
 * AppendFrame --
 *
 *      A masked client frame (RFC 6455 §5.2) around payload; with payload
 *      NULL the payload is a measured message: sequence number, send
 *      time, filler.  Raw mode appends the bare record.
 *----------------------------------------------------------------------
 */
static uint8_t *
AppendFrame(Conn *c, unsigned opcode, const uint8_t *payload, size_t len)
{
    uint8_t *p, *data;
    size_t   hlen = (len < 126) ? 2 : (len < 65536) ? 4 : 10;
    uint32_t mask = (uint32_t)Random();
    uint8_t  key[4];

    p = OutReserve(c, hlen + 4 + len);
    p[0] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        p[1] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        p[1] = 0x80 | 126;
        p[2] = (uint8_t)(len >> 8);
        p[3] = (uint8_t)len;
    } else {
        p[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++) {
            p[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        }
    }
    memcpy(key, &mask, 4);
    memcpy(p + hlen, key, 4);
    data = p + hlen + 4;
    if (payload != NULL) {
        memcpy(data, payload, len);
    }
    return data;
}

static void
MaskInPlace(uint8_t *data, size_t len)
{
    const uint8_t *key = data - 4;
    uint64_t       k8;
    size_t         i = 0;

    memcpy(&k8, (uint8_t[8]){key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]}, 8);
    for (; i + 8 <= len; i += 8) {
        uint64_t w;

        memcpy(&w, data + i, 8);
        w ^= k8;
        memcpy(data + i, &w, 8);
    }
    for (; i < len; i++) {
        data[i] ^= key[i & 3];
    }
}

static void
SendMessage(Conn *c, uint64_t seq)
{
    size_t   len = (size_t)load.opt.size;
    uint8_t *data = load.opt.raw ? OutReserve(c, len) : AppendFrame(c, 0x2, NULL, len);
    uint64_t ts = NowNs();

    memcpy(data, &seq, 8);
    memcpy(data + 8, &ts, 8);
    memcpy(data + 16, load.filler, len - 16);
    if (!load.opt.raw) {
        MaskInPlace(data, len);
    }
    load.sent++;
    if (InWindow(ts) && seq != SYNC_SEQ) {
        /* Echo: one reply each; fan-out: one delivery per subscriber. */
        load.expected += (c->role == ROLE_PUB) ? (uint64_t)load.subsAlive : 1;
    }
}

static void
SendClose(Conn *c, int code)
{
    uint8_t payload[2] = {(uint8_t)(code >> 8), (uint8_t)code};

    MaskInPlace(AppendFrame(c, 0x8, payload, 2), 2);
    SetState(c, ST_CLOSING);
}

/*
 *----------------------------------------------------------------------
 * Connection life --
 *
 *      Open (non-blocking connect, from a source address when asked),
 *      close, and the bookkeeping of the states.
 *----------------------------------------------------------------------
 */
static void
SetState(Conn *c, State state)
{
    bool wasOpening = (c->state == ST_CONNECTING || c->state == ST_HANDSHAKE);
    bool isOpening = (state == ST_CONNECTING || state == ST_HANDSHAKE);

    load.opening += (int)isOpening - (int)wasOpening;
    load.openConns += (int)(state == ST_OPEN) - (int)(c->state == ST_OPEN);
    c->state = state;
}

static void
Dispose(Conn *c)
{
    if (c->fd >= 0) {
        close(c->fd);     /* also leaves the epoll set */
        c->fd = -1;
    }
    if (c->role == ROLE_SUB && c->state != ST_FREE) {
        load.subsAlive--;
    }
    SetState(c, ST_FREE);
    free(c->in);
    c->in = NULL;
    c->inLen = 0;
    c->outLen = c->outOff = 0;
    c->wantOut = false;
    c->gen++;
}

static void
Fail(Conn *c, const char *what)
{
    if (load.firstError[0] == '\0') {
        snprintf(load.firstError, sizeof(load.firstError), "%s: %s", what,
                 errno != 0 ? strerror(errno) : "protocol");
    }
    load.errors++;
    Dispose(c);
}

static bool
Open(Conn *c, Role role)
{
    struct sockaddr_in addr;
    struct epoll_event ev;
    int                one = 1;

    uint8_t *out = c->out;         /* the output buffer is kept for the next connection */
    size_t   outCap = c->outCap;

    memset(c, 0, sizeof(*c));
    c->out = out;
    c->outCap = outCap;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    c->gen = (uint32_t)Random();
    c->role = role;
    c->state = ST_FREE;
    c->started = NowNs();
    if (c->fd < 0) {
        if (load.firstError[0] == '\0') {
            snprintf(load.firstError, sizeof(load.firstError), "socket: %s", strerror(errno));
        }
        load.errors++;
        return false;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (load.opt.sources > 0) {
        struct sockaddr_in src;
        int                idx = (int)(load.srcNext++ % (uint64_t)load.opt.sources);

        memset(&src, 0, sizeof(src));
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)(load.opt.sourceFirst + idx));
        /* Pick the port at connect time, per destination: more than 28k ports per address. */
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
            Fail(c, "bind");
            return false;
        }
    }
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)((role == ROLE_PUB) ? load.opt.pubPort : load.opt.port));
    inet_pton(AF_INET, load.opt.host, &addr.sin_addr);
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = ((uint64_t)c->gen << 32) | (uint64_t)(c - load.conns);
    if (epoll_ctl(load.epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        Fail(c, "epoll_ctl");
        return false;
    }
    c->wantOut = true;
    SetState(c, ST_CONNECTING);
    if (role == ROLE_SUB) {
        load.subsAlive++;
    }
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 && errno != EINPROGRESS) {
        Fail(c, "connect");
        return false;
    }
    return true;
}

/*
 *----------------------------------------------------------------------
 * Handshake --
 *
 *      The upgrade request, and the check of the 101 response: status,
 *      Upgrade, and Sec-WebSocket-Accept = base64(SHA-1(key + GUID)).
 *----------------------------------------------------------------------
 */
static void
SendUpgrade(Conn *c)
{
    uint8_t     raw[16];
    const char *path = (c->role == ROLE_SUB) ? load.opt.subPath
                     : (c->role == ROLE_PUB) ? load.opt.pubPath : load.opt.path;
    char        req[512];
    int         n;

    for (int i = 0; i < 16; i += 8) {
        uint64_t r = Random();

        memcpy(raw + i, &r, 8);
    }
    EVP_EncodeBlock((unsigned char *)c->key, raw, 16);
    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n",
                 path, load.opt.host, load.opt.port, c->key);
    memcpy(OutReserve(c, (size_t)n), req, (size_t)n);
}

static bool
CheckUpgrade(Conn *c, const char *head, size_t len)
{
    unsigned char digest[SHA_DIGEST_LENGTH];
    char          keyGuid[96], accept[32];
    const char   *p, *end = head + len;
    bool          haveAccept = false, haveUpgrade = false;

    if (len < 12 || strncmp(head, "HTTP/1.1 101", 12) != 0) {
        return false;
    }
    snprintf(keyGuid, sizeof(keyGuid), "%s%s", c->key, WS_GUID);
    SHA1((const unsigned char *)keyGuid, strlen(keyGuid), digest);
    EVP_EncodeBlock((unsigned char *)accept, digest, SHA_DIGEST_LENGTH);
    for (p = head; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t      lineLen = (eol != NULL) ? (size_t)(eol - p) : (size_t)(end - p);

        if (lineLen > 21 && strncasecmp(p, "Sec-WebSocket-Accept:", 21) == 0) {
            const char *v = p + 21;
            size_t      vlen;

            while (*v == ' ') {
                v++;
            }
            vlen = (size_t)(p + lineLen - v);
            while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == ' ')) {
                vlen--;
            }
            haveAccept = (vlen == 28 && memcmp(v, accept, 28) == 0);
        } else if (lineLen > 8 && strncasecmp(p, "Upgrade:", 8) == 0) {
            haveUpgrade = (strcasestr(p, "websocket") != NULL
                           && strcasestr(p, "websocket") < p + lineLen);
        }
        p += lineLen + 1;
    }
    return haveAccept && haveUpgrade;
}

/*
 *----------------------------------------------------------------------
 * Role handlers --
 *
 *      What happens when a connection is open and when a message arrives.
 *----------------------------------------------------------------------
 */
static bool
InWindow(uint64_t t)
{
    return load.tStart != 0 && t >= load.tStart && (load.tEnd == 0 || t < load.tEnd);
}

static void
CompleteCycle(Conn *c)
{
    uint64_t now = NowNs();

    if (InWindow(now)) {
        load.measured++;
        HistAdd(&load.hist, now - c->started);
    }
    Dispose(c);
}

static void
OnOpen(Conn *c)
{
    SetState(c, ST_OPEN);
    switch (c->role) {
    case ROLE_CONNECT:
        if (load.opt.raw) {
            SendMessage(c, 0);
        } else {
            SendClose(c, 1000);
        }
        break;
    case ROLE_ECHO:
        if (load.sending) {
            for (int i = 0; i < load.opt.inflight; i++) {
                SendMessage(c, 0);
                c->inflight++;
            }
        }
        break;
    default:
        break;
    }
}

static void
OnEchoMessage(Conn *c, const uint8_t *data, size_t len)
{
    uint64_t ts, now = NowNs();

    if (len < 16) {
        return;
    }
    memcpy(&ts, data + 8, 8);
    c->inflight--;
    load.echoed++;
    if (InWindow(now)) {
        load.measured++;
    }
    if (InWindow(ts)) {
        HistAdd(&load.hist, now - ts);
    }
    if (load.sending) {
        SendMessage(c, 0);
        c->inflight++;
    }
}

static void
OnFanoutMessage(Conn *c, const uint8_t *data, size_t len)
{
    uint64_t seq, ts, now;

    if (len < 16) {
        return;
    }
    memcpy(&seq, data, 8);
    if (seq == SYNC_SEQ) {
        if (!c->synced) {
            c->synced = true;
            load.synced++;
        }
        return;
    }
    memcpy(&ts, data + 8, 8);
    now = NowNs();
    if (seq > c->expect) {
        load.lost += seq - c->expect;
    }
    if (seq >= c->expect) {
        c->expect = seq + 1;
    }
    c->received++;
    if (InWindow(now)) {
        load.measured++;
    }
    if (InWindow(ts)) {
        HistAdd(&load.hist, now - ts);
    }
    if (load.opt.rate <= 0 && seq >= load.oldest && seq < load.nextSeq) {
        uint32_t *slot = &load.ring[seq % (uint64_t)load.opt.window];

        (*slot)++;
        while (load.oldest < load.nextSeq
               && load.ring[load.oldest % (uint64_t)load.opt.window] >= (uint32_t)load.subsAlive) {
            load.ring[load.oldest % (uint64_t)load.opt.window] = 0;
            load.oldest++;
        }
    }
}

static void
OnMessage(Conn *c, const uint8_t *data, size_t len)
{
    switch (c->role) {
    case ROLE_ECHO:
        OnEchoMessage(c, data, len);
        break;
    case ROLE_SUB:
        OnFanoutMessage(c, data, len);
        break;
    case ROLE_CONNECT:
        c->gotRecord = true;
        break;
    default:
        break;
    }
}

/*
 *----------------------------------------------------------------------
 * Parse --
 *
 *      Take what can be taken from buf: the 101 head, then frames (or raw
 *      records).  Returns bytes consumed; the connection may be disposed
 *      (fd < 0) when it returns.
 *----------------------------------------------------------------------
 */
static size_t
Parse(Conn *c, const uint8_t *buf, size_t len)
{
    size_t at = 0;

    if (c->state == ST_HANDSHAKE) {
        const uint8_t *end = memmem(buf, len, "\r\n\r\n", 4);

        if (end == NULL) {
            if (len > MAX_HEAD) {
                Fail(c, "101 response head too long");
            }
            return 0;
        }
        at = (size_t)(end - buf) + 4;
        if (!CheckUpgrade(c, (const char *)buf, at)) {
            errno = 0;
            Fail(c, "upgrade refused or bad Sec-WebSocket-Accept");
            return at;
        }
        OnOpen(c);
    }
    if (load.opt.raw) {
        size_t rec = (size_t)load.opt.size;

        while (c->fd >= 0 && len - at >= rec) {
            OnMessage(c, buf + at, rec);
            at += rec;
        }
        return at;
    }
    while (c->fd >= 0 && len - at >= 2) {
        const uint8_t *p = buf + at;
        unsigned       opcode = p[0] & 0x0f;
        uint64_t       plen = p[1] & 0x7f;
        size_t         hlen = 2;

        if (p[1] & 0x80) {
            errno = 0;
            Fail(c, "masked frame from the server");
            return at;
        }
        if (plen == 126) {
            if (len - at < 4) {
                break;
            }
            plen = ((uint64_t)p[2] << 8) | p[3];
            hlen = 4;
        } else if (plen == 127) {
            if (len - at < 10) {
                break;
            }
            plen = 0;
            for (int i = 0; i < 8; i++) {
                plen = (plen << 8) | p[2 + i];
            }
            hlen = 10;
        }
        if (plen > SCRATCH_SIZE / 2) {
            errno = 0;
            Fail(c, "frame too large");
            return at;
        }
        if (len - at < hlen + plen) {
            break;
        }
        at += hlen + (size_t)plen;
        if (opcode == 0x8) {
            if (c->state != ST_CLOSING) {
                /* The server closes (a slow consumer, shutdown): answer and go. */
                load.serverClosed++;
                load.lastCloseCode = (plen >= 2) ? ((unsigned)p[hlen] << 8 | p[hlen + 1]) : 1005;
                SendClose(c, (int)(plen >= 2 ? load.lastCloseCode : 1000));
                Flush(c);
            }
            if (c->role == ROLE_CONNECT) {
                c->gotRecord = true;
            }
        } else if (opcode == 0x9) {
            MaskInPlace(AppendFrame(c, 0xA, p + hlen, (size_t)plen), (size_t)plen);
        } else if (opcode == 0x1 || opcode == 0x2 || opcode == 0x0) {
            OnMessage(c, p + hlen, (size_t)plen);
        }
    }
    return at;
}

/*
 *----------------------------------------------------------------------
 * ReadConn --
 *
 *      Read what the socket has (one read when it comes short: epoll is
 *      level-triggered), parse it, keep the rest for later.
 *----------------------------------------------------------------------
 */
static void
ReadConn(Conn *c)
{
    uint8_t *buf = load.scratch;
    size_t   have = c->inLen, used;
    int      rounds = 0;

    if (have > 0) {
        memcpy(buf, c->in, have);
    }
    for (;;) {
        ssize_t n = recv(c->fd, buf + have, SCRATCH_SIZE - have, 0);

        if (n > 0) {
            have += (size_t)n;
            if (have < SCRATCH_SIZE || ++rounds >= 4) {
                break;
            }
            /* Full: parse, then read on. */
            used = Parse(c, buf, have);
            if (c->fd < 0) {
                return;
            }
            memmove(buf, buf + used, have - used);
            have -= used;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        /* EOF or error. */
        used = (have > 0) ? Parse(c, buf, have) : 0;
        if (c->fd < 0) {
            return;
        }
        if (c->role == ROLE_CONNECT && c->gotRecord) {
            CompleteCycle(c);
        } else if (c->state == ST_CLOSING) {
            Dispose(c);
        } else {
            if (n == 0) {
                errno = 0;
                load.serverClosed++;
            }
            Fail(c, n == 0 ? "connection closed by the server" : "recv");
        }
        return;
    }
    used = Parse(c, buf, have);
    if (c->fd < 0) {
        return;
    }
    have -= used;
    if (have > 0) {
        if (have > c->inLen) {
            c->in = realloc(c->in, have);
        }
        memcpy(c->in, buf + used, have);
    }
    c->inLen = have;
    if (have == 0 && c->in != NULL) {
        free(c->in);
        c->in = NULL;
    }
    Flush(c);
}

static void
HandleEvent(Conn *c, uint32_t events)
{
    if (c->state == ST_CONNECTING) {
        int       err = 0;
        socklen_t elen = sizeof(err);

        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) {
            return;
        }
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
        if (err != 0) {
            errno = err;
            Fail(c, "connect");
            return;
        }
        if (load.opt.raw) {
            OnOpen(c);
        } else {
            SetState(c, ST_HANDSHAKE);
            SendUpgrade(c);
        }
        Flush(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ReadConn(c);
    }
    if (c->fd >= 0 && (events & EPOLLOUT)) {
        Flush(c);
    }
}

/*
 *----------------------------------------------------------------------
 * Poll --
 *
 *      One round of the event loop, waiting at most timeoutNs.
 *----------------------------------------------------------------------
 */
static void
Poll(uint64_t timeoutNs)
{
    struct epoll_event events[MAX_EVENTS];
    struct timespec    ts = {(time_t)(timeoutNs / 1000000000u), (long)(timeoutNs % 1000000000u)};
    int                n = epoll_pwait2(load.epfd, events, MAX_EVENTS, &ts, NULL);

    for (int i = 0; i < n; i++) {
        uint32_t idx = (uint32_t)events[i].data.u64;
        uint32_t gen = (uint32_t)(events[i].data.u64 >> 32);
        Conn    *c = &load.conns[idx];

        if (c->fd >= 0 && c->gen == gen) {
            HandleEvent(c, events[i].events);
        }
    }
}

/*
 *----------------------------------------------------------------------
 * OpenAll --
 *
 *      Open slots first..first+n-1 with a role, at most MAX_PENDING at a
 *      time, until all are open or the deadline passes.
 *
 * Results:
 *      The number open.
 *----------------------------------------------------------------------
 */
static int
OpenAll(int first, int n, Role role, uint64_t deadline)
{
    int next = first, openBefore = load.openConns;

    while (NowNs() < deadline) {
        while (next < first + n && load.opening < MAX_PENDING) {
            if (!Open(&load.conns[next], role)) {
                if (errno == EMFILE || errno == ENFILE) {
                    next = first + n;    /* out of descriptors: stop opening */
                    break;
                }
            }
            next++;
        }
        if (next >= first + n && load.opening == 0) {
            break;
        }
        Poll(10 * 1000000u);
    }
    return load.openConns - openBefore;
}

/*
 *----------------------------------------------------------------------
 * CloseAll --
 *
 *      Close every connection: a close frame, then the server's close and
 *      EOF (bounded: 2 s), so that TIME_WAIT stays on the server's side.
 *----------------------------------------------------------------------
 */
static void
CloseAll(void)
{
    uint64_t deadline = NowNs() + SecondsToNs(2.0);
    int      live = 0;

    for (int i = 0; i < load.nconns; i++) {
        Conn *c = &load.conns[i];

        if (c->fd < 0) {
            continue;
        }
        if (load.opt.raw || c->state != ST_OPEN) {
            Dispose(c);
        } else {
            SendClose(c, 1000);
            Flush(c);
            live += (c->fd >= 0);
        }
    }
    while (live > 0 && NowNs() < deadline) {
        Poll(10 * 1000000u);
        live = 0;
        for (int i = 0; i < load.nconns; i++) {
            live += (load.conns[i].fd >= 0);
        }
    }
    for (int i = 0; i < load.nconns; i++) {
        if (load.conns[i].fd >= 0) {
            Dispose(&load.conns[i]);
        }
    }
}

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

static void
PrintReport(const Report *r)
{
    const Options *o = &load.opt;
    static const char *modes[] = {"echo", "fanout", "connect", "idle"};
    double rate = (r->seconds > 0) ? (double)load.measured / r->seconds : 0.0;
    double cpuS = (r->cpuTicks >= 0) ? (double)r->cpuTicks / (double)sysconf(_SC_CLK_TCK) : -1.0;

    printf("{\"mode\":\"%s\",\"proto\":\"%s\"", modes[o->mode], o->raw ? "raw" : "ws");
    if (o->label != NULL) {
        printf(",\"label\":\"%s\"", o->label);
    }
    printf(",\"conns\":%d,\"size\":%d", o->conns, o->size);
    switch (o->mode) {
    case MODE_ECHO:
        printf(",\"inflight\":%d,\"msgs\":%" PRIu64 ",\"rate\":%.1f,\"lost\":%" PRIu64,
               o->inflight, load.measured, rate, load.sent - load.echoed);
        break;
    case MODE_FANOUT:
        printf(",\"overloaded\":%d", load.overloaded ? 1 : 0);
        printf(",\"window\":%d,\"target_rate\":%.1f,\"published\":%" PRIu64
               ",\"publish_rate\":%.1f,\"msgs\":%" PRIu64 ",\"rate\":%.1f,\"lost\":%" PRIu64,
               (o->rate > 0) ? 0 : o->window, o->rate, load.published,
               (r->seconds > 0) ? (double)load.published / r->seconds : 0.0,
               load.measured, rate, load.lost);
        break;
    case MODE_CONNECT:
        printf(",\"msgs\":%" PRIu64 ",\"rate\":%.1f", load.measured, rate);
        break;
    case MODE_IDLE:
        printf(",\"held\":%d,\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,\"rss_per_conn\":%.0f",
               r->held, r->rssBefore, r->rssAfter,
               (r->held > 0 && r->rssBefore >= 0)
                   ? (double)(r->rssAfter - r->rssBefore) * 1024.0 / r->held : -1.0);
        break;
    }
    if (o->mode != MODE_IDLE) {
        printf(",\"seconds\":%.3f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f", r->seconds,
               HistPercentileUs(&load.hist, 50, load.expected),
               HistPercentileUs(&load.hist, 99, load.expected),
               (double)load.hist.max / 1000.0);
        printf(",\"server_cpu_s\":%.2f,\"cpu_us_per_msg\":%.3f", cpuS,
               (cpuS >= 0 && load.measured > 0) ? cpuS * 1e6 / (double)load.measured : -1.0);
    }
    printf(",\"client_cpu_s\":%.2f,\"errors\":%" PRIu64 ",\"server_closed\":%" PRIu64,
           r->clientCpu, load.errors, load.serverClosed);
    if (load.firstError[0] != '\0') {
        printf(",\"first_error\":\"");
        for (const char *p = load.firstError; *p != '\0'; p++) {
            putchar((*p == '"' || *p == '\\') ? '\'' : *p);
        }
        putchar('"');
    }
    printf("}\n");
    fflush(stdout);
}

/*
 *----------------------------------------------------------------------
 * Measure --
 *
 *      Bracket the measured interval: warm up, note CPU, run, note CPU.
 *      pump (may be NULL) is called after each round of the loop.
 *----------------------------------------------------------------------
 */
static void
Measure(Report *r, void (*pump)(void), uint64_t (*nextWake)(void))
{
    uint64_t  start = NowNs(), warmEnd = start + SecondsToNs(load.opt.warmup), end;
    long long cpu0;
    double    client0;

    while (NowNs() < warmEnd) {
        Poll(nextWake != NULL ? nextWake() : 10 * 1000000u);
        if (pump != NULL) {
            pump();
        }
    }
    cpu0 = ProcCpuTicks(load.opt.pid);
    client0 = ClientCpuSeconds();
    load.tStart = NowNs();
    end = load.tStart + SecondsToNs(load.opt.duration);
    while (NowNs() < end) {
        uint64_t wake = (nextWake != NULL) ? nextWake() : 10 * 1000000u;
        uint64_t left = end - NowNs();

        Poll(wake < left ? wake : left);
        if (pump != NULL) {
            pump();
        }
    }
    load.tEnd = NowNs();
    r->cpuTicks = (cpu0 >= 0) ? ProcCpuTicks(load.opt.pid) - cpu0 : -1;
    r->clientCpu = ClientCpuSeconds() - client0;
    r->seconds = (double)(load.tEnd - load.tStart) / 1e9;
}

/*
 *----------------------------------------------------------------------
 * Modes --
 *----------------------------------------------------------------------
 */
static int
RunEcho(void)
{
    Report   r = {0};
    uint64_t deadline;
    int      open;

    load.sending = false;
    open = OpenAll(0, load.opt.conns, ROLE_ECHO, NowNs() + SecondsToNs(load.opt.openTimeout));
    if (open < load.opt.conns) {
        fprintf(stderr, "wsload: only %d of %d connections open: %s\n", open, load.opt.conns,
                load.firstError);
    }
    load.sending = true;
    for (int i = 0; i < load.nconns; i++) {
        Conn *c = &load.conns[i];

        if (c->fd >= 0 && c->state == ST_OPEN) {
            for (int k = 0; k < load.opt.inflight; k++) {
                SendMessage(c, 0);
                c->inflight++;
            }
            Flush(c);
        }
    }
    Measure(&r, NULL, NULL);
    load.sending = false;
    /* Let what is in flight come back (bounded), to count losses. */
    deadline = NowNs() + SecondsToNs(2.0);
    while (load.echoed < load.sent && NowNs() < deadline) {
        Poll(10 * 1000000u);
    }
    CloseAll();
    PrintReport(&r);
    return (load.measured > 0) ? 0 : 1;
}

static void
Publish(uint64_t seq)
{
    Conn *pub = &load.conns[load.pubIndex];

    if (pub->fd >= 0) {
        SendMessage(pub, seq);
    }
}

static void
PumpWindow(void)
{
    Conn *pub = &load.conns[load.pubIndex];
    int   n = 0;

    while (load.sending && load.nextSeq - load.oldest < (uint64_t)load.opt.window && n < 4096) {
        Publish(load.nextSeq++);
        if (load.tStart != 0 && load.tEnd == 0) {
            load.published++;
        }
        n++;
    }
    if (n > 0) {
        Flush(pub);
    }
}

static uint64_t rateStart;

/*
 * At a fixed rate a server that cannot keep up falls behind without end.  Past
 * half a second of backlog the publisher stops: the latency is unbounded, and
 * the server is not left with minutes of work for the next test.
 */
static void
CheckLag(void)
{
    uint64_t now = NowNs(), oldest = UINT64_MAX, limit;

    if (now - load.lastLagCheck < 100 * 1000000u) {
        return;
    }
    load.lastLagCheck = now;
    for (int i = 0; i < load.opt.conns; i++) {
        if (load.conns[i].fd >= 0 && load.conns[i].expect < oldest) {
            oldest = load.conns[i].expect;
        }
    }
    limit = (uint64_t)(load.opt.rate * 0.5) + 10;
    if (oldest != UINT64_MAX && load.nextSeq > oldest + limit) {
        load.overloaded = true;
        load.sending = false;
    }
}

static void
PumpRate(void)
{
    Conn    *pub = &load.conns[load.pubIndex];
    uint64_t due = (uint64_t)((double)(NowNs() - rateStart) * load.opt.rate / 1e9) + 1;
    int      n = 0;

    CheckLag();
    while (load.sending && load.nextSeq < due && n < 4096) {
        Publish(load.nextSeq++);
        if (load.tStart != 0 && load.tEnd == 0) {
            load.published++;
        }
        n++;
    }
    if (n > 0) {
        Flush(pub);
    }
}

static uint64_t
RateWake(void)
{
    uint64_t next = rateStart + (uint64_t)((double)load.nextSeq * 1e9 / load.opt.rate);
    uint64_t now = NowNs();

    return (next > now) ? next - now : 0;
}

static int
RunFanout(void)
{
    Report   r = {0};
    int      subs = load.opt.conns, open;
    uint64_t deadline;
    Conn    *pub;

    load.pubIndex = subs;
    open = OpenAll(0, subs, ROLE_SUB, NowNs() + SecondsToNs(load.opt.openTimeout));
    if (open < subs) {
        fprintf(stderr, "wsload: only %d of %d subscribers open: %s\n", open, subs,
                load.firstError);
    }
    if (OpenAll(subs, 1, ROLE_PUB, NowNs() + SecondsToNs(10)) != 1) {
        fprintf(stderr, "wsload: the publisher did not connect: %s\n", load.firstError);
        return 2;
    }
    pub = &load.conns[load.pubIndex];

    /*
     * Sync: publish sync messages until every subscriber got one, so that
     * the server has them all subscribed before anything is measured.
     */
    deadline = NowNs() + SecondsToNs(10 + subs / 1000);
    while (load.synced < load.subsAlive && NowNs() < deadline && pub->fd >= 0) {
        uint64_t until = NowNs() + 20 * 1000000u;

        Publish(SYNC_SEQ);
        Flush(pub);
        while (NowNs() < until && load.synced < load.subsAlive) {
            Poll(5 * 1000000u);
        }
    }
    if (load.synced < load.subsAlive) {
        fprintf(stderr, "wsload: only %d of %d subscribers got a message\n", load.synced,
                load.subsAlive);
    }
    /* Drain the sync messages still in flight. */
    deadline = NowNs() + SecondsToNs(0.2);
    while (NowNs() < deadline) {
        Poll(5 * 1000000u);
    }
    for (int i = 0; i < subs; i++) {
        load.conns[i].expect = 1;
    }
    load.nextSeq = load.oldest = 1;
    load.sending = true;
    rateStart = NowNs();
    if (load.opt.rate > 0) {
        Measure(&r, PumpRate, RateWake);
    } else {
        PumpWindow();
        Measure(&r, PumpWindow, NULL);
    }
    load.sending = false;
    /* Wait for the last message at every subscriber (bounded), then count losses. */
    deadline = NowNs() + SecondsToNs(3.0);
    for (;;) {
        bool all = true;

        for (int i = 0; i < subs && all; i++) {
            all = (load.conns[i].fd < 0 || load.conns[i].expect >= load.nextSeq);
        }
        if (all || NowNs() >= deadline) {
            break;
        }
        Poll(10 * 1000000u);
    }
    for (int i = 0; i < subs; i++) {
        if (load.conns[i].expect < load.nextSeq) {
            load.lost += load.nextSeq - load.conns[i].expect;
        }
    }
    CloseAll();
    PrintReport(&r);
    return (load.measured > 0) ? 0 : 1;
}

static void
PumpConnect(void)
{
    for (int i = 0; i < load.nconns; i++) {
        if (load.conns[i].fd < 0 && load.sending) {
            (void)Open(&load.conns[i], ROLE_CONNECT);
        }
    }
}

static int
RunConnect(void)
{
    Report   r = {0};
    uint64_t deadline;

    load.sending = true;
    PumpConnect();
    Measure(&r, PumpConnect, NULL);
    load.sending = false;
    deadline = NowNs() + SecondsToNs(2.0);
    while (load.opening + load.openConns > 0 && NowNs() < deadline) {
        Poll(10 * 1000000u);
    }
    CloseAll();
    PrintReport(&r);
    return (load.measured > 0) ? 0 : 1;
}

static int
RunIdle(void)
{
    Report   r = {0};
    uint64_t start, end;
    double   client0 = ClientCpuSeconds();

    r.rssBefore = ProcRssKb(load.opt.pid);
    start = NowNs();
    r.held = OpenAll(0, load.opt.conns, ROLE_IDLE, start + SecondsToNs(load.opt.openTimeout));
    if (r.held < load.opt.conns) {
        fprintf(stderr, "wsload: %d of %d connections open: %s\n", r.held, load.opt.conns,
                load.firstError);
    }
    end = NowNs() + SecondsToNs(load.opt.hold);
    while (NowNs() < end) {
        Poll(50 * 1000000u);
    }
    r.rssAfter = ProcRssKb(load.opt.pid);
    r.held = load.openConns;     /* those still open after the hold */
    r.seconds = (double)(NowNs() - start) / 1e9;
    CloseAll();
    r.clientCpu = ClientCpuSeconds() - client0;
    r.cpuTicks = -1;
    PrintReport(&r);
    return (r.held > 0) ? 0 : 1;
}

/*
 *----------------------------------------------------------------------
 * main --
 *----------------------------------------------------------------------
 */
static void
Usage(void)
{
    fprintf(stderr,
        "usage: wsload echo|fanout|connect|idle ?options?\n"
        "  --host A        server address (127.0.0.1)\n"
        "  --port P        server port (fanout: subscribers' port)\n"
        "  --pub-port P    fanout: publisher's port (default --port)\n"
        "  --path U        URL path (echo, connect, idle)\n"
        "  --sub-path U    fanout: subscribers' path   --pub-path U  publisher's path\n"
        "  --raw           the baseline's protocol: records, no handshake or framing\n"
        "  -c N            connections (echo, connect: at a time; idle, fanout: subscribers)\n"
        "  -p N            echo: messages in flight per connection (1)\n"
        "  -s N            message bytes, >= 16 (64)\n"
        "  -d S            seconds measured (5)     --warmup S  seconds before (0.5)\n"
        "  --rate R        fanout: messages/s (default: as fast as --window allows)\n"
        "  --window W      fanout: messages not yet delivered everywhere (16)\n"
        "  --hold S        idle: seconds to hold (3)\n"
        "  --sources K     spread over K source addresses 127.0.0.x (0: automatic)\n"
        "  --source-first X   first x of 127.0.0.x (2)\n"
        "  --pid PID       server process: report its CPU and RSS\n"
        "  --open-timeout S  seconds to open all connections (30 + N/1000)\n"
        "  --label L       copied into the JSON line\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    static const struct option longOpts[] = {
        {"host", required_argument, NULL, 'H'},     {"port", required_argument, NULL, 'P'},
        {"pub-port", required_argument, NULL, 'Q'}, {"path", required_argument, NULL, 'U'},
        {"sub-path", required_argument, NULL, 'S'}, {"pub-path", required_argument, NULL, 'T'},
        {"raw", no_argument, NULL, 'r'},            {"rate", required_argument, NULL, 'R'},
        {"window", required_argument, NULL, 'w'},   {"hold", required_argument, NULL, 'h'},
        {"sources", required_argument, NULL, 'k'},  {"source-first", required_argument, NULL, 'f'},
        {"pid", required_argument, NULL, 'i'},      {"warmup", required_argument, NULL, 'W'},
        {"label", required_argument, NULL, 'L'},    {"open-timeout", required_argument, NULL, 'O'},
        {NULL, 0, NULL, 0}
    };
    Options *o = &load.opt;
    int      ch, result;
    unsigned bound;

    if (argc < 2) {
        Usage();
    }
    if (strcmp(argv[1], "echo") == 0) {
        o->mode = MODE_ECHO;
    } else if (strcmp(argv[1], "fanout") == 0) {
        o->mode = MODE_FANOUT;
    } else if (strcmp(argv[1], "connect") == 0) {
        o->mode = MODE_CONNECT;
    } else if (strcmp(argv[1], "idle") == 0) {
        o->mode = MODE_IDLE;
    } else {
        Usage();
    }
    o->host = "127.0.0.1";
    o->port = 8080;
    o->path = "/bench/echo";
    o->subPath = "/bench/sub";
    o->pubPath = "/bench/pub";
    o->conns = (o->mode == MODE_CONNECT) ? 16 : (o->mode == MODE_ECHO) ? 100 : 1000;
    o->inflight = 1;
    o->size = 64;
    o->duration = 5.0;
    o->warmup = 0.5;
    o->window = 16;
    o->hold = 3.0;
    o->sourceFirst = 2;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "c:p:s:d:", longOpts, NULL)) != -1) {
        switch (ch) {
        case 'H': o->host = optarg; break;
        case 'P': o->port = atoi(optarg); break;
        case 'Q': o->pubPort = atoi(optarg); break;
        case 'U': o->path = optarg; break;
        case 'S': o->subPath = optarg; break;
        case 'T': o->pubPath = optarg; break;
        case 'r': o->raw = true; break;
        case 'R': o->rate = atof(optarg); break;
        case 'w': o->window = atoi(optarg); break;
        case 'h': o->hold = atof(optarg); break;
        case 'k': o->sources = atoi(optarg); break;
        case 'f': o->sourceFirst = atoi(optarg); break;
        case 'i': o->pid = (pid_t)atoi(optarg); break;
        case 'W': o->warmup = atof(optarg); break;
        case 'L': o->label = optarg; break;
        case 'O': o->openTimeout = atof(optarg); break;
        case 'c': o->conns = atoi(optarg); break;
        case 'p': o->inflight = atoi(optarg); break;
        case 's': o->size = atoi(optarg); break;
        case 'd': o->duration = atof(optarg); break;
        default: Usage();
        }
    }
    if (o->pubPort == 0) {
        o->pubPort = o->port;
    }
    if (o->openTimeout == 0) {
        o->openTimeout = 30.0 + o->conns / 1000;
    }
    if (o->size < 16 || o->size > SCRATCH_SIZE / 4 || o->conns < 1 || o->conns > 1000000
        || o->inflight < 1 || o->inflight > 4096 || o->window < 1 || o->window > 1 << 20
        || o->duration <= 0 || o->duration > 600 || o->hold < 0 || o->hold > 3600
        || o->warmup < 0 || o->warmup > 60 || o->rate < 0 || o->rate > 1e7
        || o->openTimeout < 0 || o->openTimeout > 600
        || o->sources < 0 || o->sources > 250 || o->sourceFirst < 1
        || o->sourceFirst + o->sources > 255) {
        Die("%s", "an option is out of range");
    }
    if (strncmp(o->host, "127.", 4) != 0) {
        Die("loopback only: \"%s\" is not in 127.0.0.0/8", o->host);
    }
    if (o->sources == 0) {
        /* Spread over addresses when one address's ports would not do. */
        int total = o->conns + 1;

        o->sources = (o->mode == MODE_CONNECT) ? 4
            : (total > PORTS_PER_SOURCE) ? (total + PORTS_PER_SOURCE - 1) / PORTS_PER_SOURCE : 0;
    }

    /* Everything is bounded; this is the last resort if something is not. */
    bound = (unsigned)(o->warmup + o->duration + o->hold + 2 * o->openTimeout) + 30u;
    alarm(bound);
    signal(SIGPIPE, SIG_IGN);

    load.rng = (uint64_t)NowNs() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
    load.epfd = epoll_create1(EPOLL_CLOEXEC);
    load.nconns = o->conns + 1;
    load.conns = calloc((size_t)load.nconns, sizeof(Conn));
    load.scratch = malloc(SCRATCH_SIZE);
    load.filler = malloc((size_t)o->size);
    load.ring = calloc((size_t)o->window, sizeof(uint32_t));
    if (load.epfd < 0 || load.conns == NULL || load.scratch == NULL || load.filler == NULL
        || load.ring == NULL) {
        Die("%s", "cannot set up (memory or epoll)");
    }
    memset(load.filler, 'x', (size_t)o->size);
    for (int i = 0; i < load.nconns; i++) {
        load.conns[i].fd = -1;
    }
    if (o->mode == MODE_CONNECT) {
        load.nconns = o->conns;
    }

    switch (o->mode) {
    case MODE_ECHO:    result = RunEcho(); break;
    case MODE_FANOUT:  result = RunFanout(); break;
    case MODE_CONNECT: result = RunConnect(); break;
    default:           result = RunIdle(); break;
    }
    return result;
}
