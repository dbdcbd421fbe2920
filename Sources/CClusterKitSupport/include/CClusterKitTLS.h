// CClusterKitTLS: TLS over memory buffers with the system's OpenSSL 3, loaded at run time.
//
// Nothing here needs OpenSSL's headers or libraries at build time: `ck_tls_load` opens `libssl.so.3` and
// `libcrypto.so.3` with dlopen and looks up the few functions used, whose declarations TLS.c writes by hand. A
// machine without OpenSSL builds and runs everything except TLS; asking for TLS there fails with a message that
// names the file looked for.
//
// A session is a state machine over two memory buffers and does no I/O: the caller feeds it the bytes read from
// the socket (`ck_tls_feed`), reads plaintext out (`ck_tls_read`), writes plaintext in (`ck_tls_write`) and sends
// what it produces (`ck_tls_take_output`). The handshake runs inside those calls. Sessions are not thread-safe;
// each is used by one thread at a time (the reactor's). A context may be shared by sessions on any threads once
// made. Only TLS 1.2 and 1.3 are enabled.
#ifndef CCLUSTERKITTLS_H
#define CCLUSTERKITTLS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Loads libssl and libcrypto once per process (later calls return the first result, unless it failed: then they
/// try again). Returns 0, or -1 with a one-line message in `error` that names the file that could not be loaded or
/// the function that is missing.
int ck_tls_load(const char *libssl_path, const char *libcrypto_path, char *error, size_t error_size);

/// What a context is for.
typedef struct ck_tls_context_options {
    /// Non-zero for a server.
    int is_server;
    /// PEM certificate chain and private key (unencrypted); NULL for none. A server needs both.
    const char *certificate_file;
    const char *key_file;
    /// Trusted CAs: a PEM file, a hashed directory, or both NULL for the system's default store.
    const char *ca_file;
    const char *ca_path;
    /// Client: non-zero to verify the server's certificate. Server: non-zero to require and verify a client
    /// certificate.
    int verify_peer;
    /// The OpenSSL cipher list for TLS 1.2 (TLS 1.3 keeps OpenSSL's suites), or NULL for OpenSSL's default.
    const char *ciphers;
    /// Client: non-zero to keep the newest session per "host:port" (`session_key` of `ck_tls_session_new`) and
    /// offer it on the next connection there (TLS 1.3 tickets, TLS 1.2 tickets or session ids). Sessions of a server
    /// that asked for a client certificate are neither kept nor offered: a server that verifies peers without a
    /// session id context fails a handshake that offers one. Ignored for a server, which always sets a session id
    /// context and issues OpenSSL's default tickets.
    int resumes_sessions;
} ck_tls_context_options;

/// An `SSL_CTX` with a client's kept sessions.
typedef struct ck_tls_context ck_tls_context;

/// How many sessions a client context keeps, one per "host:port", least recently used first out.
#define CK_TLS_KEPT_SESSIONS 64

/// Makes a context, or returns NULL with a one-line message in `error`.
ck_tls_context *ck_tls_context_new(const ck_tls_context_options *options, char *error, size_t error_size);

/// Frees a context and the sessions it keeps. The sessions (connections) made from it must be freed first.
void ck_tls_context_free(ck_tls_context *context);

/// How many sessions the context keeps (for tests).
size_t ck_tls_context_kept_sessions(ck_tls_context *context);

/// The system's default CA file and directory, as OpenSSL finds them (`SSL_CERT_FILE` and `SSL_CERT_DIR` when set),
/// or NULL before `ck_tls_load` succeeded.
const char *ck_tls_default_ca_file(void);
const char *ck_tls_default_ca_directory(void);

/// One connection's TLS state.
typedef struct ck_tls_session ck_tls_session;

/// Results of `ck_tls_read` and `ck_tls_write` besides a positive byte count.
enum {
    /// More input from the peer is needed (handshake or a partial record).
    CK_TLS_WANT_INPUT = -1,
    /// The peer sent close_notify: no more plaintext comes.
    CK_TLS_CLOSED = -2,
    /// The session failed; `ck_tls_error` says why.
    CK_TLS_FAILED = -3,
};

/// Makes a session of the context's side. A client sends `host` as SNI (unless it is an IP literal) and, when
/// `verify_host` is non-zero, checks that the certificate names it (a DNS name, or an IP address SAN for a literal).
/// A client of a context that resumes sessions offers the one kept for `session_key` ("host:port") and keeps the
/// ones the server issues under it; NULL for neither. NULL with a message in `error` on failure.
ck_tls_session *ck_tls_session_new(ck_tls_context *context, const char *host, int verify_host,
                                   const char *session_key, char *error, size_t error_size);

/// Frees a session.
void ck_tls_session_free(ck_tls_session *session);

/// Hands the session `count` bytes read from the peer. Returns 0, or -1 when out of memory.
int ck_tls_feed(ck_tls_session *session, const void *bytes, size_t count);

/// Reads plaintext into `buffer`: a positive count, or one of the CK_TLS_ codes. Drives the handshake.
long ck_tls_read(ck_tls_session *session, void *buffer, size_t capacity);

/// Encrypts plaintext: the positive count taken, or one of the CK_TLS_ codes (CK_TLS_WANT_INPUT while the
/// handshake needs the peer). Drives the handshake.
long ck_tls_write(ck_tls_session *session, const void *bytes, size_t count);

/// Advances the handshake without plaintext: 1 when established, or one of the CK_TLS_ codes.
int ck_tls_handshake(ck_tls_session *session);

/// The bytes waiting to be sent to the peer.
size_t ck_tls_output_pending(ck_tls_session *session);

/// Moves up to `capacity` bytes to send into `buffer`; returns the count.
size_t ck_tls_take_output(ck_tls_session *session, void *buffer, size_t capacity);

/// Whether input fed but not yet read as plaintext remains (a whole or partial record, or a record's rest).
size_t ck_tls_buffered_input(ck_tls_session *session);

/// Non-zero once the handshake is complete.
int ck_tls_is_established(ck_tls_session *session);

/// Queues a close_notify alert (take it with `ck_tls_take_output`).
void ck_tls_close_notify(ck_tls_session *session);

/// Marks the connection as ended in order (both ways shut down), so that OpenSSL keeps its session resumable when
/// the session is freed. A session freed without this after its handshake (an aborted connection) has its
/// OpenSSL session marked not resumable; the next connection then makes a full handshake.
void ck_tls_mark_orderly_end(ck_tls_session *session);

/// Non-zero when the handshake resumed an earlier session.
int ck_tls_is_resumed(ck_tls_session *session);

/// The negotiated protocol, as in `TLSv1.3`.
const char *ck_tls_protocol(ck_tls_session *session);

/// Why the session failed, one line (empty before a failure).
const char *ck_tls_error(ck_tls_session *session);

#ifdef __cplusplus
}
#endif

#endif
