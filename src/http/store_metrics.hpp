// Metrics read from the store when /metrics is scraped: the queue by state and the free
// space of the data directory.
#pragma once

#include <vector>

#include "base/metrics.hpp"
#include "store/store.hpp"

namespace postino::http {

// Blocking (store queries): call it on the worker pool.
std::vector<base::metrics::Computed> store_metrics(store::Store& store);

}  // namespace postino::http
