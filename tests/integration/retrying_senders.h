// RetryingSenders: threads that POST distinct webhooks (each with its own
// webhook-id) round-robin to a set of bridge replicas at a steady rate and,
// as Refir does, retry a webhook on 503 or a failed connection with the same
// webhook-id (on the next replica) until it is answered 200 or its deadline
// passes. Every answer is recorded, so a test can compare what was
// acknowledged with what was stored. A replica the test kills is marked down
// first: a failed connection is expected only from a replica that was down,
// or restarted, while the request was out.
#ifndef REFIR_BRIDGE_TESTS_INTEGRATION_RETRYING_SENDERS_H_
#define REFIR_BRIDGE_TESTS_INTEGRATION_RETRYING_SENDERS_H_

#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace refir::bridge::testing {

struct SenderOptions {
  int senders = 4;
  // Between the first attempts of one sender's consecutive webhooks.
  absl::Duration interval = absl::Milliseconds(40);
  // Between attempts at one webhook.
  absl::Duration retry_pause = absl::Milliseconds(100);
  // How long one webhook is retried, from its first attempt.
  absl::Duration deadline = absl::Seconds(45);
};

// The 200 a webhook got.
struct Acknowledged {
  uint64_t sequence = 0;
  bool duplicate = false;
  int attempts = 0;
};

struct SenderReport {
  std::map<std::string, Acknowledged> acknowledged;  // by webhook-id
  std::vector<std::string> gave_up;                  // never answered 200 before their deadline
  std::vector<std::string> unexpected;               // any other answer, described
  int64_t unavailable = 0;                           // 503 answers
  int64_t connection_failures = 0;                   // expected ones (a replica down)
  int64_t duplicates = 0;                            // 200s with "duplicate": true
};

class RetryingSenders {
 public:
  // `http_ports`: one per replica, in the order MarkDown/MarkUp name them.
  RetryingSenders(SenderOptions options, std::vector<int> http_ports);
  ~RetryingSenders();

  RetryingSenders(const RetryingSenders&) = delete;
  RetryingSenders& operator=(const RetryingSenders&) = delete;

  void Start();
  // Call just before killing replica `replica`.
  void MarkDown(int replica);
  // Call once replica `replica` serves again on `http_port`.
  void MarkUp(int replica, int http_port);
  // Webhooks answered 200 so far.
  int64_t acknowledged() const;
  // Waits until `count` webhooks were answered 200; false at the timeout.
  bool WaitForAcknowledged(int64_t count, absl::Duration timeout) const;
  // Starts no more webhooks, waits for those under way (each up to its
  // deadline) and returns what the senders saw. Idempotent.
  SenderReport Stop();

 private:
  struct Target {
    int replica = 0;
    int port = 0;
    int64_t epoch = 0;  // the replica's: odd while down
  };

  void Send(int sender);
  // One webhook, retried until 200 or its deadline.
  void SendOne(int sender, int64_t number);
  Target Pick(int64_t turn) const;
  // Whether a failed connection to `target` is explained by its replica
  // being down or restarted since the request was sent.
  bool ReplicaWasDown(const Target& target) const;

  const SenderOptions options_;
  absl::Notification stop_;
  std::vector<std::thread> threads_;

  mutable absl::Mutex mu_;
  std::vector<int> ports_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> epochs_ ABSL_GUARDED_BY(mu_);
  SenderReport report_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_INTEGRATION_RETRYING_SENDERS_H_
