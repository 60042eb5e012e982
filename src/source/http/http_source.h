// The HTTP source: pages through a randomuser-style API (or replays a file:// capture once).
//
// Position, committed by staging with each batch: "v1;seed=S;page=P;index=I" (the next item
// to deliver is item I of page P) or "v1;file;index=I" / "v1;file;done". After a restart the
// page is fetched again and its first I items are skipped: nothing skipped, nothing repeated.
// http(s) URLs get `results` and `seed` from the pipeline file when they have none; a missing
// seed is chosen at random once and kept in the position.
//
// Thread-compatible: the pipeline's source thread owns it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "source/http/http_fetcher.h"
#include "source/http/response_parser.h"
#include "source/source.h"

namespace dataforge {

class HttpSource final : public Source {
 public:
  HttpSource(const SourceConfig& config, std::string url, Clock* clock);

  Status Open(const std::string& committed_position) override;
  Result<SourceBatch> Next(size_t max_records, std::stop_token stop) override;
  std::string Describe() const override;

 private:
  std::string Position() const;
  std::string PageUrl() const;
  Status LoadPage(std::stop_token stop);

  const SourceConfig config_;
  const std::string base_url_;
  const bool is_file_;
  Clock* clock_;
  HttpFetcher fetcher_;
  ResponseParser parser_;

  std::string seed_;
  int64_t page_ = 1;
  size_t index_ = 0;  // next item of the page
  bool done_ = false;
  bool page_loaded_ = false;
  std::vector<PageItem> items_;
};

}  // namespace dataforge
