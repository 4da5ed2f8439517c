#include "origin/core/digest.h"

#include <cassert>
#include <cstring>

#include <openssl/evp.h>

#include "origin/core/structured_fields.h"

namespace liveorigin {

Result<ExpectedDigest> parse_repr_digest(std::string_view field_value) {
  // Every member as sent: a digest repeated (in one line or in several, which the
  // transport joins) must say the same each time, or a body matching one of them
  // would be stored under a digest it does not match.
  auto dict = sf::parse_dictionary_members(field_value);
  if (!dict) return make_error("Repr-Digest: " + dict.error().message);
  ExpectedDigest out;
  for (const auto& [key, member] : *dict) {
    if (key != "sha-256" && key != "sha-512") continue;  // algorithms we do not know: ignored
    const auto* item = std::get_if<sf::Item>(&member);
    const auto* bytes = item ? std::get_if<sf::ByteSequence>(&item->value) : nullptr;
    if (bytes == nullptr) return make_error("Repr-Digest: " + key + " must be a byte sequence");
    if (key == "sha-256") {
      if (bytes->bytes.size() != 32) return make_error("Repr-Digest: sha-256 must be 32 bytes");
      if (!out.sha256.empty() && out.sha256 != bytes->bytes) return make_error("Repr-Digest: sha-256 given twice with different values");
      out.sha256 = bytes->bytes;
    } else if (key == "sha-512") {
      if (bytes->bytes.size() != 64) return make_error("Repr-Digest: sha-512 must be 64 bytes");
      if (!out.sha512.empty() && out.sha512 != bytes->bytes) return make_error("Repr-Digest: sha-512 given twice with different values");
      out.sha512 = bytes->bytes;
    }
  }
  return out;
}

struct BodyHasher::Impl {
  EVP_MD_CTX* sha256 = nullptr;
  EVP_MD_CTX* sha512 = nullptr;
  ~Impl() {
    if (sha256) EVP_MD_CTX_free(sha256);
    if (sha512) EVP_MD_CTX_free(sha512);
  }
};

BodyHasher::BodyHasher(bool want_sha512) : impl_(std::make_unique<Impl>()) {
  impl_->sha256 = EVP_MD_CTX_new();
  [[maybe_unused]] int ok = EVP_DigestInit_ex(impl_->sha256, EVP_sha256(), nullptr);
  assert(ok == 1);
  if (want_sha512) {
    impl_->sha512 = EVP_MD_CTX_new();
    ok = EVP_DigestInit_ex(impl_->sha512, EVP_sha512(), nullptr);
    assert(ok == 1);
  }
}

BodyHasher::~BodyHasher() = default;
BodyHasher::BodyHasher(BodyHasher&&) noexcept = default;
BodyHasher& BodyHasher::operator=(BodyHasher&&) noexcept = default;

void BodyHasher::update(const void* data, size_t size) {
  EVP_DigestUpdate(impl_->sha256, data, size);
  if (impl_->sha512) EVP_DigestUpdate(impl_->sha512, data, size);
}

BodyHasher::Final BodyHasher::finish() {
  Final f;
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->sha256, f.sha256.data(), &len);
  assert(len == 32);
  if (impl_->sha512) {
    unsigned char buf[64];
    EVP_DigestFinal_ex(impl_->sha512, buf, &len);
    f.sha512.assign(reinterpret_cast<const char*>(buf), len);
  }
  return f;
}

std::string verify_digest(const ExpectedDigest& expected, const BodyHasher::Final& actual) {
  if (!expected.sha256.empty() &&
      std::memcmp(expected.sha256.data(), actual.sha256.data(), 32) != 0) {
    return "Repr-Digest: sha-256 does not match the body";
  }
  if (!expected.sha512.empty() && expected.sha512 != actual.sha512) {
    return "Repr-Digest: sha-512 does not match the body";
  }
  return {};
}

std::string to_hex(const uint8_t* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    s[2 * i] = kHex[data[i] >> 4];
    s[2 * i + 1] = kHex[data[i] & 15];
  }
  return s;
}

}  // namespace liveorigin
