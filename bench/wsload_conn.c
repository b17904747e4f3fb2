/*
 * wsload_conn.c --
 *
 *      The connection layer of the load generator: non-blocking sockets
 *      opened from a spread of source addresses, one level-triggered epoll
 *      loop, per-connection output buffers, the WebSocket upgrade (request,
 *      and the 101 with its Sec-WebSocket-Accept checked), masked client
 *      frames out and server frames in, and the close handshake.  What a
 *      connection does once it is open or a message arrives is up to the
 *      role handlers of wsload.c (OnOpen, OnMessage, CompleteCycle).
 */

#define _GNU_SOURCE

#include "wsload.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

/*
 *----------------------------------------------------------------------
 * Output buffer --
 *
 *      OutReserve makes room for len more bytes and returns where they go;
 *      Flush hands what is there to the kernel, and watches EPOLLOUT while
 *      something is left.
 *----------------------------------------------------------------------
 */
uint8_t *
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

/*
 *----------------------------------------------------------------------
 * WatchOut --
 *
 *      Register EPOLLOUT for c, or stop, when that changes anything.
 *----------------------------------------------------------------------
 */
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

/*
 *----------------------------------------------------------------------
 * Flush --
 *
 *      Send what c's output buffer holds, until the kernel takes no more
 *      (at most 16 sends); watch EPOLLOUT while something is left.
 *
 * Side effects:
 *      A send error fails (disposes) the connection.
 *----------------------------------------------------------------------
 */
void
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
uint8_t *
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

/*
 *----------------------------------------------------------------------
 * MaskInPlace --
 *
 *      Mask a frame's payload in place, with the 4-byte key that
 *      AppendFrame put just before it.
 *----------------------------------------------------------------------
 */
void
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

/*
 *----------------------------------------------------------------------
 * SendClose --
 *
 *      Queue a close frame with a status code; c is then ST_CLOSING.
 *----------------------------------------------------------------------
 */
void
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
void
SetState(Conn *c, State state)
{
    bool wasOpening = (c->state == ST_CONNECTING || c->state == ST_HANDSHAKE);
    bool isOpening = (state == ST_CONNECTING || state == ST_HANDSHAKE);

    load.opening += (int)isOpening - (int)wasOpening;
    load.openConns += (int)(state == ST_OPEN) - (int)(c->state == ST_OPEN);
    c->state = state;
}

/*
 *----------------------------------------------------------------------
 * Dispose --
 *
 *      Close c's socket and free its slot (the output buffer is kept);
 *      bumps the generation, so events still queued for it are ignored.
 *----------------------------------------------------------------------
 */
void
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

/*
 *----------------------------------------------------------------------
 * Fail --
 *
 *      Count an error, keep the first one's message (what, and errno or
 *      "protocol"), and dispose of c.
 *----------------------------------------------------------------------
 */
void
Fail(Conn *c, const char *what)
{
    if (load.firstError[0] == '\0') {
        snprintf(load.firstError, sizeof(load.firstError), "%s: %s", what,
                 errno != 0 ? strerror(errno) : "protocol");
    }
    load.errors++;
    Dispose(c);
}

/*
 *----------------------------------------------------------------------
 * Open --
 *
 *      Start a connection in slot c with a role: a non-blocking socket,
 *      bound to the next source address when --sources asks, in the epoll
 *      set, and connecting.
 *
 * Results:
 *      false when it could not even start (errno says why).
 *----------------------------------------------------------------------
 */
bool
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

/*
 *----------------------------------------------------------------------
 * CheckUpgrade --
 *
 *      Whether the response head is a 101 with "Upgrade: websocket"
 *      and the right Sec-WebSocket-Accept for c's key.
 *----------------------------------------------------------------------
 */
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

/*
 *----------------------------------------------------------------------
 * HandleEvent --
 *
 *      The epoll events of c: a finished connect goes on to the upgrade
 *      (raw: straight to open); otherwise read, then write.
 *----------------------------------------------------------------------
 */
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
void
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
int
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
void
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
