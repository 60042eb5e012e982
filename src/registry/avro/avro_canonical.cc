#include "registry/avro/avro_canonical.h"

#include <unordered_set>

#include "common/json_writer.h"

namespace dataforge::registry::avro {
namespace {

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  void Node(const AvroNode& n) {
    if (n.named() && (n.from_reference || !written_.insert(&n).second)) {
      AppendJsonString(out_, n.full_name);
      return;
    }
    switch (n.type) {
      case AvroType::kUnion: {
        out_->push_back('[');
        for (size_t i = 0; i < n.branches.size(); ++i) {
          if (i) out_->push_back(',');
          Node(*n.branches[i]);
        }
        out_->push_back(']');
        return;
      }
      case AvroType::kArray:
      case AvroType::kMap:
        Open(n);
        out_->append(n.type == AvroType::kArray ? ",\"items\":" : ",\"values\":");
        Node(*n.items);
        Close(n);
        return;
      case AvroType::kRecord:
        Open(n);
        out_->append(",\"fields\":[");
        {
          // Names inside the record are relative to its namespace.
          std::string outer = std::move(ns_);
          ns_ = Namespace(n);
          for (size_t i = 0; i < n.fields.size(); ++i) {
            if (i) out_->push_back(',');
            Field(n.fields[i]);
          }
          ns_ = std::move(outer);
        }
        out_->push_back(']');
        Close(n);
        return;
      case AvroType::kEnum:
        Open(n);
        out_->append(",\"symbols\":");
        Strings(n.symbols);
        if (n.enum_default) {
          out_->append(",\"default\":");
          AppendJsonString(out_, *n.enum_default);
        }
        Close(n);
        return;
      case AvroType::kFixed:
        Open(n);
        out_->append(",\"size\":");
        out_->append(std::to_string(n.size));
        Close(n);
        return;
      default:
        if (n.props.empty()) {
          AppendJsonString(out_, AvroTypeName(n.type));
          return;
        }
        Open(n);
        Close(n);
        return;
    }
  }

 private:
  void Open(const AvroNode& n) {
    out_->append("{\"type\":");
    AppendJsonString(out_, AvroTypeName(n.type));
    if (!n.named()) return;
    out_->append(",\"name\":");
    AppendJsonString(out_, n.full_name);
    // A type in the null namespace inside a namespaced record says so (else it would inherit).
    if (!ns_.empty() && Namespace(n).empty()) out_->append(",\"namespace\":\"\"");
    if (!n.doc.empty()) {
      out_->append(",\"doc\":");
      AppendJsonString(out_, n.doc);
    }
  }

  void Close(const AvroNode& n) {
    if (!n.aliases.empty()) {
      out_->append(",\"aliases\":");
      Strings(n.aliases);
    }
    Props(n.props);
    out_->push_back('}');
  }

  void Field(const AvroField& f) {
    out_->append("{\"name\":");
    AppendJsonString(out_, f.name);
    out_->append(",\"type\":");
    Node(*f.type);
    if (!f.doc.empty()) {
      out_->append(",\"doc\":");
      AppendJsonString(out_, f.doc);
    }
    if (f.has_default) {
      out_->append(",\"default\":");
      out_->append(f.default_json);
    }
    if (!f.order.empty()) {
      out_->append(",\"order\":");
      AppendJsonString(out_, f.order);
    }
    if (!f.aliases.empty()) {
      out_->append(",\"aliases\":");
      Strings(f.aliases);
    }
    Props(f.props);
    out_->push_back('}');
  }

  void Props(const std::vector<std::pair<std::string, std::string>>& props) {
    for (const auto& [key, json] : props) {
      out_->push_back(',');
      AppendJsonString(out_, key);
      out_->push_back(':');
      out_->append(json);
    }
  }

  void Strings(const std::vector<std::string>& v) {
    out_->push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out_->push_back(',');
      AppendJsonString(out_, v[i]);
    }
    out_->push_back(']');
  }

  static std::string Namespace(const AvroNode& n) {
    const size_t dot = n.full_name.rfind('.');
    return dot == std::string::npos ? "" : n.full_name.substr(0, dot);
  }

  std::string* out_;
  std::string ns_;  // the namespace names are read in at this point
  std::unordered_set<const AvroNode*> written_;
};

}  // namespace

std::string CanonicalText(const AvroNode& root) {
  std::string out;
  Writer(&out).Node(root);
  return out;
}

}  // namespace dataforge::registry::avro
