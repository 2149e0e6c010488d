// Prints Standard Webhooks samples signed by the npm packages
// `standardwebhooks` and `svix` (code the bridge's authors did not write), one
// JSON object per line, for tests/verify/standard_webhooks_interop_test.cc:
//   name, signer, header_prefix ("webhook" or "svix"), id, timestamp (the
//   header text), body, signature (the header value), secrets (what the
//   bridge's verifier is configured with), now (unix seconds to verify at),
//   expect ("accept" or "reject"), and reference: what standardwebhooks'
//   own Webhook.verify says about the same sample, so the expectation is
//   checked against the reference implementation too.
"use strict";

const crypto = require("node:crypto");
const standardwebhooks = require("standardwebhooks");
const svix = require("svix");

function newSecret() {
  return "whsec_" + crypto.randomBytes(32).toString("base64");
}

function signer(name, secret) {
  return name === "svix" ? new svix.Webhook(secret) : new standardwebhooks.Webhook(secret);
}

// standardwebhooks' verdict for the sample: accepted when any configured
// secret verifies it. Its timestamp check uses the real clock, so samples are
// signed relative to the real clock as well.
function referenceVerdict(sample) {
  const headers = {
    [`${sample.header_prefix}-id`]: sample.id,
    [`${sample.header_prefix}-timestamp`]: sample.timestamp,
    [`${sample.header_prefix}-signature`]: sample.signature,
  };
  for (const secret of sample.secrets) {
    try {
      // svix.Webhook reads svix-* and webhook-* headers; standardwebhooks
      // only webhook-*.
      signer(sample.header_prefix === "svix" ? "svix" : "standardwebhooks", secret).verify(
        sample.body,
        headers,
      );
      return "accept";
    } catch (error) {
      // svix bundles its own standardwebhooks copy: match by name, not class.
      if (error.name !== "WebhookVerificationError") throw error;
    }
  }
  return "reject";
}

const now = Math.floor(Date.now() / 1000);
const samples = [];

// Signs `body` at `now + offsetSeconds` with each of `signWith` (space-joined
// signatures when several), as the npm package `signerName` does.
function add(name, { signerName = "standardwebhooks", headerPrefix = "webhook",
                     body = '{"type":"refir.test","data":{"n":1}}', sentBody,
                     signWith, verifyWith, offsetSeconds = 0, expect }) {
  const id = "msg_" + crypto.randomBytes(12).toString("hex");
  const signedAt = new Date((now + offsetSeconds) * 1000);
  const signature = signWith.map((secret) => signer(signerName, secret).sign(id, signedAt, body))
                            .join(" ");
  const sample = {
    name,
    signer: signerName,
    header_prefix: headerPrefix,
    id,
    timestamp: String(now + offsetSeconds),
    body: sentBody === undefined ? body : sentBody,
    signature,
    secrets: verifyWith,
    now,
    expect,
  };
  sample.reference = referenceVerdict(sample);
  samples.push(sample);
}

const a = newSecret();
const b = newSecret();
const c = newSecret();

add("valid", { signWith: [a], verifyWith: [a], expect: "accept" });
add("valid_svix", { signerName: "svix", signWith: [a], verifyWith: [a], expect: "accept" });
add("valid_svix_headers", {
  signerName: "svix", headerPrefix: "svix", signWith: [a], verifyWith: [a], expect: "accept",
});
add("valid_unicode_body", {
  body: '{"name":"Zoë ✓ 東京","text":"line1\\nline2","emoji":"🚀"}\n',
  signWith: [a], verifyWith: [a], expect: "accept",
});
add("valid_empty_body", { body: "", signWith: [a], verifyWith: [a], expect: "accept" });
add("valid_bare_base64_secret", {
  signWith: [a], verifyWith: [a.substring("whsec_".length)], expect: "accept",
});
add("tampered_body", {
  body: '{"amount":100}', sentBody: '{"amount":900}', signWith: [a], verifyWith: [a],
  expect: "reject",
});
add("tampered_body_svix", {
  signerName: "svix", body: '{"amount":100}', sentBody: '{"amount":100} ', signWith: [a],
  verifyWith: [a], expect: "reject",
});
add("wrong_secret", { signWith: [a], verifyWith: [b], expect: "reject" });
add("stale_timestamp", { signWith: [a], verifyWith: [a], offsetSeconds: -600, expect: "reject" });
add("old_within_tolerance", {
  signWith: [a], verifyWith: [a], offsetSeconds: -240, expect: "accept",
});
add("future_timestamp", { signWith: [a], verifyWith: [a], offsetSeconds: 600, expect: "reject" });
add("future_within_tolerance", {
  signWith: [a], verifyWith: [a], offsetSeconds: 240, expect: "accept",
});
// Sender-side rotation: signed with the old and the new secret; the bridge
// knows only the new one.
add("multiple_signatures_one_matches", { signWith: [a, b], verifyWith: [b], expect: "accept" });
// Bridge-side rotation: the bridge accepts the old and the new secret.
add("multiple_secrets_second_matches", { signWith: [b], verifyWith: [a, b], expect: "accept" });
add("multiple_secrets_svix", {
  signerName: "svix", headerPrefix: "svix", signWith: [c, a], verifyWith: [b, a],
  expect: "accept",
});
add("multiple_secrets_none_match", { signWith: [a, b], verifyWith: [c], expect: "reject" });

for (const sample of samples) process.stdout.write(JSON.stringify(sample) + "\n");
