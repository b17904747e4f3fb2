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

#include "wsload.h"

Load load;

/*
 *----------------------------------------------------------------------
 * Die --
 *
 *      Print "wsload: " and the message (fmt with one string argument)
 *      on stderr.
 *
 * Results:
 *      None: exits with status 2.
 *----------------------------------------------------------------------
 */
void
Die(const char *fmt, const char *arg)
{
    fprintf(stderr, "wsload: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

/*
 *----------------------------------------------------------------------
 * Role handlers --
 *
 *      What happens when a connection is open and when a message arrives.
 *----------------------------------------------------------------------
 */

/*
 *----------------------------------------------------------------------
 * InWindow --
 *
 *      Whether time t (ns) falls in the measured interval.
 *----------------------------------------------------------------------
 */
static bool
InWindow(uint64_t t)
{
    return load.tStart != 0 && t >= load.tStart && (load.tEnd == 0 || t < load.tEnd);
}

/*
 *----------------------------------------------------------------------
 * SendMessage --
 *
 *      Queue a measured message on c: sequence number, send time, filler;
 *      a masked binary frame, or a bare record in raw mode.
 *
 * Side effects:
 *      Counts it as sent, and the replies or deliveries it should bring
 *      when it is sent in the measured interval.
 *----------------------------------------------------------------------
 */
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

/*
 *----------------------------------------------------------------------
 * CompleteCycle --
 *
 *      A connect cycle is over (the close handshake or the raw echo came
 *      back): count it and its duration when it ends in the measured
 *      interval, and free the slot for the next one.
 *----------------------------------------------------------------------
 */
void
CompleteCycle(Conn *c)
{
    uint64_t now = NowNs();

    if (InWindow(now)) {
        load.measured++;
        HistAdd(&load.hist, now - c->started);
    }
    Dispose(c);
}

/*
 *----------------------------------------------------------------------
 * OnOpen --
 *
 *      c is open (the 101 checked, or raw: connected): a connect cycle
 *      sends its close (raw: one record); an echo connection puts its
 *      messages in flight when sending has started.
 *----------------------------------------------------------------------
 */
void
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

/*
 *----------------------------------------------------------------------
 * OnEchoMessage --
 *
 *      An echo came back: count it, take its round-trip time from the
 *      send time in the payload, and send the next one.
 *----------------------------------------------------------------------
 */
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

/*
 *----------------------------------------------------------------------
 * OnFanoutMessage --
 *
 *      A subscriber got a published message: note sync messages, count
 *      gaps in the sequence as lost, take the publish-to-receive time,
 *      and without a fixed rate move the window on once every
 *      subscriber has the oldest message.
 *----------------------------------------------------------------------
 */
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

/*
 *----------------------------------------------------------------------
 * OnMessage --
 *
 *      A message (raw: a record) arrived on c: pass it to its role.
 *----------------------------------------------------------------------
 */
void
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
 * Modes --
 *----------------------------------------------------------------------
 */

/*
 *----------------------------------------------------------------------
 * RunEcho --
 *
 *      The echo mode: open the connections, put --inflight messages in
 *      flight on each, measure, then let what is in flight come back.
 *
 * Results:
 *      The exit status: 0 when something was measured, else 1.
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

/*
 *----------------------------------------------------------------------
 * Publish --
 *
 *      Queue message seq on the publisher, when it is still connected.
 *----------------------------------------------------------------------
 */
static void
Publish(uint64_t seq)
{
    Conn *pub = &load.conns[load.pubIndex];

    if (pub->fd >= 0) {
        SendMessage(pub, seq);
    }
}

/*
 *----------------------------------------------------------------------
 * PublishUpTo --
 *
 *      Publish the messages before sequence number end (at most 4096 a
 *      round), counting those of the measured interval, and send them
 *      with one flush.
 *----------------------------------------------------------------------
 */
static void
PublishUpTo(uint64_t end)
{
    int n = 0;

    while (load.sending && load.nextSeq < end && n < 4096) {
        Publish(load.nextSeq++);
        if (load.tStart != 0 && load.tEnd == 0) {
            load.published++;
        }
        n++;
    }
    if (n > 0) {
        Flush(&load.conns[load.pubIndex]);
    }
}

/*
 *----------------------------------------------------------------------
 * PumpWindow --
 *
 *      Fan-out without a rate: publish while fewer than --window messages
 *      are not yet fully delivered (at most 4096 a round).
 *----------------------------------------------------------------------
 */
static void
PumpWindow(void)
{
    PublishUpTo(load.oldest + (uint64_t)load.opt.window);
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

/*
 *----------------------------------------------------------------------
 * PumpRate --
 *
 *      Fan-out at --rate: publish the messages due by now (at most 4096 a
 *      round), unless the server has fallen too far behind.
 *----------------------------------------------------------------------
 */
static void
PumpRate(void)
{
    CheckLag();
    PublishUpTo((uint64_t)((double)(NowNs() - rateStart) * load.opt.rate / 1e9) + 1);
}

/*
 *----------------------------------------------------------------------
 * RateWake --
 *
 *      Fan-out at --rate: ns until the next message is due.
 *----------------------------------------------------------------------
 */
static uint64_t
RateWake(void)
{
    uint64_t next = rateStart + (uint64_t)((double)load.nextSeq * 1e9 / load.opt.rate);
    uint64_t now = NowNs();

    return (next > now) ? next - now : 0;
}

/*
 *----------------------------------------------------------------------
 * RunFanout --
 *
 *      The fanout mode: open the subscribers and the publisher, sync, then
 *      publish through the measured interval and count what arrives.
 *
 * Results:
 *      The exit status: 0 when something was measured, 1 when not,
 *      2 when the publisher did not connect.
 *----------------------------------------------------------------------
 */
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

/*
 *----------------------------------------------------------------------
 * PumpConnect --
 *
 *      The connect mode: open a new cycle in every free slot.
 *----------------------------------------------------------------------
 */
static void
PumpConnect(void)
{
    for (int i = 0; i < load.nconns; i++) {
        if (load.conns[i].fd < 0 && load.sending) {
            (void)Open(&load.conns[i], ROLE_CONNECT);
        }
    }
}

/*
 *----------------------------------------------------------------------
 * RunConnect --
 *
 *      The connect mode: open, upgrade and close connections, --conns at
 *      a time, through the measured interval.
 *
 * Results:
 *      The exit status: 0 when a cycle completed, else 1.
 *----------------------------------------------------------------------
 */
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

/*
 *----------------------------------------------------------------------
 * RunIdle --
 *
 *      The idle mode: open N connections, hold them for --hold seconds, and
 *      read the server's RSS before and after.
 *
 * Results:
 *      The exit status: 0 when some were still held, else 1.
 *----------------------------------------------------------------------
 */
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
 * Usage --
 *
 *      Print the usage on stderr.
 *
 * Results:
 *      None: exits with status 2.
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

/*
 *----------------------------------------------------------------------
 * main --
 *
 *      Parse the mode and the options, check their ranges, set up, and run
 *      the mode.
 *
 * Results:
 *      The exit status of the mode; 2 for a usage or set-up error.
 *----------------------------------------------------------------------
 */
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
