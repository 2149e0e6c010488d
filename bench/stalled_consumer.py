"""A stalled consumer for the footprint benchmark (bench/run).

Joins a consumer group from the earliest event with the largest window the
bridge allows (10,000 unacked deliveries, 600 s ack deadline), reads the first
batch, writes --ready_file, then never reads or acks again: the bridge holds
its window of deliveries and gRPC flow control stops the rest. Runs until
SIGTERM/SIGINT. Needs the generated Python code of proto/ on PYTHONPATH
(bench/run generates it like client_examples/python/run.sh).
"""

from __future__ import annotations

import argparse
import queue
import signal
import sys
import threading

import grpc
from google.protobuf.empty_pb2 import Empty

from refir.bridge.v1 import event_stream_pb2 as pb
from refir.bridge.v1 import event_stream_pb2_grpc as pb_grpc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="host:port of the gRPC API")
    parser.add_argument("--group", default="stalled", help="consumer group")
    parser.add_argument("--ready_file", required=True,
                        help="written once the first batch arrived")
    args = parser.parse_args()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    requests: queue.Queue[pb.SubscribeRequest | None] = queue.Queue()
    requests.put(pb.SubscribeRequest(init=pb.SubscribeInit(
        consumer_group=args.group, client_id="bench-stalled-consumer",
        start=pb.StartPosition(earliest=Empty()), max_outstanding=10000,
        ack_deadline_seconds=600)))

    def request_stream():
        while (request := requests.get()) is not None:
            yield request

    with grpc.insecure_channel(args.target) as channel:
        call = pb_grpc.EventStreamStub(channel).Subscribe(request_stream())
        try:
            for response in call:
                if response.WhichOneof("kind") == "batch":
                    events = len(response.batch.deliveries)
                    with open(args.ready_file, "w", encoding="utf-8") as ready:
                        ready.write(f"first_batch_events={events}\n")
                    break
        except grpc.RpcError as error:
            print(f"stalled_consumer: stream failed: {error.code()} {error.details()}",
                  file=sys.stderr)
            return 1
        stop.wait()
        call.cancel()
        requests.put(None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
