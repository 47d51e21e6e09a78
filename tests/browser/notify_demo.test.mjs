// Headless-browser test of the demo page (examples/notify): the Ratchet tutorial's browser
// client, served by Capstan on GET /, talking to Capstan's notify component.
//
// Makes a throwaway copy of the demo (keys, SQLite database, tokens), starts the server on a
// random port, drives two Chromium pages (Alice and Bob) through the UI and checks what they
// show. Plain node, no test framework:  node notify_demo.test.mjs   (or ./run.sh)
//
// Environment: CAPSTAN_BIN (default build/release/capstan), CHROMIUM_BIN (default
// /usr/bin/chromium), SCREENSHOT_DIR (default /tmp; capstan-demo-*.png), KEEP_TMP=1 keeps
// the temp dir.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEMO = path.join(ROOT, 'examples', 'notify');
const CAPSTAN_BIN = process.env.CAPSTAN_BIN || path.join(ROOT, 'build', 'release', 'capstan');
const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || '/tmp';
const PASSPHRASE = 'capstan-demo';
const TOTAL_TIMEOUT_MS = 55_000;   // the whole run, setup included
const STEP_TIMEOUT_MS = 10_000;    // any one wait in the browser
const COMMAND_TIMEOUT_MS = 15_000; // keys generate, setup.py, token

const results = [];
let server = null;
let serverLog = '';
let browser = null;
let tmp = null;

function log(line) { process.stdout.write(`${line}\n`); }

async function check(name, fn) {
    const started = Date.now();
    try {
        await fn();
        results.push({ name, ok: true });
        log(`  ok    ${name} (${Date.now() - started} ms)`);
    } catch (error) {
        results.push({ name, ok: false });
        log(`  FAIL  ${name}: ${String(error && error.message || error).split('\n').slice(0, 8).join('\n        ')}`);
    }
}

function run(command, args, what) {
    const r = spawnSync(command, args, { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS });
    if (r.error) throw new Error(`${what}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`${what}: exit ${r.status ?? r.signal}\n${r.stderr}${r.stdout}`);
    return r.stdout;
}

// Starts the server on a random port; resolves with the port from its "listening" log line.
function startServer(config) {
    return new Promise((resolve, reject) => {
        const child = spawn(CAPSTAN_BIN, ['start', '-c', config, '--listen', '127.0.0.1:0', '--name', `browser-test-${process.pid}`],
                            { stdio: ['ignore', 'pipe', 'pipe'] });
        server = child;
        const timer = setTimeout(() => reject(new Error(`no "listening" line within 10 s:\n${serverLog}`)), 10_000);
        const onData = (chunk) => {
            serverLog += chunk;
            const match = /listening address=127\.0\.0\.1:(\d+)/.exec(serverLog);
            if (match) {
                clearTimeout(timer);
                resolve(Number(match[1]));
            }
        };
        child.stdout.setEncoding('utf8').on('data', onData);
        child.stderr.setEncoding('utf8').on('data', onData);
        child.on('error', (error) => { clearTimeout(timer); reject(error); });
        child.on('exit', (code, signal) => {
            clearTimeout(timer);
            reject(new Error(`server exited (${code ?? signal}) before listening:\n${serverLog}`));
        });
    });
}

async function stopServer() {
    const child = server;
    server = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM'); // by its PID
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
}

async function openPage(context, url, errors) {
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(`${url}: ${error.message}`));
    await page.goto(url);
    return page;
}

// The page being driven goes to the front: Chromium throttles background tabs' animation
// frames, which Playwright's actionability checks wait on (seconds per click otherwise).
async function front(page) {
    await page.bringToFront();
    return page;
}

async function waitConnected(page) {
    await page.locator('[data-testid="status"][data-state="connected"]').waitFor();
}

async function text(page, testId) {
    return (await page.getByTestId(testId).textContent()).trim();
}

async function userId(page, email) {
    const row = page.getByTestId('user-row').filter({ hasText: email });
    await row.waitFor();
    return row.getAttribute('data-user-id');
}

async function main() {
    log(`browser: capstan ${CAPSTAN_BIN}, chromium ${CHROMIUM_BIN}`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'capstan-browser-'));
    for (const item of ['capstan.toml', 'setup.py', 'public'])
        fs.cpSync(path.join(DEMO, item), path.join(tmp, item), { recursive: true });
    const config = path.join(tmp, 'capstan.toml');
    run(CAPSTAN_BIN, ['keys', 'generate', '--dir', path.join(tmp, 'config', 'jwt'), '--passphrase', PASSPHRASE], 'keys generate');
    run('/usr/bin/python3', [path.join(tmp, 'setup.py'), path.join(tmp, 'var', 'demo.sqlite')], 'setup.py');
    const token = (username) =>
        run(CAPSTAN_BIN, ['token', '-c', config, '--claim', `username=${username}`], `token for ${username}`).trim();
    const alice = token('alice@example.com');
    const bob = token('bob@example.com');

    const port = await startServer(config);
    const base = `http://127.0.0.1:${port}/`;
    log(`browser: server on ${base}, temp dir ${tmp}`);

    browser = await chromium.launch({ executablePath: CHROMIUM_BIN, args: ['--no-sandbox'], timeout: 20_000 });
    const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    const pageErrors = [];
    let alicePage = null;
    let bobPage = null;
    let bobId = null;

    await check('GET / serves the page', async () => {
        const response = await fetch(base, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
        assert.equal(response.status, 200);
        assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
        assert.match(await response.text(), /<script type="module" src="app.js">/);
    });

    await check('Alice and Bob connect, see who they are and the users', async () => {
        alicePage = await openPage(context, `${base}?token=${alice}`, pageErrors);
        bobPage = await openPage(context, `${base}?token=${bob}`, pageErrors);
        await Promise.all([waitConnected(alicePage), waitConnected(bobPage)]);
        assert.equal(await text(alicePage, 'whoami'), 'alice@example.com');
        assert.equal(await text(bobPage, 'whoami'), 'bob@example.com');
        bobId = await userId(alicePage, 'bob@example.com');
        assert.ok(bobId, 'Bob has an id in the users list');
        await userId(bobPage, 'alice@example.com');
        assert.equal(await alicePage.getByTestId('user-row').count(), 2);
    });

    await check('Alice notifies Bob through the UI; only Bob receives it', async () => {
        assert.ok(alicePage && bobPage && bobId, 'pages are open');
        const message = `hello Bob ${Date.now()}`;
        await front(alicePage);
        await alicePage.getByTestId(`notify-input-${bobId}`).fill(message);
        await alicePage.getByTestId(`notify-button-${bobId}`).click();
        const received = bobPage.getByTestId('notification').filter({ hasText: message });
        await received.waitFor();
        assert.match(await received.textContent(), new RegExp(`^Alice: ${message}`));
        assert.equal(await received.getAttribute('data-kind'), 'notify');
        assert.equal(await bobPage.getByTestId('error').isVisible(), false, 'Bob sees no error');
        assert.equal(await bobPage.getByTestId('fatal-error').isVisible(), false, 'Bob sees no fatal error');
        assert.equal(await alicePage.getByTestId('error').isVisible(), false, 'Alice sees no error');
        assert.equal(await alicePage.getByTestId('notification').filter({ hasText: message }).count(), 0,
                     'a notification to Bob is not delivered to Alice');
        await alicePage.screenshot({ path: path.join(SCREENSHOT_DIR, 'capstan-demo-alice.png'), fullPage: true });
        await bobPage.screenshot({ path: path.join(SCREENSHOT_DIR, 'capstan-demo-bob.png'), fullPage: true });
    });

    await check('Bob messages everyone; both receive it', async () => {
        assert.ok(alicePage && bobPage, 'pages are open');
        const message = `hi all ${Date.now()}`;
        await front(bobPage);
        await bobPage.getByTestId('broadcast-input').fill(message);
        await bobPage.getByTestId('broadcast-button').click();
        for (const page of [alicePage, bobPage]) {
            const received = page.getByTestId('notification').filter({ hasText: message });
            await received.waitFor();
            assert.match(await received.textContent(), new RegExp(`^Bob: ${message}`));
            assert.equal(await received.getAttribute('data-kind'), 'message');
        }
    });

    await check('Show product 1: name, price and relative date', async () => {
        assert.ok(alicePage, 'page is open');
        await front(alicePage);
        await alicePage.getByTestId('product-id').fill('1');
        assert.equal(await text(alicePage, 'show-product'), 'Show product 1');
        await alicePage.getByTestId('show-product').click();
        await alicePage.getByTestId('product-card').waitFor();
        assert.equal(await text(alicePage, 'product-name'), 'Capstan mug');
        assert.equal(await text(alicePage, 'product-price'), '12.50');
        const created = await text(alicePage, 'product-created');
        assert.match(created, /^created \d+ minutes? ago$/);
        // inserted 5 minutes before setup.py ran; 6 only if a minute went by since
        assert.match(created, /^created [56] minutes ago$/);
        assert.equal(await alicePage.getByTestId('error').isVisible(), false, 'no error');
    });

    await check('An unknown product is a visible, non-fatal error', async () => {
        assert.ok(alicePage, 'page is open');
        await front(alicePage);
        await alicePage.getByTestId('product-id').fill('999');
        await alicePage.getByTestId('show-product').click();
        const error = alicePage.getByTestId('error');
        await error.waitFor();
        assert.equal((await error.textContent()).trim(), 'Error: Product not found');
        await alicePage.screenshot({ path: path.join(SCREENSHOT_DIR, 'capstan-demo-alice-error.png'), fullPage: true });
        assert.equal(await alicePage.getByTestId('status').getAttribute('data-state'), 'connected');
        assert.equal(await alicePage.getByTestId('fatal-error').isVisible(), false);
        assert.equal(await alicePage.getByTestId('product-card').isVisible(), false, 'no stale product card');
        // the next good request clears it
        await alicePage.getByTestId('product-id').fill('1');
        await alicePage.getByTestId('show-product').click();
        await error.waitFor({ state: 'hidden' });
        await alicePage.getByTestId('product-card').filter({ hasText: 'Capstan mug' }).waitFor();
        await alicePage.screenshot({ path: path.join(SCREENSHOT_DIR, 'capstan-demo-alice-product.png'), fullPage: true });
    });

    await check('An invalid token shows the fatal error "Invalid request"', async () => {
        const page = await openPage(context, `${base}?token=invalid_jwt_token`, pageErrors);
        const fatal = page.getByTestId('fatal-error');
        await fatal.waitFor();
        assert.match(await fatal.textContent(), /Invalid request/);
        await page.locator('[data-testid="status"][data-state="closed"]').waitFor();
        assert.equal(await text(page, 'whoami'), 'unreadable token');
        await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'capstan-demo-invalid-token.png'), fullPage: true });
        await page.close();
    });

    await check('No JavaScript errors on the pages', async () => {
        assert.deepEqual(pageErrors, []);
    });
}

const watchdog = setTimeout(() => {
    log(`browser: the whole test took more than ${TOTAL_TIMEOUT_MS / 1000} s; giving up`);
    if (server) server.kill('SIGKILL');
    log('browser: 0 passed, 1 failed');
    process.exit(1);
}, TOTAL_TIMEOUT_MS);

try {
    await main();
} catch (error) {
    results.push({ name: 'setup', ok: false });
    log(`  FAIL  setup: ${error && error.stack || error}`);
} finally {
    if (browser) await browser.close().catch(() => {});
    await stopServer();
    if (tmp && !process.env.KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
    clearTimeout(watchdog);
}

const failed = results.filter((r) => !r.ok).length;
if (failed && serverLog) log(`browser: server log:\n${serverLog.trimEnd().split('\n').slice(-30).join('\n')}`);
log(`browser: ${results.length - failed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
