#include "tests/integration/retrying_senders.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {

RetryingSenders::RetryingSenders(SenderOptions options, std::vector<int> http_ports)
    : options_(std::move(options)) {
  absl::MutexLock lock(&mu_);
  epochs_.assign(http_ports.size(), 0);
  ports_ = std::move(http_ports);
}

RetryingSenders::~RetryingSenders() { Stop(); }

void RetryingSenders::Start() {
  for (int sender = 0; sender < options_.senders; ++sender) {
    threads_.emplace_back([this, sender] { Send(sender); });
  }
}

void RetryingSenders::MarkDown(int replica) {
  absl::MutexLock lock(&mu_);
  if (epochs_[replica] % 2 == 0) ++epochs_[replica];
}

void RetryingSenders::MarkUp(int replica, int http_port) {
  absl::MutexLock lock(&mu_);
  ports_[replica] = http_port;
  if (epochs_[replica] % 2 == 1) ++epochs_[replica];
}

int64_t RetryingSenders::acknowledged() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(report_.acknowledged.size());
}

bool RetryingSenders::WaitForAcknowledged(int64_t count, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<int64_t>(report_.acknowledged.size()) >= count;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

SenderReport RetryingSenders::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  absl::MutexLock lock(&mu_);
  return report_;
}

RetryingSenders::Target RetryingSenders::Pick(int64_t turn) const {
  absl::MutexLock lock(&mu_);
  Target target;
  target.replica = static_cast<int>(turn % static_cast<int64_t>(ports_.size()));
  target.port = ports_[target.replica];
  target.epoch = epochs_[target.replica];
  return target;
}

bool RetryingSenders::ReplicaWasDown(const Target& target) const {
  absl::MutexLock lock(&mu_);
  return target.epoch % 2 == 1 || epochs_[target.replica] != target.epoch;
}

void RetryingSenders::Send(int sender) {
  // Senders start spread over one interval, then keep a steady pace.
  absl::Time next = absl::Now() + options_.interval * sender / options_.senders;
  for (int64_t number = 0;; ++number) {
    if (stop_.WaitForNotificationWithTimeout(next - absl::Now())) return;
    SendOne(sender, number);
    // After a webhook that took long (retries), keep the pace; no burst.
    next = std::max(next + options_.interval, absl::Now());
  }
}

void RetryingSenders::SendOne(int sender, int64_t number) {
  const std::string id = absl::StrCat("wh-", sender, "-", number);
  const std::string body =
      absl::StrCat(R"({"message":"cluster test","sender":)", sender, R"(,"n":)", number, "}");
  const absl::Time give_up = absl::Now() + options_.deadline;
  for (int attempt = 1;; ++attempt) {
    const Target target = Pick(sender + number + attempt);
    const HttpResult result = PostWebhook(target.port, body, {{"webhook-id", id}});
    if (result.status == 200 && result.json.is_object() && result.json.contains("sequence") &&
        result.json.value("id", "") == id) {
      Acknowledged ack;
      ack.sequence = result.json.at("sequence").get<uint64_t>();
      ack.duplicate = result.json.value("duplicate", false);
      ack.attempts = attempt;
      absl::MutexLock lock(&mu_);
      if (ack.duplicate) ++report_.duplicates;
      report_.acknowledged[id] = ack;
      return;
    }
    const bool down = result.status == 0 && ReplicaWasDown(target);
    {
      absl::MutexLock lock(&mu_);
      if (result.status == 503 && result.json.is_object() &&
          result.json.value("error", "") == "journal_unavailable" && !result.retry_after.empty()) {
        ++report_.unavailable;
      } else if (down) {
        ++report_.connection_failures;
      } else {
        report_.unexpected.push_back(absl::StrCat(id, " attempt ", attempt, " on replica ",
                                                  target.replica, ": status ", result.status,
                                                  " body ", result.body));
      }
      if (absl::Now() >= give_up) {
        report_.gave_up.push_back(id);
        return;
      }
    }
    absl::SleepFor(options_.retry_pause);
  }
}

}  // namespace refir::bridge::testing
