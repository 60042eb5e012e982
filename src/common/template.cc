#include "common/template.h"

#include <fmt/format.h>

namespace dataforge {
namespace {

bool IsTemplateNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Calls on_text(piece) / on_name(name) for the pieces of `text`, in order.
Status Walk(std::string_view text, const std::function<void(std::string_view)>& on_text,
            const std::function<Status(std::string_view)>& on_name) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      on_text(text.substr(pos));
      break;
    }
    on_text(text.substr(pos, open - pos));
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument(fmt::format("'{{{{' without a closing '}}}}' in '{}'", text));
    }
    std::string_view name = Trim(text.substr(open + 2, close - open - 2));
    bool ok = !name.empty() && name.front() != '.' && name.back() != '.';
    for (char c : name) ok = ok && IsTemplateNameChar(c);
    if (!ok) {
      return Status::InvalidArgument(
          fmt::format("'{{{{{}}}}}' in '{}' is not a variable name (write e.g. {{{{ ds }}}})",
                      text.substr(open + 2, close - open - 2), text));
    }
    DF_RETURN_IF_ERROR(on_name(name));
    pos = close + 2;
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<std::string>> TemplateNames(std::string_view text) {
  std::vector<std::string> names;
  DF_RETURN_IF_ERROR(Walk(
      text, [](std::string_view) {},
      [&](std::string_view name) {
        names.emplace_back(name);
        return Status::OK();
      }));
  return names;
}

Result<std::string> RenderTemplate(
    std::string_view text,
    const std::function<std::optional<std::string>(std::string_view name)>& lookup) {
  std::string out;
  out.reserve(text.size());
  DF_RETURN_IF_ERROR(Walk(
      text, [&](std::string_view piece) { out.append(piece); },
      [&](std::string_view name) {
        auto value = lookup(name);
        if (!value) {
          return Status::InvalidArgument(
              fmt::format("unknown template variable '{}' in '{}'", name, text));
        }
        out += *value;
        return Status::OK();
      }));
  return out;
}

}  // namespace dataforge
