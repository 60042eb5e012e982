#include "source/http/url_query.h"

namespace dataforge {
namespace {

// Finds "name=" as a whole parameter; returns the position of the name or npos.
size_t FindParam(const std::string& url, const std::string& name) {
  size_t q = url.find('?');
  if (q == std::string::npos) return std::string::npos;
  size_t pos = q + 1;
  while (pos < url.size()) {
    size_t end = url.find('&', pos);
    if (end == std::string::npos) end = url.size();
    if (url.compare(pos, name.size(), name) == 0 &&
        (pos + name.size() == end || url[pos + name.size()] == '=')) {
      return pos;
    }
    pos = end + 1;
  }
  return std::string::npos;
}

}  // namespace

std::optional<std::string> QueryParam(const std::string& url, const std::string& name) {
  size_t pos = FindParam(url, name);
  if (pos == std::string::npos) return std::nullopt;
  size_t start = pos + name.size();
  if (start < url.size() && url[start] == '=') ++start;
  size_t end = url.find_first_of("&#", start);
  return url.substr(start, (end == std::string::npos ? url.size() : end) - start);
}

std::string WithQueryParam(const std::string& url, const std::string& name,
                           const std::string& value) {
  size_t pos = FindParam(url, name);
  if (pos == std::string::npos) {
    size_t hash = url.find('#');
    std::string base = hash == std::string::npos ? url : url.substr(0, hash);
    char sep = base.find('?') == std::string::npos
                   ? '?'
                   : (base.back() == '?' || base.back() == '&' ? '\0' : '&');
    std::string out = base;
    if (sep) out.push_back(sep);
    return out + name + "=" + value + (hash == std::string::npos ? "" : url.substr(hash));
  }
  size_t end = url.find_first_of("&#", pos);
  if (end == std::string::npos) end = url.size();
  return url.substr(0, pos) + name + "=" + value + url.substr(end);
}

}  // namespace dataforge
