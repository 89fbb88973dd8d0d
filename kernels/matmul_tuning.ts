/**
 * @file Matmul tuning remembered across runs: the variant measured fastest for each
 * shape class, stored per adapter and library version in `localStorage` where there is
 * one (browsers; Deno, where it keys the storage by the main module or `--location`),
 * so that a second process starts with the fast variant instead of measuring again.
 *
 * Storage is a convenience, never a requirement: every access is guarded, so a missing
 * `localStorage` (Deno workers, some flags), one that throws (quota, privacy settings)
 * or a corrupted entry only means that nothing is remembered. Nothing here can raise a
 * permission prompt: the driver stack is read from `DENO_WEBGPU_BACKEND` only where the
 * environment permission is already granted (`Deno.permissions.querySync`, which never
 * prompts).
 *
 * One entry per adapter: the key names the adapter (vendor, architecture, device,
 * description, subgroup sizes) and the driver stack; the value holds the library
 * version and the choices. A new version ignores (and later overwrites) what an older
 * one measured, since kernels change between versions.
 */

/** The library's version, as in deno.json (a test keeps the two equal). */
export const LIBRARY_VERSION = "0.1.0";

const KEY_PREFIX = "@deno-gpu/kernels/matmul-tuning ";

/** The part of the Web Storage API the store uses. */
export type TuningStorage = Pick<Storage, "getItem" | "setItem">;

/** The adapter fields that identify it (a subset of `GPUAdapterInfo`). */
export interface AdapterFields {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly subgroupMinSize?: number;
  readonly subgroupMaxSize?: number;
}

/** `globalThis.localStorage`, or null where it is absent or refuses access. */
export function defaultStorage(): TuningStorage | null {
  try {
    const storage = (globalThis as { localStorage?: TuningStorage }).localStorage;
    return storage && typeof storage.getItem === "function" ? storage : null;
  } catch {
    return null;
  }
}

/** The subset of the `Deno` namespace read here, reached without naming it statically. */
interface DenoEnvironment {
  permissions?: { querySync?(descriptor: { name: "env"; variable: string }): { state: string } };
  env?: { get(name: string): string | undefined };
}

/**
 * The WebGPU driver stack: in Deno, `deno/` and `DENO_WEBGPU_BACKEND` (or `default`)
 * where the environment permission for it is granted, `deno/?` where it is not; `web`
 * elsewhere.
 */
export function driverStack(): string {
  const deno = (globalThis as { Deno?: DenoEnvironment }).Deno;
  if (!deno) return "web";
  try {
    const variable = "DENO_WEBGPU_BACKEND";
    const state = deno.permissions?.querySync?.({ name: "env", variable }).state;
    return state === "granted" ? `deno/${deno.env?.get(variable) ?? "default"}` : "deno/?";
  } catch {
    return "deno/?";
  }
}

/**
 * The storage key of an adapter's tuning, or null for an adapter that says nothing
 * about itself (whose choices could not be told apart from another's).
 */
export function adapterKey(info: AdapterFields | undefined, stack: string): string | null {
  if (!info) return null;
  const fields = [
    info.vendor,
    info.architecture,
    info.device,
    info.description,
    info.subgroupMinSize,
    info.subgroupMaxSize,
  ];
  if (!fields.some((f) => f !== undefined && f !== "" && f !== 0)) return null;
  return KEY_PREFIX + JSON.stringify([...fields.map((f) => f ?? ""), stack]);
}

/** The remembered choices of one adapter: shape class → variant name. */
export class TuningStore {
  readonly #storage: TuningStorage;
  readonly #key: string;

  /** A store of the entry `key` (from {@linkcode adapterKey}) in `storage`. */
  constructor(storage: TuningStorage, key: string) {
    this.#storage = storage;
    this.#key = key;
  }

  /** The stored choices of this library version; empty if none, unreadable or older. */
  load(): Map<string, string> {
    try {
      const entry = JSON.parse(this.#storage.getItem(this.#key) ?? "null");
      if (entry?.version !== LIBRARY_VERSION || typeof entry.choices !== "object") {
        return new Map();
      }
      return new Map(
        Object.entries(entry.choices as Record<string, unknown>)
          .filter((pair): pair is [string, string] => typeof pair[1] === "string"),
      );
    } catch {
      return new Map();
    }
  }

  /** Stores `choices` (merged over what is stored); false where storage refused. */
  save(choices: ReadonlyMap<string, string>): boolean {
    try {
      const merged = { ...Object.fromEntries(this.load()), ...Object.fromEntries(choices) };
      this.#storage.setItem(
        this.#key,
        JSON.stringify({ version: LIBRARY_VERSION, choices: merged }),
      );
      return true;
    } catch {
      return false;
    }
  }
}
