/**
 * The macOS login Keychain, doubled for Linux: one stored password per (service, account), seen two
 * ways. `go` is what the Go CLI sees through go-keyring v0.2.8 (`/usr/bin/security`): `Set` stores
 * `go-keyring-base64:` + base64 of the value, `Get` trims and unwraps it (and the older
 * `go-keyring-encoded:` hex), a missing item is `ErrNotFound`, a value too big for one `security -i`
 * line is `ErrSetDataTooBig`. `keyring` is what this CLI sees through @napi-rs/keyring (the raw
 * stored password). Both fail alike when the Keychain is locked (no user to unlock it), never answer
 * while an access prompt is open (`hang`), or refuse only writes (`readOnly`, a sandbox that may
 * read but not add items).
 */
import type { Keyring } from "../../layers/KeyStoreKeyring.js"

/** go-keyring's sentinel for a missing item. */
export class ErrNotFound extends Error {
  constructor() {
    super("secret not found in keyring")
  }
}

/** How the Keychain answers. */
export type KeychainMode = "ok" | "locked" | "hang" | "readOnly"

const LOCKED = "User interaction is not allowed."
const B64 = "go-keyring-base64:"
const HEX = "go-keyring-encoded:"

/** A Keychain both CLIs share; `calls` records every access as `<who> <op> <service>/<account>`. */
export const keychainDouble = () => {
  const items = new Map<string, string>()
  const state = { mode: "ok" as KeychainMode, calls: [] as Array<string> }
  const k = (service: string, account: string) => `${service}/${account}`

  const gate = <A>(call: string, write: boolean, f: () => A): Promise<A> => {
    state.calls.push(call)
    if (state.mode === "hang") return new Promise<A>(() => {})
    if (state.mode === "locked" || (write && state.mode === "readOnly")) return Promise.reject(new Error(LOCKED))
    return Promise.resolve().then(f)
  }

  /** The Go CLI's view (go-keyring's package functions). */
  const go = {
    get: (service: string, account: string): Promise<string> =>
      gate(`go get ${k(service, account)}`, false, () => {
        const raw = items.get(k(service, account))
        if (raw === undefined) throw new ErrNotFound()
        const text = raw.trim()
        if (text.startsWith(B64)) return Buffer.from(text.slice(B64.length), "base64").toString("utf8")
        if (text.startsWith(HEX)) return Buffer.from(text.slice(HEX.length), "hex").toString("utf8")
        return text
      }),
    set: (service: string, account: string, password: string): Promise<void> =>
      gate(`go set ${k(service, account)}`, true, () => {
        const stored = B64 + Buffer.from(password, "utf8").toString("base64")
        // `add-generic-password -U -s <svc> -a <acct> -w <pw>\n` on one line of `security -i`
        if (`add-generic-password -U -s ${service} -a ${account} -w ${stored}\n`.length > 4096) {
          throw new Error("data passed to Set was too big")
        }
        items.set(k(service, account), stored)
      }),
    delete: (service: string, account: string): Promise<void> =>
      gate(`go delete ${k(service, account)}`, true, () => {
        if (!items.delete(k(service, account))) throw new ErrNotFound()
      })
  }

  /** This CLI's view (@napi-rs/keyring's AsyncEntry). */
  const keyring: Keyring = {
    entry: (service, account) => ({
      getPassword: () => gate(`ts get ${k(service, account)}`, false, () => items.get(k(service, account)) ?? null),
      setPassword: (p) => gate(`ts set ${k(service, account)}`, true, () => void items.set(k(service, account), p)),
      deleteCredential: () => gate(`ts delete ${k(service, account)}`, true, () => items.delete(k(service, account)))
    }),
    accounts: (service) =>
      gate(
        `ts list ${service}`,
        false,
        () =>
          Array.from(items.keys()).filter((key) => key.startsWith(`${service}/`)).map((key) =>
            key.slice(service.length + 1)
          )
      )
  }

  return { items, state, go, keyring }
}

/** The double, typed. */
export type KeychainDouble = ReturnType<typeof keychainDouble>
