// Opens URL in a Chromium started with --remote-debugging-port=PORT, waits SECONDS of real time (the status
// page measures rates between refreshes), and writes a PNG screenshot: node --experimental-websocket
// scripts/screenshot.mjs PORT URL SECONDS OUTPUT.png
import { writeFileSync } from "node:fs";

const [port, url, seconds, output] = process.argv.slice(2);
const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
const page = targets.find(t => t.type === "page");
const socket = new WebSocket(page.webSocketDebuggerUrl);
await new Promise(resolve => socket.addEventListener("open", resolve));
let id = 0;
const pending = new Map();
socket.addEventListener("message", event => {
  const message = JSON.parse(event.data);
  if (message.id && pending.has(message.id)) { pending.get(message.id)(message); pending.delete(message.id); }
});
const call = (method, params = {}) => new Promise(resolve => {
  id += 1; pending.set(id, resolve); socket.send(JSON.stringify({ id, method, params }));
});
await call("Emulation.setDeviceMetricsOverride", { width: 1100, height: 760, deviceScaleFactor: 1, mobile: false });
await call("Page.navigate", { url });
await new Promise(resolve => setTimeout(resolve, Number(seconds) * 1000));
const shot = await call("Page.captureScreenshot", { format: "png" });
writeFileSync(output, Buffer.from(shot.result.data, "base64"));
socket.close();
