// Token-bucket rate limits for a webhook source: one bucket for the whole
// source and a bounded table of buckets per client IP. Time is passed in by
// the caller (the request's arrival time), so tests need no clock or sleeps.
#ifndef REFIR_BRIDGE_SOURCES_RATE_LIMITER_H_
#define REFIR_BRIDGE_SOURCES_RATE_LIMITER_H_

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bridge/sources/source_config.h"

namespace refir::bridge {

// Not thread-safe; RateLimiter and ClientRateLimiter lock around it.
class TokenBucket {
 public:
  // Starts full (`burst` tokens) at `now` (absl::InfinitePast(): full at
  // whatever time it is first used).
  TokenBucket(const RateLimitConfig& config, absl::Time now);

  // Takes one token. Returns zero when one was available, otherwise how
  // long until one will be (and takes nothing). A clock that went backwards
  // adds no tokens.
  absl::Duration TryTake(absl::Time now);

  // How long until a token will be available (zero: one is); takes nothing.
  absl::Duration WaitTime(absl::Time now) const;

  // Gives back one token taken by TryTake (never above the burst).
  void Refund();

  // True when the bucket has refilled completely by `now`: forgetting it
  // then changes nothing.
  bool IsFull(absl::Time now) const;

  absl::Time last_update() const { return last_; }

 private:
  double TokensAt(absl::Time now) const;

  double per_second_;
  double burst_;
  double tokens_;
  absl::Time last_;
};

// One bucket shared by every request of a source. Thread-safe.
class RateLimiter {
 public:
  // Full until first used.
  explicit RateLimiter(const RateLimitConfig& config) : bucket_(config, absl::InfinitePast()) {}
  absl::Duration TryTake(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // Gives back a token TryTake took, for a request that turned out not to
  // be the source's (it failed verification).
  void Refund() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  TokenBucket bucket_ ABSL_GUARDED_BY(mu_);
};

// A bucket per client IP, at most `max_clients` of them. When the table is
// full, buckets that have refilled (idle clients) are dropped; if none has,
// the one used least recently goes. Thread-safe.
class ClientRateLimiter {
 public:
  ClientRateLimiter(const RateLimitConfig& config, size_t max_clients);
  absl::Duration TryTake(absl::string_view client_ip, absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // How long until `client_ip` will have a token (zero: it has one, or is
  // not tracked); takes nothing and tracks no new client.
  absl::Duration WaitTime(absl::string_view client_ip, absl::Time now) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Clients tracked now (tests only).
  size_t TrackedClientsForTesting() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void MakeRoom(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RateLimitConfig config_;
  const size_t max_clients_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, TokenBucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_SOURCES_RATE_LIMITER_H_
