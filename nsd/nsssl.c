/*
 * nsssl.c --
 *
 *      The TLS driver (nsssl), on OpenSSL 3: the same Ns_DriverProcs table
 *      as nssock, so request handling, keep-alive and limits behave the same
 *      over TLS, and the TLS half of outgoing sockets (Ns_SockConnect with
 *      TLS options).  Every call is non-blocking; OpenSSL's WANT_READ and
 *      WANT_WRITE become NS_IO_WANT_READ/NS_IO_WANT_WRITE and never travel
 *      further up.  This is the one file that knows about OpenSSL.
 *
 *      Reading: SSL_read_ex returns the plaintext of at most one TLS record
 *      per call (read-ahead stays off), so a caller that offers 16 KB or
 *      more never leaves decrypted bytes inside OpenSSL where epoll cannot
 *      see them.  A caller that offers less must read again until it gets
 *      fewer bytes than it asked for (or NS_IO_WANT_READ).
 *
 *      Writing: TLS has no writev.  Small iovecs are copied into one buffer
 *      of up to 16 KB (one full record) so that, say, a response head and
 *      the start of its body share a record; a first iovec of 16 KB or more
 *      is written directly without a copy.  After NS_IO_WANT_READ/WRITE the
 *      caller must offer the same bytes again (it may append more after
 *      them), as every non-blocking TLS writer must; the coalescing rule
 *      then rebuilds the same record.
 *
 *      OpenSSL's error queue is per thread and shared with anything else the
 *      thread does, so every call clears it first and drains it after a
 *      failure.  The process must ignore SIGPIPE (nsd does): OpenSSL writes
 *      with write(2).
 */

#include "nsd.h"

#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define TLS_RECORD_MAX 16384    /* plaintext bytes of one full TLS record */
#define ERROR_TEXT_MAX 160      /* bytes of an error text, with its NUL: longer is cut */

/* What a failed SSL call was doing: decides how "the peer vanished" maps. */
typedef enum {
    TLS_CALL_HANDSHAKE,
    TLS_CALL_READ,
    TLS_CALL_WRITE
} TlsCall;

static pthread_once_t initOnce = PTHREAD_ONCE_INIT;

/*
 * Client SSL_CTXs, one per distinct set of CA, certificate and verification
 * options, built on first use and kept for the life of the process: an
 * application connects with a handful of option sets, and building a
 * context (loading the CA bundle) is far dearer than a connection.
 */
static pthread_mutex_t clientLock = PTHREAD_MUTEX_INITIALIZER;
static Tcl_HashTable   clientCtxs;          /* option key -> SSL_CTX *; clientLock */
static bool            clientCtxsInit = false;

static Ns_ReturnCode SslInit(Ns_Driver *driver, const char *section);
static Ns_IoStatus   SslAccept(Ns_Driver *driver, int listenFd, Ns_Sock *sockPtr);
static Ns_IoStatus   SslHandshake(Ns_Sock *sockPtr);
static Ns_IoStatus   SslRecv(Ns_Sock *sockPtr, void *buf, size_t len, size_t *nPtr);
static Ns_IoStatus   SslSend(Ns_Sock *sockPtr, const struct iovec *iov, int iovcnt,
                             size_t *nPtr);
static void          SslClose(Ns_Sock *sockPtr);

static const Ns_DriverProcs sslProcs = {
    "nsssl", "https", 443,
    SslInit,
    SslAccept,
    SslHandshake,
    SslRecv,
    SslSend,
    SslClose
};

/* The driver of outgoing TLS sockets, which no config section describes. */
static Ns_Driver clientDriver = {
    .procs = &sslProcs,
    .moduleName = "nsssl",
    .address = "",
    .listenFd = -1,
    .recvwait = {30, 0},
    .sendwait = {30, 0}     /* the only limit an outgoing socket uses */
};

/*
 *----------------------------------------------------------------------
 * NsSslDriverProcs --
 *
 *      The nsssl driver table.
 *
 * Results:
 *      Static data, never freed.
 *----------------------------------------------------------------------
 */
const Ns_DriverProcs *
NsSslDriverProcs(void)
{
    return &sslProcs;
}

/*
 *----------------------------------------------------------------------
 * InitOnce, SslLibraryInit --
 *
 *      Initialise libssl once per process.  OpenSSL 3 would do it on first
 *      use too; doing it here makes the system configuration
 *      (openssl.cnf: minimum protocol, security level) load at a known
 *      time.
 *----------------------------------------------------------------------
 */
static void
InitOnce(void)
{
    (void)OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
                           NULL);
}

static void
SslLibraryInit(void)
{
    pthread_once(&initOnce, InitOnce);
}

/*
 *----------------------------------------------------------------------
 * ErrorQueueString --
 *
 *      Drain this thread's OpenSSL error queue into one line of reasons,
 *      oldest first, without repeats: "no such file; system lib".
 *
 * Results:
 *      buf, "" when the queue was empty.
 *
 * Side effects:
 *      Clears the error queue.
 *----------------------------------------------------------------------
 */
static char *
ErrorQueueString(char *buf, size_t size)
{
    unsigned long err;
    size_t        len = 0;

    buf[0] = '\0';
    while ((err = ERR_get_error()) != 0) {
        const char *reason = ERR_reason_error_string(err);
        char        code[32];

        if (ERR_SYSTEM_ERROR(err)) {
            /* A failed system call (missing file, ...): its errno text. */
            reason = strerror(ERR_GET_REASON(err));
        }
        if (reason == NULL) {
            snprintf(code, sizeof(code), "error:%08lX", err);
            reason = code;
        }
        if (strstr(buf, reason) == NULL && len + 1 < size) {
            snprintf(buf + len, size - len, "%s%s", (len > 0) ? "; " : "", reason);
            len = strlen(buf);
        }
    }
    return buf;
}

/*
 *----------------------------------------------------------------------
 * SetTlsError --
 *
 *      Record a TLS failure in the sock: OpenSSL's reason, and for a failed
 *      certificate verification the X.509 reason too, e.g.
 *      "certificate verify failed: self-signed certificate".
 *
 * Results:
 *      NS_IO_ERROR.
 *
 * Side effects:
 *      Sets errnum to 0 and errorMsg (NsSockSetErrorText); clears the
 *      error queue.  The connection is broken, so no close_notify will be
 *      sent on close.
 *----------------------------------------------------------------------
 */
static Ns_IoStatus
SetTlsError(Ns_Sock *sockPtr, SSL *ssl, const char *fallback)
{
    unsigned long err = ERR_peek_last_error();
    char          reasons[96], message[ERROR_TEXT_MAX];
    long          verify = X509_V_OK;

    if (ERR_GET_LIB(err) == ERR_LIB_SSL
        && ERR_GET_REASON(err) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        verify = SSL_get_verify_result(ssl);
    }
    (void)ErrorQueueString(reasons, sizeof(reasons));
    if (reasons[0] == '\0') {
        snprintf(reasons, sizeof(reasons), "%s", fallback);
    }
    if (verify != X509_V_OK) {
        snprintf(message, sizeof(message), "%s: %.60s", reasons,
                 X509_verify_cert_error_string(verify));
    } else {
        snprintf(message, sizeof(message), "%s", reasons);
    }
    SSL_set_quiet_shutdown(ssl, 1);
    return NsSockSetErrorText(sockPtr, message);
}

/*
 *----------------------------------------------------------------------
 * IoStatus --
 *
 *      Map the failure of an SSL call to the driver's result.  The rules:
 *      WANT_READ/WANT_WRITE pass through (also a read that must write
 *      first, as for a TLS 1.3 key update: renegotiation is off); a
 *      close_notify is EOF for a read; a peer that vanished without one
 *      (SSL_ERROR_SYSCALL without errno, or OpenSSL 3's "unexpected eof")
 *      is EOF for a read, as over plain TCP, and EPIPE for a write or a
 *      handshake; a failing system call keeps its errno; anything else is
 *      OpenSSL's reason with errnum 0.
 *
 * Results:
 *      An Ns_IoStatus.
 *
 * Side effects:
 *      May set the sock's error; clears the thread's error queue.
 *----------------------------------------------------------------------
 */
static Ns_IoStatus
IoStatus(Ns_Sock *sockPtr, SSL *ssl, int rc, int savedErrno, TlsCall op)
{
    Ns_IoStatus   status;
    unsigned long err;

    switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        status = NS_IO_WANT_READ;
        break;
    case SSL_ERROR_WANT_WRITE:
        status = NS_IO_WANT_WRITE;
        break;
    case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        status = (op == TLS_CALL_READ) ? NS_IO_EOF : NsSockSetError(sockPtr, EPIPE);
        break;
    case SSL_ERROR_SYSCALL:
        SSL_set_quiet_shutdown(ssl, 1);
        if (ERR_peek_error() != 0) {
            status = SetTlsError(sockPtr, ssl, "system lib");
        } else if (savedErrno != 0) {
            status = NsSockSetError(sockPtr, savedErrno);
        } else {
            status = (op == TLS_CALL_READ) ? NS_IO_EOF : NsSockSetError(sockPtr, EPIPE);
        }
        break;
    case SSL_ERROR_SSL:
        err = ERR_peek_last_error();
        if (op == TLS_CALL_READ && ERR_GET_LIB(err) == ERR_LIB_SSL
            && ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            ERR_clear_error();
            SSL_set_quiet_shutdown(ssl, 1);
            status = NS_IO_EOF;
        } else {
            status = SetTlsError(sockPtr, ssl, "tls protocol error");
        }
        break;
    default:
        status = SetTlsError(sockPtr, ssl, "unexpected tls state");
        break;
    }
    return status;
}

/*
 *----------------------------------------------------------------------
 * ResolvePath --
 *
 *      A file name from the config, relative names taken from the server's
 *      home directory.
 *
 * Results:
 *      A string living as long as the process, or NULL for NULL.
 *----------------------------------------------------------------------
 */
static const char *
ResolvePath(const char *path)
{
    Tcl_DString ds;
    const char *result;

    if (path == NULL || path[0] == '/' || Ns_InfoHomePath() == NULL) {
        return path;
    }
    Tcl_DStringInit(&ds);
    Tcl_DStringAppend(&ds, Ns_InfoHomePath(), -1);
    Tcl_DStringAppend(&ds, "/", 1);
    Tcl_DStringAppend(&ds, path, -1);
    result = ns_strdup(Tcl_DStringValue(&ds));
    Tcl_DStringFree(&ds);
    return result;
}

/*
 *----------------------------------------------------------------------
 * ParseProtocols --
 *
 *      Turn a NaviServer "protocols" value such as
 *      "!SSLv2:!SSLv3:!TLSv1.0:!TLSv1.1" into a version range.  Names
 *      prefixed with "!" are disabled, others enabled; the list starts from
 *      every TLS version when it disables anything, else from none.  SSLv2
 *      and SSLv3 are accepted and ignored: OpenSSL 3 has neither.
 *
 * Results:
 *      NS_OK with *minPtr and *maxPtr set, or NS_ERROR (logged) for an
 *      unknown name or an empty range.
 *----------------------------------------------------------------------
 */
static Ns_ReturnCode
ParseProtocols(const char *moduleName, const char *protocols, int *minPtr, int *maxPtr)
{
    static const struct {
        const char *name;
        int         version;
    } names[] = {
        {"SSLv2", 0}, {"SSLv3", 0}, {"TLSv1", TLS1_VERSION}, {"TLSv1.0", TLS1_VERSION},
        {"TLSv1.1", TLS1_1_VERSION}, {"TLSv1.2", TLS1_2_VERSION}, {"TLSv1.3", TLS1_3_VERSION}
    };
    static const int versions[] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION};
    bool             enabled[4];
    bool             negative = (strchr(protocols, '!') != NULL);
    char            *copy = ns_strdup(protocols), *token, *save = NULL;
    Ns_ReturnCode    result = NS_OK;

    for (size_t i = 0; i < 4; i++) {
        enabled[i] = negative;
    }
    for (token = strtok_r(copy, ":, \t", &save); token != NULL && result == NS_OK;
         token = strtok_r(NULL, ":, \t", &save)) {
        bool   on = (token[0] != '!');
        size_t j;

        if (!on) {
            token++;
        }
        for (j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
            if (strcasecmp(token, names[j].name) == 0) {
                break;
            }
        }
        if (j == sizeof(names) / sizeof(names[0])) {
            Ns_Log(Error, "nsssl: %s: unknown protocol \"%s\" in protocols \"%s\"",
                   moduleName, token, protocols);
            result = NS_ERROR;
        }
        for (size_t i = 0; i < 4 && result == NS_OK; i++) {
            if (versions[i] == names[j].version) {
                enabled[i] = on;
            }
        }
    }
    ckfree(copy);

    *minPtr = *maxPtr = 0;
    for (size_t i = 0; i < 4 && result == NS_OK; i++) {
        if (enabled[i]) {
            if (*minPtr == 0) {
                *minPtr = versions[i];
            } else if (!enabled[i - 1]) {
                Ns_Log(Warning, "nsssl: %s: protocols \"%s\" has a gap; using the range",
                       moduleName, protocols);
            }
            *maxPtr = versions[i];
        }
    }
    if (result == NS_OK && *minPtr == 0) {
        Ns_Log(Error, "nsssl: %s: protocols \"%s\" enables no TLS version", moduleName,
               protocols);
        result = NS_ERROR;
    }
    if (result == NS_OK && *minPtr < TLS1_2_VERSION) {
        Ns_Log(Warning, "nsssl: %s: protocols \"%s\" allows TLS versions below 1.2",
               moduleName, protocols);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * VersionName --
 *
 *      The name of a protocol version, for the log (0: the newest).
 *----------------------------------------------------------------------
 */
static const char *
VersionName(int version)
{
    switch (version) {
    case TLS1_VERSION:   return "TLSv1.0";
    case TLS1_1_VERSION: return "TLSv1.1";
    case TLS1_2_VERSION: return "TLSv1.2";
    default:             return "TLSv1.3";
    }
}

/*
 *----------------------------------------------------------------------
 * SetCommonOptions --
 *
 *      What server and client contexts share: TLS 1.2 minimum, no
 *      compression, no renegotiation (so after the handshake a write
 *      never has to wait for a read: a queued send waits only for the
 *      socket to be writable), and the modes non-blocking writes need.
 *      Partial writes let a send report progress record by record; a
 *      moving write buffer lets a retry come from a rebuilt coalescing
 *      buffer; released buffers keep tens of thousands of idle WebSockets
 *      from holding 34 KB of OpenSSL buffers each.
 *----------------------------------------------------------------------
 */
static void
SetCommonOptions(SSL_CTX *ctx)
{
    (void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                     | SSL_MODE_RELEASE_BUFFERS);
}

/*
 *----------------------------------------------------------------------
 * SslInit --
 *
 *      The driver's initProc: build the server SSL_CTX from the config
 *      section (certificate, key, ciphers, ciphersuites, protocols, verify,
 *      cafile, capath).
 *
 * Results:
 *      NS_OK, or NS_ERROR with a log line naming the file or parameter and
 *      OpenSSL's reason; start-up then fails.
 *
 * Side effects:
 *      driver->ctx holds the SSL_CTX for the life of the process.
 *----------------------------------------------------------------------
 */
static Ns_ReturnCode
SslInit(Ns_Driver *driver, const char *section)
{
    const char   *name = driver->moduleName;
    const char   *cert = ResolvePath(Ns_ConfigString(section, "certificate", NULL));
    const char   *key = ResolvePath(Ns_ConfigString(section, "key", NULL));
    const char   *ciphers = Ns_ConfigString(section, "ciphers", NULL);
    const char   *ciphersuites = Ns_ConfigString(section, "ciphersuites", NULL);
    const char   *protocols = Ns_ConfigString(section, "protocols", NULL);
    const char   *cafile = ResolvePath(Ns_ConfigString(section, "cafile", NULL));
    const char   *capath = ResolvePath(Ns_ConfigString(section, "capath", NULL));
    bool          verify = Ns_ConfigBool(section, "verify", false);
    int           minVersion = TLS1_2_VERSION, maxVersion = 0;
    char          reasons[512];
    SSL_CTX      *ctx;
    Ns_ReturnCode result = NS_ERROR;

    SslLibraryInit();
    if (cert == NULL) {
        Ns_Log(Error, "nsssl: %s: no certificate configured (parameter \"certificate\" of %s)",
               name, section);
        return NS_ERROR;
    }
    if (key == NULL) {
        key = cert;
    }
    if (protocols != NULL && ParseProtocols(name, protocols, &minVersion, &maxVersion) != NS_OK) {
        return NS_ERROR;
    }
    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        Ns_Log(Error, "nsssl: %s: cannot create a TLS context: %s", name,
               ErrorQueueString(reasons, sizeof(reasons)));
        return NS_ERROR;
    }
    SetCommonOptions(ctx);
    (void)SSL_CTX_set_min_proto_version(ctx, minVersion);
    (void)SSL_CTX_set_max_proto_version(ctx, maxVersion);
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    (void)SSL_CTX_set_session_id_context(ctx, (const unsigned char *)name,
                                         (unsigned int)strlen(name));

    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        Ns_Log(Error, "nsssl: %s: cannot load certificate \"%s\": %s", name, cert,
               ErrorQueueString(reasons, sizeof(reasons)));
    } else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        Ns_Log(Error, "nsssl: %s: cannot load key \"%s\": %s", name, key,
               ErrorQueueString(reasons, sizeof(reasons)));
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        Ns_Log(Error, "nsssl: %s: key \"%s\" does not match certificate \"%s\": %s", name, key,
               cert, ErrorQueueString(reasons, sizeof(reasons)));
    } else if (ciphers != NULL && SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
        Ns_Log(Error, "nsssl: %s: invalid ciphers \"%s\": %s", name, ciphers,
               ErrorQueueString(reasons, sizeof(reasons)));
    } else if (ciphersuites != NULL && SSL_CTX_set_ciphersuites(ctx, ciphersuites) != 1) {
        Ns_Log(Error, "nsssl: %s: invalid ciphersuites \"%s\": %s", name, ciphersuites,
               ErrorQueueString(reasons, sizeof(reasons)));
    } else if (verify && (cafile != NULL || capath != NULL)
               && SSL_CTX_load_verify_locations(ctx, cafile, capath) != 1) {
        Ns_Log(Error, "nsssl: %s: cannot load CA file \"%s\" or path \"%s\": %s", name,
               cafile != NULL ? cafile : "", capath != NULL ? capath : "",
               ErrorQueueString(reasons, sizeof(reasons)));
    } else if (verify && cafile == NULL && capath == NULL
               && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        Ns_Log(Error, "nsssl: %s: cannot load the default CA locations: %s", name,
               ErrorQueueString(reasons, sizeof(reasons)));
    } else {
        result = NS_OK;
    }
    if (result == NS_OK && verify) {
        /* Ask for a client certificate and refuse clients without a valid one. */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        if (cafile != NULL) {
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cafile);

            if (names != NULL) {
                SSL_CTX_set_client_CA_list(ctx, names);
            }
            ERR_clear_error();
        }
    }
    if (result != NS_OK) {
        SSL_CTX_free(ctx);
        return NS_ERROR;
    }
    driver->ctx = ctx;
    NsConfigSetDefault(section, "certificate", cert);
    NsConfigSetDefault(section, "key", key);
    Ns_Log(Notice, "nsssl: %s: certificate %s, %s to %s%s", name, cert,
           VersionName(minVersion), VersionName(maxVersion),
           verify ? ", client certificates required" : "");
    return NS_OK;
}

/*
 *----------------------------------------------------------------------
 * SslAccept --
 *
 *      The driver's acceptProc: accept the TCP connection as nssock does,
 *      then attach a server-side SSL to it.  The handshake happens later,
 *      step by step, in SslHandshake.
 *
 * Results:
 *      As NsSockAccept; NS_IO_ERROR (connection closed) when no SSL can be
 *      made for it.
 *
 * Side effects:
 *      sockPtr->tls holds the SSL.
 *----------------------------------------------------------------------
 */
static Ns_IoStatus
SslAccept(Ns_Driver *driver, int listenFd, Ns_Sock *sockPtr)
{
    Ns_IoStatus status = NsSockAccept(driver, listenFd, sockPtr);
    SSL        *ssl;

    if (status != NS_IO_OK) {
        return status;
    }
    if (driver->ctx == NULL) {
        /* A driver without a server context, such as the client driver. */
        status = NsSockSetErrorText(sockPtr, "no certificate configured");
    } else {
        ERR_clear_error();
        ssl = SSL_new(driver->ctx);
        if (ssl == NULL || SSL_set_fd(ssl, sockPtr->fd) != 1) {
            char message[ERROR_TEXT_MAX];

            status = NsSockSetErrorText(sockPtr, ErrorQueueString(message, sizeof(message)));
            SSL_free(ssl);
        } else {
            SSL_set_accept_state(ssl);
            sockPtr->tls = ssl;
        }
    }
    if (status != NS_IO_OK) {
        close(sockPtr->fd);
        sockPtr->fd = -1;
    }
    return status;
}

/*
 *----------------------------------------------------------------------
 * SslHandshake --
 *
 *      One step of the handshake, server or client side.
 *
 * Results:
 *      NS_IO_OK when complete, NS_IO_WANT_READ/WRITE to be called again
 *      when the fd is ready, NS_IO_ERROR with the reason in the sock (a
 *      failed certificate verification names the X.509 reason).
 *----------------------------------------------------------------------
 */
static Ns_IoStatus
SslHandshake(Ns_Sock *sockPtr)
{
    SSL *ssl = sockPtr->tls;
    int  rc, savedErrno;

    ERR_clear_error();
    errno = 0;
    rc = SSL_do_handshake(ssl);
    savedErrno = errno;
    return (rc == 1) ? NS_IO_OK : IoStatus(sockPtr, ssl, rc, savedErrno, TLS_CALL_HANDSHAKE);
}

/*
 *----------------------------------------------------------------------
 * SslRecv --
 *
 *      Read decrypted bytes: at most one TLS record per call (see the top
 *      of the file).
 *
 * Results:
 *      NS_IO_OK with *nPtr > 0, NS_IO_WANT_READ (or WANT_WRITE while TLS
 *      must send first), NS_IO_EOF on close_notify or a vanished peer,
 *      NS_IO_ERROR.
 *----------------------------------------------------------------------
 */
static Ns_IoStatus
SslRecv(Ns_Sock *sockPtr, void *buf, size_t len, size_t *nPtr)
{
    SSL   *ssl = sockPtr->tls;
    size_t n = 0;
    int    rc, savedErrno;

    *nPtr = 0;
    if (len == 0) {
        return NS_IO_OK;
    }
    ERR_clear_error();
    errno = 0;
    rc = SSL_read_ex(ssl, buf, len, &n);
    savedErrno = errno;
    if (rc == 1) {
        *nPtr = n;
        return NS_IO_OK;
    }
    return IoStatus(sockPtr, ssl, rc, savedErrno, TLS_CALL_READ);
}

/*
 *----------------------------------------------------------------------
 * SslSend --
 *
 *      Encrypt and send from an iovec: the first iovec alone when it fills
 *      a record, else as many bytes as fit in one record, copied into one
 *      buffer (see the top of the file for why and for the retry rule).
 *
 * Results:
 *      NS_IO_OK with the bytes taken in *nPtr (a prefix of the iovec),
 *      NS_IO_WANT_WRITE (or WANT_READ while TLS must read first),
 *      NS_IO_ERROR.
 *----------------------------------------------------------------------
 */
static Ns_IoStatus
SslSend(Ns_Sock *sockPtr, const struct iovec *iov, int iovcnt, size_t *nPtr)
{
    SSL          *ssl = sockPtr->tls;
    unsigned char record[TLS_RECORD_MAX];
    const void   *data;
    size_t        len = 0, n = 0;
    int           rc, savedErrno, i = 0;

    *nPtr = 0;
    while (i < iovcnt && iov[i].iov_len == 0) {
        i++;
    }
    if (i == iovcnt) {
        return NS_IO_OK;
    }
    if (iov[i].iov_len >= TLS_RECORD_MAX || i == iovcnt - 1) {
        data = iov[i].iov_base;
        len = iov[i].iov_len;
    } else {
        for (; i < iovcnt && len < TLS_RECORD_MAX; i++) {
            size_t take = iov[i].iov_len;

            if (take > TLS_RECORD_MAX - len) {
                take = TLS_RECORD_MAX - len;
            }
            memcpy(record + len, iov[i].iov_base, take);
            len += take;
        }
        data = record;
    }
    ERR_clear_error();
    errno = 0;
    rc = SSL_write_ex(ssl, data, len, &n);
    savedErrno = errno;
    if (rc == 1) {
        *nPtr = n;
        return NS_IO_OK;
    }
    return IoStatus(sockPtr, ssl, rc, savedErrno, TLS_CALL_WRITE);
}

/*
 *----------------------------------------------------------------------
 * SslClose --
 *
 *      Send close_notify once, without waiting for the peer's (best
 *      effort: the socket is non-blocking and about to close), free the
 *      SSL and close the fd.  A connection that failed or never finished
 *      its handshake gets no close_notify.
 *----------------------------------------------------------------------
 */
static void
SslClose(Ns_Sock *sockPtr)
{
    SSL *ssl = sockPtr->tls;

    if (ssl != NULL) {
        ERR_clear_error();
        if (SSL_is_init_finished(ssl)) {
            (void)SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        ERR_clear_error();
        sockPtr->tls = NULL;
    }
    if (sockPtr->fd >= 0) {
        close(sockPtr->fd);
        sockPtr->fd = -1;
    }
}

/*
 *----------------------------------------------------------------------
 * IsIpLiteral --
 *
 *      Is name an IPv4 or IPv6 address rather than a host name?
 *----------------------------------------------------------------------
 */
static bool
IsIpLiteral(const char *name)
{
    unsigned char addr[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

/*
 *----------------------------------------------------------------------
 * ClientCtxError --
 *
 *      Fill *errPtr for a client context that cannot be built.
 *
 * Side effects:
 *      Clears the thread's OpenSSL error queue.
 *----------------------------------------------------------------------
 */
static void
ClientCtxError(Ns_SockError *errPtr, const char *what, const char *file)
{
    char reasons[160];
    char message[sizeof(errPtr->message)];

    (void)ErrorQueueString(reasons, sizeof(reasons));
    if (reasons[0] == '\0') {
        snprintf(reasons, sizeof(reasons), "unknown reason");
    }
    snprintf(message, sizeof(message), "cannot load %s \"%s\": %s", what, file, reasons);
    NsSockErrorSet(errPtr, message, "OPENSSL", reasons, (char *)0);
}

/*
 *----------------------------------------------------------------------
 * NewClientCtx --
 *
 *      Build a client SSL_CTX: TLS 1.2 minimum; unless insecure, peer
 *      verification against cafile/capath, or else the system's default
 *      CA locations; an optional client certificate and key.
 *
 * Results:
 *      The context, or NULL with *errPtr filled in.
 *----------------------------------------------------------------------
 */
static SSL_CTX *
NewClientCtx(const char *cafile, const char *capath, const char *cert, const char *key,
             bool insecure, Ns_SockError *errPtr)
{
    SSL_CTX *ctx;
    bool     ok = true;

    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        ClientCtxError(errPtr, "a TLS client context", "");
        return NULL;
    }
    SetCommonOptions(ctx);
    if (insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (cafile != NULL || capath != NULL) {
            if (SSL_CTX_load_verify_locations(ctx, cafile, capath) != 1) {
                ClientCtxError(errPtr, cafile != NULL ? "CA file" : "CA path",
                               cafile != NULL ? cafile : capath);
                ok = false;
            }
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            ClientCtxError(errPtr, "default CA locations", "");
            ok = false;
        }
    }
    if (ok && cert != NULL) {
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
            ClientCtxError(errPtr, "certificate", cert);
            ok = false;
        } else if (SSL_CTX_use_PrivateKey_file(ctx, key != NULL ? key : cert,
                                               SSL_FILETYPE_PEM) != 1
                   || SSL_CTX_check_private_key(ctx) != 1) {
            ClientCtxError(errPtr, "key", key != NULL ? key : cert);
            ok = false;
        }
    }
    if (!ok) {
        SSL_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/*
 *----------------------------------------------------------------------
 * GetClientCtx --
 *
 *      The cached client context for a set of options, built on first
 *      use.  Options without a CA take theirs from the config section
 *      ns/httpclient (parameters cafile and capath, NaviServer's names for
 *      its HTTP client), and without that from OpenSSL's default locations.
 *
 * Results:
 *      The context (owned by the cache), or NULL with *errPtr filled in.
 *----------------------------------------------------------------------
 */
static SSL_CTX *
GetClientCtx(const Ns_TlsOptions *tlsPtr, Ns_SockError *errPtr)
{
    const char    *cafile = tlsPtr->cafile, *capath = tlsPtr->capath;
    Tcl_DString    key;
    Tcl_HashEntry *hPtr;
    SSL_CTX       *ctx = NULL, *newCtx;
    int            isNew;

    if (cafile == NULL && capath == NULL) {
        cafile = Ns_ConfigGetValue("ns/httpclient", "cafile");
        capath = Ns_ConfigGetValue("ns/httpclient", "capath");
    }
    Tcl_DStringInit(&key);
    Tcl_DStringAppendElement(&key, cafile != NULL ? cafile : "");
    Tcl_DStringAppendElement(&key, capath != NULL ? capath : "");
    Tcl_DStringAppendElement(&key, tlsPtr->cert != NULL ? tlsPtr->cert : "");
    Tcl_DStringAppendElement(&key, tlsPtr->key != NULL ? tlsPtr->key : "");
    Tcl_DStringAppendElement(&key, tlsPtr->insecure ? "1" : "0");

    pthread_mutex_lock(&clientLock);
    if (!clientCtxsInit) {
        Tcl_InitHashTable(&clientCtxs, TCL_STRING_KEYS);
        clientCtxsInit = true;
    }
    hPtr = Tcl_FindHashEntry(&clientCtxs, Tcl_DStringValue(&key));
    if (hPtr != NULL) {
        ctx = Tcl_GetHashValue(hPtr);
    }
    pthread_mutex_unlock(&clientLock);

    if (ctx == NULL) {
        /* Built without the lock (it reads files); the first one stored wins. */
        newCtx = NewClientCtx(cafile, capath, tlsPtr->cert, tlsPtr->key, tlsPtr->insecure,
                              errPtr);
        if (newCtx != NULL) {
            pthread_mutex_lock(&clientLock);
            hPtr = Tcl_CreateHashEntry(&clientCtxs, Tcl_DStringValue(&key), &isNew);
            if (isNew) {
                Tcl_SetHashValue(hPtr, newCtx);
            }
            ctx = Tcl_GetHashValue(hPtr);
            pthread_mutex_unlock(&clientLock);
            if (ctx != newCtx) {
                SSL_CTX_free(newCtx);
            }
        }
    }
    Tcl_DStringFree(&key);
    return ctx;
}

/*
 *----------------------------------------------------------------------
 * NsSslClientInit --
 *
 *      Make a connected plain sock a TLS client sock: attach an SSL with
 *      SNI (the hostname option, else host unless it is an IP address) and,
 *      unless insecure, the name the certificate must match (a DNS name, or
 *      an IP address checked against the certificate's IP entries).  With
 *      no name at all (a Unix-domain socket without the hostname option),
 *      only the certificate chain is verified.  The caller runs the
 *      handshake.
 *
 * Results:
 *      NS_OK, or NS_ERROR with *errPtr filled in.
 *
 * Side effects:
 *      sockPtr->tls and sockPtr->driver (the "nsssl" client driver) set.
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
NsSslClientInit(Ns_Sock *sockPtr, const char *host, const Ns_TlsOptions *tlsPtr,
                Ns_SockError *errPtr)
{
    const char *name = (tlsPtr->hostname != NULL) ? tlsPtr->hostname : host;
    SSL_CTX    *ctx;
    SSL        *ssl;
    bool        ok;

    SslLibraryInit();
    ctx = GetClientCtx(tlsPtr, errPtr);
    if (ctx == NULL) {
        return NS_ERROR;
    }
    ERR_clear_error();
    ssl = SSL_new(ctx);
    ok = (ssl != NULL && SSL_set_fd(ssl, sockPtr->fd) == 1);
    if (ok && !NS_STRING_EMPTY(name)) {
        bool ip = IsIpLiteral(name);

        if (!ip) {
            ok = (SSL_set_tlsext_host_name(ssl, name) == 1);
        }
        if (ok && !tlsPtr->insecure) {
            SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = ip ? (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1)
                    : (SSL_set1_host(ssl, name) == 1);
        }
    }
    if (!ok) {
        char reasons[160];

        (void)ErrorQueueString(reasons, sizeof(reasons));
        if (reasons[0] == '\0') {
            snprintf(reasons, sizeof(reasons), "cannot set up TLS for \"%s\"",
                     name != NULL ? name : "");
        }
        NsSockErrorSet(errPtr, reasons, "OPENSSL", reasons, (char *)0);
        SSL_free(ssl);
        return NS_ERROR;
    }
    SSL_set_connect_state(ssl);
    sockPtr->tls = ssl;
    sockPtr->driver = &clientDriver;
    return NS_OK;
}
