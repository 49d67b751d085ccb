/** An in-memory OS credential store (the `Keyring` port) whose every call can fail or never answer. */
import * as Effect from "effect/Effect"
import type { Keyring } from "../../layers/KeyStoreKeyring.js"

/** How every call answers. */
export type Behaviour = "ok" | "fail" | "hang"

/** An in-memory keyring whose every call can be made to fail or never answer; `loads` counts module loads. */
export const fakeKeyring = () => {
  const items = new Map<string, string>()
  const state = { mode: "ok" as Behaviour, calls: [] as Array<string>, loads: 0 }
  const gate = <A>(call: string, f: () => A): Promise<A> => {
    state.calls.push(call)
    if (state.mode === "hang") return new Promise<A>(() => {})
    if (state.mode === "fail") return Promise.reject(new Error("User interaction is not allowed."))
    return Promise.resolve().then(f)
  }
  const keyring: Keyring = {
    entry: (service, account) => {
      const k = `${service}/${account}`
      return {
        getPassword: () => gate(`get ${k}`, () => items.get(k) ?? null),
        setPassword: (p) => gate(`set ${k}`, () => void items.set(k, p)),
        deleteCredential: () => gate(`delete ${k}`, () => items.delete(k))
      }
    },
    accounts: (service) =>
      gate(
        `list ${service}`,
        () =>
          Array.from(items.keys()).filter((k) => k.startsWith(`${service}/`)).map((k) => k.slice(service.length + 1))
      )
  }
  const load = Effect.sync(() => {
    state.loads++
    return keyring
  })
  return { items, state, keyring: load }
}
