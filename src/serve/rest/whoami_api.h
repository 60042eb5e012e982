// GET /v1/whoami: who the caller is and what its role lets it do, so that a client (the web
// console, serve/console/) shows only the actions the server would allow. The server still checks
// every request itself (403); this answer is a courtesy, never the check.
//
//   {"user":"rita","role":"reader","method":"basic","auth":true,
//    "can":{"read_pipeline":true,"read_tables":true,"replay":false,"trigger":false,
//           "clear":false,"pause":false,"admin":false},
//    "dags":{"nightly":{"read":true,"trigger":false,"clear":false,"pause":false}},
//    "backends":{"source":"…","staging":"sqlite://staging.db","log":"file://log",
//                "store":"rocksdb://store","topic":"users_created","group":"dataforge-processor"}}
//
// "can.trigger" (clear, pause) is true when the role allows it on at least one DAG; "dags" has
// the answer per DAG of the pipeline file. "auth" is false while authentication is off (then the
// caller is anonymous with the role admin). "backends" (the pipeline file's URLs, passwords
// masked by common/redact.h) only for a caller who may read the pipeline; else null.
// Access: any authenticated caller (the route filters what it shows itself, like a list).
#pragma once

#include "config/pipeline_config.h"
#include "serve/http/api.h"

namespace dataforge::rest {

// `config` is borrowed and must outlive the router. Thread-safe: the handler only reads.
void RegisterWhoAmI(http::ApiRouter* router, const PipelineConfig* config);

}  // namespace dataforge::rest
