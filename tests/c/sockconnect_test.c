/*
 * sockconnect_test.c --
 *
 *      Tests of the outgoing side of the socket API (nsd/sockapi.c and the
 *      TLS client half of nsd/nsssl.c) against real servers on loopback:
 *      an in-test TLS server thread with a certificate generated here
 *      (self-signed, for localhost and 127.0.0.1), plain and Unix-domain
 *      listeners, and a listener that never accepts.  Checks certificate
 *      verification (failure, cafile, insecure, host name), the error
 *      codes of refused, timed-out and unresolvable connections, data both
 *      ways, end of stream, and Ns_SockListen/Ns_SockAccept.  Links against
 *      lib/libnsd.so; built with ASan and UBSan.  Prints
 *      "sockconnect_test: N passed, M failed" last and exits non-zero when
 *      anything failed.
 */

#include "ns.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define CHECK(cond, ...) Check((cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

static int  passed, failed;
static char tmpDir[64];             /* holds cert.pem, key.pem, the Unix socket */
static char certFile[128];
static char keyFile[128];

/* The TLS server thread: its listening socket and context. */
static int      serverFd = -1;
static int      serverPort;
static SSL_CTX *serverCtx;

static void Check(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 *----------------------------------------------------------------------
 * Check --
 *
 *      Count one check; print the failed ones with their context.
 *
 * Side effects:
 *      Updates the counters, writes to stderr on failure.
 *----------------------------------------------------------------------
 */
static void
Check(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;

    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "%s:%d: check failed: %s: ", file, line, expr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/*
 *----------------------------------------------------------------------
 * MakeCertificate --
 *
 *      Write a fresh P-256 key and a self-signed certificate for
 *      CN=localhost with subjectAltName DNS:localhost, IP:127.0.0.1 (as
 *      "openssl req -x509" makes them) to certFile and keyFile.
 *
 * Results:
 *      true on success.
 *----------------------------------------------------------------------
 */
static bool
MakeCertificate(void)
{
    EVP_PKEY  *pkey = EVP_EC_gen("P-256");
    X509      *x509 = X509_new();
    X509_NAME *name;
    X509V3_CTX v3;
    FILE      *f;
    bool       ok = (pkey != NULL && x509 != NULL);
    static const struct {
        int         nid;
        const char *value;
    } exts[] = {
        {NID_basic_constraints, "critical,CA:TRUE"},
        {NID_subject_key_identifier, "hash"},
        {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"}
    };

    if (ok) {
        X509_set_version(x509, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x509), (long)getpid());
        X509_gmtime_adj(X509_getm_notBefore(x509), -60);
        X509_gmtime_adj(X509_getm_notAfter(x509), 2L * 24 * 3600);
        X509_set_pubkey(x509, pkey);
        name = X509_get_subject_name(x509);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost",
                                   -1, -1, 0);
        X509_set_issuer_name(x509, name);
        X509V3_set_ctx(&v3, x509, x509, NULL, NULL, 0);
        for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]) && ok; i++) {
            X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, exts[i].nid, exts[i].value);

            ok = (ext != NULL && X509_add_ext(x509, ext, -1) == 1);
            X509_EXTENSION_free(ext);
        }
        ok = ok && X509_sign(x509, pkey, EVP_sha256()) > 0;
    }
    if (ok && (f = fopen(certFile, "w")) != NULL) {
        ok = PEM_write_X509(f, x509) == 1;
        fclose(f);
    } else {
        ok = false;
    }
    if (ok && (f = fopen(keyFile, "w")) != NULL) {
        ok = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1;
        fclose(f);
    } else {
        ok = false;
    }
    X509_free(x509);
    EVP_PKEY_free(pkey);
    return ok;
}

/*
 *----------------------------------------------------------------------
 * ReadLine --
 *
 *      Read one line (without "\n") from a blocking SSL connection.
 *
 * Results:
 *      true when a whole line came.
 *----------------------------------------------------------------------
 */
static bool
ReadLine(SSL *ssl, char *buf, size_t size)
{
    size_t len = 0;

    while (len + 1 < size) {
        if (SSL_read(ssl, buf + len, 1) != 1) {
            return false;
        }
        if (buf[len] == '\n') {
            break;
        }
        len++;
    }
    buf[len] = '\0';
    return true;
}

/*
 *----------------------------------------------------------------------
 * ServerThread --
 *
 *      A blocking TLS server, one connection at a time.  Commands, one per
 *      connection: "echo TEXT" answers "TEXT"; "count N" reads N bytes and
 *      answers "got N"; then close_notify and close.  Clients that fail the
 *      handshake (verification tests) are simply dropped.  Ends when the
 *      listening socket is shut down.
 *----------------------------------------------------------------------
 */
static void *
ServerThread(void *arg)
{
    (void)arg;
    for (;;) {
        struct timeval tv = {5, 0};
        char           line[256], reply[300];
        int            fd = accept(serverFd, NULL, NULL);
        SSL           *ssl;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            break;
        }
        /* A client that goes quiet cannot hang the test. */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        ssl = SSL_new(serverCtx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1 && ReadLine(ssl, line, sizeof(line))) {
            long count;

            reply[0] = '\0';
            if (strncmp(line, "echo ", 5) == 0) {
                snprintf(reply, sizeof(reply), "%s\n", line + 5);
            } else if (sscanf(line, "count %ld", &count) == 1) {
                char buf[16384];
                long got = 0;
                int  n;

                while (got < count && (n = SSL_read(ssl, buf, sizeof(buf))) > 0) {
                    got += n;
                }
                snprintf(reply, sizeof(reply), "got %ld\n", got);
            }
            SSL_write(ssl, reply, (int)strlen(reply));
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        ERR_clear_error();
        close(fd);
    }
    return NULL;
}

/*
 *----------------------------------------------------------------------
 * StartServer --
 *
 *      Listen on 127.0.0.1 (ephemeral port) and start ServerThread.
 *
 * Results:
 *      true on success; serverPort set.
 *----------------------------------------------------------------------
 */
static bool
StartServer(pthread_t *threadPtr)
{
    struct sockaddr_in sin;
    socklen_t          len = sizeof(sin);

    serverCtx = SSL_CTX_new(TLS_server_method());
    if (serverCtx == NULL
        || SSL_CTX_use_certificate_file(serverCtx, certFile, SSL_FILETYPE_PEM) != 1
        || SSL_CTX_use_PrivateKey_file(serverCtx, keyFile, SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return false;
    }
    serverFd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (serverFd < 0 || bind(serverFd, (struct sockaddr *)&sin, sizeof(sin)) != 0
        || listen(serverFd, 16) != 0
        || getsockname(serverFd, (struct sockaddr *)&sin, &len) != 0) {
        perror("server socket");
        return false;
    }
    serverPort = ntohs(sin.sin_port);
    return pthread_create(threadPtr, NULL, ServerThread, NULL) == 0;
}

/*
 *----------------------------------------------------------------------
 * RecvLine --
 *
 *      Read from a non-blocking sock until a "\n" or end of stream, waiting
 *      up to 5 s in all.
 *
 * Results:
 *      The last status of Ns_SockRecv; the bytes (NUL-terminated) in buf.
 *----------------------------------------------------------------------
 */
static Ns_IoStatus
RecvLine(Ns_Sock *sockPtr, char *buf, size_t size)
{
    size_t      len = 0;
    Ns_IoStatus status = NS_IO_OK;

    buf[0] = '\0';
    for (int rounds = 0; rounds < 500 && len + 1 < size; rounds++) {
        size_t n = 0;

        status = Ns_SockRecv(sockPtr, buf + len, size - len - 1, &n);
        if (status == NS_IO_OK) {
            len += n;
            buf[len] = '\0';
            if (strchr(buf, '\n') != NULL) {
                break;
            }
        } else if (status == NS_IO_WANT_READ || status == NS_IO_WANT_WRITE) {
            struct pollfd pfd = {sockPtr->fd,
                                 (short)(status == NS_IO_WANT_READ ? POLLIN : POLLOUT), 0};

            (void)poll(&pfd, 1, 10);
        } else {
            break;
        }
    }
    return status;
}

/*
 *----------------------------------------------------------------------
 * SendString --
 *
 *      Send a whole string (Ns_SockSendAll, 5 s).
 *----------------------------------------------------------------------
 */
static Ns_ReturnCode
SendString(Ns_Sock *sockPtr, const char *string)
{
    struct iovec iov = {(void *)string, strlen(string)};
    Ns_Time      timeout = {5, 0};

    return Ns_SockSendAll(sockPtr, &iov, 1, &timeout);
}

/*
 *----------------------------------------------------------------------
 * TestVerification --
 *
 *      Certificate verification: on by default (self-signed fails with
 *      OpenSSL's reason), passing with the certificate as cafile, off with
 *      insecure, and the host name checked (DNS name and IP address).
 *----------------------------------------------------------------------
 */
static void
TestVerification(void)
{
    Ns_Time       timeout = {5, 0};
    Ns_SockError  err;
    Ns_TlsOptions tls;
    Ns_Sock      *sockPtr;
    char          line[256];

    /* Default options: the self-signed certificate is not trusted. */
    memset(&tls, 0, sizeof(tls));
    sockPtr = Ns_SockConnect("127.0.0.1", serverPort, &tls, &timeout, &err);
    CHECK(sockPtr == NULL, "self-signed certificate accepted by default");
    CHECK(strncmp(err.errorCode, "OPENSSL ", 8) == 0, "errorCode \"%s\"", err.errorCode);
    CHECK(strcmp(err.errorCode,
                 "OPENSSL {certificate verify failed: self-signed certificate}") == 0,
          "errorCode \"%s\"", err.errorCode);
    CHECK(strstr(err.message, "certificate verify failed") != NULL
          && strstr(err.message, "self-signed certificate") != NULL, "message \"%s\"",
          err.message);
    Ns_SockDestroy(sockPtr);

    /* The certificate as CA file: verified, for the IP address in the SAN. */
    tls.cafile = certFile;
    sockPtr = Ns_SockConnect("127.0.0.1", serverPort, &tls, &timeout, &err);
    CHECK(sockPtr != NULL, "cafile: %s (%s)", err.message, err.errorCode);
    if (sockPtr != NULL) {
        CHECK(sockPtr->tls != NULL && strcmp(sockPtr->driver->procs->name, "nsssl") == 0
              && strcmp(sockPtr->driver->moduleName, "nsssl") == 0, "driver %s",
              sockPtr->driver->moduleName);
        CHECK(strcmp(sockPtr->peer, "127.0.0.1") == 0 && sockPtr->peerPort == serverPort,
              "peer %s:%d", sockPtr->peer, sockPtr->peerPort);
        CHECK(SendString(sockPtr, "echo hello over tls\n") == NS_OK, "send: %s",
              Ns_SockErrorString(sockPtr));
        CHECK(RecvLine(sockPtr, line, sizeof(line)) == NS_IO_OK
              && strcmp(line, "hello over tls\n") == 0, "echo \"%s\"", line);
        /* The server sends close_notify and closes: end of stream. */
        CHECK(RecvLine(sockPtr, line, sizeof(line)) == NS_IO_EOF, "no EOF after close_notify");
        Ns_SockDestroy(sockPtr);
    }

    /* A DNS name: "localhost" may resolve to ::1 first, where nobody listens. */
    sockPtr = Ns_SockConnect("localhost", serverPort, &tls, &timeout, &err);
    CHECK(sockPtr != NULL, "localhost: %s (%s)", err.message, err.errorCode);
    if (sockPtr != NULL) {
        CHECK(SendString(sockPtr, "echo by name\n") == NS_OK,
              "send: %s", Ns_SockErrorString(sockPtr));
        CHECK(RecvLine(sockPtr, line, sizeof(line)) == NS_IO_OK
              && strcmp(line, "by name\n") == 0, "echo \"%s\"", line);
        Ns_SockDestroy(sockPtr);
    }

    /* A name the certificate does not carry. */
    tls.hostname = "wrong.example";
    sockPtr = Ns_SockConnect("127.0.0.1", serverPort, &tls, &timeout, &err);
    CHECK(sockPtr == NULL, "wrong host name accepted");
    CHECK(strncmp(err.errorCode, "OPENSSL ", 8) == 0
          && strstr(err.message, "hostname mismatch") != NULL, "wrong name: %s (%s)",
          err.message, err.errorCode);
    Ns_SockDestroy(sockPtr);

    /* insecure: no verification at all, even with the wrong name. */
    tls.cafile = NULL;
    tls.insecure = true;
    sockPtr = Ns_SockConnect("127.0.0.1", serverPort, &tls, &timeout, &err);
    CHECK(sockPtr != NULL, "insecure: %s (%s)", err.message, err.errorCode);
    if (sockPtr != NULL) {
        CHECK(SendString(sockPtr, "echo insecure\n") == NS_OK,
              "send: %s", Ns_SockErrorString(sockPtr));
        CHECK(RecvLine(sockPtr, line, sizeof(line)) == NS_IO_OK
              && strcmp(line, "insecure\n") == 0, "echo \"%s\"", line);
        Ns_SockDestroy(sockPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * TestTlsOptions --
 *
 *      Files that do not load are errors before any connection; a client
 *      certificate that loads is offered.
 *----------------------------------------------------------------------
 */
static void
TestTlsOptions(void)
{
    Ns_Time       timeout = {5, 0};
    Ns_SockError  err;
    Ns_TlsOptions tls;
    Ns_Sock      *sockPtr;
    char          missing[160], line[64];

    snprintf(missing, sizeof(missing), "%s/missing.pem", tmpDir);
    memset(&tls, 0, sizeof(tls));
    tls.cafile = missing;
    sockPtr = Ns_SockConnect("127.0.0.1", serverPort, &tls, &timeout, &err);
    CHECK(sockPtr == NULL && strncmp(err.errorCode, "OPENSSL ", 8) == 0
          && strstr(err.message, "cannot load CA file") != NULL
          && strstr(err.message, missing) != NULL, "missing cafile: %s (%s)", err.message,
          err.errorCode);

    memset(&tls, 0, sizeof(tls));
    tls.insecure = true;
    tls.cert = missing;
    sockPtr = Ns_SockConnect("127.0.0.1", serverPort, &tls, &timeout, &err);
    CHECK(sockPtr == NULL && strstr(err.message, "cannot load certificate") != NULL,
          "missing cert: %s (%s)", err.message, err.errorCode);

    tls.cert = certFile;
    tls.key = keyFile;
    sockPtr = Ns_SockConnect("127.0.0.1", serverPort, &tls, &timeout, &err);
    CHECK(sockPtr != NULL, "client certificate: %s (%s)", err.message, err.errorCode);
    if (sockPtr != NULL) {
        CHECK(SendString(sockPtr, "echo cert\n") == NS_OK
              && RecvLine(sockPtr, line, sizeof(line)) == NS_IO_OK
              && strcmp(line, "cert\n") == 0, "echo \"%s\"", line);
        Ns_SockDestroy(sockPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * TestBulkSend --
 *
 *      A megabyte in iovecs of mixed sizes (small ones coalesced, big ones
 *      written directly) arrives whole over TLS.
 *----------------------------------------------------------------------
 */
static void
TestBulkSend(void)
{
    static char   data[1 << 20];
    Ns_Time       timeout = {10, 0};
    Ns_SockError  err;
    Ns_TlsOptions tls;
    Ns_Sock      *sockPtr;
    struct iovec  iov[6];
    char          line[64], header[64];

    memset(&tls, 0, sizeof(tls));
    tls.cafile = certFile;
    sockPtr = Ns_SockConnect("127.0.0.1", serverPort, &tls, &timeout, &err);
    CHECK(sockPtr != NULL, "connect: %s (%s)", err.message, err.errorCode);
    if (sockPtr == NULL) {
        return;
    }
    memset(data, 'x', sizeof(data));
    snprintf(header, sizeof(header), "count %zu\n", sizeof(data));
    iov[0] = (struct iovec){header, strlen(header)};
    iov[1] = (struct iovec){data, 10};
    iov[2] = (struct iovec){data, 0};
    iov[3] = (struct iovec){data, 20000};
    iov[4] = (struct iovec){data, 7};
    iov[5] = (struct iovec){data, sizeof(data) - 20017};
    CHECK(Ns_SockSendAll(sockPtr, iov, 6, &timeout) == NS_OK,
          "send: %s", Ns_SockErrorString(sockPtr));
    snprintf(header, sizeof(header), "got %zu\n", sizeof(data));
    CHECK(RecvLine(sockPtr, line, sizeof(line)) == NS_IO_OK && strcmp(line, header) == 0,
          "reply \"%s\"", line);
    Ns_SockDestroy(sockPtr);
}

/*
 *----------------------------------------------------------------------
 * TestConnectErrors --
 *
 *      A refused connection, a TLS server that accepts TCP but never
 *      answers the handshake (a listener that never accepts: the kernel
 *      completes the TCP handshake), and a name that does not resolve.
 *----------------------------------------------------------------------
 */
static void
TestConnectErrors(void)
{
    Ns_Time       timeout = {5, 0}, shortTimeout = {0, 300000}, t0, t1, diff;
    Ns_SockError  err;
    Ns_TlsOptions tls;
    Ns_Sock      *sockPtr;
    int           fd, port = 0;
    long          ms;

    /* A port that was just free: nobody listens there. */
    fd = Ns_SockListen("127.0.0.1", 0, 1, &port);
    CHECK(fd >= 0 && port > 0, "listen: %s", strerror(errno));
    close(fd);
    sockPtr = Ns_SockConnect("127.0.0.1", port, NULL, &timeout, &err);
    CHECK(sockPtr == NULL, "connected to a closed port");
    CHECK(strcmp(err.errorCode, "POSIX ECONNREFUSED {connection refused}") == 0,
          "errorCode \"%s\"", err.errorCode);
    CHECK(strcmp(err.message, "connection refused") == 0, "message \"%s\"", err.message);

    /* Listening, never accepting, never answering the ClientHello. */
    memset(&tls, 0, sizeof(tls));
    tls.insecure = true;
    fd = Ns_SockListen("127.0.0.1", 0, 8, &port);
    CHECK(fd >= 0, "listen: %s", strerror(errno));
    Ns_GetMonotonicTime(&t0);
    sockPtr = Ns_SockConnect("127.0.0.1", port, &tls, &shortTimeout, &err);
    Ns_GetMonotonicTime(&t1);
    (void)Ns_DiffTime(&t1, &t0, &diff);
    ms = (long)Ns_TimeToMilliseconds(&diff);
    CHECK(sockPtr == NULL, "handshake with a mute server succeeded");
    CHECK(strcmp(err.errorCode, "NS_TIMEOUT") == 0, "errorCode \"%s\"", err.errorCode);
    CHECK(strcmp(err.message, "timeout") == 0, "message \"%s\"", err.message);
    CHECK(ms >= 250 && ms < 3000, "timed out after %ld ms", ms);
    Ns_SockDestroy(sockPtr);
    close(fd);

    /* ".invalid" never resolves (RFC 2606). */
    sockPtr = Ns_SockConnect("nosuch.invalid", 443, &tls, &timeout, &err);
    CHECK(sockPtr == NULL, "resolved nosuch.invalid");
    CHECK(strncmp(err.errorCode, "NS RESOLVE nosuch.invalid ", 26) == 0, "errorCode \"%s\"",
          err.errorCode);
    CHECK(strncmp(err.message, "cannot resolve \"nosuch.invalid\": ", 33) == 0,
          "message \"%s\"", err.message);
}

/*
 *----------------------------------------------------------------------
 * TestWaitUntil --
 *
 *      Ns_SockWaitUntil on a pipe that never becomes readable: "timed
 *      out" comes only once the deadline has passed, for waits that are
 *      not whole milliseconds (poll counts those), and at once for a
 *      deadline already past; a readable end is ready even then.
 *----------------------------------------------------------------------
 */
static void
TestWaitUntil(void)
{
    static const long waitsUs[] = {300, 1000, 1700, 5500, 20999};
    int               fds[2];

    CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
    for (size_t i = 0; i < sizeof(waitsUs) / sizeof(waitsUs[0]); i++) {
        Ns_Time deadline, now;
        int     rc;

        Ns_GetMonotonicTime(&deadline);
        Ns_IncrTime(&deadline, 0, waitsUs[i]);
        rc = Ns_SockWaitUntil(fds[0], POLLIN, &deadline);
        Ns_GetMonotonicTime(&now);
        CHECK(rc == 0, "wait of %ld us: %d", waitsUs[i], rc);
        CHECK(Ns_DiffTime(&now, &deadline, NULL) >= 0,
              "wait of %ld us ended before its deadline", waitsUs[i]);
    }
    {
        Ns_Time past;

        Ns_GetMonotonicTime(&past);
        Ns_IncrTime(&past, -1, 0);
        CHECK(Ns_SockWaitUntil(fds[0], POLLIN, &past) == 0, "past deadline not timed out");
        CHECK(write(fds[1], "x", 1) == 1, "write: %s", strerror(errno));
        CHECK(Ns_SockWaitUntil(fds[0], POLLIN, &past) == 1,
              "past deadline: a readable pipe not looked at");
        CHECK(Ns_SockWaitUntil(fds[0], POLLIN, NULL) == 1, "readable pipe not ready");
    }
    close(fds[0]);
    close(fds[1]);
}

/*
 *----------------------------------------------------------------------
 * TestPlainAndAccept --
 *
 *      Plain TCP: Ns_SockListen, Ns_SockConnect without TLS, Ns_SockAccept
 *      through the plain driver, data both ways, end of stream, and the
 *      error of a send to a closed peer.
 *----------------------------------------------------------------------
 */
static void
TestPlainAndAccept(void)
{
    Ns_Time      timeout = {5, 0};
    Ns_SockError err;
    Ns_Sock     *clientPtr, *serverPtr = NULL;
    int          fd, port = 0;
    char         line[64];

    fd = Ns_SockListen("127.0.0.1", 0, 8, &port);
    CHECK(fd >= 0 && port > 0, "listen: %s", strerror(errno));
    clientPtr = Ns_SockConnect("127.0.0.1", port, NULL, &timeout, &err);
    CHECK(clientPtr != NULL, "connect: %s (%s)", err.message, err.errorCode);
    if (clientPtr == NULL) {
        close(fd);
        return;
    }
    CHECK(clientPtr->tls == NULL && strcmp(clientPtr->driver->moduleName, "nssock") == 0,
          "driver %s", clientPtr->driver->moduleName);
    for (int i = 0; i < 100 && serverPtr == NULL; i++) {
        struct pollfd pfd = {fd, POLLIN, 0};

        (void)poll(&pfd, 1, 50);
        serverPtr = Ns_SockAccept(clientPtr->driver, fd, &err);
        CHECK(serverPtr != NULL || err.message[0] == '\0', "accept: %s", err.message);
    }
    CHECK(serverPtr != NULL, "nothing accepted");
    if (serverPtr != NULL) {
        CHECK(Ns_SockHandshake(serverPtr) == NS_IO_OK, "plain handshake");
        CHECK(strcmp(serverPtr->peer, "127.0.0.1") == 0, "peer %s", serverPtr->peer);
        CHECK(SendString(clientPtr, "ping\n") == NS_OK, "send: %s", Ns_SockErrorString(clientPtr));
        CHECK(RecvLine(serverPtr, line, sizeof(line)) == NS_IO_OK
              && strcmp(line, "ping\n") == 0, "got \"%s\"", line);
        CHECK(SendString(serverPtr, "pong\n") == NS_OK, "send: %s", Ns_SockErrorString(serverPtr));
        CHECK(RecvLine(clientPtr, line, sizeof(line)) == NS_IO_OK
              && strcmp(line, "pong\n") == 0, "got \"%s\"", line);
        Ns_SockDestroy(serverPtr);
        CHECK(RecvLine(clientPtr, line, sizeof(line)) == NS_IO_EOF, "no EOF");
    }
    /* Nothing waiting: NULL with an empty message. */
    CHECK(Ns_SockAccept(clientPtr->driver, fd, &err) == NULL && err.message[0] == '\0',
          "accept with nothing waiting: %s", err.message);
    Ns_SockDestroy(clientPtr);
    close(fd);
}

/*
 *----------------------------------------------------------------------
 * TestUnix --
 *
 *      Ns_SockConnectUnix to a listening Unix-domain socket, and to a path
 *      where nothing listens.
 *----------------------------------------------------------------------
 */
static void
TestUnix(void)
{
    struct sockaddr_un sun;
    Ns_Time            timeout = {5, 0};
    Ns_SockError       err;
    Ns_Sock           *sockPtr;
    int                fd, peer;
    char               buf[16] = "";

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sock", tmpDir);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0
          && listen(fd, 4) == 0, "unix listen: %s", strerror(errno));
    sockPtr = Ns_SockConnectUnix(sun.sun_path, NULL, &timeout, &err);
    CHECK(sockPtr != NULL, "unix connect: %s (%s)", err.message, err.errorCode);
    if (sockPtr != NULL) {
        CHECK(strcmp(sockPtr->peer, "unix") == 0, "peer %s", sockPtr->peer);
        peer = accept(fd, NULL, NULL);
        CHECK(SendString(sockPtr, "unix\n") == NS_OK && peer >= 0
              && read(peer, buf, sizeof(buf) - 1) == 5 && strcmp(buf, "unix\n") == 0,
              "got \"%s\"", buf);
        if (peer >= 0) {
            close(peer);
        }
        Ns_SockDestroy(sockPtr);
    }
    close(fd);
    unlink(sun.sun_path);
    sockPtr = Ns_SockConnectUnix(sun.sun_path, NULL, &timeout, &err);
    CHECK(sockPtr == NULL && strncmp(err.errorCode, "POSIX ENOENT ", 13) == 0,
          "errorCode \"%s\"", err.errorCode);
}

/*
 *----------------------------------------------------------------------
 * main --
 *
 *      Set up the certificate and the TLS server, run the tests, clean up,
 *      print the summary line.
 *
 * Results:
 *      Exit status 0 when every check passed, else 1.
 *----------------------------------------------------------------------
 */
int
main(int argc, char **argv)
{
    pthread_t thread;

    (void)argc;
    Tcl_FindExecutable(argv[0]);
    /* OpenSSL writes with write(2): a vanished peer must not kill us. */
    signal(SIGPIPE, SIG_IGN);

    snprintf(tmpDir, sizeof(tmpDir), "/tmp/sockconnect-XXXXXX");
    if (mkdtemp(tmpDir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(certFile, sizeof(certFile), "%s/cert.pem", tmpDir);
    snprintf(keyFile, sizeof(keyFile), "%s/key.pem", tmpDir);
    if (!MakeCertificate() || !StartServer(&thread)) {
        fprintf(stderr, "sockconnect_test: cannot set up the TLS server\n");
        return 1;
    }

    TestVerification();
    TestTlsOptions();
    TestBulkSend();
    TestConnectErrors();
    TestWaitUntil();
    TestPlainAndAccept();
    TestUnix();

    shutdown(serverFd, SHUT_RDWR);
    pthread_join(thread, NULL);
    close(serverFd);
    SSL_CTX_free(serverCtx);
    unlink(certFile);
    unlink(keyFile);
    rmdir(tmpDir);

    printf("sockconnect_test: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
