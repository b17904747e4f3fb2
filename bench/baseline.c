/*
 * baseline.c --
 *
 *      The baseline server of "make bench": the same jobs as the WebSocket
 *      endpoints of the bench config, with no handshake and no framing, in
 *      one thread with one epoll loop and non-blocking sockets, as lean as
 *      C makes it.  It is the ceiling of this machine for the same traffic.
 *      Four listening ports on 127.0.0.1:
 *
 *        echo      every byte read is written back, as read
 *        sub       a fan-out subscriber: gets what publishers send; what it
 *                  sends is read and dropped
 *        pub       a fan-out publisher: whole records (--size bytes) are
 *                  copied to every subscriber, as many as one read brought
 *                  in one send per subscriber
 *        connect   read one record, write it back, close (the connect test)
 *
 *      A peer that does not take what it is sent is buffered for, up to
 *      MAX_QUEUED bytes, then dropped (the slow consumer rule).
 *
 *      --per-record makes echo and fan-out send each record with a send of
 *      its own, as a server that handles one message at a time must: not
 *      the ceiling, but the reference that shows what batching is worth.
 *
 *      Usage: baseline ?--port P? ?--size S? ?--per-record?
 *      With port P the ports are P..P+3; with 0 (the default) the kernel
 *      picks them.  It prints {"echo":P,"sub":P,"pub":P,"connect":P,"pid":N}
 *      on stdout when ready, and stops on SIGTERM or SIGINT.
 */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS  1024
#define READ_SIZE   (64 * 1024)
#define MAX_QUEUED  (16 * 1024 * 1024)

typedef enum { KIND_LISTEN, KIND_ECHO, KIND_SUB, KIND_PUB, KIND_CONNECT } Kind;

typedef struct Peer {
    int          fd;
    Kind         kind;
    Kind         listenKind;     /* KIND_LISTEN: what accepted sockets become */
    uint8_t     *out;            /* bytes the kernel did not take yet */
    size_t       outLen, outOff, outCap;
    uint8_t     *in;             /* pub: a partial record; connect: the record so far */
    size_t       inLen;
    bool         wantOut;        /* EPOLLOUT registered */
    bool         closeWhenSent;  /* connect: close once the reply is out */
    int          subIndex;       /* KIND_SUB: position in subs[], -1 when dropped */
} Peer;

static int                    epfd;
static volatile sig_atomic_t  stop = 0;
static size_t                 recordSize = 64;
static bool                   perRecord = false;   /* one send per record, not per read */
static Peer                 **subs = NULL;
static int                    nsubs = 0, subsSize = 0;
static uint8_t                readBuf[READ_SIZE];

static void
OnSignal(int sig)
{
    (void)sig;
    stop = 1;
}

static void
Watch(Peer *p, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = p};

    if (p->wantOut != out) {
        epoll_ctl(epfd, EPOLL_CTL_MOD, p->fd, &ev);
        p->wantOut = out;
    }
}

/*
 *----------------------------------------------------------------------
 * ClosePeer --
 *
 *      Close a connection and forget it (a subscriber leaves subs[]).
 *----------------------------------------------------------------------
 */
static void
Unsubscribe(Peer *p)
{
    if (p->kind == KIND_SUB && p->subIndex >= 0) {
        subs[p->subIndex] = subs[--nsubs];
        subs[p->subIndex]->subIndex = p->subIndex;
        p->subIndex = -1;
    }
}

static void
ClosePeer(Peer *p)
{
    Unsubscribe(p);
    close(p->fd);
    free(p->out);
    free(p->in);
    free(p);
}

/*
 *----------------------------------------------------------------------
 * Queue, Send --
 *
 *      Send bytes at once when nothing is queued, queue what the kernel
 *      does not take; false when the peer is gone or over MAX_QUEUED.
 *----------------------------------------------------------------------
 */
static bool
Queue(Peer *p, const uint8_t *data, size_t len)
{
    if (p->outLen - p->outOff + len > MAX_QUEUED) {
        return false;
    }
    if (p->outLen + len > p->outCap) {
        memmove(p->out, p->out + p->outOff, p->outLen - p->outOff);
        p->outLen -= p->outOff;
        p->outOff = 0;
        if (p->outLen + len > p->outCap) {
            p->outCap = (p->outLen + len) * 2;
            p->out = realloc(p->out, p->outCap);
            if (p->out == NULL) {
                return false;
            }
        }
    }
    memcpy(p->out + p->outLen, data, len);
    p->outLen += len;
    Watch(p, true);
    return true;
}

static bool
Send(Peer *p, const uint8_t *data, size_t len)
{
    if (p->outLen == p->outOff) {
        ssize_t n = send(p->fd, data, len, MSG_NOSIGNAL);

        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return false;
        }
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        }
    }
    return len == 0 || Queue(p, data, len);
}

static bool
FlushOut(Peer *p)
{
    while (p->outOff < p->outLen) {
        ssize_t n = send(p->fd, p->out + p->outOff, p->outLen - p->outOff, MSG_NOSIGNAL);

        if (n > 0) {
            p->outOff += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        } else {
            return false;
        }
    }
    p->outOff = p->outLen = 0;
    Watch(p, false);
    return !p->closeWhenSent;
}

/*
 *----------------------------------------------------------------------
 * Accept --
 *
 *      Take every pending connection of a listening socket (bounded).
 *----------------------------------------------------------------------
 */
static void
Accept(Peer *l)
{
    for (int i = 0; i < 256; i++) {
        int                fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        int                one = 1;
        Peer              *p;
        struct epoll_event ev;

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                fprintf(stderr, "baseline: accept: %s\n", strerror(errno));
            }
            return;
        }
        p = calloc(1, sizeof(Peer));
        if (p == NULL) {
            close(fd);
            return;
        }
        p->fd = fd;
        p->kind = l->listenKind;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        ev.events = EPOLLIN;
        ev.data.ptr = p;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            free(p);
            continue;
        }
        if (p->kind == KIND_SUB) {
            if (nsubs == subsSize) {
                subsSize = subsSize * 2 + 1024;
                subs = realloc(subs, sizeof(Peer *) * (size_t)subsSize);
            }
            p->subIndex = nsubs;
            subs[nsubs++] = p;
        }
    }
}

/*
 *----------------------------------------------------------------------
 * Publish --
 *
 *      Copy whole records to every subscriber, one send each; a subscriber
 *      that cannot keep up past MAX_QUEUED is dropped.
 *----------------------------------------------------------------------
 */
static void
Publish(const uint8_t *data, size_t len)
{
    for (int i = 0; i < nsubs;) {
        Peer *s = subs[i];

        if (Send(s, data, len)) {
            i++;
        } else {
            /*
             * Drop it; it is closed by its own event (which may be pending
             * in this very round), never here.
             */
            Unsubscribe(s);   /* moves the last subscriber to i */
            shutdown(s->fd, SHUT_RDWR);
        }
    }
}

/*
 *----------------------------------------------------------------------
 * Readable --
 *
 *      Read once (epoll is level-triggered) and do the peer's job.
 *
 * Results:
 *      false when the peer is to be closed.
 *----------------------------------------------------------------------
 */
static bool
Readable(Peer *p)
{
    size_t  have = 0;
    ssize_t n;

    if ((p->kind == KIND_PUB || (p->kind == KIND_ECHO && perRecord)) && p->inLen > 0) {
        memcpy(readBuf, p->in, p->inLen);
        have = p->inLen;
        p->inLen = 0;
    }
    n = recv(p->fd, readBuf + have, READ_SIZE - have, 0);
    if (n == 0) {
        return false;
    }
    if (n < 0) {
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
    have += (size_t)n;
    switch (p->kind) {
    case KIND_ECHO:
        if (!perRecord) {
            if (!Send(p, readBuf, have)) {
                return false;
            }
            break;
        }
        /* --per-record: whole records one by one, the rest kept as pub does. */
        {
            size_t whole = have - have % recordSize;

            for (size_t at = 0; at < whole; at += recordSize) {
                if (!Send(p, readBuf + at, recordSize)) {
                    return false;
                }
            }
            if (have > whole) {
                p->in = realloc(p->in, recordSize);
                memcpy(p->in, readBuf + whole, have - whole);
                p->inLen = have - whole;
            }
        }
        break;
    case KIND_PUB: {
        size_t whole = have - have % recordSize;

        for (size_t at = 0; at < whole; at += perRecord ? recordSize : whole) {
            Publish(readBuf + at, perRecord ? recordSize : whole);
        }
        if (have > whole) {
            p->in = realloc(p->in, recordSize);
            memcpy(p->in, readBuf + whole, have - whole);
            p->inLen = have - whole;
        }
        break;
    }
    case KIND_CONNECT:
        p->in = realloc(p->in, p->inLen + have);
        memcpy(p->in + p->inLen, readBuf, have);
        p->inLen += have;
        if (p->inLen >= recordSize) {
            p->closeWhenSent = true;
            if (!Send(p, p->in, recordSize)) {
                return false;
            }
            return p->outLen > p->outOff;    /* sent at once: close now */
        }
        break;
    default:
        break;     /* subscribers: read and dropped */
    }
    return true;
}

static int
Listen(int port, Kind kind, int *boundPort)
{
    struct sockaddr_in addr;
    socklen_t          alen = sizeof(addr);
    int                fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int                one = 1;
    Peer              *l;
    struct epoll_event ev;

    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 4096) != 0
        || getsockname(fd, (struct sockaddr *)&addr, &alen) != 0) {
        close(fd);
        return -1;
    }
    *boundPort = ntohs(addr.sin_port);
    l = calloc(1, sizeof(Peer));
    l->fd = fd;
    l->kind = KIND_LISTEN;
    l->listenKind = kind;
    ev.events = EPOLLIN;
    ev.data.ptr = l;
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    return 0;
}

int
main(int argc, char **argv)
{
    static const Kind kinds[] = {KIND_ECHO, KIND_SUB, KIND_PUB, KIND_CONNECT};
    int               port = 0, ports[4];
    struct sigaction  sa;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            recordSize = (size_t)atol(argv[++i]);
        } else if (strcmp(argv[i], "--per-record") == 0) {
            perRecord = true;
        } else {
            fprintf(stderr, "usage: baseline ?--port P? ?--size S? ?--per-record?\n");
            return 2;
        }
    }
    if (recordSize < 1 || recordSize > READ_SIZE / 2 || port < 0 || port > 65532) {
        fprintf(stderr, "baseline: --size or --port out of range\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = OnSignal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < 4; i++) {
        if (Listen(port > 0 ? port + i : 0, kinds[i], &ports[i]) != 0) {
            fprintf(stderr, "baseline: cannot listen: %s\n", strerror(errno));
            return 1;
        }
    }
    printf("{\"echo\":%d,\"sub\":%d,\"pub\":%d,\"connect\":%d,\"pid\":%d}\n", ports[0], ports[1],
           ports[2], ports[3], (int)getpid());
    fflush(stdout);

    while (!stop) {
        struct epoll_event events[MAX_EVENTS];
        int                n = epoll_wait(epfd, events, MAX_EVENTS, 200);

        for (int i = 0; i < n; i++) {
            Peer *p = events[i].data.ptr;
            bool  keep = true;

            if (p->kind == KIND_LISTEN) {
                Accept(p);
                continue;
            }
            if (events[i].events & EPOLLOUT) {
                keep = FlushOut(p);
            }
            if (keep && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                keep = Readable(p);
            }
            if (!keep) {
                ClosePeer(p);
            }
        }
    }
    return 0;
}
