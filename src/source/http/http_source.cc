#include "source/http/http_source.h"

#include <random>

#include <fmt/format.h>

#include "source/http/url_query.h"

namespace dataforge {
namespace {

// Splits "v1;k=v;k=v;flag" into its fields.
bool Field(const std::string& pos, const std::string& name, std::string* value) {
  size_t start = 0;
  while (start <= pos.size()) {
    size_t end = pos.find(';', start);
    if (end == std::string::npos) end = pos.size();
    std::string f = pos.substr(start, end - start);
    if (f == name) {
      value->clear();
      return true;
    }
    if (f.rfind(name + "=", 0) == 0) {
      *value = f.substr(name.size() + 1);
      return true;
    }
    start = end + 1;
  }
  return false;
}

}  // namespace

HttpSource::HttpSource(const SourceConfig& config, std::string url, Clock* clock)
    : config_(config),
      base_url_(std::move(url)),
      is_file_(base_url_.rfind("file://", 0) == 0),
      clock_(clock),
      fetcher_(config, clock),
      parser_(config) {}

Status HttpSource::Open(const std::string& position) {
  page_ = 1;
  index_ = 0;
  done_ = false;
  page_loaded_ = false;
  items_.clear();
  seed_.clear();
  if (!is_file_) {
    if (auto s = QueryParam(base_url_, "seed")) seed_ = *s;
    if (seed_.empty()) seed_ = config_.seed;
  }
  if (position.empty()) {
    if (!is_file_ && seed_.empty()) {
      std::random_device rd;
      seed_ = fmt::format("{:08x}{:08x}", rd(), rd());
    }
    return Status::OK();
  }
  if (position.rfind("v1;", 0) != 0) {
    return Status::InvalidArgument(fmt::format(
        "source position '{}' is not one this dataforge wrote; use a new --data-dir", position));
  }
  std::string v;
  if (Field(position, "done", &v)) done_ = true;
  if (Field(position, "seed", &v) && !is_file_) seed_ = v;
  if (Field(position, "page", &v)) page_ = std::stoll(v);
  if (Field(position, "index", &v)) index_ = std::stoull(v);
  return Status::OK();
}

std::string HttpSource::Position() const {
  if (is_file_) return done_ ? "v1;file;done" : fmt::format("v1;file;index={}", index_);
  return fmt::format("v1;seed={};page={};index={}", seed_, page_, index_);
}

std::string HttpSource::PageUrl() const {
  if (is_file_) return base_url_;
  std::string url = base_url_;
  if (!QueryParam(url, "results")) {
    url = WithQueryParam(url, "results", std::to_string(config_.results_per_page));
  }
  url = WithQueryParam(url, "seed", seed_);
  return WithQueryParam(url, "page", std::to_string(page_));
}

std::string HttpSource::Describe() const {
  return is_file_ ? base_url_ : WithQueryParam(PageUrl(), "page", "N");
}

Status HttpSource::LoadPage(std::stop_token stop) {
  items_.clear();
  std::string url = PageUrl();
  DF_ASSIGN_OR_RETURN(FetchResult r, fetcher_.Get(url, stop));
  if (r.too_large) {
    PageItem item;
    item.dead = true;
    item.letter = {"source",
                   fmt::format("response is larger than source.max_response_bytes={} bytes ({}+ "
                               "bytes received); raise source.max_response_bytes or ask for "
                               "fewer results per page; the payload kept here is its first 64 KiB",
                               config_.max_response_bytes, r.bytes_seen),
                   url, std::move(r.body), r.received_at_us};
    items_.push_back(std::move(item));
  } else {
    parser_.Parse(r.body, url, r.received_at_us, &items_);
  }
  page_loaded_ = true;
  return Status::OK();
}

Result<SourceBatch> HttpSource::Next(size_t max_records, std::stop_token stop) {
  if (done_) return Status::NotFound("the source is exhausted");
  if (!page_loaded_) {
    DF_RETURN_IF_ERROR(LoadPage(stop));
    if (items_.empty()) {  // an empty page: the input has ended
      done_ = true;
      if (is_file_) {
        SourceBatch b;
        b.position = Position();
        return b;
      }
      return Status::NotFound("the API returned no more results");
    }
  }
  SourceBatch batch;
  size_t end = std::min(items_.size(), index_ + std::max<size_t>(1, max_records));
  for (size_t i = index_; i < end; ++i) {
    if (items_[i].dead) {
      batch.dead_letters.push_back(std::move(items_[i].letter));
    } else {
      batch.records.push_back(std::move(items_[i].record));
    }
  }
  index_ = end;
  if (index_ >= items_.size()) {
    page_loaded_ = false;
    items_.clear();
    index_ = 0;
    if (is_file_) {
      done_ = true;
    } else {
      ++page_;
    }
  }
  batch.position = Position();
  return batch;
}

}  // namespace dataforge
