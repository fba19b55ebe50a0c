// The inside of one fake container: runs in its own network and mount namespaces (made by
// engine.mjs with unshare), where the fake sidecar has already brought up loopback, added the
// sidecar DNS answer address (11.0.0.1) and bind-mounted the container's /etc/hosts. Here:
//
// - the container's main process (the image's ENTRYPOINT, e.g. claude-proxy) is started with
//   exactly the environment the engine computed (image ENV + the create call's Env + the fake's
//   documented additions), and its pid is written where the engine can signal it directly;
// - ingress: the engine (playing proxy-everything's ingress listener) reaches a port inside this
//   network namespace through a Unix socket: it sends "ip:port\n", gets "OK\n" (then raw bytes
//   both ways) or "ERR <code>\n" when nothing listens there;
// - egress: the addresses the proxy is known to dial (11.0.0.1:80 for the intercepted hostnames,
//   the simulator's loopback port) are listened on here, like proxy-everything's TPROXY does
//   for every address; each connection goes to the engine's Unix socket with a first line
//   "dst-ip:dst-port src-ip:src-port\n", and the engine does the HTTP CONNECT to workerd.
//
// When the main process exits, so does this one, with its exit status (128+n for a signal).
import { spawn } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { constants } from 'node:os';
import { pipeBoth } from './pipe.mjs';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
// The config holds the container's secrets: it is read once and removed.
unlinkSync(process.argv[2]);

/** Reads one "\n"-terminated line, then hands back the socket with anything read past it. */
function readLine(socket, onLine) {
  let buffered = Buffer.alloc(0);
  const onData = (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    const nl = buffered.indexOf(10);
    if (nl < 0) {
      if (buffered.length > 1024) socket.destroy();
      return;
    }
    socket.off('data', onData);
    socket.pause();
    const rest = buffered.subarray(nl + 1);
    if (rest.length > 0) socket.unshift(rest);
    onLine(buffered.subarray(0, nl).toString('utf8'));
  };
  socket.on('data', onData);
}

const servers = [];

// Ingress: the engine asks for a connection to ip:port inside this namespace.
const ingress = net.createServer({ allowHalfOpen: true }, (outer) => {
  outer.on('error', () => outer.destroy());
  readLine(outer, (line) => {
    const m = /^([0-9.]+):(\d+)$/.exec(line);
    if (!m) {
      outer.end('ERR bad-request\n');
      return;
    }
    const inner = net.connect({ host: m[1], port: Number(m[2]), allowHalfOpen: true });
    inner.once('connect', () => {
      outer.write('OK\n');
      outer.resume();
      pipeBoth(outer, inner);
    });
    inner.once('error', (err) => {
      if (!inner.connecting) return;
      outer.end(`ERR ${err.code ?? 'error'}\n`);
    });
  });
});
ingress.listen(config.ingressSocket);
servers.push(ingress);

// Egress: what the container dials goes to the engine, which plays the sidecar's CONNECT.
for (const target of config.egressListen) {
  const server = net.createServer({ allowHalfOpen: true }, (inner) => {
    inner.on('error', () => inner.destroy());
    inner.pause();
    const outer = net.connect({ path: config.egressSocket, allowHalfOpen: true });
    outer.once('connect', () => {
      outer.write(`${target.host}:${target.port} ${inner.remoteAddress}:${inner.remotePort}\n`);
      inner.resume();
      pipeBoth(inner, outer);
    });
    outer.once('error', () => inner.destroy());
  });
  server.listen({ host: target.host, port: target.port });
  servers.push(server);
}

const [bin, ...args] = config.argv;
const child = spawn(bin, args, { env: config.env, cwd: config.cwd, stdio: 'inherit' });
writeFileSync(config.pidFile, String(child.pid));

// A signal that reaches this process instead of the main one (the engine signals the main
// process itself once its pid is known) is passed on.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']) {
  process.on(signal, () => child.kill(signal));
}

// The engine is this process's parent (unshare execs in place): if it dies without removing the
// container (a killed test run), the container goes too instead of lingering.
const engine = process.ppid;
setInterval(() => {
  if (process.ppid !== engine) {
    child.kill('SIGKILL');
    process.exit(137);
  }
}, 500).unref();

child.on('error', (err) => {
  console.error(`fake container: could not start ${bin}: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  for (const s of servers) s.close();
  process.exit(code ?? 128 + (constants.signals[signal] ?? 9));
});
