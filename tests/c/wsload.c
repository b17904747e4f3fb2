/*
 * wsload.c --
 *
 *      A WebSocket load client for the multicast tests: it opens N
 *      connections to one URL with epoll (Tcl's notifier cannot watch a
 *      thousand sockets), upgrades them, and accounts for every message
 *      the server multicasts to them.  Message i is the text "i" followed
 *      by any number of "x"; each connection must get 0, 1, ... M-1 in
 *      order.  The first K connections may be slow consumers: they read
 *      nothing until the others have all M messages, then they read what
 *      was kept for them (increasing indexes, not necessarily all), and a
 *      ping of theirs tells where that ends: its pong, or the server's
 *      close (1008), or the end of the connection.
 *
 *      Usage: wsload -port P -path /page?query -n N -messages M
 *                    ?-slow K? ?-slowpath /page?query? ?-timeout SECONDS?
 *                    ?-parallel P?
 *
 *      The slow consumers upgrade with -slowpath when it is given (their
 *      own options), the others with -path.
 *
 *      It talks to the test on stdout, one line per step:
 *          ready N                      all connections upgraded: multicast now
 *          done fast=F messages=T errors=E
 *          slow I messages=C ordered=0|1 end=pong|close CODE|eof
 *          closed C                     connections that ended with the close
 *                                       handshake (close 1000 echoed, then EOF)
 *          error I: what                the first errors, then "errors E"
 *      and exits 0 when nothing went wrong, 1 on errors, 2 on the timeout.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KEY        "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define MAX_ERRORS 10

typedef enum {
    CONN_IDLE,          /* not connected yet */
    CONN_CONNECTING,    /* connect() in progress */
    CONN_HANDSHAKE,     /* request sent, waiting for the 101 */
    CONN_OPEN,          /* a WebSocket */
    CONN_CLOSING,       /* our close is out, waiting for the server's and EOF */
    CONN_DONE           /* the socket is closed */
} ConnState;

typedef struct Conn {
    int       index;        /* 0 .. N-1 */
    int       fd;
    ConnState state;
    bool      slow;         /* reads nothing until the fast ones are done */
    bool      reading;      /* EPOLLIN is on */
    char     *buf;          /* bytes read, not parsed yet */
    size_t    len, size;
    long      next;         /* smallest index the next message may have */
    long      count;        /* messages received */
    bool      ordered;      /* every message had the expected index */
    int       closeCode;    /* the server's close: 0 none yet, -1 without a code */
    bool      pong;         /* the pong of our drain ping came */
    bool      eof;
    bool      closeEchoed;  /* our close 1000 was answered with 1000 */
} Conn;

static Conn *conns;
static int   nconns, nslow, epfd, errors;
static long  messages;
static bool  slowPhase;     /* the fast ones are done, the slow ones read */

/*
 *----------------------------------------------------------------------
 * Fail --
 *
 *      Count an error; report the first few.
 *----------------------------------------------------------------------
 */
static void
Fail(const Conn *connPtr, const char *fmt, ...)
{
    va_list ap;

    if (++errors <= MAX_ERRORS) {
        printf("error %d: ", connPtr->index);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
    }
}

/*
 *----------------------------------------------------------------------
 * Now --
 *
 *      Monotonic milliseconds.
 *----------------------------------------------------------------------
 */
static long
Now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 *----------------------------------------------------------------------
 * Watch --
 *
 *      Set the epoll events of a connection (0: none).
 *----------------------------------------------------------------------
 */
static void
Watch(Conn *connPtr, uint32_t events)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.ptr = connPtr;
    connPtr->reading = (events & EPOLLIN) != 0;
    (void)epoll_ctl(epfd, EPOLL_CTL_MOD, connPtr->fd, &ev);
}

/*
 *----------------------------------------------------------------------
 * Finish --
 *
 *      Close the socket of a connection.
 *----------------------------------------------------------------------
 */
static void
Finish(Conn *connPtr)
{
    if (connPtr->state != CONN_DONE) {
        (void)epoll_ctl(epfd, EPOLL_CTL_DEL, connPtr->fd, NULL);
        close(connPtr->fd);
        connPtr->state = CONN_DONE;
    }
}

/*
 *----------------------------------------------------------------------
 * SendFrame --
 *
 *      Send a small masked frame (a client's control frames).  The
 *      socket takes it whole: it is tiny and nothing else is sent.
 *----------------------------------------------------------------------
 */
static void
SendFrame(Conn *connPtr, int opcode, const char *payload, size_t len)
{
    static const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
    uint8_t              frame[6 + 125];

    frame[0] = (uint8_t)(0x80 | opcode);
    frame[1] = (uint8_t)(0x80 | len);
    memcpy(frame + 2, mask, 4);
    for (size_t i = 0; i < len; i++) {
        frame[6 + i] = (uint8_t)payload[i] ^ mask[i % 4];
    }
    if (send(connPtr->fd, frame, 6 + len, MSG_NOSIGNAL) != (ssize_t)(6 + len)) {
        Fail(connPtr, "send: %s", strerror(errno));
    }
}

/*
 *----------------------------------------------------------------------
 * StartConnect --
 *
 *      Begin a non-blocking connect; slow consumers get a small receive
 *      buffer, so that the server's queue fills up soon.
 *----------------------------------------------------------------------
 */
static void
StartConnect(Conn *connPtr, const struct sockaddr_in *addrPtr)
{
    struct epoll_event ev;
    int                fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

    if (fd < 0) {
        Fail(connPtr, "socket: %s", strerror(errno));
        connPtr->state = CONN_DONE;
        return;
    }
    if (connPtr->slow) {
        int rcvbuf = 4096;

        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    }
    connPtr->fd = fd;
    connPtr->state = CONN_CONNECTING;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLOUT;
    ev.data.ptr = connPtr;
    (void)epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    if (connect(fd, (const struct sockaddr *)addrPtr, sizeof(*addrPtr)) < 0
        && errno != EINPROGRESS) {
        Fail(connPtr, "connect: %s", strerror(errno));
        Finish(connPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * CheckMessage --
 *
 *      A text message from the server: "i" then "x"s, i in order.
 *----------------------------------------------------------------------
 */
static void
CheckMessage(Conn *connPtr, const char *data, size_t len)
{
    long   index = 0;
    size_t i = 0;

    while (i < len && data[i] >= '0' && data[i] <= '9') {
        index = index * 10 + (data[i++] - '0');
    }
    if (i == 0) {
        Fail(connPtr, "message without an index: \"%.*s\"", (int)(len < 40 ? len : 40), data);
        return;
    }
    while (i < len && data[i] == 'x') {
        i++;
    }
    if (i != len) {
        Fail(connPtr, "message %ld: unexpected byte at %zu", index, i);
    }
    if (connPtr->slow ? index < connPtr->next : index != connPtr->next) {
        connPtr->ordered = false;
        Fail(connPtr, "message %ld where %ld was due", index, connPtr->next);
    }
    connPtr->next = index + 1;
    connPtr->count++;
}

/*
 *----------------------------------------------------------------------
 * ParseFrames --
 *
 *      Handle the whole frames in a connection's buffer.
 *----------------------------------------------------------------------
 */
static void
ParseFrames(Conn *connPtr)
{
    size_t pos = 0;

    while (connPtr->len - pos >= 2) {
        const uint8_t *p = (const uint8_t *)connPtr->buf + pos;
        size_t         avail = connPtr->len - pos, hlen = 2;
        uint64_t       plen = p[1] & 0x7f;
        int            opcode = p[0] & 0x0f;

        if ((p[1] & 0x80) != 0 || (p[0] & 0x70) != 0 || (p[0] & 0x80) == 0) {
            Fail(connPtr, "unexpected frame header %02x %02x", p[0], p[1]);
            connPtr->len = 0;
            Finish(connPtr);
            return;
        }
        if (plen == 126) {
            if (avail < 4) {
                break;
            }
            plen = ((uint64_t)p[2] << 8) | p[3];
            hlen = 4;
        } else if (plen == 127) {
            if (avail < 10) {
                break;
            }
            plen = 0;
            for (int i = 0; i < 8; i++) {
                plen = (plen << 8) | p[2 + i];
            }
            hlen = 10;
        }
        if (avail < hlen + plen) {
            break;
        }
        {
            const char *payload = (const char *)p + hlen;

            switch (opcode) {
            case 1:
                CheckMessage(connPtr, payload, (size_t)plen);
                break;
            case 9:
                if (connPtr->state == CONN_OPEN) {
                    SendFrame(connPtr, 10, payload, (size_t)plen);
                }
                break;
            case 10:
                if (plen == 5 && memcmp(payload, "drain", 5) == 0) {
                    connPtr->pong = true;
                }
                break;
            case 8:
                connPtr->closeCode = (plen >= 2)
                    ? (((uint8_t)payload[0] << 8) | (uint8_t)payload[1]) : -1;
                if (connPtr->state == CONN_CLOSING) {
                    connPtr->closeEchoed = (connPtr->closeCode == 1000);
                } else {
                    /* Answer the server's close, as a client must. */
                    SendFrame(connPtr, 8, payload, plen >= 2 ? 2 : 0);
                    connPtr->state = CONN_CLOSING;
                }
                break;
            default:
                Fail(connPtr, "unexpected opcode %d", opcode);
                break;
            }
        }
        pos += hlen + (size_t)plen;
    }
    memmove(connPtr->buf, connPtr->buf + pos, connPtr->len - pos);
    connPtr->len -= pos;
}

/*
 *----------------------------------------------------------------------
 * ReadHandshake --
 *
 *      The 101 response is in the buffer: check it, keep what follows.
 *
 * Results:
 *      true when the connection is now a WebSocket.
 *----------------------------------------------------------------------
 */
static bool
ReadHandshake(Conn *connPtr)
{
    char  *end;
    size_t headLen;

    connPtr->buf[connPtr->len] = '\0';
    end = strstr(connPtr->buf, "\r\n\r\n");
    if (end == NULL) {
        return false;
    }
    headLen = (size_t)(end + 4 - connPtr->buf);
    *end = '\0';
    if (strncmp(connPtr->buf, "HTTP/1.1 101 ", 13) != 0
        || strstr(connPtr->buf, "Sec-WebSocket-Accept: " ACCEPT) == NULL) {
        Fail(connPtr, "handshake refused: %.40s", connPtr->buf);
        Finish(connPtr);
        return false;
    }
    memmove(connPtr->buf, connPtr->buf + headLen, connPtr->len - headLen);
    connPtr->len -= headLen;
    connPtr->state = CONN_OPEN;
    return true;
}

/*
 *----------------------------------------------------------------------
 * ReadInput --
 *
 *      Read what a readable connection has (a bounded amount per call,
 *      so that no connection holds up the others).
 *----------------------------------------------------------------------
 */
static void
ReadInput(Conn *connPtr)
{
    for (int round = 0; round < 16 && connPtr->state != CONN_DONE; round++) {
        ssize_t n;

        if (connPtr->size - connPtr->len < 65536) {
            connPtr->size = connPtr->size * 2 + 65536;
            connPtr->buf = realloc(connPtr->buf, connPtr->size + 1);
            if (connPtr->buf == NULL) {
                fprintf(stderr, "wsload: out of memory\n");
                exit(1);
            }
        }
        n = recv(connPtr->fd, connPtr->buf + connPtr->len, connPtr->size - connPtr->len, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            connPtr->eof = true;
            Finish(connPtr);
            return;
        }
        if (n < 0) {
            return;
        }
        connPtr->len += (size_t)n;
        if (connPtr->state == CONN_HANDSHAKE && !ReadHandshake(connPtr)) {
            continue;
        }
        if (connPtr->state == CONN_OPEN && connPtr->slow && !slowPhase) {
            /* A slow consumer: stop reading right after the upgrade. */
            Watch(connPtr, 0);
            return;
        }
        ParseFrames(connPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * main --
 *----------------------------------------------------------------------
 */
int
main(int argc, char **argv)
{
    const char        *path = "/", *slowPath = NULL;
    int                port = 0, parallel = 50, timeout = 30, phase = 0, started = 0;
    struct sockaddr_in addr;
    char               request[2048], slowRequest[2048];
    long               deadline;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-port") == 0) {
            port = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "-path") == 0) {
            path = argv[i + 1];
        } else if (strcmp(argv[i], "-n") == 0) {
            nconns = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "-messages") == 0) {
            messages = atol(argv[i + 1]);
        } else if (strcmp(argv[i], "-slowpath") == 0) {
            slowPath = argv[i + 1];
        } else if (strcmp(argv[i], "-slow") == 0) {
            nslow = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "-timeout") == 0) {
            timeout = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "-parallel") == 0) {
            parallel = atoi(argv[i + 1]);
        }
    }
    if (port <= 0 || nconns <= 0 || nslow > nconns || parallel <= 0) {
        fprintf(stderr, "usage: wsload -port P -path /page -n N -messages M ?-slow K?"
                " ?-slowpath /page? ?-timeout SECONDS? ?-parallel P?\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
             "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n", path, port);
    snprintf(slowRequest, sizeof(slowRequest), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
             "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n", slowPath != NULL ? slowPath : path, port);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    conns = calloc((size_t)nconns, sizeof(Conn));
    epfd = epoll_create1(0);
    for (int i = 0; i < nconns; i++) {
        conns[i].index = i;
        conns[i].fd = -1;
        conns[i].slow = (i < nslow);
        conns[i].ordered = true;
    }
    deadline = Now() + timeout * 1000L;

    /*
     * Phases: 0 upgrading (at most "parallel" handshakes at a time, so the
     * listen backlog never overflows), 1 counting the multicast, 2 the slow
     * consumers read, 3 closing.
     */
    while (phase < 4) {
        struct epoll_event events[256];
        int                n, pending = 0, open = 0, fastDone = 0, slowDone = 0, live = 0;

        for (int i = 0; i < nconns; i++) {
            Conn *c = &conns[i];

            pending += (c->state == CONN_CONNECTING || c->state == CONN_HANDSHAKE);
            open += (c->state == CONN_OPEN);
            fastDone += (!c->slow && (c->count >= messages || c->state == CONN_DONE));
            slowDone += (c->slow && (c->pong || c->closeCode != 0 || c->state == CONN_DONE));
            live += (c->state != CONN_DONE && c->state != CONN_IDLE);
        }
        if (phase == 0) {
            while (pending < parallel && started < nconns) {
                StartConnect(&conns[started++], &addr);
                pending++;
            }
            if (started == nconns && pending == 0) {
                printf("ready %d\n", open);
                phase = 1;
                continue;
            }
        } else if (phase == 1 && fastDone == nconns - nslow) {
            long total = 0;

            for (int i = 0; i < nconns; i++) {
                total += conns[i].slow ? 0 : conns[i].count;
            }
            printf("done fast=%d messages=%ld errors=%d\n", nconns - nslow, total, errors);
            phase = 2;
            slowPhase = true;
            for (int i = 0; i < nslow; i++) {
                if (conns[i].state == CONN_OPEN) {
                    Watch(&conns[i], EPOLLIN);
                    SendFrame(&conns[i], 9, "drain", 5);
                    ParseFrames(&conns[i]);
                }
            }
            continue;
        } else if (phase == 2 && slowDone == nslow) {
            for (int i = 0; i < nslow; i++) {
                const Conn *c = &conns[i];
                char        end[32];

                if (c->pong) {
                    snprintf(end, sizeof(end), "pong");
                } else if (c->closeCode != 0) {
                    snprintf(end, sizeof(end), "close %d", c->closeCode);
                } else {
                    snprintf(end, sizeof(end), "eof");
                }
                printf("slow %d messages=%ld ordered=%d end=%s\n", i, c->count,
                       c->ordered ? 1 : 0, end);
            }
            for (int i = 0; i < nconns; i++) {
                if (conns[i].state == CONN_OPEN) {
                    SendFrame(&conns[i], 8, "\x03\xe8", 2);
                    conns[i].state = CONN_CLOSING;
                }
            }
            phase = 3;
            continue;
        } else if (phase == 3 && live == 0) {
            int closed = 0;

            for (int i = 0; i < nconns; i++) {
                closed += (conns[i].closeEchoed && conns[i].eof);
            }
            printf("closed %d\n", closed);
            phase = 4;
            continue;
        }
        if (Now() > deadline) {
            printf("timeout in phase %d: %d pending, %d open, %d fast done, %d slow done\n",
                   phase, pending, open, fastDone, slowDone);
            return 2;
        }
        n = epoll_wait(epfd, events, 256, 100);
        for (int i = 0; i < n; i++) {
            Conn *c = events[i].data.ptr;

            if (c->state == CONN_CONNECTING) {
                int       err = 0;
                socklen_t len = sizeof(err);

                (void)getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0) {
                    Fail(c, "connect: %s", strerror(err));
                    Finish(c);
                    continue;
                }
                const char *req = c->slow ? slowRequest : request;

                if (send(c->fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
                    Fail(c, "request: %s", strerror(errno));
                    Finish(c);
                    continue;
                }
                c->state = CONN_HANDSHAKE;
                Watch(c, EPOLLIN);
            } else if (c->state != CONN_DONE && c->reading) {
                ReadInput(c);
            }
        }
    }
    if (errors > MAX_ERRORS) {
        printf("errors %d\n", errors);
    }
    return errors > 0 ? 1 : 0;
}
