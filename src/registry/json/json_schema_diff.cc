#include "registry/json/json_schema_diff.h"

// <regex> (patternProperties): GCC 12's false positive in libstdc++'s regex automaton at -O1
// with the sanitizers; see valijson_includes.h.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "registry/json/schema_model.h"

namespace dataforge::registry::json_schema {
namespace {

using namespace model;  // NOLINT: the model is this file's vocabulary

// ---- comparison ----------------------------------------------------------------------------

struct Shared {
  Classifier original;
  Classifier update;
  std::set<std::string> active;  // reference pairs being compared (cycles)
};

class Ctx {
 public:
  explicit Ctx(Shared* shared) : shared_(shared) {}
  Ctx Sub() const {
    Ctx c(shared_);
    c.path_ = path_;
    return c;
  }
  Shared& shared() const { return *shared_; }
  const std::vector<Difference>& diffs() const { return diffs_; }
  bool Compatible() const {
    return std::all_of(diffs_.begin(), diffs_.end(),
                       [](const Difference& d) { return IsCompatibleChange(d.type); });
  }
  void Add(std::string type) { diffs_.push_back({std::move(type), PathString()}); }
  void Add(std::string_view attribute, std::string type) {
    path_.emplace_back(attribute);
    Add(std::move(type));
    path_.pop_back();
  }
  void AddAll(const std::vector<Difference>& more) {
    diffs_.insert(diffs_.end(), more.begin(), more.end());
  }
  void Enter(std::string token) { path_.push_back(std::move(token)); }
  void Leave() { path_.pop_back(); }

 private:
  std::string PathString() const {
    std::string s = "#/";
    for (size_t i = 0; i < path_.size(); ++i) {
      if (i > 0) s += '/';
      s += path_[i];
    }
    return s;
  }

  Shared* shared_;
  std::vector<std::string> path_;
  std::vector<Difference> diffs_;
};

// RAII path scope.
class Scope {
 public:
  Scope(Ctx& ctx, std::string token) : ctx_(ctx) { ctx_.Enter(std::move(token)); }
  ~Scope() { ctx_.Leave(); }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Ctx& ctx_;
};

void Compare(Ctx& ctx, const Node* o, const Node* u);

void CompareLocs(Ctx& ctx, std::optional<Loc> o, std::optional<Loc> u) {
  std::optional<Node> on, un;
  if (o) on = ctx.shared().original.Classify(*o);
  if (u) un = ctx.shared().update.Classify(*u);
  Compare(ctx, on ? &*on : nullptr, un ? &*un : nullptr);
}

// Limits compared as Confluent does: added, removed, increased, decreased.
void CompareLimit(Ctx& ctx, std::string_view keyword, std::optional<double> o,
                  std::optional<double> u, const std::string& prefix) {
  if (!o && !u) return;
  if (!o) return ctx.Add(keyword, prefix + "_ADDED");
  if (!u) return ctx.Add(keyword, prefix + "_REMOVED");
  if (*o < *u) return ctx.Add(keyword, prefix + "_INCREASED");
  if (*o > *u) return ctx.Add(keyword, prefix + "_DECREASED");
}

void CompareString(Ctx& ctx, element o, element u) {
  CompareLimit(ctx, "maxLength", Number(o, "maxLength"), Number(u, "maxLength"), "MAX_LENGTH");
  CompareLimit(ctx, "minLength", Number(o, "minLength"), Number(u, "minLength"), "MIN_LENGTH");
  const std::string op = MemberText(o, "pattern"), up = MemberText(u, "pattern");
  if (op.empty() && !up.empty()) ctx.Add("pattern", "PATTERN_ADDED");
  if (!op.empty() && up.empty()) ctx.Add("pattern", "PATTERN_REMOVED");
  if (!op.empty() && !up.empty() && op != up) ctx.Add("pattern", "PATTERN_CHANGED");
}

bool IsMultiple(double of, double by) {
  if (by == 0) return false;
  const double q = of / by;
  return std::fabs(q - std::round(q)) < 1e-9 * std::max(1.0, std::fabs(q));
}

void CompareNumber(Ctx& ctx, const Node& on, const Node& un) {
  const element o = on.at.el, u = un.at.el;
  CompareLimit(ctx, "maximum", Number(o, "maximum"), Number(u, "maximum"), "MAXIMUM");
  CompareLimit(ctx, "minimum", Number(o, "minimum"), Number(u, "minimum"), "MINIMUM");
  CompareLimit(ctx, "exclusiveMaximum", Number(o, "exclusiveMaximum"),
               Number(u, "exclusiveMaximum"), "EXCLUSIVE_MAXIMUM");
  CompareLimit(ctx, "exclusiveMinimum", Number(o, "exclusiveMinimum"),
               Number(u, "exclusiveMinimum"), "EXCLUSIVE_MINIMUM");
  const auto om = Number(o, "multipleOf"), um = Number(u, "multipleOf");
  if (om || um) {
    if (!om) {
      ctx.Add("multipleOf", "MULTIPLE_OF_ADDED");
    } else if (!um) {
      ctx.Add("multipleOf", "MULTIPLE_OF_REMOVED");
    } else if (*om != *um) {
      if (IsMultiple(*um, *om)) {
        ctx.Add("multipleOf", "MULTIPLE_OF_EXPANDED");
      } else if (IsMultiple(*om, *um)) {
        ctx.Add("multipleOf", "MULTIPLE_OF_REDUCED");
      } else {
        ctx.Add("multipleOf", "MULTIPLE_OF_CHANGED");
      }
    }
  }
  if (on.requires_integer != un.requires_integer) {
    ctx.Add(on.requires_integer ? "TYPE_EXTENDED" : "TYPE_NARROWED");
  }
}

std::set<std::string> EnumValues(element schema) {
  std::set<std::string> values;
  auto e = Member(schema, "enum");
  if (e && e->type() == element_type::ARRAY) {
    for (element v : Arr(*e)) values.insert(Text(v));
  }
  return values;
}

bool Includes(const std::set<std::string>& big, const std::set<std::string>& small) {
  return std::includes(big.begin(), big.end(), small.begin(), small.end());
}

void CompareEnum(Ctx& ctx, element o, element u) {
  const auto ov = EnumValues(o), uv = EnumValues(u);
  if (ov == uv) return;
  if (Includes(uv, ov)) return ctx.Add("enum", "ENUM_ARRAY_EXTENDED");
  if (Includes(ov, uv)) return ctx.Add("enum", "ENUM_ARRAY_NARROWED");
  ctx.Add("enum", "ENUM_ARRAY_CHANGED");
}

// Maximum bipartite matching over compatible (original, update) pairs (Kuhn's algorithm).
bool Augment(size_t i, const std::vector<std::vector<size_t>>& adj, std::vector<int>* match_u,
             std::vector<bool>* seen) {
  for (size_t j : adj[i]) {
    if ((*seen)[j]) continue;
    (*seen)[j] = true;
    if ((*match_u)[j] < 0 || Augment(static_cast<size_t>((*match_u)[j]), adj, match_u, seen)) {
      (*match_u)[j] = static_cast<int>(i);
      return true;
    }
  }
  return false;
}

std::string NodeKey(const Node& n) {
  return std::to_string(static_cast<int>(n.kind)) + (n.requires_integer ? "i" : "") + n.criterion +
         ":" + Text(n.at.el);
}

std::vector<Node> Dedup(std::vector<Node> nodes) {
  std::vector<Node> out;
  std::set<std::string> seen;
  for (auto& n : nodes) {
    if (seen.insert(NodeKey(n)).second) out.push_back(std::move(n));
  }
  return out;
}

void CompareCombined(Ctx& ctx, const Node& o, const Node& u) {
  const auto os = Dedup(ctx.shared().original.Subs(o));
  const auto us = Dedup(ctx.shared().update.Subs(u));
  if (o.criterion != u.criterion) {
    const bool o_single = os.size() == 1, u_single = us.size() == 1;
    if (u.criterion == "anyOf" || (o_single && u_single) || (o_single && u.criterion == "oneOf") ||
        (u_single && o.criterion == "allOf")) {
      ctx.Add("COMBINED_TYPE_EXTENDED");
    } else {
      ctx.Add("COMBINED_TYPE_CHANGED");
      return;
    }
  }
  if (os.size() < us.size()) {
    ctx.Add(u.criterion == "allOf" ? "PRODUCT_TYPE_EXTENDED" : "SUM_TYPE_EXTENDED");
  } else if (os.size() > us.size()) {
    ctx.Add(o.criterion == "allOf" ? "PRODUCT_TYPE_NARROWED" : "SUM_TYPE_NARROWED");
  }
  std::vector<std::vector<size_t>> adj(os.size());
  std::vector<std::vector<std::vector<Difference>>> edge_diffs(
      os.size(), std::vector<std::vector<Difference>>(us.size()));
  for (size_t i = 0; i < os.size(); ++i) {
    Scope scope(ctx, o.criterion + "/" + std::to_string(i));
    for (size_t j = 0; j < us.size(); ++j) {
      Ctx sub = ctx.Sub();
      Compare(sub, &os[i], &us[j]);
      if (sub.Compatible()) {
        adj[i].push_back(j);
        edge_diffs[i][j] = sub.diffs();
      }
    }
  }
  std::vector<int> match_u(us.size(), -1);
  size_t matched = 0;
  for (size_t i = 0; i < os.size(); ++i) {
    std::vector<bool> seen(us.size(), false);
    if (Augment(i, adj, &match_u, &seen)) ++matched;
  }
  std::vector<std::pair<size_t, size_t>> pairs;
  for (size_t j = 0; j < us.size(); ++j) {
    if (match_u[j] >= 0) pairs.emplace_back(static_cast<size_t>(match_u[j]), j);
  }
  std::sort(pairs.begin(), pairs.end());
  for (const auto& [i, j] : pairs) ctx.AddAll(edge_diffs[i][j]);
  if (matched < std::min(os.size(), us.size())) ctx.Add("COMBINED_TYPE_SUBSCHEMAS_CHANGED");
}

void CompareNot(Ctx& ctx, const Node& o, const Node& u) {
  Scope scope(ctx, "not");
  Ctx sub = ctx.Sub();
  // Swapped: the update must forbid no more than the original forbade.
  Node un = ctx.shared().update.Classify(Loc{*Member(u.at.el, "not"), u.at.root});
  Node on = ctx.shared().original.Classify(Loc{*Member(o.at.el, "not"), o.at.root});
  // `un` is read with the update's documents and `on` with the original's, whatever side.
  Compare(sub, &un, &on);
  ctx.Add(sub.Compatible() ? "NOT_TYPE_NARROWED" : "NOT_TYPE_EXTENDED");
}

// ---- objects -------------------------------------------------------------------------------

struct ObjectView {
  Loc at;
  std::vector<std::pair<std::string, element>> properties;
  std::set<std::string> required;
  bool permits_additional = true;
  std::optional<element> additional_schema;  // an object (or true/false are not schemas here)
  std::vector<std::pair<std::string, element>> pattern_properties;

  explicit ObjectView(Loc loc) : at(loc) {
    const element el = loc.el;
    if (auto p = Member(el, "properties"); p && IsObject(*p)) {
      for (auto [k, v] : Obj(*p)) properties.emplace_back(std::string(k), v);
    }
    if (auto r = Member(el, "required"); r && r->type() == element_type::ARRAY) {
      for (element n : Arr(*r)) {
        std::string_view s;
        if (n.get_string().get(s) == simdjson::SUCCESS) required.insert(std::string(s));
      }
    }
    if (auto a = Member(el, "additionalProperties")) {
      if (IsFalse(*a)) permits_additional = false;
      if (IsObject(*a)) additional_schema = *a;
    }
    if (auto p = Member(el, "patternProperties"); p && IsObject(*p)) {
      for (auto [k, v] : Obj(*p)) pattern_properties.emplace_back(std::string(k), v);
    }
  }
  std::optional<element> Property(const std::string& name) const {
    for (const auto& [k, v] : properties) {
      if (k == name) return v;
    }
    return std::nullopt;
  }
  bool Open() const {
    return permits_additional && !additional_schema && pattern_properties.empty();
  }
  // The schema a property not named in "properties" gets, if any (patternProperties first).
  std::optional<element> Partial(const std::string& name) const {
    for (const auto& [pattern, schema] : pattern_properties) {
      try {
        if (std::regex_search(name, std::regex(pattern, std::regex::ECMAScript))) return schema;
      } catch (const std::regex_error&) {
        continue;
      }
    }
    return additional_schema;
  }
};

void CompareObject(Ctx& ctx, const Node& on, const Node& un) {
  const ObjectView o(on.at), u(un.at);
  {
    Scope scope(ctx, "required");
    for (const auto& [name, schema] : o.properties) {
      const auto up = u.Property(name);
      if (!up) continue;
      Scope prop(ctx, name);
      const bool was = o.required.count(name) > 0, is = u.required.count(name) > 0;
      if (was && !is) ctx.Add("REQUIRED_ATTRIBUTE_REMOVED");
      if (!was && is) {
        ctx.Add(Has(*up, "default") ? "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"
                                    : "REQUIRED_ATTRIBUTE_ADDED");
      }
    }
  }
  {
    Scope scope(ctx, "properties");
    std::vector<std::string> keys;
    for (const auto& [k, v] : o.properties) keys.push_back(k);
    for (const auto& [k, v] : u.properties) {
      if (!o.Property(k)) keys.push_back(k);
    }
    for (const auto& key : keys) {
      Scope prop(ctx, key);
      const auto op = o.Property(key), up = u.Property(key);
      if (op && up) {
        CompareLocs(ctx, Loc{*op, o.at.root}, Loc{*up, u.at.root});
      } else if (op) {  // removed
        if (u.Open()) {
          ctx.Add("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL");
        } else if (auto partial = u.Partial(key)) {
          Ctx sub = ctx.Sub();
          CompareLocs(sub, Loc{*op, o.at.root}, Loc{*partial, u.at.root});
          ctx.AddAll(sub.diffs());
          ctx.Add(sub.Compatible()
                      ? "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                      : "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL");
        } else if (IsFalse(*op)) {
          ctx.Add("PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL");
        } else {
          ctx.Add("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL");
        }
      } else {  // added
        const bool required = u.required.count(key) > 0;
        const bool with_default = Has(*up, "default");
        if (o.Open()) {
          const Node added = ctx.shared().update.Classify(Loc{*up, u.at.root});
          if (added.kind == Kind::kEmpty) {
            ctx.Add("PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL");
          } else if (required) {
            ctx.Add(with_default ? "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL"
                                 : "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL");
          } else {
            ctx.Add("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL");
          }
        } else {
          if (auto partial = o.Partial(key)) {
            Ctx sub = ctx.Sub();
            CompareLocs(sub, Loc{*partial, o.at.root}, Loc{*up, u.at.root});
            ctx.AddAll(sub.diffs());
            ctx.Add(sub.Compatible()
                        ? "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                        : "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL");
          }
          if (required) {
            ctx.Add(with_default ? "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL"
                                 : "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL");
          } else {
            ctx.Add("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL");
          }
        }
      }
    }
  }
  {
    Scope scope(ctx, "dependencies");
    auto od = Member(on.at.el, "dependencies"), ud = Member(un.at.el, "dependencies");
    auto collect = [](std::optional<element> deps, bool arrays) {
      std::vector<std::pair<std::string, element>> out;
      if (!deps || !IsObject(*deps)) return out;
      for (auto [k, v] : Obj(*deps)) {
        if ((v.type() == element_type::ARRAY) == arrays) out.emplace_back(std::string(k), v);
      }
      return out;
    };
    auto find = [](const std::vector<std::pair<std::string, element>>& list,
                   const std::string& key) -> std::optional<element> {
      for (const auto& [k, v] : list) {
        if (k == key) return v;
      }
      return std::nullopt;
    };
    for (bool arrays : {true, false}) {
      const auto ol = collect(od, arrays), ul = collect(ud, arrays);
      std::vector<std::string> keys;
      for (const auto& [k, v] : ol) keys.push_back(k);
      for (const auto& [k, v] : ul) {
        if (!find(ol, k)) keys.push_back(k);
      }
      for (const auto& key : keys) {
        Scope dep(ctx, key);
        const auto ov = find(ol, key), uv = find(ul, key);
        if (!uv) {
          ctx.Add(arrays ? "DEPENDENCY_ARRAY_REMOVED" : "DEPENDENCY_SCHEMA_REMOVED");
        } else if (!ov) {
          ctx.Add(arrays ? "DEPENDENCY_ARRAY_ADDED" : "DEPENDENCY_SCHEMA_ADDED");
        } else if (arrays) {
          std::set<std::string> os, us;
          for (element n : Arr(*ov)) os.insert(Text(n));
          for (element n : Arr(*uv)) us.insert(Text(n));
          if (os != us) {
            ctx.Add(Includes(us, os)   ? "DEPENDENCY_ARRAY_EXTENDED"
                    : Includes(os, us) ? "DEPENDENCY_ARRAY_NARROWED"
                                       : "DEPENDENCY_ARRAY_CHANGED");
          }
        } else {
          CompareLocs(ctx, Loc{*ov, on.at.root}, Loc{*uv, un.at.root});
        }
      }
    }
  }
  {
    Scope scope(ctx, "additionalProperties");
    if (o.permits_additional != u.permits_additional) {
      ctx.Add(u.permits_additional ? "ADDITIONAL_PROPERTIES_ADDED"
                                   : "ADDITIONAL_PROPERTIES_REMOVED");
    } else if (!o.additional_schema && u.additional_schema) {
      ctx.Add("ADDITIONAL_PROPERTIES_NARROWED");
    } else if (o.additional_schema && !u.additional_schema) {
      ctx.Add("ADDITIONAL_PROPERTIES_EXTENDED");
    } else if (o.additional_schema && u.additional_schema) {
      CompareLocs(ctx, Loc{*o.additional_schema, on.at.root},
                  Loc{*u.additional_schema, un.at.root});
    }
  }
  CompareLimit(ctx, "maxProperties", Number(on.at.el, "maxProperties"),
               Number(un.at.el, "maxProperties"), "MAX_PROPERTIES");
  CompareLimit(ctx, "minProperties", Number(on.at.el, "minProperties"),
               Number(un.at.el, "minProperties"), "MIN_PROPERTIES");
}

// ---- arrays --------------------------------------------------------------------------------

struct ArrayView {
  std::optional<element> all_items;
  std::vector<element> tuple;
  bool permits_additional = true;
  std::optional<element> additional_schema;

  explicit ArrayView(element el) {
    if (auto items = Member(el, "items")) {
      if (items->type() == element_type::ARRAY) {
        for (element s : Arr(*items)) tuple.push_back(s);
      } else {
        all_items = *items;
      }
    }
    if (auto a = Member(el, "additionalItems")) {
      if (IsFalse(*a)) permits_additional = false;
      if (IsObject(*a)) additional_schema = *a;
    }
  }
  bool Open() const { return permits_additional && !additional_schema; }
};

void CompareArray(Ctx& ctx, const Node& on, const Node& un) {
  const ArrayView o(on.at.el), u(un.at.el);
  {
    Scope scope(ctx, "items");
    std::optional<Loc> ol, ul;
    if (o.all_items) ol = Loc{*o.all_items, on.at.root};
    if (u.all_items) ul = Loc{*u.all_items, un.at.root};
    CompareLocs(ctx, ol, ul);
  }
  const size_t common = std::min(o.tuple.size(), u.tuple.size());
  for (size_t i = 0; i < std::max(o.tuple.size(), u.tuple.size()); ++i) {
    Scope scope(ctx, "items/" + std::to_string(i));
    if (i < common) {
      CompareLocs(ctx, Loc{o.tuple[i], on.at.root}, Loc{u.tuple[i], un.at.root});
    } else if (i < o.tuple.size()) {  // removed
      if (u.Open()) {
        ctx.Add("ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL");
      } else if (u.additional_schema) {
        Ctx sub = ctx.Sub();
        CompareLocs(sub, Loc{o.tuple[i], on.at.root}, Loc{*u.additional_schema, un.at.root});
        ctx.AddAll(sub.diffs());
        ctx.Add(sub.Compatible() ? "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                                 : "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL");
      } else {
        ctx.Add(IsFalse(o.tuple[i]) ? "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"
                                    : "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL");
      }
    } else {  // added
      if (o.Open()) {
        const Node added = ctx.shared().update.Classify(Loc{u.tuple[i], un.at.root});
        ctx.Add(added.kind == Kind::kEmpty ? "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
                                           : "ITEM_ADDED_TO_OPEN_CONTENT_MODEL");
      } else if (o.additional_schema) {
        Ctx sub = ctx.Sub();
        CompareLocs(sub, Loc{*o.additional_schema, on.at.root}, Loc{u.tuple[i], un.at.root});
        ctx.AddAll(sub.diffs());
        ctx.Add(sub.Compatible() ? "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                                 : "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL");
      } else {
        ctx.Add("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL");
      }
    }
  }
  {
    Scope scope(ctx, "additionalItems");
    if (o.permits_additional != u.permits_additional) {
      ctx.Add(o.permits_additional ? "ADDITIONAL_ITEMS_REMOVED" : "ADDITIONAL_ITEMS_ADDED");
    } else if (!o.additional_schema && u.additional_schema) {
      ctx.Add("ADDITIONAL_ITEMS_NARROWED");
    } else if (o.additional_schema && !u.additional_schema) {
      ctx.Add("ADDITIONAL_ITEMS_EXTENDED");
    } else if (o.additional_schema && u.additional_schema) {
      CompareLocs(ctx, Loc{*o.additional_schema, on.at.root},
                  Loc{*u.additional_schema, un.at.root});
    }
  }
  CompareLimit(ctx, "maxItems", Number(on.at.el, "maxItems"), Number(un.at.el, "maxItems"),
               "MAX_ITEMS");
  CompareLimit(ctx, "minItems", Number(on.at.el, "minItems"), Number(un.at.el, "minItems"),
               "MIN_ITEMS");
  const bool ou = MemberText(on.at.el, "uniqueItems") == "true";
  const bool uu = MemberText(un.at.el, "uniqueItems") == "true";
  if (ou != uu) ctx.Add("uniqueItems", ou ? "UNIQUE_ITEMS_REMOVED" : "UNIQUE_ITEMS_ADDED");
}

// ---- the hub -------------------------------------------------------------------------------

void CompareTypes(Ctx& ctx, const Node& o, const Node& u) {
  if (o.kind != Kind::kCombined && u.kind == Kind::kCombined) {
    const auto subs = ctx.shared().update.Subs(u);
    if (subs.size() == 1) {
      Ctx sub = ctx.Sub();
      Compare(sub, &o, &subs[0]);
      if (sub.Compatible()) return ctx.AddAll(sub.diffs());
    } else if (u.criterion == "anyOf" || u.criterion == "oneOf") {
      for (const auto& s : subs) {
        Ctx sub = ctx.Sub();
        Compare(sub, &o, &s);
        if (sub.Compatible()) {
          ctx.AddAll(sub.diffs());
          return ctx.Add("SUM_TYPE_EXTENDED");
        }
      }
    }
  } else if (o.kind == Kind::kCombined && u.kind != Kind::kCombined) {
    const auto subs = ctx.shared().original.Subs(o);
    if (subs.size() == 1) {
      Ctx sub = ctx.Sub();
      Compare(sub, &subs[0], &u);
      if (sub.Compatible()) return ctx.AddAll(sub.diffs());
    } else if (o.criterion == "allOf") {
      for (const auto& s : subs) {
        Ctx sub = ctx.Sub();
        Compare(sub, &s, &u);
        if (sub.Compatible()) {
          ctx.AddAll(sub.diffs());
          return ctx.Add("PRODUCT_TYPE_NARROWED");
        }
      }
    }
  }
  if (o.kind != u.kind) {
    if (o.kind == Kind::kFalse || u.kind == Kind::kEmpty) return;
    return ctx.Add("TYPE_CHANGED");
  }
  if (o.attributes && u.attributes) {
    const element oe = o.at.el, ue = u.at.el;
    if (MemberText(oe, "$id") != MemberText(ue, "$id")) ctx.Add("ID_CHANGED");
    if (MemberText(oe, "title") != MemberText(ue, "title")) ctx.Add("TITLE_CHANGED");
    if (MemberText(oe, "description") != MemberText(ue, "description")) {
      ctx.Add("DESCRIPTION_CHANGED");
    }
    if (MemberText(oe, "default") != MemberText(ue, "default")) ctx.Add("DEFAULT_CHANGED");
  }
  switch (o.kind) {
    case Kind::kString:
      return CompareString(ctx, o.at.el, u.at.el);
    case Kind::kNumber:
      return CompareNumber(ctx, o, u);
    case Kind::kConst:
      if (MemberText(o.at.el, "const") != MemberText(u.at.el, "const")) {
        ctx.Add("const", "ENUM_ARRAY_CHANGED");
      }
      return;
    case Kind::kEnum:
      return CompareEnum(ctx, o.at.el, u.at.el);
    case Kind::kCombined:
      return CompareCombined(ctx, o, u);
    case Kind::kNot:
      return CompareNot(ctx, o, u);
    case Kind::kObject:
      return CompareObject(ctx, o, u);
    case Kind::kArray:
      return CompareArray(ctx, o, u);
    default:
      return;
  }
}

void Compare(Ctx& ctx, const Node* o, const Node* u) {
  if (o == nullptr && u == nullptr) return;
  if (o == nullptr) return ctx.Add("SCHEMA_ADDED");
  if (u == nullptr) return ctx.Add("SCHEMA_REMOVED");
  if (o->ref_key.empty() && u->ref_key.empty()) return CompareTypes(ctx, *o, *u);
  // Through references: a pair already being compared (a recursive schema) is compatible.
  const std::string key = o->ref_key + '\x1f' + u->ref_key;
  auto& active = ctx.shared().active;
  if (!active.insert(key).second) return;
  CompareTypes(ctx, *o, *u);
  active.erase(key);
}

}  // namespace

std::vector<Difference> CompareSchemas(const SchemaDocuments& original,
                                       const SchemaDocuments& update) {
  Shared shared{Classifier(original), Classifier(update), {}};
  Ctx ctx(&shared);
  CompareLocs(ctx, Loc{original.root(), original.root()}, Loc{update.root(), update.root()});
  return ctx.diffs();
}

}  // namespace dataforge::registry::json_schema
