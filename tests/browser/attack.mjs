// A hostile web page against the HTTP gateway, in headless Chromium (run by tests/browser.rs).
// argv: <gateway port> <secret key> <page port>. Serves the page from another origin (http://127.0.0.1:<own port>, and
// http://rebind.test:<own port>, which Chromium resolves to 127.0.0.1, as a DNS-rebinding attacker's name
// would), lets it try every way a page can write to or read from the gateway, and prints one JSON object:
// what the page itself could see of each attempt. The Rust test then checks the keyspace over RESP.
import http from "node:http";
import playwright from "playwright-core";

const { chromium } = playwright;

const [gatewayPort, secretKey, pagePort] = process.argv.slice(2);

// Runs in the page: each attempt names the key it tries to write; returns what the page observed.
const attackPage = `<!doctype html><meta charset="utf-8"><title>attack</title><body><script>
const gw = (host) => "http://" + host + ":${gatewayPort}";
const seen = {};
async function attempt(name, run) {
  try { seen[name] = await run(); } catch (e) { seen[name] = "error: " + e.name; }
}
function formPost(name, host, path, enctype, fields) {
  return new Promise((resolve) => {
    const frame = document.createElement("iframe");
    frame.name = "frame-" + name;
    document.body.appendChild(frame);
    const form = document.createElement("form");
    form.method = "POST"; form.action = gw(host) + path; form.enctype = enctype; form.target = frame.name;
    for (const [k, v] of Object.entries(fields)) {
      const input = document.createElement("input"); input.name = k; input.value = v; form.appendChild(input);
    }
    document.body.appendChild(form);
    frame.onload = () => resolve("submitted");
    setTimeout(() => resolve("timeout"), 3000);
    form.submit();
  });
}
async function run(host) {
  const cmd = (key) => JSON.stringify(["SET", key, "pwned"]);
  const value = JSON.stringify({ value: "pwned" });
  // Reads first, before the writes below could change what there is to read.
  await attempt("read-secret", () => fetch(gw(host) + "/" + "${secretKey}").then((r) => r.text()));
  await attempt("read-listing", () => fetch(gw(host) + "/?match=*").then((r) => r.text()));
  await attempt("fetch-text-plain", () => fetch(gw(host) + "/_redis", { method: "POST", mode: "no-cors",
    headers: { "Content-Type": "text/plain" }, body: cmd("xo-text-plain") }).then((r) => r.type + " " + r.status));
  await attempt("fetch-text-plain-cors", () => fetch(gw(host) + "/_redis", { method: "POST",
    headers: { "Content-Type": "text/plain" }, body: cmd("xo-text-cors") })
    .then(async (r) => r.status + " " + (await r.json()).error));
  await attempt("fetch-blob-no-type", () => fetch(gw(host) + "/_redis", { method: "POST", mode: "no-cors",
    body: new Blob([cmd("xo-blob")]) }).then((r) => r.type + " " + r.status));
  await attempt("fetch-json-cors", () => fetch(gw(host) + "/_redis", { method: "POST",
    headers: { "Content-Type": "application/json" }, body: cmd("xo-json") }).then((r) => r.status));
  await attempt("fetch-rest-json", () => fetch(gw(host) + "/xo-rest", { method: "POST",
    headers: { "Content-Type": "application/json" }, body: value }).then((r) => r.status));
  await attempt("fetch-incr-no-body", () => fetch(gw(host) + "/xo-incr/incr", { method: "POST", mode: "no-cors" })
    .then((r) => r.type + " " + r.status));
  await attempt("fetch-put", () => fetch(gw(host) + "/" + "${secretKey}", { method: "PUT",
    headers: { "Content-Type": "application/json" }, body: value }).then((r) => r.status));
  await attempt("fetch-delete", () => fetch(gw(host) + "/" + "${secretKey}", { method: "DELETE" }).then((r) => r.status));
  await attempt("beacon", () => navigator.sendBeacon(gw(host) + "/_redis", cmd("xo-beacon")));
  await attempt("form-urlencoded", () => formPost("u" + host, host, "/xo-form",
    "application/x-www-form-urlencoded", { value: "pwned" }));
  await attempt("form-text-plain", () => formPost("t" + host, host, "/_redis", "text/plain",
    { '["SET","xo-form-text","pwned","x': '"]' }));
  await attempt("form-multipart", () => formPost("m" + host, host, "/_redis", "multipart/form-data",
    { cmd: cmd("xo-form-multipart") }));
}
window.results = (async () => {
  const out = {};
  for (const host of ["127.0.0.1", "localhost", "rebind.test"]) { await run(host); out[host] = { ...seen }; }
  return out;
})();
</script>`;

const server = http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/html" });
  res.end(attackPage);
});
await new Promise((resolve) => server.listen(Number(pagePort), "127.0.0.1", resolve));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    // The attacker's own name for 127.0.0.1: what a DNS-rebinding attack makes the victim's browser resolve.
    "--host-resolver-rules=MAP rebind.test 127.0.0.1",
  ],
});
const results = {};
try {
  const page = await browser.newPage();
  for (const origin of [`http://127.0.0.1:${pagePort}`, `http://rebind.test:${pagePort}`]) {
    await page.goto(origin + "/");
    results[origin] = await page.evaluate(() => window.results);
  }
} finally {
  await browser.close();
  server.close();
}
console.log(JSON.stringify(results));
