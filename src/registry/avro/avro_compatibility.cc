#include "registry/avro/avro_compatibility.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace dataforge::registry::avro {
namespace {

enum class Kind {
  kNameMismatch,
  kFixedSizeMismatch,
  kMissingEnumSymbols,
  kReaderFieldMissingDefault,
  kTypeMismatch,
  kMissingUnionBranch,
};

struct Incompatibility {
  Kind kind;
  std::string path;
  std::string info;
};

struct Verdict {
  bool compatible = true;
  std::vector<Incompatibility> found;
  void Add(Kind kind, const std::string& path, std::string info) {
    compatible = false;
    found.push_back({kind, path.empty() ? "/" : path, std::move(info)});
  }
  void Merge(const Verdict& other) {
    if (other.compatible) return;
    compatible = false;
    found.insert(found.end(), other.found.begin(), other.found.end());
  }
};

bool IsPrimitive(AvroType t) {
  return t <= AvroType::kString;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return out;
}

class Checker {
 public:
  Verdict Get(const AvroNode& r, const AvroNode& w, const std::string& path) {
    const auto key = std::make_pair(&r, &w);
    auto it = memo_.find(key);
    if (it != memo_.end()) {
      // In progress: a recursive type meets itself; assume compatible (as Avro does).
      return it->second ? *it->second : Verdict{};
    }
    memo_[key] = std::nullopt;
    Verdict v = Calc(r, w, path);
    memo_[key] = v;
    return v;
  }

 private:
  Verdict Calc(const AvroNode& r, const AvroNode& w, const std::string& path) {
    Verdict v;
    if (r.type == w.type) {
      if (IsPrimitive(r.type)) return v;
      switch (r.type) {
        case AvroType::kArray:
          return Get(*r.items, *w.items, path + "/items");
        case AvroType::kMap:
          return Get(*r.items, *w.items, path + "/values");
        case AvroType::kFixed:
          Names(r, w, path, &v);
          if (r.size != w.size) {
            v.Add(Kind::kFixedSizeMismatch, path + "/size",
                  fmt::format("expected: {}, found: {}", w.size, r.size));
          }
          return v;
        case AvroType::kEnum: {
          Names(r, w, path, &v);
          std::set<std::string> missing(w.symbols.begin(), w.symbols.end());
          for (const auto& s : r.symbols) missing.erase(s);
          if (!missing.empty() && !r.enum_default) {
            v.Add(Kind::kMissingEnumSymbols, path + "/symbols",
                  fmt::format("[{}]", fmt::join(missing, ", ")));
          }
          return v;
        }
        case AvroType::kRecord:
          Names(r, w, path, &v);
          Fields(r, w, path, &v);
          return v;
        case AvroType::kUnion:
          for (size_t i = 0; i < w.branches.size(); ++i) {
            if (!Get(r, *w.branches[i], path).compatible) {
              v.Add(Kind::kMissingUnionBranch, fmt::format("{}/{}", path, i),
                    fmt::format("reader union lacking writer type: {}",
                                Upper(AvroTypeName(w.branches[i]->type))));
            }
          }
          return v;
        default:
          return v;
      }
    }
    if (w.type == AvroType::kUnion) {
      for (const AvroNode* b : w.branches) v.Merge(Get(r, *b, path));
      return v;
    }
    auto promotable = [&]() {
      switch (r.type) {
        case AvroType::kLong:
          return w.type == AvroType::kInt;
        case AvroType::kFloat:
          return w.type == AvroType::kInt || w.type == AvroType::kLong;
        case AvroType::kDouble:
          return w.type == AvroType::kInt || w.type == AvroType::kLong ||
                 w.type == AvroType::kFloat;
        case AvroType::kBytes:
          return w.type == AvroType::kString;
        case AvroType::kString:
          return w.type == AvroType::kBytes;
        default:
          return false;
      }
    };
    if (r.type == AvroType::kUnion) {
      for (const AvroNode* b : r.branches) {
        if (Get(*b, w, path).compatible) return v;
      }
      v.Add(Kind::kMissingUnionBranch, path,
            fmt::format("reader union lacking writer type: {}", Upper(AvroTypeName(w.type))));
      return v;
    }
    if (!promotable()) {
      v.Add(Kind::kTypeMismatch, path,
            fmt::format("reader type: {} not compatible with writer type: {}",
                        Upper(AvroTypeName(r.type)), Upper(AvroTypeName(w.type))));
    }
    return v;
  }

  // Same unqualified name, or the writer's full name among the reader's aliases.
  static void Names(const AvroNode& r, const AvroNode& w, const std::string& path, Verdict* v) {
    if (r.name == w.name) return;
    if (std::find(r.aliases.begin(), r.aliases.end(), w.full_name) != r.aliases.end()) return;
    v->Add(Kind::kNameMismatch, path + "/name", fmt::format("expected: {}", w.full_name));
  }

  void Fields(const AvroNode& r, const AvroNode& w, const std::string& path, Verdict* v) {
    for (size_t i = 0; i < r.fields.size(); ++i) {
      const AvroField& rf = r.fields[i];
      const std::string fpath = fmt::format("{}/fields/{}", path, i);
      const AvroField* wf = nullptr;
      auto it = w.field_index.find(rf.name);
      if (it != w.field_index.end()) {
        wf = &w.fields[static_cast<size_t>(it->second)];
      } else {
        for (const auto& alias : rf.aliases) {
          auto a = w.field_index.find(alias);
          if (a != w.field_index.end()) {
            wf = &w.fields[static_cast<size_t>(a->second)];
            break;
          }
        }
      }
      if (wf != nullptr) {
        v->Merge(Get(*rf.type, *wf->type, fpath + "/type"));
      } else if (!rf.has_default) {
        // Avro's checker compares an enum with a default to the writer record here (a quirk
        // of org.apache.avro.SchemaCompatibility kept so that verdicts agree).
        if (rf.type->type == AvroType::kEnum && rf.type->enum_default) {
          v->Merge(Get(*rf.type, w, fpath + "/type"));
        } else {
          v->Add(Kind::kReaderFieldMissingDefault, fpath, rf.name);
        }
      }
    }
  }

  std::map<std::pair<const AvroNode*, const AvroNode*>, std::optional<Verdict>> memo_;
};

std::string Describe(const Incompatibility& inc) {
  std::string_view type;
  std::string description;
  switch (inc.kind) {
    case Kind::kNameMismatch:
      type = "NAME_MISMATCH";
      description = fmt::format("The name of the schema has changed (path '{}')", inc.path);
      break;
    case Kind::kFixedSizeMismatch:
      type = "FIXED_SIZE_MISMATCH";
      description = fmt::format(
          "The size of FIXED type field at path '{}' in the reader schema "
          "does not match with the writer schema",
          inc.path);
      break;
    case Kind::kMissingEnumSymbols:
      type = "MISSING_ENUM_SYMBOLS";
      description = fmt::format(
          "The reader schema is missing enum symbols '{}' at path '{}' in "
          "the writer schema",
          inc.info, inc.path);
      break;
    case Kind::kReaderFieldMissingDefault:
      type = "READER_FIELD_MISSING_DEFAULT_VALUE";
      description = fmt::format(
          "The field '{}' at path '{}' in the reader schema has no default "
          "value and is missing in the writer schema",
          inc.info, inc.path);
      break;
    case Kind::kTypeMismatch:
      type = "TYPE_MISMATCH";
      description = fmt::format(
          "The type (path '{}') of a field in the reader schema does not "
          "match with the writer schema",
          inc.path);
      break;
    case Kind::kMissingUnionBranch:
      type = "MISSING_UNION_BRANCH";
      description = fmt::format(
          "The reader schema is missing a type inside a union field at "
          "path '{}' in the writer schema",
          inc.path);
      break;
  }
  return fmt::format("{{errorType:'{}', description:'{}', additionalInfo:'{}'}}", type, description,
                     inc.info);
}

}  // namespace

std::vector<std::string> ReaderWriterIncompatibilities(const AvroNode& reader,
                                                       const AvroNode& writer) {
  Checker checker;
  Verdict v = checker.Get(reader, writer, "");
  std::vector<std::string> out;
  for (const auto& inc : v.found) {
    std::string line = Describe(inc);
    if (std::find(out.begin(), out.end(), line) == out.end()) out.push_back(std::move(line));
  }
  return out;
}

}  // namespace dataforge::registry::avro
