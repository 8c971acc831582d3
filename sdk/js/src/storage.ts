// Where resume cursors live between page loads or app launches: a synchronous key-value store.
// localStorage and wx.setStorageSync are synchronous, so the interface is too; a store that
// fails (quota, private mode) must not break delivery, so the client ignores its exceptions.

export interface CursorStorage {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

/** Kept in memory only: cursors survive reconnects, not a reload. The default. */
export function memoryStorage(): CursorStorage {
  const values = new Map<string, string>();
  return {
    get: (key) => values.get(key) ?? null,
    set: (key, value) => void values.set(key, value),
    remove: (key) => void values.delete(key),
  };
}

/** The subset of the Web Storage API the client uses. */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A browser's `localStorage` (or any Web Storage object). */
export function localStorageStorage(storage?: WebStorageLike): CursorStorage {
  const target = storage ?? (globalThis as { localStorage?: WebStorageLike }).localStorage;
  if (!target) throw new Error('wshub: no localStorage here; pass one or use memoryStorage()');
  return {
    get: (key) => target.getItem(key),
    set: (key, value) => target.setItem(key, value),
    remove: (key) => target.removeItem(key),
  };
}

/** The subset of the mini-program `wx` object the storage uses. */
export interface WxStorageApi {
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): void;
  removeStorageSync(key: string): void;
}

/** A WeChat mini-program's storage through `wx.getStorageSync`/`wx.setStorageSync`. */
export function wxStorage(wx: WxStorageApi): CursorStorage {
  return {
    // getStorageSync answers "" for a key never set.
    get: (key) => {
      const value = wx.getStorageSync(key);
      return typeof value === 'string' && value !== '' ? value : null;
    },
    set: (key, value) => wx.setStorageSync(key, value),
    remove: (key) => wx.removeStorageSync(key),
  };
}
