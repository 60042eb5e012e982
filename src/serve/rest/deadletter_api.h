// The dead-letter routes of pipeline_api.h (docs/serving.md "Dead letters"):
//   GET  /v1/deadletters?stage=&reason=&limit=&cursor=   both stages' letters, paged, with each
//                                                        letter's reason_class and replay marker
//   POST /v1/deadletters/replay  {"ids":["process:12"]}  map letters again (dead_letter_replay.h)
// Internal to serve/rest.
#pragma once

#include <memory>
#include <mutex>

#include "serve/rest/pipeline_api.h"

namespace dataforge::rest {

// `staging_mu` serializes calls into backends.staging with the other pipeline routes.
void RegisterDeadLetterRoutes(http::ApiRouter* router, const PipelineApiBackends& backends,
                              std::shared_ptr<std::mutex> staging_mu);

}  // namespace dataforge::rest
