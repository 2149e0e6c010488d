// Opens the bridge's inspector page (/ui, with ?token= when the bridge has
// one) in headless chromium and checks it the way an operator would use it:
// the page loads without errors (a CSP violation or a 401 would be one), shows the consumer group's lag, shows an event
// POSTed after it loaded (as text: markup in the body stays text), and
// updates the group's lag without a reload. Every wait is for a condition,
// with a deadline. Prints one line per check; exits 1 on the first failure.
//
//   run.sh inspector_page_test.js --url=http://127.0.0.1:PORT/ui[?token=T] \
//       --webhook=http://127.0.0.1:PORT/webhook --group=NAME --lag=N \
//       [--screenshot=out.png]
'use strict';

const { parseArgs } = require('node:util');
const puppeteer = require('puppeteer-core');

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    webhook: { type: 'string' },
    group: { type: 'string' },
    lag: { type: 'string' },
    screenshot: { type: 'string' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
  },
});
const WAIT_MS = 10000;

function check(condition, what) {
  if (!condition) throw new Error('check failed: ' + what);
  console.log('ok: ' + what);
}

// Resolves once the text of `selector` is `expected`; fails after WAIT_MS
// saying what it saw last.
async function waitForText(page, selector, expected, what) {
  try {
    await page.waitForFunction(
      (sel, want) => {
        const node = document.querySelector(sel);
        return node !== null && node.textContent === want;
      },
      { timeout: WAIT_MS, polling: 100 }, selector, expected);
  } catch (error) {
    const seen = await page.$eval(selector, (node) => node.textContent).catch(() => '(absent)');
    throw new Error(what + ': ' + selector + ' is "' + seen + '", expected "' + expected + '"');
  }
  check(true, what);
}

async function main() {
  for (const name of ['url', 'webhook', 'group', 'lag']) {
    if (!args[name]) throw new Error('--' + name + ' is required');
  }
  const browser = await puppeteer.launch({
    executablePath: args.chromium,
    headless: true,
    // CI runs as root, where chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const problems = [];
    page.on('pageerror', (error) => problems.push('page error: ' + error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push('console error: ' + message.text());
    });
    page.on('requestfailed', (request) => problems.push('request failed: ' + request.url()));

    const response = await page.goto(args.url, { waitUntil: 'load', timeout: WAIT_MS });
    check(response.status() === 200, 'GET ' + new URL(args.url).pathname + ' answered 200');
    check((await page.title()) === 'refir-bridge inspector', 'the page has its title');
    try {
      await page.waitForSelector('#status.live', { timeout: WAIT_MS });
    } catch (error) {
      const status = await page.$eval('#status', (node) => node.textContent);
      throw new Error('the page never got its API\'s answers: "' + status + '"');
    }
    check(true, 'the page polls its API ("live")');

    const row = 'tr[data-group="' + args.group + '"]';
    await waitForText(page, row + ' td.lag', args.lag, 'the group\'s lag is shown');

    // An event POSTed after the page loaded, with markup in it.
    const marker = 'inspector-browser-' + Date.now();
    const body = JSON.stringify({
      event: 'referral_created',
      message: '<b class="injected">' + marker + '</b>',
      lead: { id: 'u_1042', email: 'ada@example.com', name: 'Ada Lovelace' },
      referrer: { id: 'u_7', email: 'grace@example.com', name: 'Grace Hopper' },
      campaign: { id: 'spring', name: 'Spring referrals' },
    });
    const posted = await fetch(args.webhook, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: body,
    });
    check(posted.status === 200, 'the webhook was accepted');
    const { sequence } = await posted.json();
    const card = 'article[data-sequence="' + sequence + '"]';
    await waitForText(page, card + ' pre.body', body, 'the new event\'s body appears on the page');
    await waitForText(page, card + ' .type', 'refir.referral.created', 'with its type');
    const fields = await page.$eval(card + ' dl.fields', (node) => node.textContent);
    check(fields.includes('ada@example.com') && fields.includes('Spring referrals'),
          'with its typed fields');
    check((await page.$$('.injected')).length === 0, 'markup in the body stays text');
    await waitForText(page, row + ' td.lag', String(Number(args.lag) + 1),
                      'the group\'s lag grows without a reload');

    if (args.screenshot) {
      await page.screenshot({ path: args.screenshot });
      console.log('screenshot: ' + args.screenshot);
    }
    check(problems.length === 0, 'no errors in the page' +
          (problems.length ? ' (' + problems.join('; ') + ')' : ''));
  } finally {
    await browser.close();
  }
}

main().then(() => console.log('inspector page: all checks passed'), (error) => {
  console.log('FAILED: ' + error.message);
  process.exit(1);
});
