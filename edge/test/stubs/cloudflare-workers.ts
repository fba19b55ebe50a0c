// Stand-in for the Workers runtime module in plain Node tests: just the base classes.
export class DurableObject<Env = unknown> {
  constructor(
    public ctx: any,
    public env: Env,
  ) {}
}

export class WorkerEntrypoint<Env = unknown, Props = unknown> {
  constructor(
    public ctx: { props: Props } & Record<string, unknown>,
    public env: Env,
  ) {}
}
