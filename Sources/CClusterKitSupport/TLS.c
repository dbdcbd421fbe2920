// See include/CClusterKitTLS.h. OpenSSL 3's declarations are written here by hand (types are opaque pointers), so
// building needs no OpenSSL headers; the functions come from dlopen/dlsym at run time.
#include "CClusterKitTLS.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// MARK: - OpenSSL 3 ABI, by hand

typedef struct ossl_ssl SSL;
typedef struct ossl_ssl_ctx SSL_CTX;
typedef struct ossl_ssl_method SSL_METHOD;
typedef struct ossl_bio BIO;
typedef struct ossl_bio_method BIO_METHOD;
typedef struct ossl_verify_param X509_VERIFY_PARAM;
typedef struct ossl_ssl_session SSL_SESSION;

enum {
    OSSL_SSL_CTRL_MODE = 33,
    OSSL_SSL_CTRL_SET_TLSEXT_HOSTNAME = 55,
    OSSL_SSL_CTRL_SET_MIN_PROTO_VERSION = 123,
    OSSL_SSL_CTRL_SET_SESS_CACHE_MODE = 44,
    OSSL_SSL_SESS_CACHE_CLIENT = 0x0001,
    OSSL_SSL_SESS_CACHE_NO_INTERNAL = 0x0300,
    OSSL_SSL_SENT_SHUTDOWN = 1,
    OSSL_SSL_RECEIVED_SHUTDOWN = 2,
    OSSL_TLS1_2_VERSION = 0x0303,
    OSSL_TLSEXT_NAMETYPE_host_name = 0,
    OSSL_SSL_MODE_ENABLE_PARTIAL_WRITE = 0x1,
    OSSL_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = 0x2,
    OSSL_SSL_FILETYPE_PEM = 1,
    OSSL_SSL_VERIFY_NONE = 0,
    OSSL_SSL_VERIFY_PEER = 1,
    OSSL_SSL_VERIFY_FAIL_IF_NO_PEER_CERT = 2,
    OSSL_SSL_ERROR_NONE = 0,
    OSSL_SSL_ERROR_SSL = 1,
    OSSL_SSL_ERROR_WANT_READ = 2,
    OSSL_SSL_ERROR_WANT_WRITE = 3,
    OSSL_SSL_ERROR_SYSCALL = 5,
    OSSL_SSL_ERROR_ZERO_RETURN = 6,
    OSSL_X509_V_OK = 0,
};
static const uint64_t OSSL_SSL_OP_NO_RENEGOTIATION = (uint64_t)1 << 30;

static struct {
    const SSL_METHOD *(*TLS_client_method)(void);
    const SSL_METHOD *(*TLS_server_method)(void);
    SSL_CTX *(*SSL_CTX_new)(const SSL_METHOD *);
    void (*SSL_CTX_free)(SSL_CTX *);
    long (*SSL_CTX_ctrl)(SSL_CTX *, int, long, void *);
    uint64_t (*SSL_CTX_set_options)(SSL_CTX *, uint64_t);
    int (*SSL_CTX_use_certificate_chain_file)(SSL_CTX *, const char *);
    int (*SSL_CTX_use_PrivateKey_file)(SSL_CTX *, const char *, int);
    int (*SSL_CTX_check_private_key)(const SSL_CTX *);
    int (*SSL_CTX_load_verify_locations)(SSL_CTX *, const char *, const char *);
    int (*SSL_CTX_set_default_verify_paths)(SSL_CTX *);
    void (*SSL_CTX_set_verify)(SSL_CTX *, int, void *);
    int (*SSL_CTX_set_cipher_list)(SSL_CTX *, const char *);
    int (*SSL_CTX_set_session_id_context)(SSL_CTX *, const unsigned char *, unsigned int);
    void (*SSL_CTX_sess_set_new_cb)(SSL_CTX *, int (*)(SSL *, SSL_SESSION *));
    void (*SSL_CTX_set_cert_cb)(SSL_CTX *, int (*)(SSL *, void *), void *);
    int (*SSL_set_ex_data)(SSL *, int, void *);
    void *(*SSL_get_ex_data)(const SSL *, int);
    int (*SSL_set_session)(SSL *, SSL_SESSION *);
    int (*SSL_session_reused)(const SSL *);
    void (*SSL_set_shutdown)(SSL *, int);
    int (*SSL_SESSION_is_resumable)(const SSL_SESSION *);
    void (*SSL_SESSION_free)(SSL_SESSION *);
    SSL *(*SSL_new)(SSL_CTX *);
    void (*SSL_free)(SSL *);
    void (*SSL_set_bio)(SSL *, BIO *, BIO *);
    void (*SSL_set_connect_state)(SSL *);
    void (*SSL_set_accept_state)(SSL *);
    int (*SSL_read)(SSL *, void *, int);
    int (*SSL_write)(SSL *, const void *, int);
    int (*SSL_do_handshake)(SSL *);
    int (*SSL_get_error)(const SSL *, int);
    int (*SSL_shutdown)(SSL *);
    int (*SSL_pending)(const SSL *);
    int (*SSL_is_init_finished)(const SSL *);
    long (*SSL_get_verify_result)(const SSL *);
    long (*SSL_ctrl)(SSL *, int, long, void *);
    int (*SSL_set1_host)(SSL *, const char *);
    X509_VERIFY_PARAM *(*SSL_get0_param)(SSL *);
    const char *(*SSL_get_version)(const SSL *);
    int (*X509_VERIFY_PARAM_set1_ip_asc)(X509_VERIFY_PARAM *, const char *);
    const char *(*X509_verify_cert_error_string)(long);
    const char *(*X509_get_default_cert_file)(void);
    const char *(*X509_get_default_cert_file_env)(void);
    const char *(*X509_get_default_cert_dir)(void);
    const char *(*X509_get_default_cert_dir_env)(void);
    const BIO_METHOD *(*BIO_s_mem)(void);
    BIO *(*BIO_new)(const BIO_METHOD *);
    int (*BIO_free)(BIO *);
    int (*BIO_write)(BIO *, const void *, int);
    int (*BIO_read)(BIO *, void *, int);
    size_t (*BIO_ctrl_pending)(BIO *);
    unsigned long (*ERR_get_error)(void);
    const char *(*ERR_reason_error_string)(unsigned long);
    void (*ERR_error_string_n)(unsigned long, char *, size_t);
    void (*ERR_clear_error)(void);
} ossl;

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static int loaded = 0;

static int look_up(void *library, const char *library_name, const char *name, void **slot, char *error,
                   size_t error_size) {
    *slot = dlsym(library, name);
    if (*slot == NULL) {
        snprintf(error, error_size, "%s has no function %s (OpenSSL 3 is needed)", library_name, name);
        return -1;
    }
    return 0;
}

int ck_tls_load(const char *libssl_path, const char *libcrypto_path, char *error, size_t error_size) {
    pthread_mutex_lock(&load_lock);
    if (loaded) {
        pthread_mutex_unlock(&load_lock);
        return 0;
    }
    void *crypto = dlopen(libcrypto_path, RTLD_NOW | RTLD_LOCAL);
    if (crypto == NULL) {
        const char *reason = dlerror();
        snprintf(error, error_size, "cannot load %s: %s", libcrypto_path, reason ? reason : "unknown error");
        pthread_mutex_unlock(&load_lock);
        return -1;
    }
    void *ssl = dlopen(libssl_path, RTLD_NOW | RTLD_LOCAL);
    if (ssl == NULL) {
        const char *reason = dlerror();
        snprintf(error, error_size, "cannot load %s: %s", libssl_path, reason ? reason : "unknown error");
        pthread_mutex_unlock(&load_lock);
        return -1;
    }
    int failed = 0;
#define SSL_FN(name) failed = failed || look_up(ssl, libssl_path, #name, (void **)&ossl.name, error, error_size)
#define CRYPTO_FN(name)                                                                                              \
    failed = failed || look_up(crypto, libcrypto_path, #name, (void **)&ossl.name, error, error_size)
    SSL_FN(TLS_client_method);
    SSL_FN(TLS_server_method);
    SSL_FN(SSL_CTX_new);
    SSL_FN(SSL_CTX_free);
    SSL_FN(SSL_CTX_ctrl);
    SSL_FN(SSL_CTX_set_options);
    SSL_FN(SSL_CTX_use_certificate_chain_file);
    SSL_FN(SSL_CTX_use_PrivateKey_file);
    SSL_FN(SSL_CTX_check_private_key);
    SSL_FN(SSL_CTX_load_verify_locations);
    SSL_FN(SSL_CTX_set_default_verify_paths);
    SSL_FN(SSL_CTX_set_verify);
    SSL_FN(SSL_CTX_set_cipher_list);
    SSL_FN(SSL_CTX_set_session_id_context);
    SSL_FN(SSL_CTX_sess_set_new_cb);
    SSL_FN(SSL_CTX_set_cert_cb);
    SSL_FN(SSL_set_ex_data);
    SSL_FN(SSL_get_ex_data);
    SSL_FN(SSL_set_session);
    SSL_FN(SSL_session_reused);
    SSL_FN(SSL_set_shutdown);
    SSL_FN(SSL_SESSION_is_resumable);
    SSL_FN(SSL_SESSION_free);
    SSL_FN(SSL_new);
    SSL_FN(SSL_free);
    SSL_FN(SSL_set_bio);
    SSL_FN(SSL_set_connect_state);
    SSL_FN(SSL_set_accept_state);
    SSL_FN(SSL_read);
    SSL_FN(SSL_write);
    SSL_FN(SSL_do_handshake);
    SSL_FN(SSL_get_error);
    SSL_FN(SSL_shutdown);
    SSL_FN(SSL_pending);
    SSL_FN(SSL_is_init_finished);
    SSL_FN(SSL_get_verify_result);
    SSL_FN(SSL_ctrl);
    SSL_FN(SSL_set1_host);
    SSL_FN(SSL_get0_param);
    SSL_FN(SSL_get_version);
    CRYPTO_FN(X509_VERIFY_PARAM_set1_ip_asc);
    CRYPTO_FN(X509_verify_cert_error_string);
    CRYPTO_FN(X509_get_default_cert_file);
    CRYPTO_FN(X509_get_default_cert_file_env);
    CRYPTO_FN(X509_get_default_cert_dir);
    CRYPTO_FN(X509_get_default_cert_dir_env);
    CRYPTO_FN(BIO_s_mem);
    CRYPTO_FN(BIO_new);
    CRYPTO_FN(BIO_free);
    CRYPTO_FN(BIO_write);
    CRYPTO_FN(BIO_read);
    CRYPTO_FN(BIO_ctrl_pending);
    CRYPTO_FN(ERR_get_error);
    CRYPTO_FN(ERR_reason_error_string);
    CRYPTO_FN(ERR_error_string_n);
    CRYPTO_FN(ERR_clear_error);
#undef SSL_FN
#undef CRYPTO_FN
    if (failed) {
        // The libraries stay loaded (dlclose of OpenSSL is unsafe); a later call tries again and fails the same way.
        pthread_mutex_unlock(&load_lock);
        return -1;
    }
    loaded = 1;
    pthread_mutex_unlock(&load_lock);
    return 0;
}

// MARK: - Errors

/// Writes "prefix: reason" for the most recent OpenSSL error (the queue is emptied).
static void describe_error(const char *prefix, char *error, size_t error_size) {
    unsigned long last = 0;
    unsigned long code;
    while ((code = ossl.ERR_get_error()) != 0) last = code;
    const char *reason = last ? ossl.ERR_reason_error_string(last) : NULL;
    char fallback[256];
    if (last && reason == NULL) {
        ossl.ERR_error_string_n(last, fallback, sizeof fallback);
        reason = fallback;
    }
    if (reason) {
        snprintf(error, error_size, "%s: %s", prefix, reason);
    } else {
        snprintf(error, error_size, "%s", prefix);
    }
}

// MARK: - Contexts

/// A client's kept session for one "host:port".
typedef struct {
    char *key;
    SSL_SESSION *session;
    uint64_t last_use;
} kept_session;

struct ck_tls_context {
    SSL_CTX *ssl_context;
    int is_server;
    /// A client that keeps sessions to resume (see ck_tls_context_options.resumes_sessions).
    int resumes_sessions;
    pthread_mutex_t lock;
    /// The newest session per "host:port", at most CK_TLS_KEPT_SESSIONS; the least recently used goes first.
    kept_session kept[CK_TLS_KEPT_SESSIONS];
    uint64_t clock;
};

struct ck_tls_session {
    SSL *ssl;
    BIO *input;
    BIO *output;
    ck_tls_context *context;
    /// The "host:port" whose sessions this client keeps and offers, or NULL.
    char *session_key;
    /// Whether the server sent a CertificateRequest: then no session of this connection is kept.
    int server_asked_for_certificate;
    char error[512];
};

/// The session id context of a server: without one, OpenSSL fails a handshake that offers a session to a server
/// that verifies peers. Any fixed value does; it only has to be the same for every connection to the server.
static const unsigned char server_session_id_context[] = "ClusterKit";

static void forget_locked(ck_tls_context *context, kept_session *entry) {
    if (entry->session) ossl.SSL_SESSION_free(entry->session);
    free(entry->key);
    entry->session = NULL;
    entry->key = NULL;
    entry->last_use = 0;
}

static kept_session *find_locked(ck_tls_context *context, const char *key) {
    for (int index = 0; index < CK_TLS_KEPT_SESSIONS; index++) {
        if (context->kept[index].key && strcmp(context->kept[index].key, key) == 0) return &context->kept[index];
    }
    return NULL;
}

/// Keeps `session` (whose reference it takes) as the newest for `key`; 0 when it cannot (out of memory).
static int keep_session(ck_tls_context *context, const char *key, SSL_SESSION *session) {
    pthread_mutex_lock(&context->lock);
    kept_session *entry = find_locked(context, key);
    if (entry == NULL) {
        entry = &context->kept[0];
        for (int index = 0; index < CK_TLS_KEPT_SESSIONS; index++) {
            kept_session *candidate = &context->kept[index];
            if (candidate->key == NULL) {
                entry = candidate;
                break;
            }
            if (candidate->last_use < entry->last_use) entry = candidate;
        }
        forget_locked(context, entry);
        entry->key = strdup(key);
        if (entry->key == NULL) {
            pthread_mutex_unlock(&context->lock);
            return 0;
        }
    } else if (entry->session) {
        ossl.SSL_SESSION_free(entry->session);
    }
    entry->session = session;
    entry->last_use = ++context->clock;
    pthread_mutex_unlock(&context->lock);
    return 1;
}

/// OpenSSL's new-session callback (client session cache mode, no internal store): a TLS 1.3 NewSessionTicket or
/// the end of a TLS 1.2 handshake. Returns 1 when the session's reference is kept.
static int session_made(SSL *ssl, SSL_SESSION *made) {
    ck_tls_session *session = ossl.SSL_get_ex_data(ssl, 0);
    if (session == NULL || session->session_key == NULL || session->server_asked_for_certificate) return 0;
    return keep_session(session->context, session->session_key, made);
}

/// OpenSSL's certificate callback, which a client gets when the server sends a CertificateRequest. A server that
/// verifies client certificates fails a handshake that offers a session when it has no session id context, which
/// a client cannot see; so sessions of such servers are neither kept nor offered (ClusterKit's own server has one).
static int certificate_requested(SSL *ssl, void *argument) {
    (void)argument;
    ck_tls_session *session = ossl.SSL_get_ex_data(ssl, 0);
    if (session == NULL) return 1;
    session->server_asked_for_certificate = 1;
    if (session->session_key) {
        pthread_mutex_lock(&session->context->lock);
        kept_session *entry = find_locked(session->context, session->session_key);
        if (entry) forget_locked(session->context, entry);
        pthread_mutex_unlock(&session->context->lock);
    }
    return 1;
}

/// Offers the session kept for `key`, if it may still be resumed (OpenSSL marks the session of a connection that
/// ended without a shutdown as not resumable: then it is dropped).
static void offer_session(ck_tls_session *session) {
    ck_tls_context *context = session->context;
    pthread_mutex_lock(&context->lock);
    kept_session *entry = find_locked(context, session->session_key);
    if (entry && entry->session) {
        if (ossl.SSL_SESSION_is_resumable(entry->session)) {
            entry->last_use = ++context->clock;
            ossl.SSL_set_session(session->ssl, entry->session); // takes its own reference
        } else {
            forget_locked(context, entry);
        }
    }
    pthread_mutex_unlock(&context->lock);
}

ck_tls_context *ck_tls_context_new(const ck_tls_context_options *options, char *error, size_t error_size) {
    if (!loaded) {
        snprintf(error, error_size, "OpenSSL is not loaded");
        return NULL;
    }
    ck_tls_context *wrapper = calloc(1, sizeof *wrapper);
    if (wrapper == NULL) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    ossl.ERR_clear_error();
    SSL_CTX *context = ossl.SSL_CTX_new(options->is_server ? ossl.TLS_server_method() : ossl.TLS_client_method());
    if (context == NULL) {
        describe_error("cannot make a TLS context", error, error_size);
        free(wrapper);
        return NULL;
    }
    wrapper->ssl_context = context;
    wrapper->is_server = options->is_server;
    pthread_mutex_init(&wrapper->lock, NULL);
#define FAIL(...)                                                                                                    \
    do {                                                                                                             \
        __VA_ARGS__;                                                                                                 \
        ck_tls_context_free(wrapper);                                                                                \
        return NULL;                                                                                                 \
    } while (0)
    if (ossl.SSL_CTX_ctrl(context, OSSL_SSL_CTRL_SET_MIN_PROTO_VERSION, OSSL_TLS1_2_VERSION, NULL) != 1) {
        FAIL(describe_error("cannot require TLS 1.2 or later", error, error_size));
    }
    ossl.SSL_CTX_set_options(context, OSSL_SSL_OP_NO_RENEGOTIATION);
    // The caller's output buffer may move and grow between a write that wanted input and its retry.
    ossl.SSL_CTX_ctrl(context, OSSL_SSL_CTRL_MODE,
                      OSSL_SSL_MODE_ENABLE_PARTIAL_WRITE | OSSL_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, NULL);
    char prefix[600];
    if (options->certificate_file) {
        if (ossl.SSL_CTX_use_certificate_chain_file(context, options->certificate_file) != 1) {
            snprintf(prefix, sizeof prefix, "cannot use certificate file '%s'", options->certificate_file);
            FAIL(describe_error(prefix, error, error_size));
        }
    }
    if (options->key_file) {
        if (ossl.SSL_CTX_use_PrivateKey_file(context, options->key_file, OSSL_SSL_FILETYPE_PEM) != 1) {
            snprintf(prefix, sizeof prefix, "cannot use private key file '%s'", options->key_file);
            FAIL(describe_error(prefix, error, error_size));
        }
        if (ossl.SSL_CTX_check_private_key(context) != 1) {
            snprintf(prefix, sizeof prefix, "private key file '%s' does not match the certificate", options->key_file);
            FAIL(describe_error(prefix, error, error_size));
        }
    }
    if (options->ciphers && ossl.SSL_CTX_set_cipher_list(context, options->ciphers) != 1) {
        snprintf(prefix, sizeof prefix, "invalid cipher list '%s'", options->ciphers);
        FAIL(describe_error(prefix, error, error_size));
    }
    if (options->verify_peer) {
        if (options->ca_file || options->ca_path) {
            if (ossl.SSL_CTX_load_verify_locations(context, options->ca_file, options->ca_path) != 1) {
                snprintf(prefix, sizeof prefix, "cannot load trusted certificates from '%s'",
                         options->ca_file ? options->ca_file : options->ca_path);
                FAIL(describe_error(prefix, error, error_size));
            }
        } else if (ossl.SSL_CTX_set_default_verify_paths(context) != 1) {
            FAIL(describe_error("cannot load the system's trusted certificates", error, error_size));
        }
        int mode = OSSL_SSL_VERIFY_PEER;
        if (options->is_server) mode |= OSSL_SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        ossl.SSL_CTX_set_verify(context, mode, NULL);
    } else {
        ossl.SSL_CTX_set_verify(context, OSSL_SSL_VERIFY_NONE, NULL);
    }
    if (options->is_server) {
        if (ossl.SSL_CTX_set_session_id_context(context, server_session_id_context,
                                                sizeof server_session_id_context - 1) != 1) {
            FAIL(describe_error("cannot set the session id context", error, error_size));
        }
    } else if (options->resumes_sessions) {
        wrapper->resumes_sessions = 1;
        ossl.SSL_CTX_ctrl(context, OSSL_SSL_CTRL_SET_SESS_CACHE_MODE,
                          OSSL_SSL_SESS_CACHE_CLIENT | OSSL_SSL_SESS_CACHE_NO_INTERNAL, NULL);
        ossl.SSL_CTX_sess_set_new_cb(context, session_made);
        ossl.SSL_CTX_set_cert_cb(context, certificate_requested, NULL);
    }
#undef FAIL
    return wrapper;
}

void ck_tls_context_free(ck_tls_context *context) {
    if (context == NULL) return;
    if (loaded) {
        for (int index = 0; index < CK_TLS_KEPT_SESSIONS; index++) forget_locked(context, &context->kept[index]);
        ossl.SSL_CTX_free(context->ssl_context);
    }
    pthread_mutex_destroy(&context->lock);
    free(context);
}

size_t ck_tls_context_kept_sessions(ck_tls_context *context) {
    size_t count = 0;
    pthread_mutex_lock(&context->lock);
    for (int index = 0; index < CK_TLS_KEPT_SESSIONS; index++) count += context->kept[index].session != NULL;
    pthread_mutex_unlock(&context->lock);
    return count;
}

const char *ck_tls_default_ca_file(void) {
    if (!loaded) return NULL;
    const char *variable = getenv(ossl.X509_get_default_cert_file_env());
    return variable && *variable ? variable : ossl.X509_get_default_cert_file();
}

const char *ck_tls_default_ca_directory(void) {
    if (!loaded) return NULL;
    const char *variable = getenv(ossl.X509_get_default_cert_dir_env());
    return variable && *variable ? variable : ossl.X509_get_default_cert_dir();
}

// MARK: - Sessions

static int is_ip_literal(const char *host) {
    int has_colon = 0;
    int all_digits_dots = 1;
    for (const char *p = host; *p; p++) {
        if (*p == ':') has_colon = 1;
        if (!((*p >= '0' && *p <= '9') || *p == '.')) all_digits_dots = 0;
    }
    return has_colon || (all_digits_dots && *host != '\0');
}

ck_tls_session *ck_tls_session_new(ck_tls_context *context, const char *host, int verify_host,
                                   const char *session_key, char *error, size_t error_size) {
    if (!loaded || context == NULL) {
        snprintf(error, error_size, "OpenSSL is not loaded");
        return NULL;
    }
    ossl.ERR_clear_error();
    ck_tls_session *session = calloc(1, sizeof *session);
    if (session == NULL) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    int is_server = context->is_server;
    session->context = context;
    session->ssl = ossl.SSL_new(context->ssl_context);
    session->input = ossl.BIO_new(ossl.BIO_s_mem());
    session->output = ossl.BIO_new(ossl.BIO_s_mem());
    if (session->ssl == NULL || session->input == NULL || session->output == NULL) {
        describe_error("cannot make a TLS session", error, error_size);
        if (session->input) ossl.BIO_free(session->input);
        if (session->output) ossl.BIO_free(session->output);
        if (session->ssl) ossl.SSL_free(session->ssl);
        free(session);
        return NULL;
    }
    ossl.SSL_set_bio(session->ssl, session->input, session->output);
    if (is_server) {
        ossl.SSL_set_accept_state(session->ssl);
    } else {
        ossl.SSL_set_connect_state(session->ssl);
        if (host && *host) {
            int literal = is_ip_literal(host);
            if (!literal) {
                ossl.SSL_ctrl(session->ssl, OSSL_SSL_CTRL_SET_TLSEXT_HOSTNAME, OSSL_TLSEXT_NAMETYPE_host_name,
                              (void *)host);
            }
            if (verify_host) {
                int ok = literal ? ossl.X509_VERIFY_PARAM_set1_ip_asc(ossl.SSL_get0_param(session->ssl), host)
                                 : ossl.SSL_set1_host(session->ssl, host);
                if (ok != 1) {
                    char prefix[300];
                    snprintf(prefix, sizeof prefix, "cannot check the certificate for '%s'", host);
                    describe_error(prefix, error, error_size);
                    ck_tls_session_free(session);
                    return NULL;
                }
            }
        }
        if (context->resumes_sessions && session_key) {
            session->session_key = strdup(session_key);
            if (session->session_key == NULL || ossl.SSL_set_ex_data(session->ssl, 0, session) != 1) {
                snprintf(error, error_size, "out of memory");
                ck_tls_session_free(session);
                return NULL;
            }
            offer_session(session);
        }
    }
    return session;
}

void ck_tls_session_free(ck_tls_session *session) {
    if (session == NULL) return;
    if (session->ssl) ossl.SSL_free(session->ssl); // frees both BIOs
    free(session->session_key);
    free(session);
}

int ck_tls_feed(ck_tls_session *session, const void *bytes, size_t count) {
    while (count > 0) {
        int chunk = count > (1u << 30) ? (1 << 30) : (int)count;
        int written = ossl.BIO_write(session->input, bytes, chunk);
        if (written <= 0) return -1;
        bytes = (const char *)bytes + written;
        count -= (size_t)written;
    }
    return 0;
}

/// Turns a failed SSL call into a CK_TLS_ code, recording why it failed.
static long outcome(ck_tls_session *session, int result) {
    int code = ossl.SSL_get_error(session->ssl, result);
    switch (code) {
    case OSSL_SSL_ERROR_WANT_READ:
    case OSSL_SSL_ERROR_WANT_WRITE:
        return CK_TLS_WANT_INPUT;
    case OSSL_SSL_ERROR_ZERO_RETURN:
        return CK_TLS_CLOSED;
    default:
        break;
    }
    long verify = ossl.SSL_get_verify_result(session->ssl);
    if (verify != OSSL_X509_V_OK) {
        snprintf(session->error, sizeof session->error, "certificate verify failed: %s",
                 ossl.X509_verify_cert_error_string(verify));
        ossl.ERR_clear_error();
    } else if (code == OSSL_SSL_ERROR_SSL) {
        describe_error(ossl.SSL_is_init_finished(session->ssl) ? "TLS error" : "TLS handshake failed", session->error,
                       sizeof session->error);
    } else {
        snprintf(session->error, sizeof session->error, "TLS error (code %d)", code);
        ossl.ERR_clear_error();
    }
    return CK_TLS_FAILED;
}

long ck_tls_read(ck_tls_session *session, void *buffer, size_t capacity) {
    if (capacity == 0) return CK_TLS_WANT_INPUT;
    ossl.ERR_clear_error();
    int result = ossl.SSL_read(session->ssl, buffer, capacity > (1u << 30) ? (1 << 30) : (int)capacity);
    if (result > 0) return result;
    return outcome(session, result);
}

long ck_tls_write(ck_tls_session *session, const void *bytes, size_t count) {
    if (count == 0) return 0;
    ossl.ERR_clear_error();
    int result = ossl.SSL_write(session->ssl, bytes, count > (1u << 30) ? (1 << 30) : (int)count);
    if (result > 0) return result;
    return outcome(session, result);
}

int ck_tls_handshake(ck_tls_session *session) {
    if (ossl.SSL_is_init_finished(session->ssl)) return 1;
    ossl.ERR_clear_error();
    int result = ossl.SSL_do_handshake(session->ssl);
    if (result == 1) return 1;
    return (int)outcome(session, result);
}

size_t ck_tls_output_pending(ck_tls_session *session) { return ossl.BIO_ctrl_pending(session->output); }

size_t ck_tls_take_output(ck_tls_session *session, void *buffer, size_t capacity) {
    if (capacity == 0) return 0;
    int count = ossl.BIO_read(session->output, buffer, capacity > (1u << 30) ? (1 << 30) : (int)capacity);
    return count > 0 ? (size_t)count : 0;
}

size_t ck_tls_buffered_input(ck_tls_session *session) {
    return (size_t)ossl.SSL_pending(session->ssl) + ossl.BIO_ctrl_pending(session->input);
}

int ck_tls_is_established(ck_tls_session *session) { return ossl.SSL_is_init_finished(session->ssl) ? 1 : 0; }

void ck_tls_close_notify(ck_tls_session *session) {
    if (!ossl.SSL_is_init_finished(session->ssl)) return;
    ossl.ERR_clear_error();
    ossl.SSL_shutdown(session->ssl);
    ossl.ERR_clear_error();
}

void ck_tls_mark_orderly_end(ck_tls_session *session) {
    ossl.SSL_set_shutdown(session->ssl, OSSL_SSL_SENT_SHUTDOWN | OSSL_SSL_RECEIVED_SHUTDOWN);
}

int ck_tls_is_resumed(ck_tls_session *session) { return ossl.SSL_session_reused(session->ssl) ? 1 : 0; }

const char *ck_tls_protocol(ck_tls_session *session) { return ossl.SSL_get_version(session->ssl); }

const char *ck_tls_error(ck_tls_session *session) { return session->error; }
