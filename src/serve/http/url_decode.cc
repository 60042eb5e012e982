#include "serve/http/url_decode.h"

#include <fmt/format.h>

#include "common/escape.h"

namespace dataforge::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// At most this much of a bad value is quoted back in the error.
constexpr size_t kQuoteMax = 64;

std::string Quote(std::string_view raw) {
  std::string_view shown = raw.substr(0, kQuoteMax);
  return EscapeControlChars(shown) + (raw.size() > kQuoteMax ? "..." : "");
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_as_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view raw) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t amp = raw.find('&', pos);
    if (amp == std::string_view::npos) amp = raw.size();
    std::string_view pair = raw.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view raw_name = pair.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    std::string name, value;
    if (!PercentDecode(raw_name, true, &name)) {
      return Status::InvalidArgument(
          fmt::format("query parameter name '{}': bad percent-encoding (a '%' must be followed "
                      "by two hex digits)",
                      Quote(raw_name)));
    }
    if (!PercentDecode(raw_value, true, &value)) {
      return Status::InvalidArgument(
          fmt::format("query parameter '{}': bad percent-encoding in '{}' (a '%' must be "
                      "followed by two hex digits)",
                      Quote(name), Quote(raw_value)));
    }
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

}  // namespace dataforge::http
