/// The admin listener's status page: one HTML document with no external assets. Its script asks
/// `/metrics` and `/sessions` every two seconds and shows open sessions, throughput over the last minutes
/// (a small SVG chart kept in the page), top users and destinations, and refusals and errors by kind. The
/// page itself holds no data, so it is served without the token; with one, open it as `/#token=TOKEN` and
/// the script sends it on its requests.
enum StatusPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>Calzino</title>
    <style>
    body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
    h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.05em; margin: 1.2em 0 .4em; }
    .tiles { display: flex; gap: 1em; flex-wrap: wrap; }
    .tile { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .6em 1em; min-width: 9em; }
    .tile b { display: block; font-size: 1.6em; }
    table { border-collapse: collapse; background: #fff; } td, th { border: 1px solid #ddd; padding: .25em .6em; text-align: left; }
    th { background: #f0f0f0; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
    .cols { display: flex; gap: 2em; flex-wrap: wrap; } #status { color: #888; }
    svg { background: #fff; border: 1px solid #ddd; }
    </style>
    </head>
    <body>
    <h1>Calzino</h1>
    <div id="status">loading…</div>
    <div class="tiles">
      <div class="tile">open sessions<b id="open">–</b></div>
      <div class="tile">sessions served<b id="served">–</b></div>
      <div class="tile">up now<b id="rate-up">–</b></div>
      <div class="tile">down now<b id="rate-down">–</b></div>
    </div>
    <h2>Throughput, last 5 minutes</h2>
    <svg id="chart" width="600" height="120" viewBox="0 0 600 120" role="img" aria-label="throughput">
      <polyline id="line-up" fill="none" stroke="#2a7" stroke-width="2" points=""/>
      <polyline id="line-down" fill="none" stroke="#27c" stroke-width="2" points=""/>
      <text id="peak" x="4" y="12" font-size="11" fill="#666"></text>
    </svg>
    <div>up <span style="color:#2a7">■</span> down <span style="color:#27c">■</span></div>
    <div class="cols">
      <div><h2>Top users</h2><table id="users"><tr><th>user</th><th>sessions</th></tr></table></div>
      <div><h2>Top destinations</h2><table id="destinations"><tr><th>destination</th><th>sessions</th></tr></table></div>
      <div><h2>Refusals and errors</h2><table id="refusals"><tr><th>kind</th><th>count</th></tr></table></div>
    </div>
    <h2>Open sessions</h2>
    <table id="sessions"><tr><th>id</th><th>client</th><th>user</th><th>version</th><th>command</th><th>destination</th><th>up</th><th>down</th><th>age</th></tr></table>
    <script>
    "use strict";
    // The token as written after "#token=", not URL-decoded: a "+" in a base64 token stays a "+".
    const token = (location.hash.match(/[#&]token=([^&]*)/) || [])[1] || null;
    const headers = token ? { Authorization: "Bearer " + token } : {};
    const throughput = [];
    let last = null;

    function metrics(text) {
      const samples = [];
      for (const line of text.split("\n")) {
        if (!line || line[0] === "#") continue;
        const m = line.match(/^([a-z_]+)(?:\{(.*)\})? ([0-9.eE+-]+)$/);
        if (!m) continue;
        const labels = {};
        for (const pair of (m[2] || "").matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
        samples.push({ name: m[1], labels, value: Number(m[3]) });
      }
      return samples;
    }
    const sum = (samples, name, filter) =>
      samples.filter(s => s.name === name && (!filter || filter(s.labels))).reduce((a, s) => a + s.value, 0);
    function bytes(n) {
      const units = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
      while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
      return (i ? n.toFixed(1) : n.toFixed(0)) + " " + units[i];
    }
    function cell(row, text, numeric) {
      const td = row.insertCell(); td.textContent = text; if (numeric) td.className = "n";
    }
    function fill(id, rows) {
      const table = document.getElementById(id);
      while (table.rows.length > 1) table.deleteRow(1);
      for (const values of rows) {
        const row = table.insertRow();
        values.forEach((v, i) => cell(row, v, i > 0 && typeof v !== "string"));
      }
    }
    function topCounts(items, key) {
      const counts = new Map();
      for (const item of items) { const k = item[key] || "-"; counts.set(k, (counts.get(k) || 0) + 1); }
      return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
    }
    function draw() {
      const width = 600, height = 120, span = 300;
      const now = throughput.length ? throughput[throughput.length - 1].t : 0;
      const max = Math.max(1, ...throughput.map(h => Math.max(h.up, h.down)));
      const point = (h, v) => ((h.t - (now - span)) / span * width).toFixed(1) + "," + (height - v / max * (height - 10)).toFixed(1);
      document.getElementById("line-up").setAttribute("points", throughput.map(h => point(h, h.up)).join(" "));
      document.getElementById("line-down").setAttribute("points", throughput.map(h => point(h, h.down)).join(" "));
      document.getElementById("peak").textContent = "peak " + bytes(max) + "/s";
    }
    async function refresh() {
      try {
        const [m, s] = await Promise.all([
          fetch("/metrics", { headers }).then(r => { if (!r.ok) throw new Error("metrics: " + r.status); return r.text(); }),
          fetch("/sessions", { headers }).then(r => { if (!r.ok) throw new Error("sessions: " + r.status); return r.json(); }),
        ]);
        const samples = metrics(m);
        // The server's clock: rates stay right however the page's timers run (a background tab, a headless
        // browser's virtual time).
        const t = sum(samples, "calzino_uptime_seconds");
        if (last && t < last.t) { throughput.length = 0; last = null; }  // the server restarted
        const up = sum(samples, "calzino_bytes_total", l => l.direction === "up");
        const down = sum(samples, "calzino_bytes_total", l => l.direction === "down");
        if (last) {
          const dt = Math.max(t - last.t, 0.001);
          const point = { t, up: Math.max(0, (up - last.up) / dt), down: Math.max(0, (down - last.down) / dt) };
          throughput.push(point);
          while (throughput.length && throughput[0].t < t - 300) throughput.shift();
          document.getElementById("rate-up").textContent = bytes(point.up) + "/s";
          document.getElementById("rate-down").textContent = bytes(point.down) + "/s";
          draw();
        }
        last = { t, up, down };
        document.getElementById("open").textContent = s.length;
        document.getElementById("served").textContent = sum(samples, "calzino_sessions_total");
        fill("sessions", s.map(x => [String(x.id), x.client, x.user || "-", x.version || "-", x.command || "-",
          x.destination || "-", bytes(x.bytesUp), bytes(x.bytesDown), x.ageSeconds.toFixed(1) + " s"]));
        fill("users", topCounts(s, "user").map(([k, n]) => [k, n]));
        fill("destinations", topCounts(s, "destination").map(([k, n]) => [k, n]));
        const kinds = [];
        const failed = new Map();
        for (const x of samples) {
          if (x.name === "calzino_sessions_total" && x.value && !["0x00", "0x5A", "-"].includes(x.labels.reply)) {
            failed.set(x.labels.reply, (failed.get(x.labels.reply) || 0) + x.value);
          }
        }
        for (const [reply, n] of failed) kinds.push(["sessions answered " + reply, n]);
        for (const x of samples) {
          if (!x.value) continue;
          if (x.name === "calzino_rule_denials_total") kinds.push(["denied by " + x.labels.rule, x.value]);
          if (x.name === "calzino_limit_refusals_total") kinds.push(["limit " + x.labels.limit, x.value]);
          if (x.name === "calzino_connections_refused_total") kinds.push(["connection refused: " + x.labels.reason, x.value]);
          if (x.name === "calzino_udp_dropped_total") kinds.push(["UDP dropped: " + x.labels.reason, x.value]);
          if (x.name === "calzino_auth_failures_total") kinds.push(["failed logins", x.value]);
        }
        fill("refusals", kinds);
        document.getElementById("status").textContent = "updated " + new Date().toLocaleTimeString();
      } catch (e) {
        document.getElementById("status").textContent = "cannot reach the server: " + e.message;
      }
    }
    refresh();
    setInterval(refresh, 2000);
    </script>
    </body>
    </html>
    """#
}
