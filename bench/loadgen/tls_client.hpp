// tls_client.hpp: the TLS client side of capstan_loadgen (--tls 1), on OpenSSL, for the echo,
// action and handshake modes. The sockets stay the load generator's (non-blocking, epoll);
// OpenSSL reads and writes them through a socket BIO. Every handshake is a full one: the
// client keeps no session and offers none (session cache off), so a server never resumes.
// It does accept the session tickets a server sends after a TLS 1.3 handshake, as a browser
// would, so issuing them is part of the server's cost per handshake.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "common.hpp"

namespace loadgen::tls {

struct Options {
    bool enabled = false;     // --tls 1
    std::string ca_file;      // --tls-ca FILE: verify the server's chain and name; empty: no verification
    std::string version = "1.3";  // --tls-version 1.2|1.3: the only version offered
    std::string ciphers;      // --tls-ciphers: TLS 1.3 suites (1.3) or cipher list (1.2); empty: OpenSSL's
    std::string server_name = "localhost";  // --tls-name: SNI and, with a CA, the name checked
    bool upgrade = true;      // handshake mode, --upgrade 0: stop after the TLS handshake
};

// Takes option `a` with its value `v` if it is a TLS one; false if it is not.
inline bool parse_option(Options& o, std::string_view a, const char* v) {
    if (a == "--tls") o.enabled = std::atoi(v) != 0;
    else if (a == "--tls-ca") o.ca_file = v;
    else if (a == "--tls-version") o.version = v;
    else if (a == "--tls-ciphers") o.ciphers = v;
    else if (a == "--tls-name") o.server_name = v;
    else if (a == "--upgrade") o.upgrade = std::atoi(v) != 0;
    else return false;
    return true;
}

// Every error OpenSSL has queued, oldest first, then the queue is empty.
inline std::string errors() {
    std::string out;
    char buf[256];
    for (unsigned long e; (e = ERR_get_error()) != 0;) {
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out.empty() ? "no OpenSSL error queued" : out;
}

inline const char* error_name(int e) {
    switch (e) {
    case SSL_ERROR_ZERO_RETURN: return "close_notify";
    case SSL_ERROR_SYSCALL: return "system call failed or EOF";
    case SSL_ERROR_SSL: return "protocol error";
    case SSL_ERROR_WANT_READ: return "wants to read";
    case SSL_ERROR_WANT_WRITE: return "wants to write";
    default: return "other error";
    }
}

// The client context: one version only, no session cache, ALPN http/1.1 (as a browser offers
// for a WebSocket), read-ahead (one read system call takes every record that has arrived).
inline SSL_CTX* make_context(const Options& o) {
    if (o.version != "1.2" && o.version != "1.3") die("--tls-version must be 1.2 or 1.3");
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) die("SSL_CTX_new: %s", errors().c_str());
    const int v = o.version == "1.2" ? TLS1_2_VERSION : TLS1_3_VERSION;
    SSL_CTX_set_min_proto_version(ctx, v);
    SSL_CTX_set_max_proto_version(ctx, v);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    // A server that closes without close_notify is reported as an EOF, not a protocol error.
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_default_read_buffer_len(ctx, 64 * 1024);
    static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn);
    if (!o.ciphers.empty()) {
        const int ok = v == TLS1_3_VERSION ? SSL_CTX_set_ciphersuites(ctx, o.ciphers.c_str())
                                           : SSL_CTX_set_cipher_list(ctx, o.ciphers.c_str());
        if (ok != 1) die("--tls-ciphers \"%s\": %s", o.ciphers.c_str(), errors().c_str());
    }
    if (o.ca_file.empty()) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    } else {
        if (SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr) != 1)
            die("--tls-ca %s: %s", o.ca_file.c_str(), errors().c_str());
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    }
    return ctx;
}

// A client session on a connected (or connecting) socket; the socket stays ours (SSL_free
// does not close it).
inline SSL* new_session(SSL_CTX* ctx, const Options& o, int fd) {
    SSL* ssl = SSL_new(ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1) die("SSL_new: %s", errors().c_str());
    SSL_set_connect_state(ssl);
    if (!o.server_name.empty()) {
        SSL_set_tlsext_host_name(ssl, o.server_name.c_str());
        if (!o.ca_file.empty()) SSL_set1_host(ssl, o.server_name.c_str());
    }
    return ssl;
}

// What was negotiated, for the RESULT line: "TLSv1.3 TLS_AES_256_GCM_SHA384 EC-256".
struct Negotiated {
    std::string version, cipher, key;
};
inline Negotiated negotiated(SSL* ssl) {
    Negotiated n{SSL_get_version(ssl), SSL_get_cipher_name(ssl), "?"};
    if (X509* cert = SSL_get0_peer_certificate(ssl)) {
        if (EVP_PKEY* k = X509_get0_pubkey(cert)) {
            const int id = EVP_PKEY_get_base_id(k);
            n.key = std::string(id == EVP_PKEY_EC ? "EC" : id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_ED25519 ? "Ed25519" : "other") +
                    "-" + std::to_string(EVP_PKEY_get_bits(k));
        }
    }
    return n;
}

// Writes what the TLS stream takes now and keeps the rest in `out` (after anything queued),
// like write_or_queue for a plain socket. True if something was queued that was not before:
// the caller then waits for EPOLLOUT and calls flush.
inline bool write_or_queue(SSL* ssl, std::string& out, const char* data, size_t len) {
    if (!out.empty()) {
        out.append(data, len);
        return false;
    }
    while (len > 0) {
        size_t n = 0;
        ERR_clear_error();
        if (SSL_write_ex(ssl, data, len, &n) == 1) {
            data += n;
            len -= n;
            continue;
        }
        const int e = SSL_get_error(ssl, 0);
        if (e != SSL_ERROR_WANT_WRITE) die("TLS write: %s: %s", error_name(e), errors().c_str());
        out.assign(data, len);  // retried with the same bytes first (a moving buffer is allowed)
        return true;
    }
    return false;
}

// Writes what it can of `out`. True if that emptied it: EPOLLOUT is no longer needed.
inline bool flush(SSL* ssl, std::string& out) {
    if (out.empty()) return false;
    size_t done = 0;
    while (done < out.size()) {
        size_t n = 0;
        ERR_clear_error();
        if (SSL_write_ex(ssl, out.data() + done, out.size() - done, &n) == 1) {
            done += n;
            continue;
        }
        const int e = SSL_get_error(ssl, 0);
        if (e != SSL_ERROR_WANT_WRITE) die("TLS write: %s: %s", error_name(e), errors().c_str());
        break;
    }
    out.erase(0, done);
    return out.empty();
}

// Reads the records that have arrived into buf: the bytes read, 0 if none are there yet.
// Reads until OpenSSL holds nothing more (with level-triggered readiness whatever arrives
// later is reported again). `eof` is set if the server closed the stream (close_notify or
// EOF) instead; any other failure ends the run.
inline size_t read_some(SSL* ssl, char* buf, size_t capacity, bool* eof) {
    size_t got = 0;
    *eof = false;
    while (got < capacity) {
        size_t n = 0;
        ERR_clear_error();
        if (SSL_read_ex(ssl, buf + got, capacity - got, &n) == 1) {
            got += n;
            if (!SSL_has_pending(ssl)) break;
            continue;
        }
        const int e = SSL_get_error(ssl, 0);
        if (e == SSL_ERROR_WANT_READ) break;
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
            *eof = true;
            break;
        }
        die("TLS read: %s: %s", error_name(e), errors().c_str());
    }
    return got;
}

}  // namespace loadgen::tls
