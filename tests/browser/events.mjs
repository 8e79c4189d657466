// Server-Sent Events from the HTTP gateway in headless Chromium (run by tests/browser.rs).
// argv: <gateway port> <allowed page port> <other page port>. Serves the same page on two origins,
// http://127.0.0.1:<allowed page port> (in http-allow-origins) and http://127.0.0.1:<other page port> (not).
// The page opens an EventSource on /_subscribe/chat and one on /_psubscribe/ch*, and records what it saw.
// First the other origin's page, until both its streams have failed; then the allowed one, until each
// stream got one message (the Rust test publishes it over RESP once it sees the subscriptions). Prints one
// JSON object: what each origin's page saw.
import http from "node:http";
import playwright from "playwright-core";

const { chromium } = playwright;

const [gatewayPort, allowedPort, otherPort] = process.argv.slice(2);

const eventsPage = `<!doctype html><meta charset="utf-8"><title>events</title><script>
const gw = "http://127.0.0.1:${gatewayPort}";
window.seen = {};
function follow(name, path) {
  const entry = { opened: false, messages: [], errors: 0, state: null };
  window.seen[name] = entry;
  const source = new EventSource(gw + path);
  source.onopen = () => { entry.opened = true; };
  source.onmessage = (event) => { entry.messages.push(JSON.parse(event.data)); source.close(); entry.state = "closed-by-page"; };
  source.onerror = () => { entry.errors += 1; entry.state = source.readyState === EventSource.CLOSED ? "failed" : "retrying"; };
}
follow("channel", "/_subscribe/chat");
follow("pattern", "/_psubscribe/ch*");
</script>`;

const servers = [allowedPort, otherPort].map((port) => {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end(eventsPage);
  });
  return new Promise((resolve) => server.listen(Number(port), "127.0.0.1", () => resolve(server)));
});
const listening = await Promise.all(servers);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const results = {};
const both = (check) => `["channel", "pattern"].every((name) => window.seen[name] && (${check})(window.seen[name]))`;
try {
  const other = await browser.newPage();
  await other.goto(`http://127.0.0.1:${otherPort}/`);
  await other.waitForFunction(both("(e) => e.state === 'failed'"), null, { timeout: 20000 });
  results.other = await other.evaluate(() => window.seen);
  await other.close();
  const allowed = await browser.newPage();
  await allowed.goto(`http://127.0.0.1:${allowedPort}/`);
  await allowed.waitForFunction(both("(e) => e.messages.length > 0"), null, { timeout: 30000 });
  results.allowed = await allowed.evaluate(() => window.seen);
} finally {
  await browser.close();
  for (const server of listening) server.close();
}
console.log(JSON.stringify(results));
