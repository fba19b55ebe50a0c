// The fake `docker` CLI (WRANGLER_DOCKER_BIN points at a wrapper that runs this with the Node
// running the suite): wrangler runs `docker info`, `docker build ... -f - <context>` (the
// Dockerfile on stdin) and `docker pull <egress interceptor image>`. The arguments and stdin go
// to the fake engine (FAKE_DOCKER_SOCKET), which decides, so unknown calls fail in one place.
import http from 'node:http';

const socketPath = process.env.FAKE_DOCKER_SOCKET;
if (!socketPath) {
  process.stderr.write('fake docker CLI: FAKE_DOCKER_SOCKET is not set\n');
  process.exit(1);
}

const argv = process.argv.slice(2);
let stdin = '';
// Only `build -f -` reads stdin; other commands must not wait for an open stdin that never ends.
if (argv.includes('build') && argv.includes('-')) {
  for await (const chunk of process.stdin) stdin += chunk;
}

const body = JSON.stringify({ argv, stdin });
const req = http.request(
  {
    socketPath,
    method: 'POST',
    path: '/_fake/cli',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    timeout: 10000,
  },
  (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (text += c));
    res.on('end', () => {
      let out;
      try {
        out = JSON.parse(text);
      } catch {
        process.stderr.write(`fake docker CLI: engine answered ${res.statusCode}: ${text}\n`);
        process.exit(1);
      }
      if (out.stdout) process.stdout.write(out.stdout);
      if (out.stderr) process.stderr.write(out.stderr);
      process.exitCode = out.code ?? 1;
    });
  },
);
req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
req.on('error', (err) => {
  process.stderr.write(`fake docker CLI: cannot reach the fake engine at ${socketPath}: ${err.message}\n`);
  process.exit(1);
});
req.end(body);
