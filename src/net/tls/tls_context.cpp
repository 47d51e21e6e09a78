#include "net/tls/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/pemerr.h>
#include <openssl/pkcs12err.h>
#include <openssl/proverr.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "util/openssl_text.hpp"

namespace capstan::net::tls {

namespace {

Error failure(const std::string& what) {
  const std::string reason = util::take_openssl_error();
  return Error(ConfigError::invalid, "server.tls: " + what + ": " + (reason.empty() ? "unknown reason" : reason));
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return out;
}

// A certificate name matches the host exactly, or as "*.example.com" matches one label.
bool name_matches(const std::string& name, std::string_view host) {
  if (name == host) return true;
  if (name.size() < 3 || name[0] != '*' || name[1] != '.') return false;
  const size_t dot = host.find('.');
  return dot != std::string_view::npos && dot > 0 && host.substr(dot) == std::string_view(name).substr(1);
}

std::vector<std::string> dns_names(X509* leaf) {
  std::vector<std::string> names;
  auto* alt = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
  if (alt) {
    for (int i = 0; i < sk_GENERAL_NAME_num(alt); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(alt, i);
      if (gn->type != GEN_DNS) continue;
      const ASN1_STRING* s = gn->d.dNSName;
      names.push_back(lower({reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s))}));
    }
    GENERAL_NAMES_free(alt);
  }
  if (names.empty()) {  // no DNS names in a SAN: the subject's CN, as clients used to check
    char cn[256];
    const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof cn);
    if (n > 0) names.push_back(lower({cn, static_cast<size_t>(n)}));
  }
  return names;
}

// ALPN: the one protocol spoken here. A client offering only others (h2) goes on without ALPN,
// as nginx does with such a client, rather than failing the handshake.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in, unsigned in_len, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, kHttp11, sizeof kHttp11, in, in_len) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

int select_certificate(SSL* ssl, int*, void* arg) {
  const char* host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!host) return SSL_TLSEXT_ERR_OK;
  SSL_CTX* chosen = static_cast<const TlsContexts*>(arg)->for_host(host);
  if (chosen && chosen != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, chosen);
  return SSL_TLSEXT_ERR_OK;  // an unknown name gets the default certificate
}

}  // namespace

TlsContexts::~TlsContexts() {
  for (Entry& e : entries_) SSL_CTX_free(e.ctx);
}

SSL_CTX* TlsContexts::for_host(const char* host) const noexcept {
  std::string wanted;
  try {
    wanted = lower(host);
  } catch (...) {
    return nullptr;
  }
  for (const Entry& e : entries_)
    for (const std::string& name : e.names)
      if (name_matches(name, wanted)) return e.ctx;
  return nullptr;
}

Expected<std::shared_ptr<const TlsContexts>> TlsContexts::load(const TlsSettings& s) {
  if (s.certificates.empty()) return Error(ConfigError::missing, "server.tls: needs a certificate");
  if (s.certificates.size() != s.keys.size())
    return Error(ConfigError::invalid, "server.tls: one key per certificate (" + std::to_string(s.certificates.size()) + " certificates, " +
                                           std::to_string(s.keys.size()) + " keys)");
  std::shared_ptr<TlsContexts> contexts(new TlsContexts());
  ERR_clear_error();
  for (size_t i = 0; i < s.certificates.size(); ++i) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return failure("cannot create a context");
    contexts->entries_.push_back({ctx, {}});
    SSL_CTX_set_min_proto_version(ctx, s.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
    // No renegotiation (a client could make the server work at will); the server's cipher
    // order; no compression (CRIME).
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    // Partial writes (one record per SSL_write, as TlsTransport::write expects), and buffers
    // given back while a connection is idle (most of them, most of the time).
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
    // Read-ahead: one read(2) takes every record that has arrived, instead of two per record
    // (its 5-byte header, then its body). What it takes beyond the caller's buffer stays in
    // OpenSSL's and shows in has_buffered_input (SSL_has_pending).
    SSL_CTX_set_read_ahead(ctx, 1);
    if (!s.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, s.ciphers.c_str()) != 1) return failure("ciphers \"" + s.ciphers + "\"");
    if (!s.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx, s.ciphersuites.c_str()) != 1)
      return failure("ciphersuites \"" + s.ciphersuites + "\"");
    if (SSL_CTX_use_certificate_chain_file(ctx, s.certificates[i].c_str()) != 1) return failure("certificate " + s.certificates[i]);
    std::string passphrase = s.passphrase;  // the callback wants a mutable pointer
    SSL_CTX_set_default_passwd_cb(ctx, util::passphrase_callback);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, &passphrase);
    const int key_ok = SSL_CTX_use_PrivateKey_file(ctx, s.keys[i].c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
    if (key_ok != 1) {
      // OpenSSL 3 checks the pair while loading, and its last error is often only "PEM lib":
      // the whole queue says which fault it was.
      std::vector<unsigned long> codes;
      for (unsigned long code = ERR_peek_error(); code != 0; code = ERR_peek_error()) {
        codes.push_back(code);
        if (ERR_peek_last_error() == code) break;  // the last one stays, for the text
        ERR_get_error();
      }
      auto has = [&](int library, int reason) {  // reason codes are per library
        return std::any_of(codes.begin(), codes.end(),
                           [&](unsigned long c) { return ERR_GET_LIB(c) == library && ERR_GET_REASON(c) == reason; });
      };
      if (has(ERR_LIB_X509, X509_R_KEY_VALUES_MISMATCH)) return failure("key " + s.keys[i] + " does not match " + s.certificates[i]);
      const bool locked = has(ERR_LIB_PEM, PEM_R_BAD_PASSWORD_READ) || has(ERR_LIB_PEM, PEM_R_BAD_DECRYPT) ||
                          has(ERR_LIB_PROV, PROV_R_BAD_DECRYPT) || has(ERR_LIB_PKCS12, PKCS12_R_PKCS12_CIPHERFINAL_ERROR);
      return failure("key " + s.keys[i] + (locked ? (s.passphrase.empty() ? " is encrypted: it needs a passphrase" : " (wrong passphrase?)") : ""));
    }
    if (SSL_CTX_check_private_key(ctx) != 1) return failure("key " + s.keys[i] + " does not match " + s.certificates[i]);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
    SSL_CTX_set_tlsext_servername_callback(ctx, select_certificate);
    SSL_CTX_set_tlsext_servername_arg(ctx, contexts.get());
    contexts->entries_.back().names = dns_names(SSL_CTX_get0_certificate(ctx));
  }
  return std::shared_ptr<const TlsContexts>(std::move(contexts));
}

}  // namespace capstan::net::tls
