// A minimal typed event emitter. A listener that throws does not stop the others: its error is
// handed to `onListenerError` (the client routes it to its 'error' event, or the console).

export type Listener<T> = (value: T) => void;

export class Emitter<Events> {
  private listeners: { [K in keyof Events]?: Array<Listener<Events[K]>> } = {};

  constructor(private readonly onListenerError: (error: unknown) => void = reportListenerError) {}

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    (this.listeners[name] ??= []).push(listener);
    return () => this.off(name, listener);
  }

  once<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(name, (value) => {
      off();
      listener(value);
    });
    return off;
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    const list = this.listeners[name];
    if (!list) return;
    const at = list.indexOf(listener);
    if (at >= 0) list.splice(at, 1);
  }

  protected emit<K extends keyof Events>(name: K, value: Events[K]): void {
    const list = this.listeners[name];
    if (!list) return;
    for (const listener of list.slice()) {
      try {
        listener(value);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  protected hasListeners<K extends keyof Events>(name: K): boolean {
    return (this.listeners[name]?.length ?? 0) > 0;
  }
}

function reportListenerError(error: unknown): void {
  if (typeof console !== 'undefined') console.error('wshub: a listener threw', error);
}
