// A fake Docker Engine for the edge end-to-end suite: it answers, on a Unix socket, the Docker
// API calls that workerd's container client (and miniflare's session cleanup) make, plays the
// networking sidecar (proxy-everything) that workerd puts in front of every container, and runs
// the image's entrypoint, the real claude-proxy binary, as the "container".
//
// PROTOCOL VERSION. Written against, and only known to work with, the versions edge/package-lock
// pins: workerd 1.20261117.1 (src/workerd/server/container-client.c++), miniflare
// 5.20261117.0-beta and wrangler 4.164.0 (its dev container code, which runs the `docker` CLI
// below), with the egress interceptor image wrangler names
// (cloudflare/proxy-everything:3cb1195, whose ingress/egress protocol the sidecar part copies).
// Any other call is answered 500 with a message, logged, and recorded in `problems` (the suite
// fails on it): a new workerd that needs more must make this file grow, not pass by accident.
//
// What it reproduces, and how:
// - Docker API (ROUTES below; exactly the calls seen from these versions): containers (create,
//   start, inspect, wait, kill, delete, list by label), the bridge network, volumes (list: none).
//   Images are "built" and "pulled" through the docker CLI (cli.mjs -> cli() below).
// - The sidecar container (`<name>-proxy`, started first): a loopback listener published as its
//   port 39001/tcp (reported in NetworkSettings.Ports, which is where workerd connects). It
//   answers PUT /egress (workerd's egress listener port, internet on/off, the DNS allow-list),
//   GET /ca, and CONNECT with X-Dst-Addr (workerd reaching a port of the container: 400 when
//   nothing listens there, as proxy-everything does).
// - The app container: the ENTRYPOINT of the image built from the Dockerfile (mapped to the built
//   binary), in its own network and mount namespaces (unshare), so it listens on its real
//   HOST/PORT (0.0.0.0:8080) untouched, like a container. Its environment is what Docker would
//   give it: the image's ENV, then the create call's Env (the Durable Object's envVars plus
//   workerd's CLOUDFLARE_* defaults), plus PATH, HOSTNAME and a fresh HOME. The ONE change the
//   fake makes: `extraEnv` (UPSTREAM_URL, OAUTH_TOKEN_URL pointing at the test's upstream-sim)
//   is added under the create call's Env, because the Durable Object does not (and must not)
//   pass such settings, and the real container would reach api.anthropic.com instead.
// - Egress, as proxy-everything 3cb1195 does it for what workerd intercepts: hostnames on the
//   sidecar's DNS allow-list (PUT /egress dns.allowHostnames, e.g. credentials.internal from
//   outboundByHost) resolve to 11.0.0.1 (here through the container's /etc/hosts); a connection
//   there becomes an HTTP CONNECT to workerd's egress listener (the port from PUT /egress, on the
//   "bridge gateway" this engine reports, 127.0.0.1) with X-Hostname sniffed from the Host header
//   (port 80), and workerd answers 200 and serves the request itself (the Worker's handler).
// - Internet egress (everything else, e.g. the upstream) goes straight to its destination, as on
//   Cloudflare, when the sidecar's config allows internet (PUT /egress internet.enabled); it is
//   NOT sent through workerd's 202 pass-through as local dev does. Reason: with workerd
//   1.20261117.1 a dev-server reload (the secrets-only deploy the suite models) cuts every
//   connection workerd was relaying, and the new workerd, recovering the running container in
//   ContainerClient::status(), never restores internetEnabled, so its passThroughConnection()
//   refuses all internet traffic from then on. Neither happens on Cloudflare, where a deploy
//   does not touch a container's network path. Unlike TPROXY, only the addresses the suite
//   declares are intercepted in the container (11.0.0.1:80 and the simulator's port): anything
//   else the proxy dials is refused inside its network namespace.
// - Signals: kill signals the container's main process itself (its pid, not an init's).
//
// Not reproduced: the restart policy (a container that exits non-zero is recorded as a problem
// instead of being restarted), TLS interception (GET /ca serves a placeholder), the image's
// USER (the process runs as the test's user) and HEALTHCHECK, image layers and registries.
// Calls these versions make only for features the edge does not use (stop, exec, archive,
// snapshots, image inspect, volume delete) are unknown, so answered 500.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { constants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeBoth } from './pipe.mjs';

export const LOCKED_VERSIONS = { workerd: '1.20261117.1', miniflare: '5.20261117.0-beta', wrangler: '4.164.0' };
const SIDECAR_INGRESS_PORT = '39001/tcp';
/** proxy-everything's answer for an allowed hostname (dnsAllowedIPv4 in its dns.go). */
export const SIDECAR_DNS_ADDRESS = '11.0.0.1';
const EGRESS_IMAGE_PREFIX = 'cloudflare/proxy-everything:';
const INIT = fileURLToPath(new URL('./container-init.mjs', import.meta.url));
const DOCKER_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// A container's namespaces: its own network (loopback plus the sidecar's DNS answer address) and
// mount namespace (for its /etc/hosts); a user namespace too when not run as root.
const UNSHARE = [...(process.getuid?.() === 0 ? [] : ['--user', '--map-root-user']), '--net', '--mount', '--propagation', 'private'];
const NAMESPACE_SETUP = `ip link set lo up && ip addr add ${SIDECAR_DNS_ADDRESS}/32 dev lo`;
const NAMESPACE_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

/** Throws, saying what is missing, when this host cannot make a container's namespaces. */
export function checkHost() {
  const r = spawnSync('unshare', [...UNSHARE, '--', '/bin/sh', '-c', `${NAMESPACE_SETUP} && echo ok`], {
    env: NAMESPACE_ENV,
    encoding: 'utf8',
    timeout: 5000,
  });
  if (r.stdout?.trim() !== 'ok')
    throw new Error(
      `the fake Docker engine runs each container in new network and mount namespaces ` +
        `(unshare ${UNSHARE.join(' ')}) and configures them with ip (iproute2); that failed here: ` +
        `${r.error?.message ?? r.stderr?.trim() ?? 'no output'}`,
    );
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const now = () => new Date().toISOString();
const hex = (n) => randomBytes(n).toString('hex');

/** Docker's short form of an image reference: without a docker.io/ or docker.io/library/ prefix. */
function normalizeImage(ref) {
  return ref.replace(/^docker\.io\/(library\/)?/, '');
}

/** The final stage of a Dockerfile as an image config: ENV, ENTRYPOINT, CMD, USER, WORKDIR. */
export function parseDockerfile(text) {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  let image;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, instruction, rest] = m;
    switch (instruction.toUpperCase()) {
      case 'FROM':
        image = { Env: [DOCKER_PATH_ENV], Entrypoint: null, Cmd: null, User: '', WorkingDir: '', From: rest };
        break;
      case 'ENV': {
        if (!image) throw new Error('Dockerfile: ENV before FROM');
        const pairs = [];
        if (/^[\w.-]+=/.test(rest)) {
          for (const [, k, v] of rest.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g))
            pairs.push([k, v.startsWith('"') ? JSON.parse(v) : v]);
        } else {
          const [k, ...v] = rest.split(/\s+/);
          pairs.push([k, v.join(' ')]);
        }
        for (const [k, v] of pairs) {
          image.Env = image.Env.filter((e) => !e.startsWith(`${k}=`));
          image.Env.push(`${k}=${v}`);
        }
        break;
      }
      case 'ENTRYPOINT':
      case 'CMD': {
        if (!image) throw new Error(`Dockerfile: ${instruction} before FROM`);
        let value;
        try {
          value = JSON.parse(rest);
        } catch {
          value = ['/bin/sh', '-c', rest];
        }
        if (instruction.toUpperCase() === 'ENTRYPOINT') image.Entrypoint = value;
        else image.Cmd = value;
        break;
      }
      case 'USER':
        image.User = rest.trim();
        break;
      case 'WORKDIR':
        image.WorkingDir = rest.trim();
        break;
      default:
        break; // RUN, COPY, EXPOSE, HEALTHCHECK...: nothing the fake runtime uses
    }
  }
  if (!image) throw new Error('Dockerfile: no FROM');
  return image;
}

/** Reads the first HTTP message head (up to CRLFCRLF) from a socket; returns it and what followed. */
function readHead(socket, limit = 128 * 1024) {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
    };
    const onData = (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end >= 0) {
        cleanup();
        socket.pause();
        resolve({ head: buffered.subarray(0, end).toString('latin1'), rest: buffered.subarray(end + 4) });
      } else if (buffered.length > limit) {
        cleanup();
        reject(new Error('message head too large'));
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ head: undefined, rest: buffered });
    };
    const onError = (err) => {
      cleanup();
      reject(err);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
  });
}

export class FakeDockerEngine {
  /**
   * @param {object} o
   * @param {string} o.dir scratch directory (socket, container dirs, logs)
   * @param {Record<string,string>} o.binaries image path -> host binary (the ENTRYPOINT mapping)
   * @param {Record<string,string>} o.extraEnv added to the app container's environment (see top)
   * @param {{host:string,port:number}[]} o.egressTargets addresses the container may dial
   *   besides the sidecar's DNS answer address (e.g. the simulator's loopback port)
   */
  constructor({ dir, binaries, extraEnv = {}, egressTargets = [] }) {
    this.dir = dir;
    this.binaries = binaries;
    this.extraEnv = extraEnv;
    this.egressTargets = egressTargets;
    this.socketPath = path.join(dir, 'docker.sock');
    this.logPath = path.join(dir, 'engine.log');
    /** Every Docker API call: { method, path, status, body? }. */
    this.calls = [];
    /** Calls the fake does not know and anything else that must fail the suite. */
    this.problems = [];
    /**
     * Every egress connection from a container: { container, dst, hostname, status }, plus the
     * bytes each way (sent, received) of intercepted plain HTTP (port 80 with a Host header).
     */
    this.egress = [];
    this.images = new Map();
    this.containers = new Map();
    /** Test knob: the next app container start answers 500 with this message. */
    this.refuseNextStart = undefined;
    this.removed = [];
    this.seq = 0;
    mkdirSync(dir, { recursive: true });
  }

  log(line) {
    appendFileSync(this.logPath, `${now()} ${line}\n`);
  }

  problem(message) {
    this.problems.push(message);
    this.log(`PROBLEM ${message}`);
    console.error(`fake docker engine: ${message}`);
  }

  async start() {
    this.server = http.createServer((req, res) => this._handle(req, res));
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 1000;
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socketPath, resolve);
    });
    this.log(`listening on ${this.socketPath} (workerd ${LOCKED_VERSIONS.workerd})`);
    return this.socketPath;
  }

  async close() {
    for (const c of this.containers.values()) this._killForCleanup(c);
    let timer;
    await Promise.race([
      Promise.all([...this.containers.values()].map((c) => c.exited)),
      new Promise((resolve) => {
        timer = setTimeout(() => {
          this.problem('close: containers still running 5 s after SIGKILL');
          resolve();
        }, 5000);
      }),
    ]);
    clearTimeout(timer);
    for (const c of this.containers.values()) c.ingressServer?.close();
    this.server?.closeAllConnections();
    await new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  // ---------------------------------------------------------------------------------------------
  // Queries for the tests

  /** App containers (not sidecars) ever created, in order. */
  appContainers() {
    return [...this.containers.values(), ...this.removed]
      .filter((c) => c.kind === 'app')
      .sort((a, b) => a.seq - b.seq);
  }

  runningApps() {
    return [...this.containers.values()].filter((c) => c.kind === 'app' && c.state === 'running');
  }

  // ---------------------------------------------------------------------------------------------
  // Docker API

  async _handle(req, res) {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://docker');
    const pathname = url.pathname.replace(/^\/v\d+\.\d+(?=\/)/, '');
    const call = { method: req.method, path: pathname + url.search };
    this.calls.push(call);
    let status = 500;
    let body;
    try {
      const route = ROUTES.find((r) => r.method === req.method && r.re.test(pathname));
      if (!route) throw new HttpError(500, `unknown Docker API call ${req.method} ${pathname}${url.search}`);
      const json = raw.length > 0 && /json/.test(req.headers['content-type'] ?? '') ? JSON.parse(raw.toString('utf8')) : undefined;
      const params = route.re.exec(pathname).slice(1).map(decodeURIComponent);
      call.body = json;
      const out = await route.run.call(this, { params, query: url.searchParams, json, raw, req });
      status = out.status;
      body = out.body;
    } catch (err) {
      status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      body = { message: `fake docker engine (workerd ${LOCKED_VERSIONS.workerd}): ${message}` };
      if (status === 500) this.problem(`${req.method} ${pathname}${url.search}: ${message}`);
    }
    call.status = status;
    this.log(`${req.method} ${pathname}${url.search} -> ${status}`);
    if (body === undefined) {
      res.writeHead(status, { 'content-length': 0 });
      res.end();
    } else {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    }
  }

  _find(nameOrId) {
    const c =
      this.containers.get(nameOrId) ??
      [...this.containers.values()].find((x) => x.id === nameOrId || (nameOrId.length >= 12 && x.id.startsWith(nameOrId)));
    return c;
  }

  _get(nameOrId) {
    const c = this._find(nameOrId);
    if (!c) throw new HttpError(404, `No such container: ${nameOrId}`);
    return c;
  }

  _image(ref) {
    return this.images.get(normalizeImage(ref));
  }

  _inspect(c) {
    const ports = {};
    if (c.kind === 'sidecar') {
      ports[SIDECAR_INGRESS_PORT] = c.ingressPort ? [{ HostIp: '127.0.0.1', HostPort: String(c.ingressPort) }] : null;
    }
    return {
      Id: c.id,
      Created: c.created,
      Name: `/${c.name}`,
      Path: c.argv?.[0] ?? '',
      Args: c.argv?.slice(1) ?? [],
      State: {
        Status: c.state,
        Running: c.state === 'running',
        Paused: false,
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: c.state === 'running' ? c.pid ?? 0 : 0,
        ExitCode: c.exitCode ?? 0,
        Error: '',
        StartedAt: c.startedAt ?? '0001-01-01T00:00:00Z',
        FinishedAt: c.finishedAt ?? '0001-01-01T00:00:00Z',
      },
      Config: {
        Image: c.body.Image,
        Env: c.body.Env ?? [],
        Cmd: c.body.Cmd ?? null,
        Entrypoint: c.body.Entrypoint ?? null,
        Labels: c.body.Labels ?? {},
        ExposedPorts: c.body.ExposedPorts ?? {},
      },
      HostConfig: c.body.HostConfig ?? {},
      NetworkSettings: { Ports: ports },
    };
  }

  _listEntry(c) {
    return {
      Id: c.id,
      Names: [`/${c.name}`],
      Image: c.body.Image,
      Labels: c.body.Labels ?? {},
      State: c.state,
      Status: c.state,
      HostConfig: { NetworkMode: c.body.HostConfig?.NetworkMode ?? 'default' },
    };
  }

  // Containers --------------------------------------------------------------------------------

  createContainer(name, body) {
    if (!body || typeof body.Image !== 'string') throw new HttpError(400, 'create: body with Image required');
    if (name && this.containers.has(name))
      throw new HttpError(409, `Conflict. The container name "/${name}" is already in use`);
    const image = this._image(body.Image);
    if (!image) throw new HttpError(404, `No such image: ${body.Image}`);
    const c = {
      id: hex(32),
      name: name ?? hex(6),
      seq: ++this.seq,
      created: now(),
      body,
      image,
      kind: image.kind === 'sidecar' ? 'sidecar' : 'app',
      state: 'created',
      waiters: [],
      removedWaiters: [],
    };
    if (c.kind === 'sidecar') {
      const cmd = body.Cmd ?? [];
      const flag = (f) => cmd[cmd.indexOf(f) + 1];
      c.egressPort = Number(flag('--http-egress-port'));
      c.internetEnabled = false;
      c.allowHostnames = [];
      if (!(c.egressPort > 0)) throw new HttpError(500, `sidecar create: no --http-egress-port in ${JSON.stringify(cmd)}`);
      if (!Object.keys(body.ExposedPorts ?? {}).includes(SIDECAR_INGRESS_PORT) || body.HostConfig?.PublishAllPorts !== true)
        throw new HttpError(500, `sidecar create: expected ${SIDECAR_INGRESS_PORT} exposed and published`);
    } else {
      const mode = body.HostConfig?.NetworkMode ?? '';
      if (!mode.startsWith('container:'))
        throw new HttpError(500, `app create: NetworkMode ${JSON.stringify(mode)}: only container:<sidecar> is known`);
      c.sidecarName = decodeURIComponent(mode.slice('container:'.length));
    }
    this.containers.set(c.name, c);
    this.log(`created ${c.kind} ${c.name} from ${body.Image}`);
    return c;
  }

  async startContainer(c) {
    if (c.state === 'running') return { status: 304 };
    if (c.state === 'removing') throw new HttpError(409, `container ${c.name} is being removed`);
    if (c.kind === 'sidecar') {
      await this._startSidecar(c);
    } else {
      if (this.refuseNextStart !== undefined) {
        const message = this.refuseNextStart;
        this.refuseNextStart = undefined;
        this.log(`refusing to start ${c.name} (test knob): ${message}`);
        return { status: 500, body: { message } };
      }
      await this._startApp(c);
    }
    return { status: 204 };
  }

  async _startSidecar(c) {
    const server = http.createServer((req, res) => this._sidecarRequest(c, req, res));
    server.on('connect', (req, socket, head) => this._sidecarConnect(c, req, socket, head));
    await new Promise((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    c.ingressServer = server;
    c.ingressPort = server.address().port;
    c.state = 'running';
    c.startedAt = now();
    c.exited = new Promise((resolve) => (c.markExited = resolve));
    this.log(`sidecar ${c.name}: ingress ${SIDECAR_INGRESS_PORT} published on 127.0.0.1:${c.ingressPort}`);
  }

  async _startApp(c) {
    const sidecar = this.containers.get(c.sidecarName);
    if (!sidecar || sidecar.state !== 'running')
      throw new HttpError(409, `cannot join network namespace of a non running container: ${c.sidecarName}`);
    const img = c.image;
    const entrypoint = c.body.Entrypoint ?? img.Entrypoint ?? [];
    const cmd = c.body.Cmd ?? (c.body.Entrypoint ? [] : img.Cmd ?? []);
    const argv = [...entrypoint, ...cmd];
    if (argv.length === 0) throw new HttpError(400, 'no command specified');
    const bin = this.binaries[argv[0]];
    if (!bin) throw new HttpError(500, `app start: no host binary mapped for the image's ${argv[0]}`);

    const cdir = path.join(this.dir, `c${c.seq}`);
    mkdirSync(cdir, { recursive: true });
    const home = path.join(cdir, 'home');
    mkdirSync(home, { recursive: true });
    // Docker's order: image ENV, then the create call's Env; the fake's additions go in between
    // so that anything the Durable Object sets wins.
    const env = {};
    const put = (list) => {
      for (const e of list) {
        const i = e.indexOf('=');
        if (i > 0) env[e.slice(0, i)] = e.slice(i + 1);
      }
    };
    put(img.Env);
    put(Object.entries(this.extraEnv).map(([k, v]) => `${k}=${v}`));
    put(c.body.Env ?? []);
    env.HOSTNAME = c.id.slice(0, 12);
    env.HOME = home;
    c.env = env;
    c.argv = argv;
    c.dir = cdir;
    c.pidFile = path.join(cdir, 'main.pid');
    c.hostsFile = path.join(cdir, 'hosts');
    this._writeHosts(sidecar, c);
    c.ingressSocket = path.join(cdir, 'in.sock');
    c.egressSocket = path.join(cdir, 'out.sock');
    c.egressServer = net.createServer({ allowHalfOpen: true }, (s) => this._egressConnection(c, sidecar, s));
    await new Promise((resolve) => c.egressServer.listen(c.egressSocket, resolve));

    const configPath = path.join(cdir, 'init.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        argv: [bin, ...argv.slice(1)],
        env,
        cwd: c.body.WorkingDir || img.WorkingDir || '/',
        ingressSocket: c.ingressSocket,
        egressSocket: c.egressSocket,
        egressListen: [{ host: SIDECAR_DNS_ADDRESS, port: 80 }, ...this.egressTargets],
        pidFile: c.pidFile,
      }),
      { mode: 0o600 },
    );
    const logPath = path.join(cdir, 'output.log');
    c.logPath = logPath;
    const out = openSync(logPath, 'a');
    const script = `${NAMESPACE_SETUP} && mount --bind "$1" /etc/hosts && exec "$2" "$3" "$4"`;
    const argvNs = ['--', '/bin/sh', '-c', script, 'sh', c.hostsFile, process.execPath, INIT, configPath];
    const child = spawn('unshare', [...UNSHARE, ...argvNs], {
      env: NAMESPACE_ENV,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    c.process = child;
    c.pid = child.pid;
    c.state = 'running';
    c.startedAt = now();
    c.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        const exitCode = code ?? 128 + (constants.signals[signal] ?? 9);
        c.egressServer.close();
        this._exited(c, exitCode);
        resolve();
      });
    });
    child.on('error', (err) => this.problem(`app ${c.name}: could not run unshare: ${err.message}`));
    this.log(`app ${c.name}: started ${argv.join(' ')} as ${bin} (pid ${child.pid}) in ${cdir}`);
  }

  _exited(c, exitCode) {
    if (c.state !== 'running' && c.state !== 'removing') return;
    c.exitCode = exitCode;
    c.finishedAt = now();
    if (c.state === 'running') c.state = 'exited';
    this.log(`${c.kind} ${c.name} exited with ${exitCode}`);
    if (exitCode !== 0 && !c.killedForRemoval) {
      const tail = this.output(c).slice(-2000);
      this.problem(
        `${c.kind} ${c.name} exited with ${exitCode} (Docker would restart it: RestartPolicy ` +
          `${JSON.stringify(c.body.HostConfig?.RestartPolicy ?? {})}); its output ends:\n${tail}`,
      );
    }
    c.markExited?.();
    for (const w of c.waiters.splice(0)) w(exitCode);
  }

  /** Sends a signal to the container's main process (the pid its init recorded). */
  signalContainer(c, signal) {
    if (c.state !== 'running') throw new HttpError(409, `Container ${c.id} is not running`);
    if (!(signal in constants.signals)) throw new HttpError(400, `invalid signal ${signal}`);
    this.log(`${c.kind} ${c.name}: signal ${signal}`);
    if (c.kind === 'sidecar') {
      if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') this._stopSidecar(c, 128 + constants.signals[signal]);
      return;
    }
    this._signalMain(c, signal);
  }

  _signalMain(c, signal) {
    let pid;
    try {
      pid = Number(readFileSync(c.pidFile, 'utf8'));
    } catch {
      pid = c.pid; // the init has not started the main process yet: it passes the signal on
    }
    for (const target of signal === 'SIGKILL' ? [pid, c.pid] : [pid]) {
      try {
        process.kill(target, signal);
      } catch (err) {
        if (err.code !== 'ESRCH') throw err;
      }
    }
  }

  /** What the container's processes printed (stdout and stderr). */
  output(c) {
    return c.logPath && existsSync(c.logPath) ? readFileSync(c.logPath, 'utf8') : '';
  }

  _stopSidecar(c, code) {
    c.ingressServer?.close();
    c.ingressServer?.closeAllConnections();
    this._exited(c, code);
  }

  _killForCleanup(c) {
    if (c.state !== 'running' && c.state !== 'removing') return;
    c.killedForRemoval = true;
    if (c.kind === 'sidecar') this._stopSidecar(c, 137);
    else this._signalMain(c, 'SIGKILL');
  }

  async removeContainer(c, force) {
    if (c.state === 'running' && !force)
      throw new HttpError(409, `You cannot remove a running container ${c.id}. Stop the container first or force remove`);
    if (c.state === 'removing') return { status: 409, body: { message: `removal of container ${c.id} is already in progress` } };
    const wasRunning = c.state === 'running';
    if (wasRunning) {
      this._killForCleanup(c);
      c.state = 'removing';
      await c.exited;
    }
    c.state = 'removed';
    this.containers.delete(c.name);
    this.removed.push(c);
    if (c.dir) rmSync(path.join(c.dir, 'home'), { recursive: true, force: true });
    this.log(`removed ${c.kind} ${c.name}`);
    for (const w of c.waiters.splice(0)) w(c.exitCode ?? 137);
    for (const w of c.removedWaiters.splice(0)) w();
    return { status: 204 };
  }

  // The sidecar -------------------------------------------------------------------------------

  _writeHosts(sidecar, app) {
    if (!app?.hostsFile) return;
    const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `127.0.1.1\t${app.id.slice(0, 12)}`];
    for (const name of sidecar.allowHostnames) {
      if (/[*?[\]]/.test(name)) {
        this.problem(`sidecar ${sidecar.name}: DNS allow pattern ${name} cannot be reproduced with /etc/hosts`);
        continue;
      }
      lines.push(`${SIDECAR_DNS_ADDRESS}\t${name}`);
    }
    // Rewritten in place: the container's /etc/hosts is a bind mount of this inode.
    writeFileSync(app.hostsFile, lines.join('\n') + '\n');
  }

  async _sidecarRequest(sidecar, req, res) {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString('utf8');
    const where = `sidecar ${sidecar.name}: ${req.method} ${req.url}`;
    let status = 204;
    let body = '';
    if (req.method === 'PUT' && req.url === '/egress') {
      let payload;
      try {
        payload = JSON.parse(text);
      } catch {
        status = 400;
      }
      if (payload) {
        if (payload.port !== undefined) sidecar.egressPort = payload.port;
        if (payload.internet !== undefined) sidecar.internetEnabled = payload.internet.enabled === true;
        if (payload.dns !== undefined) sidecar.allowHostnames = payload.dns.allowHostnames ?? [];
        for (const app of this.containers.values()) if (app.sidecarName === sidecar.name) this._writeHosts(sidecar, app);
      }
      this.log(`${where} ${text} -> ${status}`);
    } else if (req.method === 'GET' && req.url === '/ca') {
      status = 200;
      // TLS interception is not reproduced: nothing in this suite intercepts HTTPS.
      body = '-----BEGIN CERTIFICATE-----\nZmFrZSBkb2NrZXIgZW5naW5lOiBubyBUTFMgaW50ZXJjZXB0aW9u\n-----END CERTIFICATE-----\n';
      this.log(`${where} -> 200`);
    } else {
      status = 500;
      body = `fake sidecar: unknown call ${req.method} ${req.url}`;
      this.problem(`${where}: unknown sidecar call`);
    }
    res.writeHead(status, status === 204 ? {} : { 'content-length': Buffer.byteLength(body) });
    res.end(status === 204 ? undefined : body);
  }

  _sidecarConnect(sidecar, req, socket, head) {
    socket.on('error', () => socket.destroy());
    const dst = req.headers['x-dst-addr'];
    const refuse = (why) => {
      this.log(`sidecar ${sidecar.name}: CONNECT ${dst} -> 400 (${why})`);
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    };
    if (!dst || !/^[0-9.]+:\d+$/.test(dst)) return refuse('bad X-Dst-Addr');
    const app = [...this.containers.values()].find((c) => c.sidecarName === sidecar.name && c.state === 'running');
    if (!app) return refuse('no running container in the namespace');
    const inner = net.connect({ path: app.ingressSocket, allowHalfOpen: true });
    inner.on('error', () => {
      if (!answered) refuse('container namespace not ready');
      socket.destroy();
    });
    let answered = false;
    let line = Buffer.alloc(0);
    const onData = (chunk) => {
      line = Buffer.concat([line, chunk]);
      const nl = line.indexOf(10);
      if (nl < 0) return;
      inner.off('data', onData);
      inner.pause();
      answered = true;
      const answer = line.subarray(0, nl).toString();
      const rest = line.subarray(nl + 1);
      if (answer !== 'OK') {
        inner.destroy();
        return refuse(answer);
      }
      socket.write('HTTP/1.1 200 OK\r\n\r\n');
      if (rest.length > 0) socket.write(rest);
      if (head.length > 0) inner.write(head);
      inner.resume();
      pipeBoth(socket, inner);
    };
    inner.on('data', onData);
    inner.once('connect', () => inner.write(`${dst}\n`));
  }

  async _egressConnection(app, sidecar, inner) {
    inner.on('error', () => inner.destroy());
    const record = { container: app.name, dst: undefined, hostname: undefined, status: undefined };
    this.egress.push(record);
    try {
      // First line from the container's init: "dst-ip:dst-port src-ip:src-port".
      const first = await new Promise((resolve, reject) => {
        let buf = Buffer.alloc(0);
        const onData = (chunk) => {
          buf = Buffer.concat([buf, chunk]);
          const nl = buf.indexOf(10);
          if (nl < 0) return;
          inner.off('data', onData);
          inner.pause();
          if (nl + 1 < buf.length) inner.unshift(buf.subarray(nl + 1));
          resolve(buf.subarray(0, nl).toString());
        };
        inner.on('data', onData);
        inner.once('error', reject);
      });
      const [dst, src] = first.split(' ');
      record.dst = dst;
      const dstPort = Number(dst.split(':')[1]);
      let replay = Buffer.alloc(0);
      if (dstPort === 80) {
        // proxy-everything reads the HTTP head of port-80 traffic for X-Hostname.
        inner.resume();
        const { head, rest } = await readHead(inner);
        if (head !== undefined) {
          const host = /^host:[ \t]*([^\r\n]*)$/im.exec(head)?.[1]?.trim();
          if (/^[A-Z]+ /.test(head) && host) record.hostname = host;
          replay = Buffer.concat([Buffer.from(head + '\r\n\r\n', 'latin1'), rest]);
        } else replay = rest;
      }
      if (dst.split(':')[0] !== SIDECAR_DNS_ADDRESS) {
        // The internet (see the top of this file): straight there, if the container may.
        if (!sidecar.internetEnabled) throw new Error('internet access is disabled for this container');
        const [host, port] = dst.split(':');
        const out = net.connect({ host, port: Number(port), allowHalfOpen: true });
        await new Promise((resolve, reject) => {
          out.once('connect', resolve);
          out.once('error', reject);
        });
        record.status = 'direct';
        this.log(`egress ${app.name}: ${dst} -> direct (internet)`);
        out.on('error', () => out.destroy());
        if (replay.length > 0) out.write(replay);
        inner.resume();
        pipeBoth(inner, out);
        return;
      }
      if (!(sidecar.egressPort > 0)) throw new Error('sidecar has no egress port');
      const gateway = net.connect({ host: '127.0.0.1', port: sidecar.egressPort, allowHalfOpen: true });
      await new Promise((resolve, reject) => {
        gateway.once('connect', resolve);
        gateway.once('error', reject);
      });
      const headers = [
        `CONNECT ${dst} HTTP/1.1`,
        `Host: ${dst}`,
        `User-Agent: proxy-everything/0.0.1/${src}`,
        'Connection: close',
        `X-Forwarded-For: ${src}`,
        'X-Proto: tcp',
        ...(record.hostname ? [`X-Hostname: ${record.hostname}`] : []),
      ];
      gateway.write(headers.join('\r\n') + '\r\n\r\n');
      const { head, rest } = await readHead(gateway);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head ?? '')?.[1]);
      record.status = status;
      this.log(`egress ${app.name}: ${dst} host=${record.hostname ?? '-'} -> workerd ${status}`);
      if (status === 400 || !(status >= 200 && status < 300)) {
        if (status !== 400) this.problem(`egress ${app.name}: workerd answered CONNECT ${dst} with ${head}`);
        gateway.destroy();
        inner.resetAndDestroy();
        return;
      }
      if (record.hostname) {
        // Like any sidecar, this one sees intercepted plain HTTP: keep it for the tests (64 KiB).
        const keep = (field, chunk) => {
          if (record[field].length < 65536) record[field] = Buffer.concat([record[field], chunk]);
        };
        record.sent = replay;
        record.received = Buffer.from(rest);
        inner.on('data', (chunk) => keep('sent', chunk));
        gateway.on('data', (chunk) => keep('received', chunk));
      }
      if (rest.length > 0) inner.write(rest);
      if (replay.length > 0) gateway.write(replay);
      gateway.on('error', () => gateway.destroy());
      inner.resume();
      pipeBoth(inner, gateway);
    } catch (err) {
      record.status = 'error';
      this.log(`egress ${app.name}: ${record.dst ?? '?'}: ${err.message}`);
      inner.resetAndDestroy?.() ?? inner.destroy();
    }
  }

  // The docker CLI (fake-docker/cli.mjs forwards its arguments here) -------------------------------

  cli(argv, stdin) {
    const args = [...argv];
    // Global options before the command.
    while (args.length > 0 && args[0].startsWith('-')) {
      const opt = args.shift();
      if (['--host', '-H', '--context', '-c', '--config', '--log-level', '-l'].includes(opt)) args.shift();
      else if (!opt.includes('=')) return this._cliUnknown(argv);
    }
    const [command, ...rest] = args;
    const formatOf = (list) => {
      const i = list.indexOf('--format');
      return i >= 0 ? list[i + 1] : undefined;
    };
    if (command === 'info') {
      const format = formatOf(rest);
      if (format === undefined) return { code: 0, stdout: `Server Version: fake (workerd ${LOCKED_VERSIONS.workerd} protocol)\n` };
      if (format === '{{json .SecurityOptions}}') return { code: 0, stdout: '["name=seccomp,profile=builtin"]\n' };
      return this._cliUnknown(argv);
    }
    if (command === 'build') {
      let tag;
      let dockerfile;
      const positional = [];
      for (let i = 0; i < rest.length; i++) {
        const a = rest[i];
        if (a === '-t' || a === '--tag') tag = rest[++i];
        else if (a === '-f' || a === '--file') dockerfile = rest[++i];
        else if (a === '--platform' || a === '--build-arg' || a === '--output' || a === '--network') i++;
        else if (a === '--load' || a.startsWith('--provenance')) continue;
        else if (a.startsWith('-')) return this._cliUnknown(argv);
        else positional.push(a);
      }
      if (!tag || positional.length !== 1) return this._cliUnknown(argv);
      const text = dockerfile === '-' ? stdin : readFileSync(path.resolve(positional[0], dockerfile ?? 'Dockerfile'), 'utf8');
      const config = parseDockerfile(text);
      const id = `sha256:${createHash('sha256').update(text).digest('hex')}`;
      this.images.set(normalizeImage(tag), { ...config, id, tag, kind: 'app', context: positional[0] });
      this.log(`cli build ${tag}: entrypoint ${JSON.stringify(config.Entrypoint)}, ${config.Env.length} env`);
      return { code: 0, stdout: `fake build: ${tag} (${id})\n` };
    }
    if (command === 'pull') {
      const ref = rest.find((a) => !a.startsWith('-') && rest[rest.indexOf(a) - 1] !== '--platform');
      if (ref && normalizeImage(ref).startsWith(EGRESS_IMAGE_PREFIX)) {
        this.images.set(normalizeImage(ref), {
          id: `sha256:${createHash('sha256').update(ref).digest('hex')}`,
          tag: ref,
          kind: 'sidecar',
          Env: [DOCKER_PATH_ENV],
        });
        this.log(`cli pull ${ref}: the fake sidecar`);
        return { code: 0, stdout: `fake pull: ${ref}\n` };
      }
      return this._cliUnknown(argv, `cannot pull ${ref} offline: only the egress interceptor image is known`);
    }
    return this._cliUnknown(argv);
  }

  _cliUnknown(argv, why = 'unknown docker CLI call') {
    const message = `fake docker CLI (wrangler ${LOCKED_VERSIONS.wrangler}): ${why}: docker ${argv.join(' ')}`;
    this.problem(message);
    return { code: 1, stderr: message + '\n' };
  }
}

// Route table: every Docker API call the locked workerd and miniflare make in this suite (workerd's
// container client; miniflare's session cleanup lists by label and force-deletes). Paths are
// matched after an optional /vX.Y version prefix.
const ROUTES = [
  {
    // The CLI's channel to this engine (not a Docker API call).
    method: 'POST',
    re: /^\/_fake\/cli$/,
    run({ json }) {
      return { status: 200, body: this.cli(json.argv, json.stdin ?? '') };
    },
  },
  {
    method: 'GET',
    re: /^\/networks\/bridge$/,
    run() {
      // The "bridge" is the host loopback: workerd binds its egress listener on this gateway.
      return {
        status: 200,
        body: {
          Name: 'bridge',
          Id: 'fakebridge',
          Driver: 'bridge',
          IPAM: { Driver: 'default', Config: [{ Subnet: '127.0.0.0/8', Gateway: '127.0.0.1' }] },
        },
      };
    },
  },
  {
    method: 'GET',
    re: /^\/volumes$/,
    run() {
      return { status: 200, body: { Volumes: [], Warnings: [] } };
    },
  },
  {
    method: 'GET',
    re: /^\/containers\/json$/,
    run({ query }) {
      const filters = JSON.parse(query.get('filters') ?? '{}');
      const unknownFilters = Object.keys(filters).filter((k) => k !== 'label');
      if (unknownFilters.length > 0) throw new HttpError(500, `containers/json: unknown filters ${unknownFilters}`);
      const labels = filters.label ?? [];
      const all = query.get('all') === '1' || query.get('all') === 'true';
      const list = [...this.containers.values()].filter(
        (c) =>
          (all || c.state === 'running') &&
          labels.every((l) => {
            const [k, v] = l.split('=');
            const have = (c.body.Labels ?? {})[k];
            return v === undefined ? have !== undefined : have === v;
          }),
      );
      return { status: 200, body: list.map((c) => this._listEntry(c)) };
    },
  },
  {
    method: 'POST',
    re: /^\/containers\/create$/,
    run({ query, json }) {
      const c = this.createContainer(query.get('name') ?? undefined, json);
      return { status: 201, body: { Id: c.id, Warnings: [] } };
    },
  },
  {
    method: 'GET',
    re: /^\/containers\/([^/]+)\/json$/,
    run({ params }) {
      return { status: 200, body: this._inspect(this._get(params[0])) };
    },
  },
  {
    method: 'POST',
    re: /^\/containers\/([^/]+)\/start$/,
    run({ params }) {
      return this.startContainer(this._get(params[0]));
    },
  },
  {
    method: 'POST',
    re: /^\/containers\/([^/]+)\/wait$/,
    async run({ params, query }) {
      const condition = query.get('condition') ?? 'not-running';
      const c = this._find(params[0]);
      if (condition === 'removed') {
        if (!c) throw new HttpError(404, `No such container: ${params[0]}`);
        await new Promise((resolve) => c.removedWaiters.push(resolve));
        return { status: 200, body: { StatusCode: c.exitCode ?? 0 } };
      }
      if (condition !== 'not-running') throw new HttpError(500, `wait: unknown condition ${condition}`);
      if (!c) throw new HttpError(404, `No such container: ${params[0]}`);
      if (c.state !== 'running') return { status: 200, body: { StatusCode: c.exitCode ?? 0 } };
      const code = await new Promise((resolve) => c.waiters.push(resolve));
      return { status: 200, body: { StatusCode: code } };
    },
  },
  {
    method: 'POST',
    re: /^\/containers\/([^/]+)\/kill$/,
    run({ params, query }) {
      const c = this._get(params[0]);
      let signal = query.get('signal') ?? 'SIGKILL';
      if (/^\d+$/.test(signal)) signal = Object.keys(constants.signals).find((k) => constants.signals[k] === Number(signal));
      else if (!signal.startsWith('SIG')) signal = `SIG${signal}`;
      this.signalContainer(c, signal);
      return { status: 204 };
    },
  },
  {
    method: 'DELETE',
    re: /^\/containers\/([^/]+)$/,
    run({ params, query }) {
      const force = ['1', 'true'].includes(query.get('force') ?? '');
      return this.removeContainer(this._get(params[0]), force);
    },
  },
];
