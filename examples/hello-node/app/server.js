// A tiny HTTP service: the application shellfree-init supervises in the hello-node example.
// It answers on PORT (default 3000); shellfree-init serves /health, /ready and /live on 8080.
const http = require("node:http");

const port = Number(process.env.PORT ?? 3000);
const started = Date.now();

const server = http.createServer((req, res) => {
  if (req.url === "/ready") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ready: true }));
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(
    JSON.stringify({
      hello: "from a shell-free image",
      node: process.version,
      uid: process.getuid(),
      uptimeMs: Date.now() - started,
    }),
  );
});

server.listen(port, "0.0.0.0", () => {
  console.log(`hello-node listening on :${port}`);
});

// graceful stop: finish in-flight requests, then exit 0
process.on("SIGTERM", () => {
  console.log("hello-node: SIGTERM, closing");
  server.close(() => process.exit(0));
});
