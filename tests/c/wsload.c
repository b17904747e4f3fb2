/*
 * wsload.c --
 *
 *      A WebSocket load client for the tests (ws_multicast.test,
 *      ws_storm.test): it opens N connections to one URL with epoll (Tcl's
 *      notifier cannot watch thousands of sockets), upgrades them, at most
 *      -parallel handshakes at a time, and does what its mode says.  It
 *      raises its descriptor limit to the hard limit first.  Messages from
 *      the server are checked wherever they are counted: message i is the
 *      text "i" followed by any number of "x".  This file is the command
 *      line; the parts are listed in wsload.h.
 *
 *      Usage (what it prints without arguments, made from the option
 *      table below):
 *
 *        wsload ?-mode multicast? -port P -path /page -n N -messages M ?-slow K?
 *               ?-slowpath /page? ?-timeout SECONDS? ?-parallel P?
 *          Each connection must get 0, 1, ... M-1 in order.  The first K
 *          may be slow consumers, upgraded with -slowpath when given: they
 *          read nothing until the others have all M messages, then they
 *          read what was kept for them (increasing indexes, not
 *          necessarily all), and a ping of theirs tells where that ends:
 *          its pong, or the server's close (1008), or the end.  Lines:
 *              ready N                      all upgraded: multicast now
 *              done fast=F messages=T errors=E
 *              slow I messages=C ordered=0|1 end=pong|close CODE|eof
 *              closed C                     connections that ended with the
 *                                           close handshake (close 1000
 *                                           echoed, then EOF)
 *
 *        wsload -mode drop -port P -path /page -n N ?-wave W? ?-timeout SECONDS?
 *               ?-parallel P?
 *          Upgrade W connections at a time (default all N), say "open O",
 *          wait for the line "drop" on stdin, and drop them without a
 *          close frame: the k-th of a wave with a FIN when k % 3 == 0,
 *          1 after part of a frame, 2 with unread input (the echo of a text frame), so that
 *          the kernel sends a reset.  Lines, per wave and at the end:
 *              open O
 *              dropped D fin=A partial=B reset=C
 *              done T
 *
 *        wsload -mode hold -port P -path /page -n N ?-timeout SECONDS? ?-parallel P?
 *          Upgrade N connections and keep them, reading and answering a
 *          close frame, until the server has ended every one (a shutdown).
 *          Lines:
 *              ready O
 *              ended N
 *              code C K                     K got a close frame with code C
 *              noclose K reset R            K ended without one; R with an
 *                                           error (ECONNRESET)
 *
 *        wsload -mode storm -port P -path /page -n N -messages M ?-slow K?
 *               ?-slowpath /page? ?-droppers D? ?-slowrate BYTES? ?-calm I?
 *               ?-timeout SECONDS? ?-parallel P?
 *          N slots, each a series of sessions while the server streams
 *          messages 0 .. M-1: K slow consumers reading BYTES a second
 *          (rejoining when the server closes them), D droppers that drop
 *          after some messages and rejoin, the others fast and staying
 *          (see wsload_storm.c).  Each session's request has
 *          "session=NUMBER" added to its query.  Every session must get a
 *          gap-free, in-order run of messages from its first one; after
 *          the line "drain" on stdin every live one must have all up to
 *          M-1 when its ping's pong comes.  Lines:
 *              ready N                      all slots upgraded: stream now
 *              session ID slot S kind slow|dropper|fast first F last L
 *                  count C ordered 0|1 end drop|pong|close-CODE|eof|reset
 *              sessions S messages T
 *              closed C of L                live ones closed with the close
 *                                           handshake
 *              done errors=E
 *
 *      Every mode reports its first errors as "error SLOT: what" (then
 *      "errors E") and exits 0 when nothing went wrong, 1 on errors, 2 on
 *      the timeout (default 30 s) or a bad word on stdin.
 */

#include "wsload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { OPT_INT, OPT_LONG, OPT_STRING } OptionType;

/* Modes, as bits of the option table. */
#define MODE_MULTICAST 0x1u
#define MODE_DROP      0x2u
#define MODE_HOLD      0x4u
#define MODE_STORM     0x8u
#define MODE_ALL       0xfu

typedef struct ModeSpec {
    const char  *name;
    unsigned int bit;
    int        (*run)(const Options *optsPtr);
} ModeSpec;

static const ModeSpec modeSpecs[] = {
    {"multicast", MODE_MULTICAST, RunMulticast},   /* the default */
    {"drop",      MODE_DROP,      RunDrop},
    {"hold",      MODE_HOLD,      RunHold},
    {"storm",     MODE_STORM,     RunStorm},
};

typedef struct OptionSpec {
    const char  *name;
    const char  *arg;           /* its value in the usage */
    OptionType   type;
    size_t       offset;        /* of its field in Options */
    unsigned int required;      /* modes that need it */
    unsigned int optional;      /* modes that may have it */
} OptionSpec;

static const OptionSpec optionSpecs[] = {
    {"-port",     "P",       OPT_INT,    offsetof(Options, port),     MODE_ALL, 0},
    {"-path",     "/page",   OPT_STRING, offsetof(Options, path),     MODE_ALL, 0},
    {"-n",        "N",       OPT_INT,    offsetof(Options, n),        MODE_ALL, 0},
    {"-messages", "M",       OPT_LONG,   offsetof(Options, messages),
     MODE_MULTICAST | MODE_STORM, 0},
    {"-slow",     "K",       OPT_INT,    offsetof(Options, slow),     0,
     MODE_MULTICAST | MODE_STORM},
    {"-slowpath", "/page",   OPT_STRING, offsetof(Options, slowPath), 0,
     MODE_MULTICAST | MODE_STORM},
    {"-droppers", "D",       OPT_INT,    offsetof(Options, droppers), 0, MODE_STORM},
    {"-slowrate", "BYTES",   OPT_LONG,   offsetof(Options, slowRate), 0, MODE_STORM},
    {"-calm",     "I",       OPT_LONG,   offsetof(Options, calm),     0, MODE_STORM},
    {"-wave",     "W",       OPT_INT,    offsetof(Options, wave),     0, MODE_DROP},
    {"-timeout",  "SECONDS", OPT_INT,    offsetof(Options, timeout),  0, MODE_ALL},
    {"-parallel", "P",       OPT_INT,    offsetof(Options, parallel), 0, MODE_ALL},
};

#define NUM_MODES   (sizeof(modeSpecs) / sizeof(modeSpecs[0]))
#define NUM_OPTIONS (sizeof(optionSpecs) / sizeof(optionSpecs[0]))

/*
 *----------------------------------------------------------------------
 * Usage --
 *
 *      Say how to use the tool, one line per mode, from the tables (after
 *      what was wrong, if anything), and exit with 2.
 *----------------------------------------------------------------------
 */
static void
Usage(const char *fmt, const char *what)
{
    if (fmt != NULL) {
        fprintf(stderr, "wsload: ");
        fprintf(stderr, fmt, what);
        fprintf(stderr, "\n");
    }
    for (size_t m = 0; m < NUM_MODES; m++) {
        const ModeSpec *modePtr = &modeSpecs[m];

        fprintf(stderr, m == 0 ? "usage: wsload ?-mode %s?" : "       wsload -mode %s",
                modePtr->name);
        for (size_t i = 0; i < NUM_OPTIONS; i++) {
            const OptionSpec *specPtr = &optionSpecs[i];

            if ((specPtr->required & modePtr->bit) != 0) {
                fprintf(stderr, " %s %s", specPtr->name, specPtr->arg);
            } else if ((specPtr->optional & modePtr->bit) != 0) {
                fprintf(stderr, " ?%s %s?", specPtr->name, specPtr->arg);
            }
        }
        fprintf(stderr, "\n");
    }
    exit(2);
}

/*
 *----------------------------------------------------------------------
 * ParseOptions --
 *
 *      Fill *optsPtr from the command line: the mode first, then every
 *      option the mode takes (and every one it needs).
 *
 * Results:
 *      The mode; a bad command line exits with the usage.
 *----------------------------------------------------------------------
 */
static const ModeSpec *
ParseOptions(int argc, char **argv, Options *optsPtr)
{
    const ModeSpec *modePtr = &modeSpecs[0];
    unsigned int    given = 0;

    if (argc < 2) {
        Usage(NULL, NULL);
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-mode") == 0) {
            modePtr = NULL;
            for (size_t m = 0; m < NUM_MODES && modePtr == NULL; m++) {
                if (strcmp(argv[i + 1], modeSpecs[m].name) == 0) {
                    modePtr = &modeSpecs[m];
                }
            }
            if (modePtr == NULL) {
                Usage("unknown mode \"%s\"", argv[i + 1]);
            }
        }
    }
    optsPtr->mode = modePtr->name;
    for (int i = 1; i < argc; i += 2) {
        const OptionSpec *specPtr = NULL;
        char             *end;
        long              value;

        if (strcmp(argv[i], "-mode") == 0 && i + 1 < argc) {
            continue;
        }
        for (size_t s = 0; s < NUM_OPTIONS && specPtr == NULL; s++) {
            if (strcmp(argv[i], optionSpecs[s].name) == 0
                && ((optionSpecs[s].required | optionSpecs[s].optional) & modePtr->bit) != 0) {
                specPtr = &optionSpecs[s];
                given |= 1u << s;
            }
        }
        if (specPtr == NULL) {
            Usage("unknown option \"%s\"", argv[i]);
        }
        if (i + 1 >= argc) {
            Usage("\"%s\" needs a value", argv[i]);
        }
        if (specPtr->type == OPT_STRING) {
            *(const char **)((char *)optsPtr + specPtr->offset) = argv[i + 1];
            continue;
        }
        errno = 0;
        value = strtol(argv[i + 1], &end, 10);
        if (errno != 0 || end == argv[i + 1] || *end != '\0' || value < 0
            || (specPtr->type == OPT_INT && value > 1000000000L)) {
            Usage("bad number \"%s\"", argv[i + 1]);
        }
        if (specPtr->type == OPT_INT) {
            *(int *)((char *)optsPtr + specPtr->offset) = (int)value;
        } else {
            *(long *)((char *)optsPtr + specPtr->offset) = value;
        }
    }
    for (size_t s = 0; s < NUM_OPTIONS; s++) {
        if ((optionSpecs[s].required & modePtr->bit) != 0 && (given & (1u << s)) == 0) {
            Usage("%s is missing", optionSpecs[s].name);
        }
    }
    return modePtr;
}

/*
 *----------------------------------------------------------------------
 * main --
 *----------------------------------------------------------------------
 */
int
main(int argc, char **argv)
{
    Options         opts;
    const ModeSpec *modePtr;

    memset(&opts, 0, sizeof(opts));
    opts.path = "/";
    opts.parallel = 50;
    opts.timeout = 30;
    opts.slowRate = 65536;
    opts.calm = -1;
    modePtr = ParseOptions(argc, argv, &opts);
    if (opts.slowPath == NULL) {
        opts.slowPath = opts.path;
    }
    if (opts.port <= 0 || opts.port > 65535 || opts.n <= 0 || opts.parallel <= 0) {
        Usage("%s", "-port, -n and -parallel must be positive");
    }
    if (opts.slow + opts.droppers > opts.n) {
        Usage("%s", "more slow consumers and droppers than connections");
    }
    if ((modePtr->bit & (MODE_MULTICAST | MODE_STORM)) != 0 && opts.messages <= 0) {
        Usage("%s", "-messages must be positive");
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    LoadInit(&opts);
    return modePtr->run(&opts);
}
