// What can be protected: resources by kind and name, and the actions on them. The names are the
// ones the pipeline file's `auth:` section and the docs (docs/security.md) use.
#pragma once

#include <optional>
#include <string_view>

namespace dataforge::auth {

// A resource is (kind, name). Names are matched by glob in role grants:
//   tables       "keyspace.table"   read, write
//   pipeline     "*" (one)          read (status, topics, log records, dead letters)
//   deadletters  "*" (one)          replay
//   dags         dag name           read, trigger, clear, pause
//   admin        "*" (one)          admin (users, keys; the schema registry's global config and
//                                   mode)
//   subjects     registry subject   read, write (the schema registry, serve/registry/; added for
//                                   issue 17)
enum class ResourceKind { kTables, kPipeline, kDeadLetters, kDags, kAdmin, kSubjects };
enum class Action { kRead, kWrite, kReplay, kTrigger, kClear, kPause, kAdmin };

std::string_view ResourceKindName(ResourceKind kind);  // "tables", "pipeline", ...
std::string_view ActionName(Action action);            // "read", "write", ...
std::optional<ResourceKind> ParseResourceKind(std::string_view name);
std::optional<Action> ParseAction(std::string_view name);

}  // namespace dataforge::auth
