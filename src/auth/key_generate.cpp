// generate_key_pair: a PEM key pair for `capstan keys generate`, laid out like Lexik's
// `lexik:jwt:generate-keypair` (config/jwt/private.pem and public.pem).
#include <fcntl.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "auth/jwt.hpp"
#include "auth/jwt_algorithms.hpp"
#include "auth/openssl_ptr.hpp"

namespace capstan::auth {

namespace {

constexpr unsigned kRsaBits = 2048;

PkeyPtr generate(const Algorithm& alg) {
  switch (alg.family) {
    case AlgorithmFamily::rsa_pkcs1:
    case AlgorithmFamily::rsa_pss:
      return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(kRsaBits)));
    case AlgorithmFamily::ecdsa:
      return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", alg.curve));
    case AlgorithmFamily::eddsa:
      return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    case AlgorithmFamily::hmac:
      break;
  }
  return nullptr;
}

// The PEM text of the private key: PKCS#8, encrypted with AES-256-CBC when there is a
// passphrase ("BEGIN ENCRYPTED PRIVATE KEY", which Lexik and PHP's openssl read).
bool private_pem(EVP_PKEY* key, const std::string& passphrase, std::string& out) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  const EVP_CIPHER* cipher = passphrase.empty() ? nullptr : EVP_aes_256_cbc();
  auto* pass = reinterpret_cast<unsigned char*>(const_cast<char*>(passphrase.data()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, cipher, pass, static_cast<int>(passphrase.size()), nullptr,
                                       nullptr) != 1)
    return false;
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  out.assign(data, static_cast<size_t>(size));
  return true;
}

bool public_pem(EVP_PKEY* key, std::string& out) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return false;
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  out.assign(data, static_cast<size_t>(size));
  return true;
}

Error already_exists(const std::string& path) {
  return Error(std::make_error_code(std::errc::file_exists), path + ": already exists (refusing to overwrite it)");
}

// Writes `text` to `path` with exactly `mode` whatever the umask. Without `overwrite`, an
// existing file is an error (O_EXCL, so two runs cannot both think they made it).
Status write_file(const std::string& path, const std::string& text, mode_t mode, bool overwrite) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  const int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) return errno == EEXIST ? already_exists(path) : Error::from_errno(errno, path);
  bool ok = ::fchmod(fd, mode) == 0;
  for (size_t written = 0; ok && written < text.size();) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<size_t>(n);
  }
  Status status;
  if (!ok) status = Error::from_errno(errno, path);
  if (::close(fd) != 0 && ok) status = Error::from_errno(errno, path);
  return status;
}

}  // namespace

Status generate_key_pair(std::string_view algorithm, const std::string& dir, const std::string& passphrase,
                         bool overwrite) {
  const Algorithm* alg = find_algorithm(algorithm);
  if (!alg) return Error(AuthError::algorithm_refused, "unsupported algorithm: " + std::string(algorithm));
  if (alg->is_hmac())
    return Error(AuthError::algorithm_refused, std::string(algorithm) + " uses a shared secret, not a key pair");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error(ec, dir + ": " + ec.message());
  const std::string private_path = (std::filesystem::path(dir) / "private.pem").string();
  const std::string public_path = (std::filesystem::path(dir) / "public.pem").string();
  // Both checked before anything is written, so a refusal leaves the folder as it was.
  for (const std::string& path : {private_path, public_path})
    if (!overwrite && std::filesystem::exists(path, ec)) return already_exists(path);
  PkeyPtr key = generate(*alg);
  std::string private_text, public_text;
  if (!key || !private_pem(key.get(), passphrase, private_text) || !public_pem(key.get(), public_text))
    return Error(AuthError::bad_key, std::string(algorithm) + ": key generation failed: " + take_openssl_error());
  Status written = write_file(private_path, private_text, 0600, overwrite);
  OPENSSL_cleanse(private_text.data(), private_text.size());
  if (written) {
    written = write_file(public_path, public_text, 0644, overwrite);
    if (!written) std::filesystem::remove(private_path, ec);  // half a pair is worse than none
  }
  return written;
}

}  // namespace capstan::auth
