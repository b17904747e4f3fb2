// apps.js -- the sample apps in a real browser: Debian's Chromium
// (/usr/bin/chromium, never a downloaded one) driven by playwright-core.
//
//   node apps.js BASE OUTDIR ?CHATPATH? ?LOGPATH? ?TLSBASE?
//
// BASE is the server (http://127.0.0.1:PORT), which must serve the chat at
// CHATPATH (default /websocket/chat), the log viewer at LOGPATH (default
// /admin/websocket/log-view), /log.tcl?m=TEXT (logs TEXT) and /eval.tcl
// (evaluates its POST body), as tests/browser.test sets it up.  TLSBASE,
// when given, is the same server over HTTPS (any certificate is accepted):
// a third chat page joins from there, over wss:.  Two pages chat with
// each other, two more watch the logs; screenshots go
// to OUTDIR.  What was seen is printed as "key<TAB>value" lines for the
// Tcl test to check; any failure exits non-zero with the reason on stderr
// (and screenshots of every page as failure-N.png).

'use strict';

const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');

const [base, outDir, chatPath = '/websocket/chat', logPath = '/admin/websocket/log-view',
       tlsBase = ''] = process.argv.slice(2);
const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const timeout = 10000;          // for each wait
const pages = [];
const pageErrors = [];

if (!base || !outDir) {
    console.error('usage: node apps.js BASE OUTDIR ?CHATPATH? ?LOGPATH?');
    process.exit(2);
}

const t0 = Date.now();
function report(key, value) {
    if (process.env.NSWS_TIMING) { console.error((Date.now() - t0) + ' ms ' + key); }
    console.log(key + '\t' + String(value).replace(/\s*\n\s*/g, ' '));
}

// One HTTP request from outside the browser: {status, body}.
function request(method, url, body) {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method: method, timeout: timeout }, (res) => {
            let data = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => { data += chunk; });
            res.on('end', () => resolve({ status: res.statusCode, body: data }));
        });
        req.on('timeout', () => req.destroy(new Error(method + ' ' + url + ': timeout')));
        req.on('error', reject);
        req.end(body);
    });
}

async function newPage(context, name) {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(name + ': ' + error.message));
    page.on('console', (msg) => {
        if (msg.type() === 'error') { pageErrors.push(name + ': ' + msg.text()); }
    });
    pages.push(page);
    return page;
}

async function screenshot(page, name) {
    const file = path.join(outDir, name);
    await page.bringToFront();
    await page.screenshot({ path: file });
    report('screenshot', file);
}

// The text (without its time) of the last chat line that contains text,
// once there is one.
async function chatLine(page, text) {
    const handle = await page.waitForFunction((t) => {
        const lines = Array.from(document.querySelectorAll('#log li'))
            .filter((li) => li.textContent.includes(t));
        if (lines.length === 0) { return null; }
        return Array.from(lines[lines.length - 1].childNodes)
            .filter((node) => !(node.classList && node.classList.contains('time')))
            .map((node) => node.textContent).join(' ');
    }, text, { timeout: timeout, polling: 50 });
    return handle.jsonValue();
}

// The last log-view line that contains text, once there is one.
async function logLine(page, text) {
    const handle = await page.waitForFunction((t) => {
        const lines = Array.from(document.querySelectorAll('#output div'))
            .filter((div) => div.textContent.includes(t));
        return lines.length > 0 ? lines[lines.length - 1].textContent : null;
    }, text, { timeout: timeout, polling: 50 });
    return handle.jsonValue();
}

// Type and send a message, in front as a user would be (a click in a
// background tab waits for animation frames, which Chromium slows there).
async function say(page, text) {
    await page.bringToFront();
    await page.fill('#text', text);
    await page.click('#send');
}

async function setNick(page, nick) {
    await page.fill('#nick', nick);
    await page.dispatchEvent('#nick', 'change');
}

async function chat(context) {
    const url = base + chatPath;
    const a = await newPage(context, 'chat A');
    await a.goto(url);
    await a.waitForSelector('#state.open', { timeout: timeout });
    const b = await newPage(context, 'chat B');
    await b.goto(url);
    await b.waitForSelector('#state.open', { timeout: timeout });
    report('chat.a_sees_join', await chatLine(a, 'joined'));

    await setNick(a, 'alice');
    report('chat.b_sees_nick', await chatLine(b, 'is now called alice'));
    await setNick(b, 'bob');
    await chatLine(a, 'is now called bob');
    report('chat.a_state', await a.textContent('#state'));

    // Markup in a message is shown as text: no element, no script.
    const markup = 'hello <b>bob</b> & <img src=x onerror="window.pwned=1">';
    await say(a, markup);
    report('chat.b_sees_a', await chatLine(b, 'hello'));
    report('chat.b_elements',
           await b.evaluate(() => document.querySelectorAll('#log b, #log img').length));
    report('chat.b_pwned', await b.evaluate(() => window.pwned === 1));
    await say(b, 'hi alice');
    report('chat.a_sees_b', await chatLine(a, 'hi alice'));
    // The sender sees its own message once: its own line, no echo.
    report('chat.a_hello_lines', await a.evaluate(() =>
        Array.from(document.querySelectorAll('#log li'))
            .filter((li) => li.textContent.includes('hello <b>')).length));
    report('chat.users', await a.textContent('#users'));

    // Over the size limit (in bytes, not characters): not sent.
    const limit = parseInt(await a.getAttribute('body', 'data-maxmessage'), 10);
    await a.bringToFront();
    await a.fill('#text', '\u00e9'.repeat(Math.floor(limit / 2) + 1));
    report('chat.bytes',
           await a.textContent('#bytes') + ' ' + await a.getAttribute('#bytes', 'class'));
    await a.click('#send');
    report('chat.too_long', await chatLine(a, 'not sent'));
    await a.fill('#text', '');

    await screenshot(a, 'chat-alice.png');
    await screenshot(b, 'chat-bob.png');

    // The server drops every member: both pages show it and come back.
    await a.bringToFront();         // it is watched for a state that lasts 0.5 s
    const dropped = await request('POST', base + '/eval.tcl',
        'foreach c [ws::subscribers chat:' + chatPath + '] {ws::close -code 1012 $c}');
    if (dropped.status !== 200) { throw new Error('eval.tcl answered ' + dropped.status); }
    await a.waitForSelector('#state.closed', { timeout: timeout });
    report('chat.dropped_state', await a.textContent('#state'));
    await screenshot(a, 'chat-reconnecting.png');
    await a.waitForSelector('#state.open', { timeout: timeout });
    await b.waitForSelector('#state.open', { timeout: timeout });
    report('chat.reconnected_state', await a.textContent('#state'));
    await say(a, 'back again');
    report('chat.after_reconnect', await chatLine(b, 'back again'));
    return a;
}

// A page loaded over HTTPS talks over wss: to the same room.
async function chatOverTls(context, a) {
    const c = await newPage(context, 'chat over TLS');
    const sockets = [];
    c.on('websocket', (ws) => sockets.push(ws.url()));
    await c.goto(tlsBase + chatPath);
    await c.waitForSelector('#state.open', { timeout: timeout });
    report('tls.websocket', sockets.join(' '));
    await setNick(c, 'carol');
    await say(c, 'hello over TLS');
    report('tls.a_sees_c', await chatLine(a, 'hello over TLS'));
    await say(a, 'hello carol');
    report('tls.c_sees_a', await chatLine(c, 'hello carol'));
    await screenshot(c, 'chat-carol-tls.png');
}

async function logView(context) {
    const access = await newPage(context, 'log-view access');
    await access.goto(base + logPath);
    await access.waitForSelector('#state.open', { timeout: timeout });
    const marker = '/browser-test-request-' + process.pid;
    await request('GET', base + marker);
    report('logview.access_line', await logLine(access, marker));
    report('logview.access_state', await access.textContent('#state'));
    await screenshot(access, 'log-view-access.png');

    const server = await newPage(context, 'log-view error');
    await server.goto(base + logPath + '?log=error');
    await server.waitForSelector('#state.open', { timeout: timeout });
    await server.waitForSelector('#severity-Debug', { timeout: timeout });
    report('logview.debug_before', await server.isChecked('#severity-Debug'));
    // A switch goes to the server (POST URL/set) and changes its logging.
    await server.check('#severity-Debug');
    await server.waitForFunction(() => document.querySelector('#output').textContent
        .includes('switched severities: Debug 1'), null, { timeout: timeout, polling: 50 });
    report('logview.debug_server', (await request('GET', base + logPath + '/set')).body
        .includes('"Debug":true'));
    await server.uncheck('#severity-Debug');
    await server.waitForFunction(() => document.querySelector('#output').textContent
        .includes('switched severities: Debug 0'), null, { timeout: timeout, polling: 50 });
    report('logview.debug_after', (await request('GET', base + logPath + '/set')).body
        .includes('"Debug":false'));
    await request('GET', base + '/log.tcl?m=browser-test-marker');
    report('logview.error_line', await logLine(server, 'browser-test-marker'));
    await screenshot(server, 'log-view-error.png');
}

async function main() {
    fs.mkdirSync(outDir, { recursive: true });
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'nsws-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: flags,
        viewport: { width: 1000, height: 600 },
        ignoreHTTPSErrors: true,    // the TLS test's certificate is self-signed
    });
    try {
        report('browser', context.browser() ? context.browser().version() : 'chromium');
        const a = await chat(context);
        if (tlsBase !== '') {
            await chatOverTls(context, a);
        }
        await logView(context);
        report('page_errors', pageErrors.length === 0 ? 'none' : pageErrors.join(' | '));
    } catch (error) {
        for (let i = 0; i < pages.length; i++) {
            await pages[i].screenshot({ path: path.join(outDir, 'failure-' + i + '.png') })
                .catch(() => {});
        }
        throw error;
    } finally {
        await context.close();
        fs.rmSync(profile, { recursive: true, force: true });
    }
}

// A watchdog for the whole run, so that a hang is a failure, not a stall.
const watchdog = setTimeout(() => {
    console.error('apps.js: watchdog: no result after 50 s');
    process.exit(3);
}, 50000);

main().then(() => {
    clearTimeout(watchdog);
}, (error) => {
    console.error('apps.js: ' + (error && error.stack ? error.stack : error));
    process.exit(1);
});
