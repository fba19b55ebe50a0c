// Shared by the fake engine and the per-container init (a separate process).

/** Bytes both ways between two sockets, with half-close passed on; an error ends both. */
export function pipeBoth(a, b) {
  a.pipe(b);
  b.pipe(a);
  const kill = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', kill);
  b.on('error', kill);
  a.on('close', () => b.destroySoon?.());
  b.on('close', () => a.destroySoon?.());
}
