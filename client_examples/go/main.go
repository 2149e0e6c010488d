// Command subscriber is a small refir-bridge client: it joins a consumer group
// with EventStream.Subscribe, prints one line per delivery, acks it (or nacks
// the first delivery of the sequences given in --fail_sequences) and
// reconnects with backoff when the bridge restarts. The output lines follow
// the contract shared by every client example; see README.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	pb "github.com/refir/refir-bridge/gen/go/refir/bridge/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

const (
	initialBackoff = 100 * time.Millisecond
	maxBackoff     = 5 * time.Second
	// How long to wait, after the last ack of --max_events, for the bridge
	// to confirm the final Settle.
	settleWait = 5 * time.Second
)

type options struct {
	target        string
	group         string
	clientID      string
	start         *pb.StartPosition
	maxEvents     int
	failSequences map[uint64]bool
}

func parseFlags() (*options, error) {
	opts := &options{}
	flag.StringVar(&opts.target, "target", "127.0.0.1:50051", "gRPC address of the bridge (host:port)")
	flag.StringVar(&opts.group, "group", "go-example", "consumer group to join")
	flag.StringVar(&opts.clientID, "client_id", "go-example", "client id sent in SubscribeInit")
	start := flag.String("start", "earliest", "where a new group starts: earliest or latest")
	flag.IntVar(&opts.maxEvents, "max_events", 0, "exit 0 once this many distinct sequences were acked; 0 runs forever")
	fail := flag.String("fail_sequences", "", "comma-separated sequences whose first delivery is nacked (RETRY)")
	flag.Parse()
	if flag.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", flag.Args())
	}

	switch *start {
	case "earliest":
		opts.start = &pb.StartPosition{Position: &pb.StartPosition_Earliest{Earliest: &emptypb.Empty{}}}
	case "latest":
		opts.start = &pb.StartPosition{Position: &pb.StartPosition_Latest{Latest: &emptypb.Empty{}}}
	default:
		return nil, fmt.Errorf("invalid --start=%s: want earliest or latest", *start)
	}
	if opts.maxEvents < 0 {
		return nil, fmt.Errorf("invalid --max_events=%d: want 0 or more", opts.maxEvents)
	}
	opts.failSequences = make(map[uint64]bool)
	for _, field := range strings.Split(*fail, ",") {
		if field = strings.TrimSpace(field); field == "" {
			continue
		}
		sequence, err := strconv.ParseUint(field, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid --fail_sequences entry %q: %v", field, err)
		}
		opts.failSequences[sequence] = true
	}
	return opts, nil
}

// quote returns s as a JSON string literal, without escaping <, > and &.
func quote(s string) string {
	var buf bytes.Buffer
	encoder := json.NewEncoder(&buf)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(s); err != nil {
		return strconv.Quote(s) // Not reached: a string always encodes.
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// oneLine renders an error's status for the "reconnecting" line.
func oneLine(err error) string {
	st := status.Convert(err)
	return strings.Join(strings.Fields(fmt.Sprintf("%s: %s", st.Code(), st.Message())), " ")
}

type subscriber struct {
	opts   *options
	client pb.EventStreamClient
	acked  map[uint64]bool // distinct sequences acked so far
}

// errDone ends a stream once --max_events sequences were acked.
var errDone = errors.New("max_events reached")

// run subscribes until stopped, reconnecting on UNAVAILABLE and on CANCELLED
// that this process did not cause. It returns the exit code.
func (s *subscriber) run(ctx context.Context) int {
	delay := initialBackoff
	for {
		confirmed, err := s.subscribe(ctx)
		if errors.Is(err, errDone) || ctx.Err() != nil {
			return 0
		}
		if code := status.Code(err); code != codes.Unavailable && code != codes.Canceled {
			fmt.Fprintf(os.Stderr, "subscribe failed: %v\n", err)
			return 1
		}
		if confirmed {
			delay = initialBackoff
		}
		fmt.Printf("reconnecting in %d ms: %s\n", delay.Milliseconds(), oneLine(err))
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(delay):
		}
		if delay *= 2; delay > maxBackoff {
			delay = maxBackoff
		}
	}
}

type received struct {
	response *pb.SubscribeResponse
	err      error
}

// subscribe runs one Subscribe stream until it ends, and reports whether the
// bridge confirmed it.
func (s *subscriber) subscribe(ctx context.Context) (confirmed bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := s.client.Subscribe(ctx)
	if err != nil {
		return false, err
	}

	// The reader: forwards every response, then the error that ended the
	// stream, to the loop below.
	responses := make(chan received)
	go func() {
		for {
			response, err := stream.Recv()
			select {
			case responses <- received{response, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	init := &pb.SubscribeInit{
		ConsumerGroup:      s.opts.group,
		ClientId:           s.opts.clientID,
		Start:              s.opts.start,
		MaxOutstanding:     100,
		AckDeadlineSeconds: 30,
	}
	// io.EOF from Send means the stream has ended: the reader reports why.
	if err := stream.Send(&pb.SubscribeRequest{Kind: &pb.SubscribeRequest_Init{Init: init}}); err != nil && err != io.EOF {
		return false, err
	}

	unanswered := 0 // Settle messages sent and not yet answered by a SettleResult.
	var finishing <-chan time.Time
	for {
		var r received
		select {
		case r = <-responses:
		case <-finishing:
			fmt.Fprintf(os.Stderr, "no answer to the final settle after %v; exiting anyway\n", settleWait)
			return confirmed, errDone
		}
		if r.err != nil && finishing != nil {
			return confirmed, errDone // Our acks were sent; the stream no longer matters.
		}
		if r.err == io.EOF {
			return confirmed, errors.New("the bridge closed the stream without an error")
		}
		if r.err != nil {
			return confirmed, r.err
		}
		switch kind := r.response.Kind.(type) {
		case *pb.SubscribeResponse_Confirm:
			confirmed = true
			fmt.Printf("ready group=%s client_id=%s\n", kind.Confirm.ConsumerGroup, kind.Confirm.ClientId)
		case *pb.SubscribeResponse_Batch:
			if finishing != nil {
				continue // Not handled: redelivered to the group once we are gone.
			}
			sent, done, err := s.handle(stream, kind.Batch)
			if err != nil {
				return confirmed, err
			}
			if sent {
				unanswered++
			}
			if done {
				// Half-close, then wait for the bridge to answer the last
				// Settle so that the acks are applied before we exit.
				if err := stream.CloseSend(); err != nil {
					return confirmed, errDone
				}
				if unanswered == 0 {
					return confirmed, errDone
				}
				finishing = time.After(settleWait)
			}
		case *pb.SubscribeResponse_Settled:
			unanswered--
			if n := len(kind.Settled.ExpiredAckIds) + len(kind.Settled.UnknownAckIds); n > 0 {
				fmt.Fprintf(os.Stderr, "settle: %d acks/nacks had no effect (expired %q, unknown %q)\n",
					n, kind.Settled.ExpiredAckIds, kind.Settled.UnknownAckIds)
			}
			if finishing != nil && unanswered <= 0 {
				return confirmed, errDone
			}
		case *pb.SubscribeResponse_Heartbeat:
			// Nothing to do: it only shows that the bridge is there.
		}
	}
}

// handle prints and settles one batch in one Settle message. It reports
// whether a Settle was sent and whether --max_events is reached; in that case
// the deliveries after the last needed ack are left unsettled.
func (s *subscriber) handle(stream pb.EventStream_SubscribeClient, batch *pb.DeliveryBatch) (sent, done bool, err error) {
	settle := &pb.Settle{}
	var lines []string
	var newlyAcked []uint64
	for _, delivery := range batch.Deliveries {
		if s.opts.maxEvents > 0 && len(s.acked)+len(newlyAcked) >= s.opts.maxEvents {
			break
		}
		event := delivery.Event
		refir := event.GetRefir()
		sequence := event.GetSequence()
		fmt.Printf("event sequence=%d id=%s type=%s attempt=%d lead.email=%s referrer.email=%s message=%s body=%s\n",
			sequence, event.GetId(), event.GetType(), delivery.DeliveryAttempt,
			refir.GetLead().GetEmail(), refir.GetReferrer().GetEmail(), quote(refir.GetMessage()),
			quote(string(event.GetBody())))

		// The handler: fails the first delivery of the --fail_sequences.
		if delivery.DeliveryAttempt == 1 && s.opts.failSequences[sequence] {
			settle.Nacks = append(settle.Nacks, &pb.Nack{
				AckId:  delivery.AckId,
				Action: pb.Nack_RETRY,
				Reason: "handler failed (--fail_sequences)",
			})
			lines = append(lines, fmt.Sprintf("nack sequence=%d\n", sequence))
			continue
		}
		settle.AckIds = append(settle.AckIds, delivery.AckId)
		lines = append(lines, fmt.Sprintf("ack sequence=%d\n", sequence))
		if !s.acked[sequence] {
			newlyAcked = append(newlyAcked, sequence)
		}
	}
	if len(lines) == 0 {
		return false, false, nil
	}
	request := &pb.SubscribeRequest{Kind: &pb.SubscribeRequest_Settle{Settle: settle}}
	if err := stream.Send(request); err != nil {
		if err == io.EOF {
			return false, false, nil // The stream ended: the reader reports why.
		}
		return false, false, err
	}
	for _, line := range lines {
		fmt.Print(line)
	}
	for _, sequence := range newlyAcked {
		s.acked[sequence] = true
	}
	return true, s.opts.maxEvents > 0 && len(s.acked) >= s.opts.maxEvents, nil
}

func main() {
	opts, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}

	// SIGINT and SIGTERM cancel ctx: the stream is cancelled and run returns 0.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	conn, err := grpc.Dial(opts.target,
		grpc.WithInsecure(),
		// Match the bridge's keepalive: ping idle connections every 30 s.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                30 * time.Second,
			Timeout:             10 * time.Second,
			PermitWithoutStream: true,
		}),
		// Reconnect the channel on the same schedule as the resubscribe loop
		// (the default backoff grows to two minutes).
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  initialBackoff,
				Multiplier: 2,
				Jitter:     0.2,
				MaxDelay:   maxBackoff,
			},
			MinConnectTimeout: 5 * time.Second,
		}),
	)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dial %s: %v\n", opts.target, err)
		os.Exit(1)
	}
	s := &subscriber{opts: opts, client: pb.NewEventStreamClient(conn), acked: make(map[uint64]bool)}
	code := s.run(ctx)
	conn.Close()
	os.Exit(code)
}
