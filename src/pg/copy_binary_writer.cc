#include "pg/copy_binary_writer.h"

namespace dataforge {
namespace {

// "PGCOPY\n\377\r\n\0", flags (int32 0), header extension length (int32 0).
constexpr std::string_view kHeader("PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);

}  // namespace

CopyBinaryWriter::CopyBinaryWriter() : out_(kHeader) {}

void CopyBinaryWriter::Be32(uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out_.append(b, 4);
}

void CopyBinaryWriter::BeginRow(int16_t fields) {
  out_.push_back(static_cast<char>((fields >> 8) & 0xff));
  out_.push_back(static_cast<char>(fields & 0xff));
  ++rows_;
}

void CopyBinaryWriter::Text(std::string_view value) {
  Be32(static_cast<uint32_t>(value.size()));
  out_.append(value);
}

void CopyBinaryWriter::Int64(int64_t value) {
  Be32(8);
  auto v = static_cast<uint64_t>(value);
  Be32(static_cast<uint32_t>(v >> 32));
  Be32(static_cast<uint32_t>(v));
}

void CopyBinaryWriter::Int32(int32_t value) {
  Be32(4);
  Be32(static_cast<uint32_t>(value));
}

void CopyBinaryWriter::Null() {
  Be32(0xffffffffu);
}

std::string CopyBinaryWriter::Finish() {
  out_.push_back('\xff');
  out_.push_back('\xff');
  std::string done = std::move(out_);
  out_.assign(kHeader);
  rows_ = 0;
  return done;
}

void CopyBinaryWriter::Finish(std::string* out) {
  out_.push_back('\xff');
  out_.push_back('\xff');
  out->swap(out_);
  out_.assign(kHeader);
  rows_ = 0;
}

}  // namespace dataforge
