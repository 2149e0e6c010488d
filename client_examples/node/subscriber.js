'use strict';
// Example refir-bridge subscriber: joins a durable consumer group over gRPC
// (refir.bridge.v1.EventStream/Subscribe), prints one line per delivery,
// runs a handler and settles every batch with acks and RETRY nacks.
// The .proto files are loaded at run time; nothing is generated.
// Flags and output format: README.md.

const path = require('node:path');
const { parseArgs } = require('node:util');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_DIR = path.resolve(__dirname, '../../proto');
const BACKOFF_INITIAL_MS = 100;
const BACKOFF_MAX_MS = 5000;
const FINAL_SETTLE_TIMEOUT_MS = 5000;
const EXIT_GRACE_MS = 2000;

// ---------------------------------------------------------------------------
// Flags

function usageError(message) {
  process.stderr.write(`subscriber: ${message}\n`);
  process.exit(2);
}

function parseFlags(args) {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        target: { type: 'string', default: '127.0.0.1:50051' },
        group: { type: 'string', default: 'node-example' },
        client_id: { type: 'string', default: 'node-example' },
        start: { type: 'string', default: 'earliest' },
        max_events: { type: 'string', default: '0' },
        fail_sequences: { type: 'string', default: '' },
      },
    }));
  } catch (err) {
    usageError(err.message);
  }
  if (values.start !== 'earliest' && values.start !== 'latest') {
    usageError(`--start must be earliest or latest, got "${values.start}"`);
  }
  if (!/^\d+$/.test(values.max_events)) {
    usageError(`--max_events must be a non-negative integer, got "${values.max_events}"`);
  }
  const failSequences = new Set();
  for (const item of values.fail_sequences.split(',')) {
    const s = item.trim();
    if (s === '') continue;
    if (!/^\d+$/.test(s)) usageError(`--fail_sequences: "${s}" is not a sequence number`);
    // Sequences arrive as decimal strings (longs: String); compare in that form.
    failSequences.add(BigInt(s).toString());
  }
  return {
    target: values.target,
    group: values.group,
    clientId: values.client_id,
    start: values.start,
    maxEvents: Number(values.max_events),
    failSequences,
  };
}

const flags = parseFlags(process.argv.slice(2));

// ---------------------------------------------------------------------------
// Output: one line per record on stdout (writes to pipes and files are
// synchronous in Node, so every line is flushed at once); logs on stderr.

function emit(line) {
  process.stdout.write(`${line}\n`);
}

function log(message) {
  process.stderr.write(`subscriber: ${message}\n`);
}

function describeStatus(status) {
  const details = String(status.details ?? '').replace(/\s+/g, ' ').trim();
  return `${grpc.status[status.code] ?? status.code}: ${details}`;
}

// ---------------------------------------------------------------------------
// The handler: the application's work for one event. Throwing (or rejecting)
// means failure, and the delivery is nacked for retry. Handlers must be
// idempotent: after a crash or a lost ack the same event comes again.

async function handleEvent(event, deliveryAttempt) {
  if (deliveryAttempt === 1 && flags.failSequences.has(event.sequence)) {
    throw new Error(`simulated failure of sequence ${event.sequence}`);
  }
  // A real subscriber would do its work here, deduplicating on event.id.
}

// ---------------------------------------------------------------------------
// gRPC client

const packageDefinition = protoLoader.loadSync('refir/bridge/v1/event_stream.proto', {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
});
const { EventStream } = grpc.loadPackageDefinition(packageDefinition).refir.bridge.v1;

const client = new EventStream(flags.target, grpc.credentials.createInsecure(), {
  // Match the bridge's keepalive policy.
  'grpc.keepalive_time_ms': 30000,
  'grpc.keepalive_timeout_ms': 10000,
  'grpc.keepalive_permit_without_calls': 1,
});

const ackedSequences = new Set(); // distinct sequences acked, for --max_events
let backoffMs = BACKOFF_INITIAL_MS;
let reconnectTimer = null;
let current = null; // the open stream, see subscribe()
let stopping = false; // set once we end the stream ourselves: its end is not a reason to reconnect
let exitCode = null; // set by stop()

// Opens one Subscribe stream. Batches are handled one at a time, in arrival
// order, through a promise chain, so an async handler never interleaves.
function subscribe() {
  const call = client.Subscribe();
  // unsettled: Settles written and not yet answered; onSettled: set while finishing.
  const stream = { call, ended: false, unsettled: 0, onSettled: null };
  current = stream;
  let work = Promise.resolve();

  call.on('data', (response) => {
    switch (response.kind) {
      case 'confirm':
        backoffMs = BACKOFF_INITIAL_MS;
        emit(`ready group=${response.confirm.consumer_group} client_id=${response.confirm.client_id}`);
        break;
      case 'batch':
        work = work.then(() => handleBatch(stream, response.batch.deliveries));
        break;
      case 'settled': {
        stream.unsettled -= 1;
        const { expired_ack_ids: expired, unknown_ack_ids: unknown } = response.settled;
        if (expired.length > 0) log(`acks for expired deliveries: ${expired.join(' ')}`);
        if (unknown.length > 0) log(`unknown ack ids: ${unknown.join(' ')}`);
        if (stream.unsettled === 0 && stream.onSettled) stream.onSettled();
        break;
      }
      default: // heartbeat
        break;
    }
  });
  // grpc-js reports a non-OK status both as 'error' and 'status'; 'status' decides.
  call.on('error', () => {});
  call.on('status', (status) => {
    stream.ended = true;
    if (current === stream) current = null;
    if (stream.onSettled) stream.onSettled();
    if (stopping) {
      exitNow();
    } else {
      onStreamEnd(status);
    }
  });

  call.write({
    init: {
      consumer_group: flags.group,
      client_id: flags.clientId,
      start: flags.start === 'earliest' ? { earliest: {} } : { latest: {} },
      max_outstanding: 100,
      ack_deadline_seconds: 30,
    },
  });
}

async function handleBatch(stream, deliveries) {
  if (stream.ended || stopping) return; // the deliveries will come again
  const ackIds = [];
  const nacks = [];
  const settled = []; // lines to print once the Settle is sent
  for (const { ack_id: ackId, delivery_attempt: attempt, event } of deliveries) {
    const refir = event.refir ?? {};
    emit(
      `event sequence=${event.sequence} id=${event.id} type=${event.type} attempt=${attempt}` +
        ` lead.email=${refir.lead?.email ?? ''} referrer.email=${refir.referrer?.email ?? ''}` +
        ` message=${JSON.stringify(refir.message ?? '')}` +
        ` body=${JSON.stringify(Buffer.from(event.body ?? []).toString('utf8'))}`,
    );
    try {
      await handleEvent(event, attempt);
      ackIds.push(ackId);
      settled.push(`ack sequence=${event.sequence}`);
      ackedSequences.add(event.sequence);
    } catch (err) {
      log(`handler failed for sequence ${event.sequence}: ${err.message}`);
      nacks.push({ ack_id: ackId, action: 'RETRY', delay: { seconds: 0, nanos: 0 }, reason: err.message });
      settled.push(`nack sequence=${event.sequence}`);
    }
    if (reachedMaxEvents()) break; // the rest stay unsettled and go to another consumer
  }
  if (stream.ended || (ackIds.length === 0 && nacks.length === 0)) return;
  stream.unsettled += 1;
  stream.call.write({ settle: { ack_ids: ackIds, nacks } });
  settled.forEach(emit);
  if (reachedMaxEvents()) finishAfterSettles(stream);
}

function reachedMaxEvents() {
  return flags.maxEvents > 0 && ackedSequences.size >= flags.maxEvents;
}

// --max_events reached: wait until the bridge has answered every Settle sent
// (so the last acks are applied), then close the stream and exit 0. The
// bridge keeps a half-closed stream open, so the stream is cancelled.
function finishAfterSettles(stream) {
  stopping = true;
  stream.call.end();
  const timer = setTimeout(() => {
    log('no answer to the final Settle; exiting anyway');
    stop(0);
  }, FINAL_SETTLE_TIMEOUT_MS);
  stream.onSettled = () => {
    if (stream.unsettled > 0 && !stream.ended) return;
    stream.onSettled = null;
    clearTimeout(timer);
    stop(0);
  };
  stream.onSettled();
}

function onStreamEnd(status) {
  if (stopping) return;
  const { code } = status;
  if (code === grpc.status.UNAVAILABLE || code === grpc.status.CANCELLED) {
    // The bridge restarted, is shutting down, or cannot be reached.
    const delay = backoffMs;
    backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
    emit(`reconnecting in ${delay} ms: ${describeStatus(status)}`);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      subscribe();
    }, delay);
    return;
  }
  log(`stream ended: ${describeStatus(status)}`);
  stop(1);
}

// Cancels the stream (if any) and exits with `code` once it has ended.
function stop(code) {
  if (exitCode !== null) return;
  stopping = true;
  exitCode = code;
  if (reconnectTimer) clearTimeout(reconnectTimer);
  if (!current) {
    exitNow();
    return;
  }
  current.call.cancel(); // its 'status' event calls exitNow()
  setTimeout(exitNow, EXIT_GRACE_MS).unref();
}

function exitNow() {
  client.close();
  process.exit(exitCode ?? 0);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    stop(0);
  });
}

subscribe();
