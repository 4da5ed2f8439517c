// Body digests: SHA-256 of every ingested body (the identity of a candidate's bytes,
// behind 204-vs-409 and the ETag) and Repr-Digest (RFC 9530) verification.
// Hashing is incremental so the transport feeds chunks as they arrive.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "origin/core/result.h"

namespace liveorigin {

using Sha256 = std::array<uint8_t, 32>;

// What a Repr-Digest field asked us to verify. Algorithms we do not implement are
// ignored (RFC 9530 §3); an empty expectation verifies nothing.
struct ExpectedDigest {
  std::string sha256;  // raw 32 bytes, or empty
  std::string sha512;  // raw 64 bytes, or empty
  bool empty() const { return sha256.empty() && sha512.empty(); }
};

// Errors read "Repr-Digest: <what>".
Result<ExpectedDigest> parse_repr_digest(std::string_view field_value);

// Not thread-safe; one per body.
class BodyHasher {
 public:
  explicit BodyHasher(bool want_sha512 = false);
  ~BodyHasher();
  BodyHasher(BodyHasher&&) noexcept;
  BodyHasher& operator=(BodyHasher&&) noexcept;

  void update(const void* data, size_t size);
  // Ends hashing. Returns the SHA-256 and, if asked, whether the SHA-512 matched.
  struct Final {
    Sha256 sha256;
    std::string sha512;  // raw, empty unless wanted
  };
  Final finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Empty when the body matches `expected`; otherwise "Repr-Digest: sha-256 does not match the body".
std::string verify_digest(const ExpectedDigest& expected, const BodyHasher::Final& actual);

std::string to_hex(const uint8_t* data, size_t size);

}  // namespace liveorigin
