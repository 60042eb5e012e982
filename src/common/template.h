// "{{ name }}" placeholders in task parameters (Airflow-style templating, without Jinja's
// logic): each placeholder is a variable name, optionally dotted ("conf.table"), surrounded by
// optional spaces. "{{" not followed by a closing "}}" on the same text is an error, as is an
// unknown name. Pure; thread-compatible.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dataforge {

// The names of the placeholders in `text`, in order (repeats kept). InvalidArgument for an
// unclosed "{{" or an empty/malformed name.
Result<std::vector<std::string>> TemplateNames(std::string_view text);

// Replaces each placeholder with `lookup(name)`; nullopt from lookup is an InvalidArgument
// naming the variable ("unknown template variable 'dss' in '...'").
Result<std::string> RenderTemplate(
    std::string_view text,
    const std::function<std::optional<std::string>(std::string_view name)>& lookup);

}  // namespace dataforge
