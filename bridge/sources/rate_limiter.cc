#include "bridge/sources/rate_limiter.h"

#include <algorithm>
#include <utility>

namespace refir::bridge {

TokenBucket::TokenBucket(const RateLimitConfig& config, absl::Time now)
    : per_second_(config.per_second),
      burst_(std::max<double>(1, config.burst)),
      tokens_(burst_),
      last_(now) {}

double TokenBucket::TokensAt(absl::Time now) const {
  if (now <= last_) return tokens_;
  return std::min(burst_, tokens_ + absl::ToDoubleSeconds(now - last_) * per_second_);
}

absl::Duration TokenBucket::TryTake(absl::Time now) {
  tokens_ = TokensAt(now);
  last_ = std::max(last_, now);
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return absl::ZeroDuration();
  }
  return WaitTime(now);
}

absl::Duration TokenBucket::WaitTime(absl::Time now) const {
  const double tokens = TokensAt(now);
  if (tokens >= 1) return absl::ZeroDuration();
  // Never zero when short: zero means "available".
  return std::max(absl::Seconds((1 - tokens) / per_second_), absl::Nanoseconds(1));
}

void TokenBucket::Refund() { tokens_ = std::min(burst_, tokens_ + 1); }

bool TokenBucket::IsFull(absl::Time now) const { return TokensAt(now) >= burst_; }

absl::Duration RateLimiter::TryTake(absl::Time now) {
  absl::MutexLock lock(&mu_);
  return bucket_.TryTake(now);
}

void RateLimiter::Refund() {
  absl::MutexLock lock(&mu_);
  bucket_.Refund();
}

ClientRateLimiter::ClientRateLimiter(const RateLimitConfig& config, size_t max_clients)
    : config_(config), max_clients_(std::max<size_t>(1, max_clients)) {}

absl::Duration ClientRateLimiter::TryTake(absl::string_view client_ip, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(client_ip);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) MakeRoom(now);
    it = buckets_.emplace(std::string(client_ip), TokenBucket(config_, now)).first;
  }
  return it->second.TryTake(now);
}

absl::Duration ClientRateLimiter::WaitTime(absl::string_view client_ip, absl::Time now) const {
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(client_ip);
  if (it == buckets_.end()) return absl::ZeroDuration();
  return it->second.WaitTime(now);
}

size_t ClientRateLimiter::TrackedClientsForTesting() const {
  absl::MutexLock lock(&mu_);
  return buckets_.size();
}

void ClientRateLimiter::MakeRoom(absl::Time now) {
  absl::erase_if(buckets_, [now](const auto& entry) { return entry.second.IsFull(now); });
  if (buckets_.size() < max_clients_) return;
  auto oldest = buckets_.begin();
  for (auto it = buckets_.begin(); it != buckets_.end(); ++it) {
    if (it->second.last_update() < oldest->second.last_update()) oldest = it;
  }
  buckets_.erase(oldest);
}

}  // namespace refir::bridge
