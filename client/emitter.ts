// A minimal typed event emitter (no Node EventEmitter, so it runs everywhere).

type Listener = (...args: never[]) => void;
type ListenerOf<Events, K extends keyof Events> = Events[K] extends (...args: infer A) => void
  ? (...args: A) => void
  : never;
type ArgsOf<Events, K extends keyof Events> = Events[K] extends (...args: infer A) => void
  ? A
  : never;

export class Emitter<Events extends { [K in keyof Events]: Listener }> {
  private readonly listeners = new Map<keyof Events, Set<Listener>>();

  /** @param onListenerError receives what a listener threw (the emitter carries on). */
  constructor(private readonly onListenerError: (error: unknown) => void) {}

  /** Listen to `event`; returns a function that stops listening. */
  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Listen to the next `event` only. */
  once<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    const wrapped = ((...args: ArgsOf<Events, K>) => {
      off();
      (listener as unknown as ListenerOf<Events, K>)(...args);
    }) as unknown as Events[K];
    const off = this.on(event, wrapped);
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Events[K]): void {
    this.listeners.get(event)?.delete(listener);
  }

  emit<K extends keyof Events>(event: K, ...args: ArgsOf<Events, K>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as ListenerOf<Events, K>)(...args);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
