/**
 * A SharedStore in memory with Redis's meaning of each call (values expire, a claim takes only
 * an empty key, a release only its own value), for the unit tests of the coordination: each call
 * of `refreshShared` on one store plays a Logto process on one Redis. It records every write.
 */
import type { SharedStore } from '../src/redis.js';

export type StoreWrite = { key: string; value: string; ttlMs: number };

export const memoryStore = () => {
  const values = new Map<string, { value: string; expiresAt: number }>();
  const writes: StoreWrite[] = [];
  const get = (key: string) => {
    const entry = values.get(key);
    return entry && entry.expiresAt > Date.now() ? entry.value : null;
  };
  const put = (key: string, value: string, ttlMs: number) => {
    writes.push({ key, value, ttlMs });
    values.set(key, { value, expiresAt: Date.now() + ttlMs });
  };

  const store: SharedStore = {
    read: async (keys) => keys.map(get),
    claim: async (key, value, ttlMs) => {
      if (get(key) !== null) {
        return false;
      }
      put(key, value, ttlMs);
      return true;
    },
    write: async (key, value, ttlMs) => {
      put(key, value, ttlMs);
    },
    release: async (key, value) => {
      if (get(key) === value) {
        values.delete(key);
      }
    },
  };
  return { store, writes, keys: () => [...values.keys()] };
};
