#include "serve/rest/query_params.h"

#include <charconv>

#include <fmt/format.h>

#include "common/base64.h"

namespace dataforge::rest {
namespace {

std::optional<int64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

Status CheckKnownParams(const http::ApiRequest& req,
                        std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : req.query) {
    bool ok = false;
    for (auto k : known) ok |= name == k;
    if (ok) continue;
    return Status::InvalidArgument(
        fmt::format("unknown query parameter '{}'; {} {} takes {}", name, req.method, req.path,
                    known.size() == 0 ? "none" : fmt::format("only {}", fmt::join(known, ", "))));
  }
  return Status::OK();
}

Result<int64_t> ParseIntParam(std::string_view what, std::string_view text, int64_t min) {
  auto v = ParseDecimal(text);
  if (!v || *v < min) {
    return Status::InvalidArgument(fmt::format("{}: expected a whole number >= {}", what, min));
  }
  return *v;
}

Result<size_t> LimitParam(const http::ApiRequest& req) {
  return LimitParam(req, kDefaultLimit, kMaxLimit);
}

Result<size_t> LimitParam(const http::ApiRequest& req, size_t default_limit, size_t max_limit) {
  const std::string* text = req.Query("limit");
  if (!text) return default_limit;
  auto v = ParseDecimal(*text);
  if (!v || *v < 1 || *v > static_cast<int64_t>(max_limit)) {
    return Status::InvalidArgument(
        fmt::format("limit={}: expected a whole number from 1 to {} (default {})", *text, max_limit,
                    default_limit));
  }
  return static_cast<size_t>(*v);
}

std::string EncodeCursor(std::string_view kind, const std::vector<int64_t>& fields) {
  std::string text = fmt::format("{}1", kind);
  for (int64_t f : fields) text += fmt::format(":{}", f);
  return Base64UrlEncode(text);
}

Result<std::vector<int64_t>> DecodeCursor(std::string_view kind, std::string_view cursor,
                                          size_t fields) {
  auto bad = [&] {
    return Status::InvalidArgument(
        "cursor is not valid for this endpoint (pass next_cursor of the previous page as it is, "
        "or no cursor to start at the beginning)");
  };
  auto text = Base64UrlDecode(cursor);
  std::string prefix = fmt::format("{}1", kind);
  if (!text || !text->starts_with(prefix)) return bad();
  std::string_view rest = std::string_view(*text).substr(prefix.size());
  std::vector<int64_t> out;
  while (!rest.empty()) {
    if (rest[0] != ':') return bad();
    rest.remove_prefix(1);
    size_t end = rest.find(':');
    auto v = ParseDecimal(rest.substr(0, end));
    if (!v) return bad();
    out.push_back(*v);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  if (out.size() != fields) return bad();
  return out;
}

}  // namespace dataforge::rest
