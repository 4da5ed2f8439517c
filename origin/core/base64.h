// Base64 (RFC 4648 §4, with padding) as used by RFC 8941 byte sequences and
// Repr-Digest. Pure, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace liveorigin {

std::string base64_encode(std::string_view bytes);

// Strict: only the standard alphabet, padding required to a multiple of 4.
// Returns nullopt on any invalid character or length.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace liveorigin
