// EventStreamService in process: a gRPC server on a free loopback port inside
// the test, over a real SQLite journal and GroupRegistry in a temp directory
// (tests/common/sqlite_core.h). Covers a consumer-group stream end to end and
// the admin RPCs' paging, page tokens and status mapping.
#include "bridge/grpc_api/event_stream_service.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "refir/bridge/v1/event_stream.grpc.pb.h"
#include "tests/common/sqlite_core.h"

namespace refir::bridge::testing {
namespace {

class EventStreamServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(core_.Open().ok());
    service_ = std::make_unique<EventStreamService>(core_.journal.get(), core_.hub.get(),
                                                    core_.groups.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    stub_ = v1::EventStream::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (service_ != nullptr) service_->BeginShutdown();
    if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    server_.reset();
    service_.reset();
    core_.Close();
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return context;
  }
  // Creates `name` (at the earliest event) without a stream.
  void CreateGroup(const std::string& name) {
    JoinRequest request;
    request.group = name;
    request.start = StreamPosition::Earliest();
    absl::StatusOr<JoinedGroup> joined = core_.groups->Join(request, MemberSettings(), absl::Now());
    ASSERT_TRUE(joined.ok()) << joined.status();
    joined->feed->Close(absl::Now());
  }

  SqliteCore core_;
  std::unique_ptr<EventStreamService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::EventStream::Stub> stub_;
};

TEST_F(EventStreamServiceTest, GroupStreamDeliversSettlesAndDeadLetters) {
  for (int i = 0; i < 3; ++i) ASSERT_NE(core_.Append("t"), 0u);
  std::unique_ptr<grpc::ClientContext> context = Context();
  auto stream = stub_->Subscribe(context.get());
  v1::SubscribeRequest init;
  init.mutable_init()->set_consumer_group("g");
  init.mutable_init()->mutable_start()->mutable_earliest();
  ASSERT_TRUE(stream->Write(init));
  v1::SubscribeResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_TRUE(response.has_confirm());
  EXPECT_TRUE(response.confirm().group_created());
  EXPECT_EQ(response.confirm().max_delivery_attempts(), 5);  // StreamLimits' default
  EXPECT_EQ(response.confirm().heartbeat_seconds(), 15);
  std::vector<v1::Delivery> deliveries;
  while (deliveries.size() < 3 && stream->Read(&response)) {
    for (const v1::Delivery& delivery : response.batch().deliveries()) {
      deliveries.push_back(delivery);
    }
  }
  ASSERT_EQ(deliveries.size(), 3u);
  v1::SubscribeRequest settle;
  settle.mutable_settle()->add_ack_ids(deliveries[0].ack_id());
  settle.mutable_settle()->add_ack_ids(deliveries[2].ack_id());
  v1::Nack* nack = settle.mutable_settle()->add_nacks();
  nack->set_ack_id(deliveries[1].ack_id());
  nack->set_action(v1::Nack::DEAD_LETTER);
  nack->set_reason("poison");
  ASSERT_TRUE(stream->Write(settle));
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_TRUE(response.has_settled());
  EXPECT_EQ(response.settled().acked(), 2);
  EXPECT_EQ(response.settled().nacked(), 1);

  v1::GetConsumerGroupRequest get;
  get.set_name("g");
  v1::ConsumerGroup group;
  ASSERT_TRUE(stub_->GetConsumerGroup(Context().get(), get, &group).ok());
  EXPECT_EQ(group.dead_letters(), 1u);
  EXPECT_EQ(group.cursor_sequence(), 4u);
  v1::ListDeadLettersRequest list;
  list.set_name("g");
  v1::ListDeadLettersResponse letters;
  ASSERT_TRUE(stub_->ListDeadLetters(Context().get(), list, &letters).ok());
  ASSERT_EQ(letters.dead_letters_size(), 1);
  EXPECT_EQ(letters.dead_letters(0).sequence(), 2u);
  EXPECT_EQ(letters.dead_letters(0).reason(), "poison");
  EXPECT_EQ(letters.dead_letters(0).event().sequence(), 2u);
  EXPECT_TRUE(letters.next_page_token().empty());

  v1::DeleteConsumerGroupRequest remove;
  remove.set_name("g");
  google::protobuf::Empty empty;
  EXPECT_EQ(stub_->DeleteConsumerGroup(Context().get(), remove, &empty).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // The server ends the stream with UNAVAILABLE when it shuts down.
  service_->BeginShutdown();
  while (stream->Read(&response)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(service_->WaitForNoStreams(absl::Now() + absl::Seconds(10)));
  EXPECT_TRUE(stub_->DeleteConsumerGroup(Context().get(), remove, &empty).ok());
}

TEST_F(EventStreamServiceTest, ListConsumerGroupsPagesWithNameTokens) {
  for (const char* name : {"c", "a", "b"}) CreateGroup(name);
  v1::ListConsumerGroupsRequest request;
  request.set_page_size(2);
  v1::ListConsumerGroupsResponse page;
  ASSERT_TRUE(stub_->ListConsumerGroups(Context().get(), request, &page).ok());
  ASSERT_EQ(page.groups_size(), 2);
  EXPECT_EQ(page.groups(0).name(), "a");
  EXPECT_EQ(page.next_page_token(), "b");
  request.set_page_token(page.next_page_token());
  ASSERT_TRUE(stub_->ListConsumerGroups(Context().get(), request, &page).ok());
  ASSERT_EQ(page.groups_size(), 1);
  EXPECT_EQ(page.groups(0).name(), "c");
  EXPECT_TRUE(page.next_page_token().empty());

  request.set_page_token("not a name!");
  grpc::Status bad = stub_->ListConsumerGroups(Context().get(), request, &page);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.error_message(), "page_token is not one this server issued");
  request.set_page_token("");
  request.set_page_size(1001);
  bad = stub_->ListConsumerGroups(Context().get(), request, &page);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.error_message(), "page_size must be between 1 and 1000, got 1001");
}

TEST_F(EventStreamServiceTest, AdminRequestsAreCheckedAtTheEdge) {
  CreateGroup("g");
  v1::ListDeadLettersRequest list;
  list.set_name("g");
  list.set_page_token("x");
  v1::ListDeadLettersResponse letters;
  grpc::Status status = stub_->ListDeadLetters(Context().get(), list, &letters);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "page_token is not one this server issued: \"x\"");

  v1::SeekConsumerGroupRequest seek;
  seek.set_name("g");
  v1::SeekConsumerGroupResponse sought;
  status = stub_->SeekConsumerGroup(Context().get(), seek, &sought);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "set sequence, time, earliest or latest");
  seek.set_sequence(0);
  EXPECT_EQ(stub_->SeekConsumerGroup(Context().get(), seek, &sought).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  seek.set_sequence(7);
  ASSERT_TRUE(stub_->SeekConsumerGroup(Context().get(), seek, &sought).ok());
  EXPECT_EQ(sought.cursor_sequence(), 7u);
  seek.set_name("missing");
  EXPECT_EQ(stub_->SeekConsumerGroup(Context().get(), seek, &sought).error_code(),
            grpc::StatusCode::NOT_FOUND);

  v1::RequeueDeadLettersRequest requeue;
  requeue.set_name("g");
  requeue.set_all(true);
  requeue.add_sequences(1);
  v1::RequeueDeadLettersResponse requeued;
  EXPECT_EQ(stub_->RequeueDeadLetters(Context().get(), requeue, &requeued).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  requeue.clear_sequences();
  ASSERT_TRUE(stub_->RequeueDeadLetters(Context().get(), requeue, &requeued).ok());
  EXPECT_EQ(requeued.requeued(), 0);
}

}  // namespace
}  // namespace refir::bridge::testing
