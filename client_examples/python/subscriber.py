"""A small refir-bridge subscriber: joins a consumer group, prints each event,
runs a handler on it and acks it (or nacks it when the handler fails).

Reconnects with backoff when the bridge restarts. The output lines are the
ones of the client-example contract; see README.md. Run it through run.sh,
which generates the protobuf code and sets PYTHONPATH.
"""

from __future__ import annotations

import argparse
import json
import logging
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType

import grpc
from google.protobuf.empty_pb2 import Empty

from refir.bridge.v1 import event_stream_pb2 as pb
from refir.bridge.v1 import event_stream_pb2_grpc as pb_grpc

INITIAL_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0

# Match the bridge's keepalive settings: it accepts a ping at most every 10 s.
CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    # No bandwidth-probing pings either (they follow received data, so can
    # come closer together than 10 s); the events are small.
    ("grpc.http2.bdp_probe", 0),
]

log = logging.getLogger("subscriber")

Handler = Callable[[pb.Delivery], None]


@dataclass(frozen=True)
class Options:
    target: str
    group: str
    client_id: str
    start: str
    max_events: int
    fail_sequences: frozenset[int]


class HandlerError(Exception):
    """The handler could not process an event; it should be delivered again."""


def make_handler(fail_sequences: frozenset[int]) -> Handler:
    """Returns the event handler. It fails the first delivery of each of
    `fail_sequences`, to show retries; every other delivery succeeds."""

    def handle(delivery: pb.Delivery) -> None:
        event = delivery.event
        if delivery.delivery_attempt == 1 and event.sequence in fail_sequences:
            raise HandlerError(f"simulated failure of sequence {event.sequence}")
        # A real handler does its work here. Events can come more than once
        # (after a crash of the bridge, or a missed ack deadline), so it must
        # be idempotent: deduplicate on event.id.

    return handle


def emit(line: str) -> None:
    print(line, flush=True)


def format_event(delivery: pb.Delivery) -> str:
    event = delivery.event
    refir = event.refir
    return (
        f"event sequence={event.sequence} id={event.id} type={event.type}"
        f" attempt={delivery.delivery_attempt}"
        f" lead.email={refir.lead.email} referrer.email={refir.referrer.email}"
        f" message={json.dumps(refir.message)}"
        f" body={json.dumps(event.body.decode('utf-8', 'replace'))}"
    )


def request_stream(
        requests: queue.Queue[pb.SubscribeRequest | None]) -> Iterator[pb.SubscribeRequest]:
    """Yields what is put on `requests` until None (the end of the stream)."""
    while (request := requests.get()) is not None:
        yield request


class Subscriber:
    def __init__(self, options: Options, handler: Handler) -> None:
        self._options = options
        self._handler = handler
        self._stopping = threading.Event()
        self._call: grpc.Call | None = None  # the stream in progress
        self._acked: set[int] = set()  # distinct sequences acked, for --max_events
        self._confirmed = False  # the current stream got its SubscribeConfirm

    def stop(self) -> None:
        """Ends the subscriber: cancels the stream in progress or the backoff
        wait. Safe to call from a signal handler."""
        self._stopping.set()
        call = self._call
        if call is not None:
            call.cancel()

    def run(self) -> int:
        """Subscribes until stopped or done, reconnecting when the bridge goes
        away. Returns the process exit code."""
        backoff = INITIAL_BACKOFF_S
        while not self._stopping.is_set():
            self._confirmed = False
            try:
                self._run_stream()
                return 0  # --max_events reached
            except grpc.RpcError as error:
                if self._stopping.is_set():
                    return 0  # our own cancel
                status = f"{error.code().name}: {error.details()}"
                # UNAVAILABLE: the bridge is down or shutting down. CANCELLED
                # (not by us): its server cancels calls while it shuts down.
                if error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                    print(f"subscribe failed: {status}", file=sys.stderr, flush=True)
                    return 1
            except StreamClosed as closed:
                print(f"subscribe failed: {closed}", file=sys.stderr, flush=True)
                return 1
            if self._confirmed:
                backoff = INITIAL_BACKOFF_S
            emit(f"reconnecting in {round(backoff * 1000)} ms: {status}")
            if self._stopping.wait(backoff):
                break
            backoff = min(backoff * 2, MAX_BACKOFF_S)
        return 0

    def _init(self) -> pb.SubscribeInit:
        if self._options.start == "earliest":
            start = pb.StartPosition(earliest=Empty())
        else:
            start = pb.StartPosition(latest=Empty())
        return pb.SubscribeInit(
            consumer_group=self._options.group,
            client_id=self._options.client_id,
            start=start,
            max_outstanding=100,
            ack_deadline_seconds=30,
        )

    def _run_stream(self) -> None:
        """Runs one Subscribe stream. Returns once --max_events is reached;
        raises grpc.RpcError when the stream ends with an error (including our
        own cancel on SIGINT/SIGTERM)."""
        requests: queue.Queue[pb.SubscribeRequest | None] = queue.Queue()
        requests.put(pb.SubscribeRequest(init=self._init()))
        # A new channel for each stream: a channel that failed to connect keeps
        # failing calls fast until its own reconnect backoff (which grows apart
        # from ours) has passed, which would delay resuming after a restart.
        with grpc.insecure_channel(self._options.target, options=CHANNEL_OPTIONS) as channel:
            call = pb_grpc.EventStreamStub(channel).Subscribe(request_stream(requests))
            self._call = call
            if self._stopping.is_set():  # a signal came before self._call was set
                call.cancel()
            try:
                self._read_responses(call, requests)
            finally:
                self._call = None
                requests.put(None)  # ends request_stream

    def _read_responses(self, call: grpc.Call,
                        requests: queue.Queue[pb.SubscribeRequest | None]) -> None:
        settles_sent = settles_answered = 0
        finishing = False
        for response in call:
            kind = response.WhichOneof("kind")
            if kind == "confirm":
                self._confirmed = True
                confirm = response.confirm
                emit(f"ready group={confirm.consumer_group} client_id={confirm.client_id}")
            elif kind == "batch" and not finishing:
                settles_sent += self._handle_batch(response.batch, requests)
                finishing = self._done()
            elif kind == "settled":
                settles_answered += 1
                result = response.settled
                if result.expired_ack_ids or result.unknown_ack_ids:
                    log.warning("settle had no effect on expired %s, unknown %s",
                                list(result.expired_ack_ids), list(result.unknown_ack_ids))
            # Once the bridge has answered our last Settle, its acks are
            # applied: close the stream. Deliveries that came meanwhile go
            # back to the group.
            if finishing and settles_answered == settles_sent:
                call.cancel()
                return
        raise StreamClosed("the bridge ended the stream without an error")

    def _handle_batch(self, batch: pb.DeliveryBatch,
                      requests: queue.Queue[pb.SubscribeRequest | None]) -> int:
        """Prints and handles each delivery, then settles them in one message.
        Returns the number of Settle messages sent (0 or 1)."""
        settle = pb.Settle()
        outcomes: list[str] = []
        for delivery in batch.deliveries:
            if self._done():
                break  # left unsettled: the group delivers them again
            sequence = delivery.event.sequence
            emit(format_event(delivery))
            try:
                self._handler(delivery)
            except Exception as error:  # noqa: BLE001 - any handler failure is a retry
                log.warning("handler failed on sequence %d: %s", sequence, error)
                # No delay: the bridge delivers it again at once.
                settle.nacks.add(ack_id=delivery.ack_id, action=pb.Nack.RETRY, reason=str(error))
                outcomes.append(f"nack sequence={sequence}")
            else:
                settle.ack_ids.append(delivery.ack_id)
                self._acked.add(sequence)
                outcomes.append(f"ack sequence={sequence}")
        if not outcomes:
            return 0
        requests.put(pb.SubscribeRequest(settle=settle))
        for line in outcomes:
            emit(line)
        return 1

    def _done(self) -> bool:
        return 0 < self._options.max_events <= len(self._acked)


class StreamClosed(Exception):
    """The bridge ended the stream with status OK, which it never should."""


def parse_sequences(text: str) -> frozenset[int]:
    try:
        return frozenset(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"want comma-separated sequence numbers, got {text!r}") from None


def non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description="Subscribes to a refir-bridge consumer group.")
    parser.add_argument("--target", default="127.0.0.1:50051", help="the bridge, host:port")
    parser.add_argument("--group", default="python-example", help="consumer group to join")
    parser.add_argument("--client_id", default="python-example", help="name of this subscriber")
    parser.add_argument("--start", choices=["earliest", "latest"], default="earliest",
                        help="where a new group starts")
    parser.add_argument("--max_events", type=non_negative, default=0,
                        help="exit once this many distinct events were acked; 0 runs forever")
    parser.add_argument("--fail_sequences", type=parse_sequences, default=frozenset(),
                        help="comma-separated sequences whose first delivery the handler fails")
    args = parser.parse_args(argv)
    return Options(args.target, args.group, args.client_id, args.start, args.max_events,
                   args.fail_sequences)


def main() -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="subscriber: %(levelname)s: %(message)s")
    options = parse_args()
    subscriber = Subscriber(options, make_handler(options.fail_sequences))

    def on_signal(signum: int, frame: FrameType | None) -> None:
        subscriber.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return subscriber.run()


if __name__ == "__main__":
    sys.exit(main())
