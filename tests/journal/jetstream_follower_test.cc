// JetStreamFollower against a real nats-server: a follower whose pending
// buffer is far smaller than what the server pushes at it drops events in
// cnats, and must still hand out every stored event once, in order; where
// the stream holds no event (deleted), it moves on instead of waiting; and
// it stops safely while cnats recreates its consumer after a reconnect.
#include "bridge/journal/jetstream/jetstream_follower.h"

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bridge/journal/jetstream/jetstream_stream.h"
#include "bridge/journal/jetstream/nats_connection.h"
#include "bridge/journal/jetstream/nats_handles.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/temp_dir.h"
#include "tests/nats/nats_server_process.h"

namespace refir::bridge::jetstream {
namespace {

using ::refir::bridge::testing::MakeTempDir;
using ::refir::bridge::testing::NatsServerOptions;
using ::refir::bridge::testing::NatsServerProcess;

// What the follower handed out, and a wait for it.
class Recorder {
 public:
  struct Seen {
    uint64_t sequence;
    std::string bytes;
  };

  void Add(uint64_t sequence, absl::string_view bytes) {
    absl::MutexLock lock(&mu_);
    seen_.push_back(Seen{sequence, std::string(bytes)});
  }

  // Waits until the event at `sequence` (or a later one) was handed out.
  bool WaitFor(uint64_t sequence, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, sequence]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !seen_.empty() && seen_.back().sequence >= sequence;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }

  std::vector<Seen> seen() const {
    absl::MutexLock lock(&mu_);
    return seen_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Seen> seen_ ABSL_GUARDED_BY(mu_);
};

std::string Payload(uint64_t sequence) {
  std::string payload = absl::StrCat("event-", sequence, "-");
  payload.resize(256, 'x');
  return payload;
}

class JetStreamFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = MakeTempDir("refir-follower");
    ASSERT_FALSE(dir.empty());
    NatsServerOptions options;
    options.store_dir = dir + "/nats";
    nats_ = std::make_unique<NatsServerProcess>(options);
    ASSERT_TRUE(nats_->Start().ok());
    NatsConnectionOptions connection_options;
    connection_options.servers = {nats_->url()};
    absl::StatusOr<std::unique_ptr<NatsConnection>> connection =
        NatsConnection::Connect(connection_options);
    ASSERT_TRUE(connection.ok()) << connection.status();
    connection_ = *std::move(connection);
    jsCtx* js = nullptr;
    ASSERT_EQ(natsConnection_JetStream(&js, connection_->get(), nullptr), NATS_OK);
    js_.reset(js);
    settings_.name = "FOLLOWED";
    settings_.subject_prefix = "followed";
    absl::StatusOr<StreamState> state = EnsureStream(js_.get(), settings_);
    ASSERT_TRUE(state.ok()) << state.status();
  }

  void TearDown() override {
    if (follower_ != nullptr) follower_->Stop();
  }

  // Publishes the events `from`..`to` (their sequences, as the stream is
  // only written here).
  void Publish(uint64_t from, uint64_t to) {
    const std::string subject = absl::StrCat(settings_.subject_prefix, ".test");
    for (uint64_t sequence = from; sequence <= to; ++sequence) {
      const std::string payload = Payload(sequence);
      jsPubAck* ack = nullptr;
      jsErrCode error = static_cast<jsErrCode>(0);
      ASSERT_EQ(js_Publish(&ack, js_.get(), subject.c_str(), payload.data(),
                           static_cast<int>(payload.size()), nullptr, &error),
                NATS_OK)
          << "publishing " << sequence << ", JetStream error " << error;
      ASSERT_EQ(ack->Sequence, sequence);
      jsPubAck_Destroy(ack);
    }
  }

  // Starts a follower from `start_sequence` that records every event.
  void StartFollowing(uint64_t start_sequence) {
    absl::StatusOr<std::unique_ptr<JetStreamFollower>> follower = JetStreamFollower::Start(
        connection_->get(), settings_.name, settings_.subject_prefix, start_sequence,
        FollowerLimits{},
        [this](uint64_t sequence, absl::string_view bytes) { recorder_.Add(sequence, bytes); });
    ASSERT_TRUE(follower.ok()) << follower.status();
    absl::MutexLock lock(&follower_mu_);
    follower_ = *std::move(follower);
  }

  // Waits (up to 20 s) until the test's connection is connected again.
  bool WaitUntilConnected() {
    const absl::Time give_up = absl::Now() + absl::Seconds(20);
    while (natsConnection_Status(connection_->get()) != NATS_CONN_STATUS_CONNECTED) {
      if (absl::Now() > give_up) return false;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return true;
  }

  // Starts a follower from sequence 1 with room for `messages` events whose
  // first event waits until the test calls release_.Notify() and cnats has
  // dropped some: it falls behind. (The limits apply from just after the
  // subscription starts: events published after Start() are the ones sure
  // to meet them.)
  void StartBehind(int messages) {
    FollowerLimits limits;
    limits.messages = messages;
    limits.bytes = 0;  // raised to the connection's max payload
    absl::StatusOr<std::unique_ptr<JetStreamFollower>> follower =
        JetStreamFollower::Start(connection_->get(), settings_.name, settings_.subject_prefix, 1,
                                 limits, [this](uint64_t sequence, absl::string_view bytes) {
                                   if (!held_first_.exchange(true)) {
                                     release_.WaitForNotificationWithTimeout(absl::Seconds(30));
                                     WaitForDrops();
                                   }
                                   recorder_.Add(sequence, bytes);
                                 });
    ASSERT_TRUE(follower.ok()) << follower.status();
    {
      absl::MutexLock lock(&follower_mu_);
      follower_ = *std::move(follower);
    }
  }

  // On the follower's thread: polls the drop count (cnats tells nothing
  // when it drops) until there are drops or 10 s passed.
  void WaitForDrops() {
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (absl::Now() < give_up) {
      {
        absl::MutexLock lock(&follower_mu_);
        if (follower_ != nullptr && follower_->dropped() > 0) return;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  void ExpectSeen(const std::vector<uint64_t>& expected) {
    const std::vector<Recorder::Seen> seen = recorder_.seen();
    std::vector<uint64_t> sequences;
    for (const Recorder::Seen& event : seen) {
      sequences.push_back(event.sequence);
      EXPECT_EQ(event.bytes, Payload(event.sequence)) << "at sequence " << event.sequence;
    }
    EXPECT_EQ(sequences, expected);
  }

  std::unique_ptr<NatsServerProcess> nats_;
  std::unique_ptr<NatsConnection> connection_;
  JsContextPtr js_;
  StreamSettings settings_;
  Recorder recorder_;
  std::atomic<bool> held_first_{false};
  absl::Notification release_;
  absl::Mutex follower_mu_;
  std::unique_ptr<JetStreamFollower> follower_;  // set under follower_mu_
};

TEST_F(JetStreamFollowerTest, FallsBehindASmallBufferAndStillSeesEveryEventInOrder) {
  constexpr uint64_t kStored = 1000;
  constexpr uint64_t kLive = 500;
  ASSERT_NO_FATAL_FAILURE(Publish(1, kStored));
  ASSERT_NO_FATAL_FAILURE(StartBehind(16));
  ASSERT_NO_FATAL_FAILURE(Publish(kStored + 1, kStored + kLive));
  release_.Notify();

  EXPECT_TRUE(recorder_.WaitFor(kStored + kLive, absl::Seconds(60)));
  std::vector<uint64_t> expected;
  for (uint64_t sequence = 1; sequence <= kStored + kLive; ++sequence) expected.push_back(sequence);
  ExpectSeen(expected);
  // It did fall behind, and it recovered by subscribing again.
  EXPECT_GT(follower_->dropped(), 0);
  EXPECT_GE(follower_->restarts(), 1);
}

TEST_F(JetStreamFollowerTest, MovesPastEventsTheStreamNoLongerHolds) {
  constexpr uint64_t kStored = 100;
  constexpr uint64_t kLast = 300;
  ASSERT_NO_FATAL_FAILURE(Publish(1, kStored));
  ASSERT_NO_FATAL_FAILURE(StartBehind(8));
  ASSERT_NO_FATAL_FAILURE(Publish(kStored + 1, kLast));
  // Deleted while the follower is held at its first event: by then cnats
  // has dropped them (8 events fit), so the follower meets the gap after
  // drops, subscribes anew, and must accept the gap it sees again.
  std::vector<uint64_t> expected;
  for (uint64_t sequence = 1; sequence <= kLast; ++sequence) {
    if (sequence >= 150 && sequence <= 152) {
      jsErrCode error = static_cast<jsErrCode>(0);
      ASSERT_EQ(js_DeleteMsg(js_.get(), settings_.name.c_str(), sequence, nullptr, &error), NATS_OK)
          << "deleting " << sequence << ", JetStream error " << error;
      continue;
    }
    expected.push_back(sequence);
  }
  release_.Notify();

  EXPECT_TRUE(recorder_.WaitFor(kLast, absl::Seconds(60)));
  ExpectSeen(expected);
  EXPECT_GT(follower_->dropped(), 0);
}

// After a reconnect, cnats recreates an ordered consumer on a thread of its
// own, freeing the old consumer's name. Stopping the follower right then
// must not touch that name: unsubscribing did, and ASan caught a
// use-after-free in cnats. A few rounds, as the window is narrow.
TEST_F(JetStreamFollowerTest, StopsRightAfterAReconnect) {
  constexpr uint64_t kRounds = 4;
  std::vector<uint64_t> expected;
  for (uint64_t round = 1; round <= kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    ASSERT_NO_FATAL_FAILURE(Publish(round, round));
    ASSERT_NO_FATAL_FAILURE(StartFollowing(round));
    ASSERT_TRUE(recorder_.WaitFor(round, absl::Seconds(20)));
    expected.push_back(round);
    nats_->Kill();
    ASSERT_TRUE(nats_->Start().ok());
    ASSERT_TRUE(WaitUntilConnected());
    std::unique_ptr<JetStreamFollower> follower;
    {
      absl::MutexLock lock(&follower_mu_);
      follower = std::move(follower_);
    }
    follower->Stop();
    EXPECT_EQ(follower->dropped(), 0);
  }
  ExpectSeen(expected);
}

}  // namespace
}  // namespace refir::bridge::jetstream
