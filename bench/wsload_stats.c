/*
 * wsload_stats.c --
 *
 *      Measurement for the load generator: the measured interval (warm-up,
 *      then the window whose messages count), the latency histogram and its
 *      percentiles, the server's CPU time and RSS read from /proc, the
 *      client's own CPU time, and the one JSON line a run prints.
 */

#define _GNU_SOURCE

#include "wsload.h"

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

/*
 *----------------------------------------------------------------------
 * HistValue --
 *
 *      The value a bucket stands for: the middle of its range.
 *----------------------------------------------------------------------
 */
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

/*
 *----------------------------------------------------------------------
 * HistAdd --
 *
 *      Add a sample v (ns) to the histogram.
 *----------------------------------------------------------------------
 */
void
HistAdd(Hist *h, uint64_t v)
{
    h->counts[HistIndex(v)]++;
    h->n++;
    if (v > h->max) {
        h->max = v;
    }
}

/*
 *----------------------------------------------------------------------
 * HistPercentileUs --
 *
 *      Percentile p of the samples in us, counting the expected ones
 *      that never came as infinitely late: -1 when p falls among them.
 *----------------------------------------------------------------------
 */
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

/*
 *----------------------------------------------------------------------
 * ProcRssKb --
 *
 *      VmRSS of a process in kB from /proc/PID/status; -1 when unknown.
 *----------------------------------------------------------------------
 */
long
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

/*
 *----------------------------------------------------------------------
 * ClientCpuSeconds --
 *
 *      User + system CPU time of this process so far, in seconds.
 *----------------------------------------------------------------------
 */
double
ClientCpuSeconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
        + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/*
 *----------------------------------------------------------------------
 * PrintReport --
 *
 *      Print the JSON line of the run on stdout: the mode's counters, and
 *      outside idle mode the latency percentiles and the server's CPU.
 *----------------------------------------------------------------------
 */
void
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
void
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
