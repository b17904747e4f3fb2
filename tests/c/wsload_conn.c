/*
 * wsload_conn.c --
 *
 *      Connections of the load client: non-blocking sockets in one epoll
 *      set, the upgrade (request, 101, Sec-WebSocket-Accept), the frames
 *      a client sends and receives, and the accounting of the messages
 *      that come ("i" followed by "x"s, i in order).  Also lines from
 *      stdin, through the same epoll set, for the modes the test drives
 *      step by step.  The modes (wsload_*.c) decide when connections open,
 *      read and end.
 */

#include "wsload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KEY         "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT      "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define READ_CHUNK  65536
#define READ_ROUNDS 16      /* reads per readable connection and event round */
#define MAX_EVENTS  256

Load load;

static struct sockaddr_in serverAddr;

/*
 *----------------------------------------------------------------------
 * LoadInit --
 *
 *      Set up a run: as many descriptors as the hard limit allows (the
 *      soft limit is often 1024), the epoll set, the connections.
 *----------------------------------------------------------------------
 */
void
LoadInit(const Options *optsPtr)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            fprintf(stderr, "wsload: setrlimit(RLIMIT_NOFILE, %llu): %s\n",
                    (unsigned long long)rl.rlim_max, strerror(errno));
        }
    }
    memset(&load, 0, sizeof(load));
    load.port = optsPtr->port;
    load.nconns = optsPtr->n;
    load.deadline = LoadNow() + optsPtr->timeout * 1000L;
    load.epfd = epoll_create1(EPOLL_CLOEXEC);
    load.conns = calloc((size_t)optsPtr->n, sizeof(Conn));
    if (load.epfd < 0 || load.conns == NULL) {
        fprintf(stderr, "wsload: cannot set up: %s\n", strerror(errno));
        exit(1);
    }
    memset(&serverAddr, 0, sizeof(serverAddr));
    serverAddr.sin_family = AF_INET;
    serverAddr.sin_port = htons((uint16_t)optsPtr->port);
    serverAddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < optsPtr->n; i++) {
        Conn *connPtr = &load.conns[i];

        connPtr->index = i;
        connPtr->session = -1;
        connPtr->fd = -1;
        connPtr->budget = -1;
        connPtr->first = -1;
        connPtr->ordered = true;
        ConnSetRequest(connPtr, optsPtr->path, -1);
    }
}

/*
 *----------------------------------------------------------------------
 * LoadFail --
 *
 *      Count an error; report the first few ("error SLOT: what").
 *----------------------------------------------------------------------
 */
void
LoadFail(const Conn *connPtr, const char *fmt, ...)
{
    va_list ap;

    if (++load.errors <= WSL_MAX_ERRORS) {
        if (connPtr != NULL) {
            printf("error %d: ", connPtr->index);
        } else {
            printf("error: ");
        }
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
    }
}

/*
 *----------------------------------------------------------------------
 * LoadFinishErrors --
 *
 *      The end of a run: the number of errors when not all were reported.
 *
 * Results:
 *      The exit status: 0 without errors, 1 with.
 *----------------------------------------------------------------------
 */
int
LoadFinishErrors(void)
{
    if (load.errors > WSL_MAX_ERRORS) {
        printf("errors %d\n", load.errors);
    }
    return load.errors > 0 ? 1 : 0;
}

/*
 *----------------------------------------------------------------------
 * LoadClosedNormally --
 *
 *      How many of the first n connections ended with the close handshake:
 *      our close 1000 answered with 1000, then the server's EOF.
 *----------------------------------------------------------------------
 */
int
LoadClosedNormally(int n)
{
    int closed = 0;

    for (int i = 0; i < n; i++) {
        closed += (load.conns[i].closeEchoed && load.conns[i].eof);
    }
    return closed;
}

/*
 *----------------------------------------------------------------------
 * LoadNow, LoadTimedOut --
 *
 *      Monotonic milliseconds; has the run's -timeout passed?
 *----------------------------------------------------------------------
 */
long
LoadNow(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
LoadTimedOut(void)
{
    return LoadNow() > load.deadline;
}

/*
 *----------------------------------------------------------------------
 * ConnPending, ConnLive --
 *
 *      Is the connection being opened?  Does it have a socket?
 *----------------------------------------------------------------------
 */
bool
ConnPending(const Conn *connPtr)
{
    return connPtr->state == CONN_CONNECTING || connPtr->state == CONN_HANDSHAKE;
}

bool
ConnLive(const Conn *connPtr)
{
    return connPtr->state != CONN_IDLE && connPtr->state != CONN_DONE;
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
    (void)epoll_ctl(load.epfd, EPOLL_CTL_MOD, connPtr->fd, &ev);
}

/*
 *----------------------------------------------------------------------
 * ConnSetRequest --
 *
 *      The upgrade request of a connection, for a path; a session number
 *      (>= 0) is added to its query as "session=N".
 *----------------------------------------------------------------------
 */
void
ConnSetRequest(Conn *connPtr, const char *path, long session)
{
    char query[32] = "";

    if (session >= 0) {
        snprintf(query, sizeof(query), "%csession=%ld", strchr(path, '?') ? '&' : '?', session);
    }
    snprintf(connPtr->request, sizeof(connPtr->request),
             "GET %s%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n", path, query, load.port);
}

/*
 *----------------------------------------------------------------------
 * ConnStart --
 *
 *      Begin a non-blocking connect, with the accounting of the messages
 *      started afresh.  A slow consumer may ask for a small receive
 *      buffer (rcvbuf), so that the server's queue fills up soon.
 *----------------------------------------------------------------------
 */
void
ConnStart(Conn *connPtr)
{
    struct epoll_event ev;
    int                fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    connPtr->len = 0;
    connPtr->first = -1;
    connPtr->next = 0;
    connPtr->count = 0;
    connPtr->ordered = true;
    connPtr->closeCode = 0;
    connPtr->pong = connPtr->eof = connPtr->reset = false;
    connPtr->closeEchoed = connPtr->closeSent = false;
    connPtr->abortOnInput = false;
    if (fd < 0) {
        LoadFail(connPtr, "socket: %s", strerror(errno));
        connPtr->state = CONN_DONE;
        return;
    }
    if (connPtr->rcvbuf > 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &connPtr->rcvbuf, sizeof(connPtr->rcvbuf));
    }
    connPtr->fd = fd;
    connPtr->state = CONN_CONNECTING;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLOUT;
    ev.data.ptr = connPtr;
    connPtr->reading = false;
    (void)epoll_ctl(load.epfd, EPOLL_CTL_ADD, fd, &ev);
    if (connect(fd, (const struct sockaddr *)&serverAddr, sizeof(serverAddr)) < 0
        && errno != EINPROGRESS) {
        LoadFail(connPtr, "connect: %s", strerror(errno));
        ConnFinish(connPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * ConnFinish --
 *
 *      Close the socket of a connection (without a close frame: that is
 *      the caller's to send first, if any).
 *----------------------------------------------------------------------
 */
void
ConnFinish(Conn *connPtr)
{
    if (connPtr->fd >= 0) {
        (void)epoll_ctl(load.epfd, EPOLL_CTL_DEL, connPtr->fd, NULL);
        close(connPtr->fd);
        connPtr->fd = -1;
    }
    connPtr->state = CONN_DONE;
    connPtr->reading = false;
}

/*
 *----------------------------------------------------------------------
 * ConnSend --
 *
 *      Send bytes the socket takes whole (small ones: a request, a frame
 *      of a client that sends little).
 *
 * Results:
 *      false (an error counted) when it did not.
 *----------------------------------------------------------------------
 */
bool
ConnSend(Conn *connPtr, const void *data, size_t len)
{
    ssize_t n = send(connPtr->fd, data, len, MSG_NOSIGNAL);

    if (n != (ssize_t)len) {
        LoadFail(connPtr, "send: %s", n < 0 ? strerror(errno) : "short write");
        return false;
    }
    return true;
}

/*
 *----------------------------------------------------------------------
 * WsEncodeFrame --
 *
 *      A masked frame as a client sends it, FIN set, payload up to 125
 *      bytes, into out (at least 6 + len bytes).
 *
 * Results:
 *      Its length.
 *----------------------------------------------------------------------
 */
size_t
WsEncodeFrame(uint8_t *out, int opcode, const char *payload, size_t len)
{
    static const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};

    out[0] = (uint8_t)(0x80 | opcode);
    out[1] = (uint8_t)(0x80 | len);
    memcpy(out + 2, mask, 4);
    for (size_t i = 0; i < len; i++) {
        out[6 + i] = (uint8_t)payload[i] ^ mask[i % 4];
    }
    return 6 + len;
}

/*
 *----------------------------------------------------------------------
 * ConnSendFrame --
 *
 *      Send a small masked frame (a client's control frames); a close
 *      frame is noted, so that the server's is taken as the answer.
 *----------------------------------------------------------------------
 */
void
ConnSendFrame(Conn *connPtr, int opcode, const char *payload, size_t len)
{
    uint8_t frame[6 + 125];

    if (ConnSend(connPtr, frame, WsEncodeFrame(frame, opcode, payload, len)) && opcode == 8) {
        connPtr->closeSent = true;
        connPtr->state = CONN_CLOSING;
    }
}

/*
 *----------------------------------------------------------------------
 * ConnSetBudget --
 *
 *      From now on an open connection may read budget bytes (< 0: any
 *      number); one that had stopped at 0 watches its socket again.
 *----------------------------------------------------------------------
 */
void
ConnSetBudget(Conn *connPtr, long budget)
{
    connPtr->budget = budget;
    if ((connPtr->state == CONN_OPEN || connPtr->state == CONN_CLOSING) && budget != 0
        && !connPtr->reading) {
        Watch(connPtr, EPOLLIN);
    }
}

/*
 *----------------------------------------------------------------------
 * CheckMessage --
 *
 *      A text message from the server: "i" then "x"s.  The first may have
 *      any index (with fromZero, 0); each one after it the next (or, with gapsAllowed, a
 *      greater one).
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
        LoadFail(connPtr, "message without an index: \"%.*s\"", (int)(len < 40 ? len : 40), data);
        return;
    }
    while (i < len && data[i] == 'x') {
        i++;
    }
    if (i != len) {
        LoadFail(connPtr, "message %ld: unexpected byte at %zu", index, i);
    }
    if (connPtr->closeCode != 0) {
        LoadFail(connPtr, "message %ld after the close frame", index);
    }
    if (connPtr->first < 0 && connPtr->fromZero && index != 0) {
        connPtr->ordered = false;
        LoadFail(connPtr, "message %ld came first", index);
    }
    if (connPtr->first < 0) {
        connPtr->first = index;
    } else if (connPtr->gapsAllowed ? index < connPtr->next : index != connPtr->next) {
        connPtr->ordered = false;
        LoadFail(connPtr, "session %ld: message %ld where %ld was due", connPtr->session, index,
                 connPtr->next);
    }
    connPtr->next = index + 1;
    connPtr->count++;
}

/*
 *----------------------------------------------------------------------
 * ConnParse --
 *
 *      Handle the whole frames in a connection's buffer.  A ping is
 *      answered; the server's close frame is noted and answered (unless
 *      it answers ours).
 *----------------------------------------------------------------------
 */
void
ConnParse(Conn *connPtr)
{
    size_t pos = 0;

    while (connPtr->len - pos >= 2 && connPtr->state != CONN_DONE) {
        const uint8_t *p = (const uint8_t *)connPtr->buf + pos;
        size_t         avail = connPtr->len - pos, hlen = 2;
        uint64_t       plen = p[1] & 0x7f;
        int            opcode = p[0] & 0x0f;
        const char    *payload;

        if ((p[1] & 0x80) != 0 || (p[0] & 0x70) != 0 || (p[0] & 0x80) == 0) {
            LoadFail(connPtr, "unexpected frame header %02x %02x", p[0], p[1]);
            connPtr->len = 0;
            ConnFinish(connPtr);
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
        payload = (const char *)p + hlen;
        switch (opcode) {
        case 1:
            CheckMessage(connPtr, payload, (size_t)plen);
            break;
        case 9:
            if (connPtr->state == CONN_OPEN) {
                ConnSendFrame(connPtr, 10, payload, (size_t)plen);
            }
            break;
        case 10:
            if (plen == 5 && memcmp(payload, "drain", 5) == 0) {
                connPtr->pong = true;
            }
            break;
        case 8:
            if (connPtr->closeCode != 0) {
                LoadFail(connPtr, "a second close frame");
            }
            connPtr->closeCode = (plen >= 2)
                ? (((uint8_t)payload[0] << 8) | (uint8_t)payload[1]) : -1;
            if (connPtr->closeSent) {
                connPtr->closeEchoed = (connPtr->closeCode == 1000);
            } else {
                /* Answer the server's close, as a client must. */
                ConnSendFrame(connPtr, 8, payload, plen >= 2 ? 2 : 0);
            }
            break;
        default:
            LoadFail(connPtr, "unexpected opcode %d", opcode);
            break;
        }
        pos += hlen + (size_t)plen;
    }
    if (connPtr->state != CONN_DONE) {
        memmove(connPtr->buf, connPtr->buf + pos, connPtr->len - pos);
        connPtr->len -= pos;
    }
}

/*
 *----------------------------------------------------------------------
 * ReadHandshake --
 *
 *      Is the 101 response in the buffer?  Check it, keep what follows.
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
        LoadFail(connPtr, "handshake refused: %.40s", connPtr->buf);
        ConnFinish(connPtr);
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
 *      Read what a readable connection has: a bounded amount per call,
 *      so that no connection holds up the others, and once it is open no
 *      more than its budget (it stops reading at 0).
 *----------------------------------------------------------------------
 */
static void
ReadInput(Conn *connPtr)
{
    for (int round = 0; round < READ_ROUNDS && connPtr->state != CONN_DONE; round++) {
        bool    open = (connPtr->state != CONN_HANDSHAKE);
        size_t  want;
        ssize_t n;

        if (open && connPtr->budget == 0) {
            Watch(connPtr, 0);
            return;
        }
        if (connPtr->size - connPtr->len < READ_CHUNK) {
            connPtr->size = connPtr->size * 2 + READ_CHUNK;
            connPtr->buf = realloc(connPtr->buf, connPtr->size + 1);
            if (connPtr->buf == NULL) {
                fprintf(stderr, "wsload: out of memory\n");
                exit(1);
            }
        }
        want = connPtr->size - connPtr->len;
        if (open && connPtr->budget > 0 && (size_t)connPtr->budget < want) {
            want = (size_t)connPtr->budget;
        }
        n = recv(connPtr->fd, connPtr->buf + connPtr->len, want, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            return;
        }
        if (n <= 0) {
            connPtr->eof = true;
            connPtr->reset = (n < 0);
            ConnFinish(connPtr);
            return;
        }
        connPtr->len += (size_t)n;
        if (open && connPtr->budget > 0) {
            connPtr->budget -= n;
        }
        if (connPtr->state == CONN_HANDSHAKE && !ReadHandshake(connPtr)) {
            continue;
        }
        ConnParse(connPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * Connected --
 *
 *      A connect finished: send the upgrade request.
 *----------------------------------------------------------------------
 */
static void
Connected(Conn *connPtr)
{
    int       err = 0;
    socklen_t len = sizeof(err);

    (void)getsockopt(connPtr->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
        LoadFail(connPtr, "connect: %s", strerror(err));
        ConnFinish(connPtr);
    } else if (!ConnSend(connPtr, connPtr->request, strlen(connPtr->request))) {
        ConnFinish(connPtr);
    } else {
        connPtr->state = CONN_HANDSHAKE;
        Watch(connPtr, EPOLLIN);
    }
}

/*
 *----------------------------------------------------------------------
 * LoadWatchInput, ReadStdin, LoadInputLine --
 *
 *      Lines from stdin, through the epoll set: a mode that waits for the
 *      test's word calls LoadInputLine after each LoadPoll.  At EOF it
 *      gets an empty line.
 *----------------------------------------------------------------------
 */
void
LoadWatchInput(void)
{
    struct epoll_event ev;

    if (!load.watchingInput) {
        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLIN;
        ev.data.ptr = NULL;
        load.watchingInput = (epoll_ctl(load.epfd, EPOLL_CTL_ADD, 0, &ev) == 0);
        if (!load.watchingInput) {
            fprintf(stderr, "wsload: cannot watch stdin: %s\n", strerror(errno));
            exit(1);
        }
    }
}

static void
ReadStdin(void)
{
    ssize_t n = read(0, load.input + load.inputLen, sizeof(load.input) - 1 - load.inputLen);

    if (n <= 0 && !(n < 0 && errno == EINTR)) {
        load.inputEof = true;
        (void)epoll_ctl(load.epfd, EPOLL_CTL_DEL, 0, NULL);
        load.watchingInput = false;
    } else if (n > 0) {
        load.inputLen += (size_t)n;
    }
}

bool
LoadInputLine(char *line, size_t size)
{
    char  *nl = memchr(load.input, '\n', load.inputLen);
    size_t len;

    if (nl == NULL) {
        if (!load.inputEof && load.inputLen < sizeof(load.input) - 1) {
            return false;
        }
        /* The end of stdin, or a line too long: take what there is. */
        len = load.inputLen;
    } else {
        len = (size_t)(nl - load.input);
    }
    snprintf(line, size, "%.*s", (int)len, load.input);
    if (nl != NULL) {
        len++;
    }
    memmove(load.input, load.input + len, load.inputLen - len);
    load.inputLen -= len;
    return true;
}

/*
 *----------------------------------------------------------------------
 * LoadPoll --
 *
 *      One round of the event loop, waiting up to ms: finished connects
 *      send their request, readable connections are read (or, with
 *      abortOnInput, closed unread).
 *
 * Results:
 *      The number of events.
 *----------------------------------------------------------------------
 */
int
LoadPoll(int ms)
{
    struct epoll_event events[MAX_EVENTS];
    int                n = epoll_wait(load.epfd, events, MAX_EVENTS, ms);

    for (int i = 0; i < n; i++) {
        Conn *connPtr = events[i].data.ptr;

        if (connPtr == NULL) {
            ReadStdin();
        } else if (connPtr->state == CONN_CONNECTING) {
            Connected(connPtr);
        } else if (connPtr->state != CONN_DONE && connPtr->abortOnInput) {
            /* Unread input makes the kernel answer close() with a reset. */
            int unread = 0;

            (void)ioctl(connPtr->fd, FIONREAD, &unread);
            connPtr->reset = (unread > 0);
            ConnFinish(connPtr);
        } else if (connPtr->state != CONN_DONE && connPtr->reading) {
            ReadInput(connPtr);
        }
    }
    return n < 0 ? 0 : n;
}
